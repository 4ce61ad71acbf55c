"""Exact I(X;Y), H(Y|X) and H_b of the Gaussian binary channel, in a backend B (Arb: certified).

Channel (Definition 4.1 of Tan & Huang 2025): ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``;
natural logs. These are the exact sides of the Section 4 statements (``prop-4.5``, ``sec-4.1/*``)
and of their float twins in :mod:`numerics.channel`.

Exact integrals (one integrand per quantity, written against the backend
operations of :mod:`theorems.ball_quadrature`), with ``Z ~ N(0,1)``, ``s = |μ|/σ``,
``v = s(s + Z)`` (half the posterior log-odds given Y = +1):

* ``H(Y|X) = E[log(1 + e^{−2v})]`` (used for s > 1; window z ∈ [−s−40, 40]; the
  tails add at most ``log 2·Φ(−s−40) + 2s φ(s+40)`` below and ``Φ(−40−2s)`` above,
  from ``log(1+e^u) ≤ log 2 + max(u, 0)`` and ``log(1+w) ≤ w``);
* ``I(X;Y) = E[v − log cosh v] = s² − E[log cosh(s(s+Z))]`` (used for s ≤ 1, where
  ``log 2 − H`` would cancel; ``log cosh w = log1p(2 sinh²(w/2))`` keeps relative
  accuracy; tails beyond |z| = 40 add at most ``2s²Φ(−40) + 2sφ(40)``, from
  ``log cosh w ≤ |w|``).

Reference: T. M. Cover, J. A. Thomas, Elements of Information Theory (2006), ch. 2 (entropy,
mutual information).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath

from numerics.backends import Arb
from theorems.ball_quadrature import integrate, phi, softplus, step_points
from theorems.channel_rules import check_channel

_Z_GRID = (-40, -20, -10, -6, -3, -1, 0, 1, 3, 6, 10, 20, 40)


def snr_exact(x: dict) -> Fraction:
    """``s = |μ|/σ`` as an exact rational."""
    check_channel(x)
    return abs(Fraction(x["mu"])) / Fraction(x["sigma"])


def _ce_integral(s: Fraction, B):
    """``H(Y|X) = ∫ φ(z) log1p(e^{−2s(s+z)}) dz`` (the s > 1 form)."""
    lo = -s - 40
    # the integrand is φ(z)·(e^{−2s(s+z)} ∧ 2s|s+z|): it peaks at z = −s with width ~1/s, so the pieces
    # double away from −s starting at 1/(4(s+1)) (Gauss-Legendre then needs a low degree everywhere)
    pts = {Fraction(lo), Fraction(40)} | set(map(Fraction, _Z_GRID))
    pts |= set(step_points(-s, (Fraction(1, 4 * (math.ceil(s) + 1)),), lo=math.floor(lo), hi=40))
    pts = [p for p in pts if lo <= p <= 40]

    def f(z, ops, analytic):
        sp = softplus(-2 * ops.num(s) * (ops.num(s) + z), ops, analytic)
        return ops.nan() if sp is None else phi(z, ops) * sp

    if isinstance(B, Arb):
        sb = B.num(s)
        zl = B.num(-lo)
        tail = B.log(B.num(2)) * B.ncdf(-zl) + 2 * sb * B.exp(-zl * zl / 2) / B.sqrt(2 * B.pi()) \
            + B.ncdf(-(B.num(40) + 2 * sb))
        scale = B.exp(-sb * sb / 2) / (10 * (sb + 1))  # H(Y|X) ≳ e^{−s²/2}/(s√(2π)) · const
        return integrate(B, f, pts, tail_bound=tail, abs_scale=scale)
    return integrate(B, f, pts)


def _logcosh_integral(s: Fraction, B):
    """``E[log cosh(s(s+Z))] = ∫ φ(z) log1p(2 sinh²(s(s+z)/2)) dz`` (the s ≤ 1 form)."""
    pts = set(map(Fraction, _Z_GRID)) | {-s}

    def f(z, ops, analytic):
        sh = ops.sinh(ops.num(s) * (ops.num(s) + z) / 2)
        u = 2 * sh * sh
        if analytic and not ops.re_positive(1 + u):
            return ops.nan()
        return phi(z, ops) * ops.log1p(u)

    if isinstance(B, Arb):
        sb = B.num(s)
        tail = 2 * sb * sb * B.ncdf(B.num(-40)) + 2 * sb * B.exp(B.num(-800)) / B.sqrt(2 * B.pi())
        return integrate(B, f, pts, tail_bound=tail, abs_scale=sb * sb / 10)
    return integrate(B, f, pts)


def _with_guard(B, fn):
    """Run an mpmath evaluation with guard digits (the s² − E[log cosh] form loses ~1 digit)."""
    if isinstance(B, Arb):
        return fn()
    with mpmath.workdps(B.dps + 15):
        v = fn()
    return +v


@functools.lru_cache(maxsize=256)
def _mp_integral_cached(kind: str, s: Fraction, dps: int):
    """The mpmath integrals are slow (~0.3 s at 75 digits) and the same channel comes back often
    (a rule search at fixed (μ, σ), rational simplification of a counterexample): cache them."""
    with mpmath.workdps(dps):
        return (_logcosh_integral if kind == "logcosh" else _ce_integral)(s, None)


def _expectation(kind: str, s: Fraction, B):
    """``E[log cosh(s(s+Z))]`` (kind "logcosh") or ``H(Y|X)`` (kind "ce") in backend B."""
    if isinstance(B, Arb):
        return (_logcosh_integral if kind == "logcosh" else _ce_integral)(s, B)
    return _mp_integral_cached(kind, s, mpmath.mp.dps)


def mutual_information_exact(x: dict, B):
    """``I(X;Y)`` in backend B (Arb: certified enclosure)."""
    s = snr_exact(x)
    if s == 0:
        return B.num(0)
    if s <= 1:
        return _with_guard(B, lambda: B.num(s) ** 2 - _expectation("logcosh", s, B))
    return _with_guard(B, lambda: B.log(B.num(2)) - _expectation("ce", s, B))


def conditional_entropy_exact(x: dict, B):
    """``H(Y|X) = log 2 − I(X;Y)`` in backend B (Arb: certified enclosure)."""
    s = snr_exact(x)
    if s == 0:
        return B.log(B.num(2))
    if s <= 1:
        return _with_guard(B, lambda: B.log(B.num(2)) - (B.num(s) ** 2 - _expectation("logcosh", s, B)))
    return _with_guard(B, lambda: _expectation("ce", s, B))


def binary_entropy_exact(p, B):
    """``H_b(p) = −p log p − (1−p) log1p(−p)`` in backend B (p a backend number or exact rational)."""
    p = B.num(p) if isinstance(p, (Fraction, int)) else p
    one_minus = 1 - p
    return -(p * B.log(p)) - one_minus * B.log1p(-p)
