"""Entropies of discrete distributions (nats), each with an mpmath oracle.

Float functions take a probability vector (1-D, finite, >= 0, summing to 1
within ``validation.SUM_TOLERANCE``) and compute on ``p / Σp`` with the sum
taken exactly (so an input that is 1e-16 off normalised does not blow up
near α = 1). The ``_mp`` twins evaluate the textbook formula on the same
numbers, normalised the same way, at ``dps`` digits; the
generic ``backend=`` argument also accepts :class:`numerics.backends.Arb` for
certified enclosures.

Stability notes (why the float code is not the textbook formula):

* ``entropy_gap`` is written as ``Σ_i [p_i log(n p_i) − p_i + 1/n] + (Σp − 1)``:
  every bracket is ``f(n p_i)/n`` with ``f(t) = t log t − t + 1 ≥ 0``, so there
  is no cancellation even when p is within 1e-12 of uniform, where
  ``log n − H(p)`` would lose all digits.
* ``renyi_entropy`` near α = 1 uses ``log1p(Σ p·expm1((α−1) log p))``; far from
  1 it uses log-sum-exp, so p^α never underflows.

Reference: T. M. Cover, J. A. Thomas, Elements of Information Theory (2006), ch. 2;
A. Rényi, "On measures of entropy and information" (1961).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np

from numerics.backends import MP
from numerics.validation import as_distribution, check_alpha

_SPLITTER = 134217729.0  # 2**27 + 1, Veltkamp splitting constant


def xlogx(x):
    """``x log x`` elementwise, with the continuous extension ``0 log 0 = 0``."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(x < 0) or np.any(np.isnan(x)):
        raise ValueError("xlogx needs x >= 0 (no NaN)")
    out = np.zeros_like(x)
    pos = x > 0
    out[pos] = x[pos] * np.log(x[pos])
    return out if out.ndim else float(out)


