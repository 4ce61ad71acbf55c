"""Information quantities of the Gaussian binary channel in float64: I(X;Y), H(Y|X), the Bayes error,
I(sign X; Y), I(tanh(μX/σ²); Y) and I(T; Y) for a strictly monotone statistic T (see :mod:`numerics.channel`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy import integrate, optimize, special

from numerics.channel._numerics import (  # noqa: F401
    _SD_GRID,
    _SQRT2PI,
    _U_HALF,
    LOG2,
    SNR_SATURATION,
    _log_normal_tail,
    _mu_sigma,
    _normal_tail,
    _out,
    _snr,
    _snr_dd,
    _two_prod,
)
from numerics.entropy import binary_entropy

# ----------------------------------------------------------------------------
# scalar kernels (math module: quad calls them one point at a time)
# ----------------------------------------------------------------------------

def _logcosh(u: float) -> float:
    a = abs(u)
    if a < 1.0:
        sh = math.sinh(0.5 * a)
        return math.log1p(2.0 * sh * sh)  # cosh u − 1 = 2 sinh²(u/2): no cancellation
    return a + math.log1p(math.exp(-2.0 * a)) - LOG2


def _logcosh_over_sq(u: float) -> float:
    """``log cosh(u)/u²``; its series at small u (the u⁶ term is below 1e-24)."""
    if abs(u) < 1e-4:
        u2 = u * u
        return 0.5 - u2 / 12.0 + u2 * u2 / 45.0
    return _logcosh(u) / (u * u)


def _softplus(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _g(v: float) -> float:
    """``g(v) = log 2 − H_b(1/(1+e^{2|v|})) = v tanh v − log cosh v`` (KL of the posterior to uniform)."""
    a = abs(v)
    if a < 1e-4:
        a2 = a * a
        return a2 * (0.5 - a2 * (0.25 - a2 / 9.0))
    if a <= 1.0:
        return a * math.tanh(a) - _logcosh(a)  # a² − a²/2: loses one bit at most
    e = math.exp(-2.0 * a)
    q = e / (1.0 + e)
    if q == 0.0:
        return LOG2
    return LOG2 - (-q * math.log(q) - (1.0 - q) * math.log1p(-q))


#: quadpack's own error estimate must stay below this fraction of the whole integral, or we raise.
QUAD_ACCEPT = 1e-11


def _quad(f, a: float, b: float, scale: float) -> tuple[float, float]:
    """quad to relative 1.2e-14 (the least quadpack accepts) or absolute 1e-17·scale, whichever is
    looser: ``scale`` is a lower bound of the whole integral, so pieces that hold almost no mass
    are not refined to a pointless relative accuracy. Returns (value, quadpack's error estimate).

    quadpack warns when rounding stops it short of 1.2e-14 (routine at this target); instead the
    callers check the summed error estimate against ``QUAD_ACCEPT`` (:func:`_check_quad`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        return integrate.quad(f, a, b, epsabs=1e-17 * scale, epsrel=1.2e-14, limit=200)


def _check_quad(total: float, err: float, what: str) -> float:
    if not (err <= QUAD_ACCEPT * abs(total) or err <= 1e-300):
        raise ArithmeticError(f"quadrature for {what} did not converge: {total!r} +/- {err!r}")
    return total


def _quad_pieces(f, edges, scale: float, what: str = "the integral") -> float:
    """Sum of :func:`_quad` over consecutive ``edges`` (a sorted list), checked as a whole."""
    total, err = 0.0, 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            v, e = _quad(f, a, b, scale)
            total += v
            err += e
    return _check_quad(total, err, what)


def _ratio_small_snr(s: float) -> float:
    """``R(s) = I/s²`` for s ≤ 1: ``1 − E[(s+Z)² r(s(s+Z))]``."""

    def f(z):
        w = s + z
        return math.exp(-0.5 * z * z) / _SQRT2PI * w * w * _logcosh_over_sq(s * w)

    edges = sorted({-39.0, -10.0, -3.0, -1.0, -s, 0.0, 1.0, 3.0, 10.0, 39.0})
    return 1.0 - _quad_pieces(f, edges, 0.3)  # the integral is ≥ E[(s+Z)²]·r(…) ≳ 0.3


def _cond_entropy_large_snr(s: float, s_lo: float) -> float:
    """``H(Y|X)`` for s > 1 via ``H = e^{−s²/2}/s · J(s)``; s = s + s_lo enters the exponent exactly
    (``s²/2`` has condition number s² ~ 1500 at the top of the range)."""

    def f(v):
        sp = _softplus(-2.0 * v)
        return math.exp(-0.5 * (v / s) ** 2 + v) * sp / _SQRT2PI

    j = _quad_pieces(f, [-60.0, -20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 20.0, 60.0], 0.1)  # J(s) > 0.1 for s ≥ 1
    h, l = _two_prod(np.float64(s), np.float64(s))
    corr = 0.5 * float(l) + s * s_lo
    return math.exp(-0.5 * float(h) - math.log(s) + math.log(j)) * (1.0 - corr)


def _mi_scalar(s: float, s_lo: float = 0.0) -> float:
    if s == 0.0:
        return 0.0
    if s <= 1.0:
        return s * s * _ratio_small_snr(s) * (1.0 + 2.0 * s_lo / s)
    if s > SNR_SATURATION:
        return LOG2
    return LOG2 - _cond_entropy_large_snr(s, s_lo)


def _ce_scalar(s: float, s_lo: float = 0.0) -> float:
    if s <= 1.0:
        return LOG2 - s * s * _ratio_small_snr(s) * (1.0 + 2.0 * s_lo / s) if s > 0 else LOG2
    if s > SNR_SATURATION:
        return 0.0
    return _cond_entropy_large_snr(s, s_lo)


# ----------------------------------------------------------------------------
# I(X;Y), H(Y|X), Bayes error
# ----------------------------------------------------------------------------

def mutual_information(mu, sigma):
    """``I(X;Y)`` of the Gaussian binary channel, in nats (vectorised over μ, σ).

    ``I = log 2 − E[softplus(−2s(s+Z))]``, s = |μ|/σ, Z ~ N(0,1), by adaptive
    quadrature in the rescaled forms of the module notes (relative error ~1e-14
    over the whole range; exactly 0 at μ = 0, log 2 for s > 38.5).
    At μ = σ = 1 it is 0.3368308203... nats.

    Reference: Tan & Huang (2025), Definition 4.1 and Section 4.1 (statements ``prop-4.5`` and
    ``sec-4.1/sufficiency`` in docs/statements.md).
    """
    return _out(np.vectorize(_mi_scalar, otypes=[np.float64])(*_snr_dd(mu, sigma)))


def conditional_entropy_y_given_x(mu, sigma):
    """``H(Y|X) = log 2 − I(X;Y) = E[softplus(−2s(s+Z))]`` in nats, with relative accuracy
    also where it is tiny (large SNR; it underflows to 0 beyond s ≈ 38.5).

    Reference: Tan & Huang (2025), Prop 4.5 (the Fano bound uses it; statements ``prop-4.5`` and
    ``prop-4.5/inverse`` in docs/statements.md).
    """
    return _out(np.vectorize(_ce_scalar, otypes=[np.float64])(*_snr_dd(mu, sigma)))


def bayes_error(mu, sigma):
    """Bayes error ``P_e* = Φ(−|μ|/σ)``, a few ulp relative to the exact inputs even deep in the
    tail (s carried as hi + lo; ``scipy.special.ndtr`` alone loses ~s² ulp there).

    Reference: Tan & Huang (2025), Thm 4.3 and Cor 4.4 (statements ``thm-4.3`` and ``cor-4.4`` in
    docs/statements.md).
    """
    return _out(_normal_tail(*_snr_dd(mu, sigma)))


def log_bayes_error(mu, sigma):
    """``log Φ(−|μ|/σ)``, finite where Φ(−s) itself underflows (s > 38.5); −inf only when s² overflows."""
    return _out(_log_normal_tail(*_snr_dd(mu, sigma)))


def _info_sign_scalar(s: float) -> float:
    return float(information_sign(s, 1.0))


def information_sign(mu, sigma):
    """``I(sign X; Y) = log 2 − H_b(Φ(−s))``: sign X is Y through a binary symmetric
    channel with crossover ``Φ(−s)``. At μ = σ = 1: 0.2557139396... nats.

    For s ≤ 1 it is evaluated as ``d atanh d + ½ log1p(−d²)``, ``d = 1 − 2Φ(−s) = erf(s/√2)``,
    which keeps relative accuracy as s → 0 (where ``I ≈ s²/π``).

    Reference: Tan & Huang (2025), Section 4.1 (statement ``sec-4.1/sufficiency``, where sign X is
    the insufficient mutant, in docs/statements.md); Cover & Thomas (2006) §7.1.4 (BSC capacity).
    """
    s, s_lo = _snr_dd(mu, sigma)
    out = np.empty_like(s)
    small = s <= 1.0
    d = special.erf(s[small] / math.sqrt(2.0))  # erf is well conditioned here: s_lo is below rounding
    out[small] = d * np.arctanh(d) + 0.5 * np.log1p(-d * d)
    p = _normal_tail(s[~small], s_lo[~small])
    out[~small] = LOG2 - np.asarray(binary_entropy(p))
    return _out(out)


# ----------------------------------------------------------------------------
# I(T;Y) for T = tanh(μX/σ²) and for a general strictly monotone T
# ----------------------------------------------------------------------------

def _tanh_info_scalar(s: float) -> float:
    """``I(tanh(μX/σ²); Y)`` at SNR s, integrating T's density over t ∈ (−1, 1).

    Law of T: with μ' = s, σ' = 1 (T has the same law for (μ, σ) and (|μ|/σ, 1),
    and for −μ), ``X | y ~ N(y s, 1)``, ``T = tanh(s X)``, ``x(t) = atanh(t)/s``,
    ``f_T(t|y) = φ(x(t) − y s) / (s (1 − t²))``.
    """
    if s == 0.0:
        return 0.0  # T ≡ 0 is constant
    if s > SNR_SATURATION:
        return LOG2
    k = s  # μ'/σ'² with μ' = s, σ' = 1

    def density_pair(x: float, jac: float) -> tuple[float, float]:
        # f_T(t|±1) = φ(x ∓ s) · |dx/dt|
        return (math.exp(-0.5 * (x - s) ** 2) / _SQRT2PI * jac, math.exp(-0.5 * (x + s) ** 2) / _SQRT2PI * jac)

    def half_llr(x: float) -> float:
        # ½ log f_T(t|+1)/f_T(t|−1): the Jacobians cancel and ((x+s)² − (x−s)²)/2 = 2sx exactly
        return s * x

    def middle(t: float) -> float:
        x = math.atanh(t) / k
        fp, fm = density_pair(x, 1.0 / (k * (1.0 - t * t)))
        return 0.5 * (fp + fm) * _g(half_llr(x))

    def end_chart(sign: float):
        # t = sign·(1 − e^ρ): dt = e^ρ dρ, 1 − t² = e^ρ (2 − e^ρ), atanh|t| = ½(log(2 − e^ρ) − ρ)
        def f(rho: float) -> float:
            r = math.exp(rho)
            x = sign * 0.5 * (math.log(2.0 - r) - rho) / k
            # f_T(t|y) |dt/dρ| = φ(x − y s) / (k r (2 − r)) · r: the r cancels without forming 1/r
            fp, fm = density_pair(x, 1.0 / (k * (2.0 - r)))
            return 0.5 * (fp + fm) * _g(half_llr(x))

        return f

    def rho_of(u: float) -> float:  # log(1 − tanh|u|) = log 2 − softplus(2|u|)
        return LOG2 - _softplus(2.0 * abs(u))

    # breakpoints in u = kX, whose law given y is N(y s², s²)
    u_hi = s * s + 40.0 * s
    grid = {y * s * s + j * s for y in (-1.0, 1.0) for j in _SD_GRID}
    grid |= {-_U_HALF, _U_HALF}
    us = sorted(u for u in grid if -u_hi <= u <= u_hi)
    upper, lower = end_chart(1.0), end_chart(-1.0)
    scale = _info_sign_scalar(s)  # data processing: a lower bound of I(T;Y)
    total, err = 0.0, 0.0
    for a, b in zip(us[:-1], us[1:]):
        if b <= a:
            continue
        if b <= -_U_HALF:
            v, e = _quad(lower, rho_of(a), rho_of(b), scale)
        elif a >= _U_HALF:
            v, e = _quad(upper, rho_of(b), rho_of(a), scale)
        else:
            v, e = _quad(middle, math.tanh(a), math.tanh(b), scale)
        total += v
        err += e
    return _check_quad(total, err, "I(tanh(μX/σ²); Y)")


def information_tanh(mu, sigma):
    """``I(tanh(μX/σ²); Y)`` from the density of T = tanh(μX/σ²) (not from I(X;Y)).

    ``I(T;Y) = ∫_{−1}^{1} f_T(t) · g(v(t)) dt`` with ``f_T(t|y) = f_X(x(t)|y) |dx/dt|``,
    ``x(t) = σ² atanh(t)/μ``, ``v(t) = ½ log f_T(t|+1)/f_T(t|−1)``, g as in the module
    notes; quad in the t chart on [−½, ½] and the ρ = log(1 − |t|) charts near ±1.
    T is a sufficient statistic (``E[Y|X] = tanh(μX/σ²)``), so this must equal
    :func:`mutual_information`; at μ = σ = 1 both are 0.3368308203 nats.

    Reference: Tan & Huang (2025), Section 4.1 (tanh sufficiency; statement ``sec-4.1/sufficiency``
    in docs/statements.md).
    """
    s = _snr(mu, sigma)
    return _out(np.vectorize(_tanh_info_scalar, otypes=[np.float64])(s))


def _numeric_derivative(fn: Callable, x: float, h: float) -> float:
    """Richardson-extrapolated central difference: error O(h⁴) + O(eps/h)."""
    d1 = (fn(x + h) - fn(x - h)) / (2.0 * h)
    d2 = (fn(x + h / 2) - fn(x - h / 2)) / h
    return (4.0 * d2 - d1) / 3.0


def _merge_close(xs: list, tol) -> list:
    """Drop grid points within ``tol`` of their predecessor (μ − 3σ and −μ − σ coincide when μ = σ,
    up to rounding, and T cannot separate points one ulp apart)."""
    out = [xs[0]]
    for x in xs[1:]:
        if x - out[-1] > tol:
            out.append(x)
    if out[-1] != xs[-1]:
        out[-1] = xs[-1]
    return out


def _statistic_info_scalar(T, mu: float, sigma: float, inverse, derivative) -> float:
    s = abs(mu) / sigma
    if s == 0.0:
        return 0.0
    xs = _merge_close(sorted({y * mu + j * sigma for y in (-1.0, 1.0) for j in _SD_GRID}), 1e-9 * sigma)
    ts = np.array([float(T(x)) for x in xs])
    if not np.all(np.isfinite(ts)):
        raise ValueError("statistic is not finite on the mass region of X")
    dt = np.diff(ts)
    if not (np.all(dt > 0) or np.all(dt < 0)):
        i = int(np.flatnonzero(np.sign(dt) != np.sign(dt[0]))[0]) if np.any(dt != 0) and dt[0] != 0 else 0
        raise ValueError(
            "statistic is not strictly monotone (or not resolvable in float64) on the mass region of X: "
            f"T({xs[i]!r}) = {float(ts[i])!r}, T({xs[i + 1]!r}) = {float(ts[i + 1])!r}"
        )
    increasing = dt[0] > 0
    scale = _info_sign_scalar(s)  # I(sign X;Y) ≤ I(T;Y)

    def deriv(x: float) -> float:
        if derivative is not None:
            return abs(float(derivative(x)))
        return abs(_numeric_derivative(lambda z: float(T(z)), x, 1e-3 * max(abs(x), sigma)))

    total, err = 0.0, 0.0
    for xa, xb, ta, tb in zip(xs[:-1], xs[1:], ts[:-1], ts[1:]):

        def inv(t: float, xa=xa, xb=xb, ta=ta, tb=tb) -> float:
            if inverse is not None:
                return float(inverse(t))
            if t == ta:
                return xa
            if t == tb:
                return xb
            return optimize.brentq(lambda x: float(T(x)) - t, xa, xb, xtol=1e-15 * sigma, rtol=4 * 2.0**-52)

        def f(t: float) -> float:
            x = inv(t)
            jac = 1.0 / deriv(x)  # |dx/dt|
            fp = math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (_SQRT2PI * sigma) * jac
            fm = math.exp(-0.5 * ((x + mu) / sigma) ** 2) / (_SQRT2PI * sigma) * jac
            # ½ log f_T(t|+1)/f_T(t|−1) = ((x+μ)² − (x−μ)²)/(4σ²) = μx/σ² (Jacobians cancel)
            return 0.5 * (fp + fm) * _g(mu * x / sigma**2)

        lo, hi = (ta, tb) if increasing else (tb, ta)
        v, e = _quad(f, lo, hi, scale)
        total += v
        err += e
    return _check_quad(total, err, "I(T(X); Y)")


def information_of_statistic(statistic: Callable, mu, sigma, *, inverse: Callable | None = None,
                             derivative: Callable | None = None):
    """``I(T(X); Y)`` for a strictly monotone statistic ``T``, from T's density.

    ``I(T;Y) = ∫ f_T(t) g(v(t)) dt`` over the image of X's mass region (μ ± 40σ),
    ``f_T(t|y) = f_X(T⁻¹(t)|y) / |T'(T⁻¹(t))|``; breakpoints at T of the
    quantile grid. Any injective T is sufficient, so the value must equal
    :func:`mutual_information` — this is the general route that certifies it.

    Args:
        statistic: float → float, strictly monotone on the mass region of X.
        mu, sigma: channel parameters (broadcast).
        inverse: optional exact ``T⁻¹``; default Brent's method on each piece.
        derivative: optional exact ``T'``; default Richardson central differences
            (relative error ~1e-11, which then bounds the accuracy of the result).

    Raises:
        ValueError: bad μ/σ, or T not finite / not strictly monotone / flat beyond
            float64 resolution on the mass region (e.g. tanh at high SNR: use
            :func:`information_tanh`, which has charts near ±1).

    Reference: Tan & Huang (2025), Section 4.1 ("any injective map of X is sufficient"; statements
    ``sec-4.1/uniqueness`` and ``sec-4.1/uniqueness-bijection`` in docs/statements.md).
    """
    if not callable(statistic):
        raise TypeError("statistic must be callable")
    m, s = _mu_sigma(mu, sigma)
    out = np.empty(m.shape)
    for idx in np.ndindex(m.shape):
        out[idx] = _statistic_info_scalar(statistic, float(m[idx]), float(s[idx]), inverse, derivative)
    return _out(out)


