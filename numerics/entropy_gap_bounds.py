"""Closed forms of the entropy-gap bounds of Theorem 3.2 (float, vectorised, with exact twins).

For a spectrum with condition number κ on n eigenvalues, the gap ``log n − H(λ/Σλ)``
is largest at a two-valued spectrum: m eigenvalues at κ and n − m at 1, gap
``G(n, m, κ)``. The paper's bound is ``B(n, κ) = G(n, 1, κ)``; the exact supremum is
``G*(n, κ) = max_m G(n, m, κ)``; the dimension-free bound is ``c − 1 − log c`` with
``c = κ log κ/(κ − 1)``. The statements that check these claims are in
``theorems.thm_3_2``; the experiments' theory cross-check uses the same functions.

Reference: Tan & Huang (2025), Thm 3.2, and ``docs/statements.md`` (thm-3.2).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.optimize import brentq

from numerics.entropy import tlogt_minus_t_plus_1
from numerics.gaussian import _x_minus_log1p


def two_valued_gap(n, m, kappa):
    """``G(n, m, κ) = m κ log κ / S + log(n / S)``, ``S = m κ + n − m`` (float, vectorised).

    Evaluated as ``f·φ(κ/s) + (1 − f)·φ(1/s)`` with f = m/n, s = 1 + f(κ − 1) and
    ``φ(t) = t log t − t + 1 ≥ 0`` (the KL of the two-valued distribution from
    uniform): no cancellation as κ → 1, where the textbook form loses
    ~2·log10(1/(κ−1)) digits.
    """
    n, m, kappa = np.broadcast_arrays(*(np.asarray(v, float) for v in (n, m, kappa)))
    f = m / n
    delta = kappa - 1.0
    s = 1.0 + f * delta
    d_hi = delta * (1.0 - f) / s  # κ/s − 1
    d_lo = -f * delta / s  # 1/s − 1
    out = f * tlogt_minus_t_plus_1(1.0 + d_hi, d_hi) + (1.0 - f) * tlogt_minus_t_plus_1(1.0 + d_lo, d_lo)
    return out if out.ndim else float(out)


def two_valued_gap_exact(n, m, kappa, B):
    kappa = B.num(kappa)
    s = m * kappa + (n - m)
    return m * kappa * B.log(kappa) / s + B.log(B.num(n) / s)


def paper_bound(n, kappa):
    """``B(n, κ) = G(n, 1, κ)``."""
    return two_valued_gap(n, 1, kappa)


def best_split(n: int, kappa: float) -> int:
    """The m in 1..n−1 maximising G(n, m, κ) (exact search over all m)."""
    if n < 2 or kappa == 1:
        return 1
    ms = np.arange(1, n)
    return int(ms[np.argmax(two_valued_gap(n, ms, kappa))])


def supremum_gap(n: int, kappa: float) -> float:
    """``G*(n, κ) = max_m G(n, m, κ)``: the largest gap of any n-spectrum with condition number κ."""
    if n < 2 or kappa == 1:
        return 0.0
    return float(two_valued_gap(n, best_split(n, kappa), kappa))


def supremum_gap_exact(n: int, kappa, B):
    """``G*(n, κ) = max_m G(n, m, κ)`` over every split m = 1..n−1 in backend B.

    The maximum is taken in B (a ball containing the max, in Arb), not at a split chosen in
    float: near a tie between two splits a float choice can pick the smaller one, and a
    certified "lhs > rhs" against it would be false.
    """
    if n < 2 or kappa == 1:
        return B.num(0)
    return functools.reduce(B.max, (two_valued_gap_exact(n, m, kappa, B) for m in range(1, n)))


def c_of_kappa(kappa):
    kappa = np.asarray(kappa, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = kappa * np.log(kappa) / (kappa - 1)
    return np.where(kappa == 1, 1.0, c)


def _c_minus_1(u):
    """``c − 1 = u/(1 − e^{−u}) − 1`` (u = log κ) without cancellation.

    For u < 0.2 the Bernoulli series ``u/2 + u²/12 − u⁴/720 + u⁶/30240 − u⁸/1209600 +
    u¹⁰/47900160`` (next term < 1e-16 relative there); above, the direct form loses at most a
    factor c/(c − 1) ≤ 11 to rounding. The direct form near κ = 1 lost ~2·eps/u relative.
    """
    u = np.asarray(u, float)
    small = u < 0.2
    us = np.where(small, u, 0.0)
    u2 = us * us
    series = us / 2 + u2 * (1 / 12 + u2 * (-1 / 720 + u2 * (1 / 30240 + u2 * (-1 / 1209600 + u2 / 47900160))))
    ul = np.where(small, 1.0, u)
    return np.where(small, series, ul / -np.expm1(-ul) - 1)


def dimension_free_bound(kappa):
    """``c − 1 − log c`` with ``c = κ log κ / (κ − 1)``: x − log1p(x) at x = c − 1, both without cancellation."""
    u = np.log(np.asarray(kappa, float))
    out = _x_minus_log1p(np.atleast_1d(_c_minus_1(u)))
    return out.reshape(np.shape(u)) if np.ndim(u) else out[0]


def dimension_free_bound_exact(kappa, B):
    if kappa == 1:  # c = κ log κ/(κ − 1) → 1 as κ → 1, and c − 1 − log c → 0 (the bound's limit)
        return B.num(0)
    kappa = B.num(kappa)
    c = kappa * B.log(kappa) / (kappa - 1)
    return c - 1 - B.log(c)


def threshold_kappa(n: int) -> float | None:
    """κ_n: above it m = 1 maximises G(n, ·, κ) (the paper's bound is the supremum).

    Found as the largest root of ``G(n,1,κ) = max_{m≥2} G(n,m,κ)`` on a log grid of
    κ in (1, 1e12], refined by Brent's method. None when m = 1 wins on the whole grid.
    """
    if n <= 2:
        return None
    ms = np.arange(2, n)

    def deficit(k):
        return float(two_valued_gap(n, 1, k) - np.max(two_valued_gap(n, ms, k)))

    grid = np.exp(np.linspace(np.log1p(1e-4), np.log(1e12), 600))
    d = np.array([deficit(k) for k in grid])
    neg = np.flatnonzero(d < 0)
    if neg.size == 0:
        return None
    i = neg[-1]
    if i + 1 >= grid.size:
        return math.inf
    return brentq(deficit, grid[i], grid[i + 1], xtol=1e-12, rtol=1e-14)


def supremum_gap_fast(n: int, kappa: float) -> float:
    """``G*(n, κ) = max_{1≤m≤n−1} G(n, m, κ)`` in O(1).

    With ``s = 1 + (m/n)(κ − 1)``, ``G = c(1 − 1/s) − log s`` and ``dG/ds = (c − s)/s²``:
    G is unimodal in s, hence in m, with its continuous maximum at
    ``m* = n (c − 1)/(κ − 1)``; the integer maximum is at ``⌊m*⌋`` or ``⌈m*⌉`` (clipped to
    ``[1, n − 1]``).  The tests compare it with the scan over all m.
    """
    if n < 2 or kappa == 1:
        return 0.0
    u = math.log(kappa)
    m_star = n * float(_c_minus_1(u)) / math.expm1(u)  # no cancellation near κ = 1, where m* → n/2
    # the neighbours too: near a tie between two splits rounding may put m* on the wrong side
    candidates = sorted({min(max(m, 1), n - 1) for m in range(math.floor(m_star) - 1, math.ceil(m_star) + 2)})
    return float(np.max(two_valued_gap(n, np.array(candidates), kappa)))