def _two_product(a: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Error-free product ``a*b = hi + lo`` (Dekker), so ``n p − 1`` keeps every digit."""
    hi = a * b
    ca = _SPLITTER * a
    a_hi = ca - (ca - a)
    a_lo = a - a_hi
    cb = _SPLITTER * b
    b_hi = cb - (cb - b)
    b_lo = b - b_hi
    lo = ((a_hi * b_hi - hi) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return hi, lo


def _series_tlogt(d: np.ndarray) -> np.ndarray:
    """``f(1+d) = (1+d) log(1+d) − d = d² Σ_k (−d)^k / ((k+1)(k+2))`` for |d| ≤ 1/4."""
    acc = np.zeros_like(d)
    for k in range(32, -1, -1):  # 0.25**33 < 2**-66: truncation below rounding
        acc = acc * (-d) + 1.0 / ((k + 1) * (k + 2))
    return d * d * acc


def tlogt_minus_t_plus_1(t: np.ndarray, d: np.ndarray | None = None) -> np.ndarray:
    """``f(t) = t log t − t + 1 ≥ 0`` without cancellation; ``d = t − 1`` if known more exactly."""
    t = np.asarray(t, dtype=np.float64)
    d = t - 1.0 if d is None else d
    out = np.empty_like(t)
    near = np.abs(d) <= 0.25
    out[near] = _series_tlogt(d[near])
    far = ~near
    tf = t[far]
    out[far] = xlogx(tf) - d[far]
    return out


def _sum_minus_one(p: np.ndarray) -> float:
    """``Σp − 1`` correctly rounded (fsum), so normalising by the exact sum loses nothing."""
    return math.fsum(np.append(p, -1.0))


def shannon_entropy(p) -> float:
    """Shannon entropy ``H(p) = −Σ p_i log p_i`` in nats.

    Every term is ≥ 0, so the pairwise sum is accurate to a few ulps relative.
    """
    p = as_distribution(p)
    delta = _sum_minus_one(p)
    # H(p/S) = H_raw/S + log S
    return float(-np.sum(xlogx(p)) / (1.0 + delta) + math.log1p(delta))


def entropy_gap(p) -> float:
    """Entropy gap ``log n − H(p) = KL(p ‖ u)`` of a distribution on n points.

    Computed as ``(1/n) Σ f(n p_i) + (Σ p − 1)`` with ``f(t) = t log t − t + 1``,
    ``n p_i − 1`` formed exactly; relative error a few ulps even for p within
    1e-15 of uniform (see module notes).

    Reference: Tan & Huang (2025), Def. 3.1 and Thm 3.2 (the "entropy gap").
    """
    p = as_distribution(p)
    n = p.size
    hi, lo = _two_product(p, float(n))
    d = (hi - 1.0) + lo
    raw = float(np.sum(tlogt_minus_t_plus_1(hi + lo, d)) / n)  # Σ p log(np) − (S − 1)
    delta = _sum_minus_one(p)
    # KL(p/S ‖ u) = (raw + δ)/S − log S = raw/S + (δ/S − log1p δ), the bracket is O(δ²)
    # δ/(1+δ) − log1p(δ) by its series: |δ| ≤ 1e-6, so the δ^5 term is below rounding
    bracket = delta * delta * (-0.5 + delta * (2.0 / 3.0 - 0.75 * delta))
    return raw / (1.0 + delta) + bracket


def renyi_entropy(p, alpha: float) -> float:
    """Rényi entropy ``H_α(p) = log(Σ p_i^α) / (1 − α)``; α = 1 is Shannon, α = inf is min-entropy.

    Args:
        p: probability vector.
        alpha: order, > 0 (``math.inf`` allowed).
    """
    p = as_distribution(p)
    alpha = check_alpha(alpha)
    if alpha == 1.0:
        return shannon_entropy(p)
    delta = _sum_minus_one(p)
    q = p[p > 0] / (1.0 + delta)
    logq = np.log(p[p > 0]) - math.log1p(delta)
    if math.isinf(alpha):
        return float(-np.max(logq))
    beta = alpha - 1.0
    if abs(beta) * float(np.max(-logq)) < 0.5:
        # Σ q^α = 1 + Σ q (q^β − 1) since Σ q = 1: no cancellation as β → 0
        s = float(np.sum(q * np.expm1(beta * logq)))
        return math.log1p(s) / (-beta)
    # log Σ q^α = m + log1p(Σ_{i≠argmax} e^{x_i − m}): log1p keeps digits when one q dominates
    x = alpha * logq
    i = int(np.argmax(x))
    m = float(x[i])
    rest = float(np.sum(np.exp(np.delete(x, i) - m)))
    return (m + math.log1p(rest)) / (-beta)


def binary_entropy(x):
    """``H_b(x) = −x log x − (1−x) log(1−x)`` in nats, elementwise on [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(x)) or np.any((x < 0) | (x > 1)):
        raise ValueError("binary_entropy needs 0 <= x <= 1 (no NaN)")
    # H_b is symmetric; 1 − x is exact for x ≥ 1/2, and log1p(−y) is accurate for y ≤ 1/2
    y = np.minimum(x, 1.0 - x)
    out = -xlogx(y) - (1.0 - y) * np.log1p(-y)
    return out if np.ndim(out) else float(out)


def binary_entropy_inv(h):
    """Inverse of ``H_b`` on ``[0, 1/2]``: the x ≤ 1/2 with ``H_b(x) = h``, for h in [0, log 2].

    Solved by Brent's method to relative accuracy 4 ulp in x; near h = log 2 the
    problem itself is ill-conditioned (``H_b(1/2 − δ) ≈ log 2 − 2δ²``).
    """
    h_arr = np.asarray(h, dtype=np.float64)
    if np.any(np.isnan(h_arr)) or np.any((h_arr < 0) | (h_arr > math.log(2) * (1 + 1e-15))):
        raise ValueError("binary_entropy_inv needs 0 <= h <= log 2")
    from scipy.optimize import brentq

    def solve(hv: float) -> float:
        if hv == 0.0:
            return 0.0
        if hv >= math.log(2):
            return 0.5
        # H_b(x) ≥ x log(1/x) gives a bracket whose lower end is positive
        lo = min(hv / (1.0 + max(-math.log(hv), 1.0)) / 4, 0.25)
        while binary_entropy(lo) > hv:
            lo /= 4
        return brentq(lambda x: binary_entropy(x) - hv, lo, 0.5, xtol=1e-320, rtol=4 * 2.0**-52, maxiter=500)

    out = np.vectorize(solve, otypes=[np.float64])(h_arr)
    return out if out.ndim else float(out)


# ----------------------------------------------------------------------------
# mpmath oracles (textbook formulas on the same input numbers)
# ----------------------------------------------------------------------------

def _oracle_dps(values, dps: int) -> int:
    """Working digits so that sums like ``1 + 1e-41`` and ``1 − p_i`` are held exactly.

    The oracle normalises by the exact sum and forms ``log(p_i / S)``; with p_i
    spanning 10^k, the cancellation in ``p_i / S − 1`` eats k digits.
    """
    pos = [abs(float(v)) for v in values if float(v) != 0]
    if not pos:
        return dps
    return dps + int(math.ceil(math.log10(max(pos)) - math.log10(min(pos)))) + 20


def _mp_entries(p, B):
    """The entries of p as backend numbers, divided by their (exact-in-B) sum."""
    xs = [B.num(x) for x in p]
    total = B.sum(xs)
    return [x / total for x in xs]


def shannon_entropy_mp(p, dps: int = 50, backend=None):
    """Oracle for :func:`shannon_entropy`: ``−Σ p log p`` at ``dps`` digits (or in ``backend``)."""
    B = backend or MP(_oracle_dps(p, dps))
    with B:
        xs = _mp_entries(p, B)
        return -B.sum([x * B.log(x) for x in xs if x != 0])


def entropy_gap_mp(p, dps: int = 50, backend=None):
    """Oracle for :func:`entropy_gap`: ``Σ p log(n p)`` (= log n − H(p) when Σp = 1)."""
    B = backend or MP(_oracle_dps(p, dps))
    with B:
        xs = _mp_entries(p, B)
        n = B.num(len(xs))
        return B.sum([x * B.log(n * x) for x in xs if x != 0])


def renyi_entropy_mp(p, alpha, dps: int = 50, backend=None):
    """Oracle for :func:`renyi_entropy` (α = 1 → Shannon, α = inf → −log max p).

    ``backend=Arb(...)`` gives a certified enclosure (α given exactly, e.g. a Fraction).
    """
    B = backend or MP(_oracle_dps(p, dps))
    with B:
        xs = [x for x in _mp_entries(p, B) if x != 0]
        if isinstance(alpha, float) and math.isinf(alpha):
            top = functools.reduce(lambda u, v: u.max(v), xs) if hasattr(xs[0], "mid") else max(xs)
            return -B.log(top)
        a = B.num(alpha)
        if a == 1:
            return -B.sum([x * B.log(x) for x in xs])
        return B.log(B.sum([B.exp(a * B.log(x)) for x in xs])) / (1 - a)


def binary_entropy_mp(x, dps: int = 50):
    """Oracle for :func:`binary_entropy`."""
    with MP(dps) as B:
        x = B.num(x)
        # log1p, not log(1 − x): at x = 1e-250 the working precision cannot hold 1 − x
        terms = [x * B.log(x) if x != 0 else 0, (1 - x) * B.log1p(-x) if x != 1 else 0]
        return -B.sum(terms)


def binary_entropy_inv_mp(h, dps: int = 50):
    """Oracle for :func:`binary_entropy_inv`: bisection in mpmath to ``dps`` digits."""
    with MP(dps) as B:
        h = B.num(h)
        if h == 0:
            return mpmath.mpf(0)
        if h >= mpmath.log(2):
            return mpmath.mpf(1) / 2

        def hb(x):
            return -(x * mpmath.log(x) + (1 - x) * mpmath.log1p(-x))

        # bisection on log x: x spans hundreds of decades near h = 0
        lo, hi = mpmath.mpf(-800), mpmath.log(mpmath.mpf(1) / 2)
        for _ in range(4 * dps + 40):
            mid = (lo + hi) / 2
            if hb(mpmath.exp(mid)) < h:
                lo = mid
            else:
                hi = mid
        return mpmath.exp((lo + hi) / 2)


def xlogx_mp(x, dps: int = 50):
    with MP(dps) as B:
        x = B.num(x)
        return x * B.log(x) if x != 0 else mpmath.mpf(0)
