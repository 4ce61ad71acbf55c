"""The Gaussian binary channel of Definition 4.1, each quantity with an mpmath oracle.

Model: ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``. Everything depends on
the signal-to-noise ratio ``s = |μ|/σ`` only (scale and sign invariance), and is
in nats. Writing ``Z ~ N(0, 1)`` and conditioning on ``Y = +1``
(``2μX/σ² = 2s(s + Z)`` in law):

* ``H(Y|X) = E[softplus(−2s(s + Z))]`` and ``I(X;Y) = log 2 − H(Y|X)``;
* ``P_e* = Φ(−s)`` (Bayes error, Thm 4.3);
* ``I(sign X; Y) = log 2 − H_b(Φ(−s))`` (a binary symmetric channel);
* ``I(T; Y) = E_T[ KL(P(Y|T) ‖ P(Y)) ] = ∫ f_T(t) g(v(t)) dt`` for a strictly
  monotone statistic ``T``, where ``f_T`` is the density of T (change of
  variables, Jacobian included), ``v(t) = ½ log f_T(t|+1)/f_T(t|−1)`` is half the
  posterior log-odds and ``g(v) = log 2 − H_b(1/(1+e^{2v})) = v tanh v − log cosh v``.

Stability (why the float code is not the textbook formula):

* ``I(X;Y)`` at s ≤ 1 is ``s² R(s)`` with ``R = 1 − E[(s+Z)² r(s(s+Z))]``,
  ``r(u) = log cosh(u)/u²``, using ``softplus(−2v) = log 2 − v + log cosh v``. No
  ``log 2 − H`` cancellation, so the relative error stays O(eps) down to
  s ~ 1e-150 (where I ~ s²/2 underflows).
* ``H(Y|X)`` at s > 1 is ``e^{−s²/2}/s · J(s)``, ``J(s) = ∫ φ(v/s) e^v softplus(−2v) dv``
  (substitute ``z = v/s − s``): the integrand is O(1) on a window of width O(1)
  for every s, so quad never misses the mass near ``z = −s`` that has width 1/s.
* ``I(sign X; Y)`` at s ≤ 1 is ``d atanh d + ½ log1p(−d²)``, ``d = erf(s/√2)``.
* ``I(tanh(μX/σ²); Y)`` integrates over t ∈ (−1, 1) in three charts: t itself on
  [−½, ½] and ``ρ = log(1 − |t|)`` near ±1, because at s ≳ 4 the mass of T sits
  closer to ±1 than float64 can resolve in t (at s = 30, 1 − |t| ~ e^{−1800}).
* Beyond s = 38.5, ``Φ(−s)`` underflows and ``log 2 − H_b(Φ(−s)) ≤ I(T;Y) ≤ log 2``
  (data processing: sign is a function of X and of tanh(μX/σ²)) pins every
  information to log 2 in float64; those values are returned without quadrature.

Reference: T. M. Cover, J. A. Thomas, Elements of Information Theory (2006),
ch. 2 and 8 (mutual information, data processing, Fano); the channel is
Definition 4.1 of the paper under test (Tan & Huang 2025), see THEOREMS.md §B.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import numpy as np
from scipy import integrate, optimize, special

from numerics.entropy import binary_entropy

LOG2 = math.log(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_U_HALF = math.atanh(0.5)  # the t = ½ boundary between the t chart and the ρ chart
#: Above this SNR Φ(−s) < 1e-324: every information equals log 2 in float64
#: (see module notes) and H(Y|X) underflows.
SNR_SATURATION = 38.5
#: Grid of standard deviations (of the Gaussian mass) used as quadrature breakpoints;
#: the mass beyond 40 sd is < 2Φ(−40) ~ 1e-349, below every tolerance used here.
_SD_GRID = (-40.0, -20.0, -10.0, -6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 10.0, 20.0, 40.0)


# ----------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------

def _as_real_array(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number or array of real numbers: {exc}") from None
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains inf")
    return arr


def _mu_sigma(mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast (μ, σ) after checking: finite, σ > 0, compatible shapes."""
    m = _as_real_array(mu, "mu")
    s = _as_real_array(sigma, "sigma")
    if (s <= 0).any():
        raise ValueError(f"sigma must be > 0, got {s[s <= 0].flat[0]!r}")
    try:
        return np.broadcast_arrays(m, s)
    except ValueError:
        raise ValueError(f"mu and sigma have incompatible shapes {m.shape} and {s.shape}") from None


def _snr(mu, sigma) -> np.ndarray:
    """``s = |μ|/σ`` (may be inf when σ is tiny relative to μ)."""
    m, s = _mu_sigma(mu, sigma)
    with np.errstate(over="ignore", under="ignore"):
        return np.abs(m) / s


# ----------------------------------------------------------------------------
# error-free transformations: the Gaussian tail Φ(−x) has relative condition
# number ~x², so at x = 30 one rounding of x = (t − μ)/σ costs 900 ulp. We carry
# x as hi + lo (exact to ~2^-104) and feed lo into the tail to first order.
# ----------------------------------------------------------------------------

_SPLITTER = 134217729.0  # 2**27 + 1 (Veltkamp)


def _split(a):
    with np.errstate(over="ignore", invalid="ignore"):
        c = _SPLITTER * a
        hi = c - (c - a)
    hi = np.where(np.isfinite(hi), hi, a)  # |a| > 1e300: no split needed, the tail underflows anyway
    return hi, a - hi


def _two_prod(a, b):
    """``a·b = p + e`` exactly (Dekker)."""
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        ah, al = _split(a)
        bh, bl = _split(b)
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, np.where(np.isfinite(e), e, 0.0)


def _two_sum(a, b):
    """``a + b = s + e`` exactly (Knuth)."""
    with np.errstate(over="ignore", invalid="ignore"):
        s = a + b
        bb = s - a
        e = (a - (s - bb)) + (b - bb)
    return s, np.where(np.isfinite(e), e, 0.0)


def _div_dd(n_hi, n_lo, d):
    """``(n_hi + n_lo)/d = q + r`` to ~2^-104 relative."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        q = n_hi / d
        p, e = _two_prod(q, d)
        r = (((n_hi - p) - e) + n_lo) / d
    return q, np.where(np.isfinite(r), r, 0.0)


def _standardize(t, m, s):
    """``(t − m)/s`` as hi + lo."""
    d_hi, d_lo = _two_sum(np.asarray(t, dtype=np.float64), -np.asarray(m, dtype=np.float64))
    return _div_dd(d_hi, d_lo, s)


def _snr_dd(mu, sigma):
    """``|μ|/σ`` as hi + lo, after the input checks."""
    m, s = _mu_sigma(mu, sigma)
    return _div_dd(np.abs(m), np.zeros_like(m), s)


def _normal_tail(x_hi, x_lo=0.0):
    """``Φ(−x)`` for ``x = x_hi + x_lo`` with a few ulp relative error (scipy's ndtr has ~x² ulp).

    For x ≥ 1: ``Φ(−x) = ½ erfcx(x/√2) e^{−x²/2}`` with ``x²/2`` split exactly into h + l, so the
    exponential is exact up to its own rounding; below 1 ``ndtr`` is accurate and the
    derivative ``−φ(x)`` carries x_lo.
    """
    x_hi = np.asarray(x_hi, dtype=np.float64)
    x_lo = np.broadcast_to(np.asarray(x_lo, dtype=np.float64), x_hi.shape)
    out = np.empty(x_hi.shape)
    big = x_hi >= 1.0
    xs, ls = x_hi[~big], x_lo[~big]
    out[~big] = special.ndtr(-xs) - np.exp(-0.5 * xs * xs) / _SQRT2PI * ls
    xb, lb = x_hi[big], x_lo[big]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        h, l = _two_prod(xb, xb)
        corr = 0.5 * l + xb * lb  # x²/2 − h/2 to first order in the tiny parts
        val = 0.5 * special.erfcx(xb / math.sqrt(2.0)) * np.exp(-0.5 * h) * (1.0 - corr)
    out[big] = np.where(np.isfinite(val), val, 0.0)
    return out


def _log_normal_tail(x_hi, x_lo=0.0):
    """``log Φ(−x)``, finite far beyond the underflow of Φ(−x)."""
    x_hi = np.asarray(x_hi, dtype=np.float64)
    x_lo = np.broadcast_to(np.asarray(x_lo, dtype=np.float64), x_hi.shape)
    out = np.empty(x_hi.shape)
    big = x_hi >= 1.0
    out[~big] = np.log(_normal_tail(x_hi[~big], x_lo[~big]))
    xb, lb = x_hi[big], x_lo[big]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # x = inf gives −inf
        h, l = _two_prod(xb, xb)
        val = np.log(0.5 * special.erfcx(xb / math.sqrt(2.0))) - 0.5 * h - (0.5 * l + xb * lb)
    out[big] = np.where(np.isnan(val), -np.inf, val)
    return out


def _out(a: np.ndarray):
    return float(a) if a.ndim == 0 else a


def _mp_snr(mu, sigma, dps: int):
    """(|μ|/σ, μ, σ) as mpf after the same checks as the float code; μ and σ are exact (a float is
    a 53-bit rational) and the quotient is formed at dps + 40 digits, so it is exact for the
    oracle whatever the caller's global mpmath precision is."""
    _mu_sigma(mu, sigma)
    if np.ndim(mu) or np.ndim(sigma):
        raise ValueError("the mpmath oracles take scalar mu and sigma")
    with mpmath.workdps(max(dps, 15) + 40):
        m, s = mpmath.mpf(float(mu)), mpmath.mpf(float(sigma))
        return abs(m) / s, m, s


def _extra_digits(s) -> int:
    """Guard digits for ``log 2 − H`` style cancellation, which loses ~2 log10(1/s) digits at small s."""
    if s == 0:
        return 10
    return 10 + max(0, int(math.ceil(-2 * float(mpmath.log10(s)))))


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

    Reference: THEOREMS.md §B, Definition 4.1 and Section 4.1.
    """
    return _out(np.vectorize(_mi_scalar, otypes=[np.float64])(*_snr_dd(mu, sigma)))


def conditional_entropy_y_given_x(mu, sigma):
    """``H(Y|X) = log 2 − I(X;Y) = E[softplus(−2s(s+Z))]`` in nats, with relative accuracy
    also where it is tiny (large SNR; it underflows to 0 beyond s ≈ 38.5).

    Reference: THEOREMS.md §B, Prop 4.5 (the Fano bound uses it).
    """
    return _out(np.vectorize(_ce_scalar, otypes=[np.float64])(*_snr_dd(mu, sigma)))


def bayes_error(mu, sigma):
    """Bayes error ``P_e* = Φ(−|μ|/σ)``, a few ulp relative to the exact inputs even deep in the
    tail (s carried as hi + lo; ``scipy.special.ndtr`` alone loses ~s² ulp there).

    Reference: THEOREMS.md §B, Thm 4.3.
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

    Reference: THEOREMS.md §B, Section 4.1; Cover & Thomas (2006) §7.1.4 (BSC capacity).
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

    Reference: THEOREMS.md §B, Section 4.1 (tanh sufficiency).
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

    Reference: THEOREMS.md §B, Section 4.1 ("any injective map of X is sufficient").
    """
    if not callable(statistic):
        raise TypeError("statistic must be callable")
    m, s = _mu_sigma(mu, sigma)
    out = np.empty(m.shape)
    for idx in np.ndindex(m.shape):
        out[idx] = _statistic_info_scalar(statistic, float(m[idx]), float(s[idx]), inverse, derivative)
    return _out(out)


# ----------------------------------------------------------------------------
# decision rules and their errors
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ThresholdRule:
    """Predict +1 iff ``x > threshold`` (``reverse=True``: iff ``x < threshold``).

    ``threshold = ±inf`` gives a constant rule.
    """

    threshold: float
    reverse: bool = False

    def __post_init__(self):
        if not isinstance(self.threshold, (int, float, np.floating, np.integer)) or math.isnan(self.threshold):
            raise ValueError(f"threshold must be a real number (not NaN), got {self.threshold!r}")


@dataclass(frozen=True)
class IntervalRule:
    """Randomised rule, piecewise constant: ``P(predict +1 | x) = prob_plus[k]`` on the k-th of the
    intervals ``(−inf, e_1), (e_1, e_2), ..., (e_m, inf)`` cut by the strictly increasing finite
    ``edges``; ``len(prob_plus) = len(edges) + 1``.
    """

    edges: tuple
    prob_plus: tuple

    def __post_init__(self):
        e = np.asarray(self.edges, dtype=np.float64).reshape(-1)
        p = np.asarray(self.prob_plus, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(e)):
            raise ValueError("IntervalRule edges must be finite (no NaN/inf)")
        if e.size > 1 and not np.all(np.diff(e) > 0):
            raise ValueError("IntervalRule edges must be strictly increasing")
        if p.size != e.size + 1:
            raise ValueError(f"IntervalRule needs len(prob_plus) = len(edges) + 1, got {p.size} and {e.size}")
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError("IntervalRule probabilities must lie in [0, 1]")
        object.__setattr__(self, "edges", tuple(e.tolist()))
        object.__setattr__(self, "prob_plus", tuple(p.tolist()))


@dataclass(frozen=True)
class RandomizedRule:
    """Randomised rule ``P(predict +1 | x) = prob_plus(x)`` for a callable with values in [0, 1].

    Args:
        prob_plus: float → [0, 1].
        breakpoints: points where prob_plus is not smooth (given to the quadrature).
        prob_minus: optional ``1 − prob_plus`` computed without cancellation (needed for
            relative accuracy where prob_plus ≈ 1 and the error is tiny).
        prob_plus_mp, prob_minus_mp: mpmath versions for :func:`decision_error_mp`
            (default: prob_plus applied to mpf).
    """

    prob_plus: Callable
    breakpoints: tuple = ()
    prob_minus: Callable | None = None
    prob_plus_mp: Callable | None = field(default=None, compare=False)
    prob_minus_mp: Callable | None = field(default=None, compare=False)

    def __post_init__(self):
        if not callable(self.prob_plus):
            raise TypeError("prob_plus must be callable")
        b = np.asarray(self.breakpoints, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(b)):
            raise ValueError("RandomizedRule breakpoints must be finite")
        object.__setattr__(self, "breakpoints", tuple(sorted(b.tolist())))


def logistic_rule(slope: float, intercept: float = 0.0) -> RandomizedRule:
    """``P(predict +1 | x) = 1/(1 + exp(−(slope·x + intercept)))`` (slope = 2μ/σ², intercept 0 is
    the posterior itself, i.e. the Gibbs classifier)."""
    a, b = float(slope), float(intercept)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError("logistic_rule needs finite slope and intercept")
    # a steep logistic is nearly a step at −b/a: tell the quadrature where, and on what scale
    # (a nearly flat one, |a| ~ 1e-300, needs no breakpoints and would give infinite ones)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        bps = () if a == 0 else tuple(-b / a + j / abs(a) for j in (-20.0, 0.0, 20.0))
    bps = tuple(x for x in bps if math.isfinite(x))
    return RandomizedRule(
        breakpoints=bps,
        prob_plus=lambda x: float(special.expit(a * x + b)),
        prob_minus=lambda x: float(special.expit(-(a * x + b))),
        prob_plus_mp=lambda x: 1 / (1 + mpmath.exp(-(a * x + b))),
        prob_minus_mp=lambda x: 1 / (1 + mpmath.exp(a * x + b)),
    )


def _interval_prob(a, a_lo, b, b_lo) -> np.ndarray:
    """``Φ(b) − Φ(a)`` for a ≤ b (each as hi + lo), subtracting only same-side tail probabilities."""
    a, a_lo, b, b_lo = np.broadcast_arrays(a, a_lo, b, b_lo)
    out = np.empty(a.shape)
    right = a >= 0
    left = b <= 0
    mid = ~(right | left)
    out[right] = _normal_tail(a[right], a_lo[right]) - _normal_tail(b[right], b_lo[right])
    out[left] = _normal_tail(-b[left], -b_lo[left]) - _normal_tail(-a[left], -a_lo[left])
    # a < 0 < b: two positive halves, no cancellation (erf is well conditioned: lo parts negligible)
    out[mid] = 0.5 * (special.erf(b[mid] / math.sqrt(2)) - special.erf(a[mid] / math.sqrt(2)))
    return out


def _rule_grid(rule: RandomizedRule, mu, sigma) -> list:
    """Quadrature breakpoints: μ ± kσ, −μ ± kσ, the rule's breakpoints, and around each of those
    points at the local length scale ``σ²/|b ∓ μ|`` of the Gaussian factors (far in a tail the
    integrand decays on that scale, much faster than σ). Works for floats and mpf alike."""
    lo = -abs(mu) - 40 * sigma
    hi = abs(mu) + 40 * sigma
    grid = {y * mu + j * sigma for y in (-1, 1) for j in _SD_GRID}
    for b in rule.breakpoints:
        if lo < b < hi:
            grid.add(b)
            for y in (-1, 1):
                if abs(b - y * mu) > 2 * sigma:
                    ell = sigma * sigma / abs(b - y * mu)
                    grid |= {b + c * ell for c in (-8, -1, 1, 8) if lo < b + c * ell < hi}
    return sorted(grid)


def _rule_error_scalar(rule: RandomizedRule, mu: float, sigma: float) -> float:
    def q_plus(x):
        v = float(rule.prob_plus(x))
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"rule.prob_plus({x!r}) = {v!r} is not a probability")
        return v

    def q_minus(x):
        if rule.prob_minus is None:
            return 1.0 - q_plus(x)
        v = float(rule.prob_minus(x))
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"rule.prob_minus({x!r}) = {v!r} is not a probability")
        return v

    def f(x):
        # ½ [P(predict −1 | x) φ_+(x) + P(predict +1 | x) φ_−(x)]
        zp, zm = (x - mu) / sigma, (x + mu) / sigma
        wp = math.exp(-0.5 * zp * zp) / (_SQRT2PI * sigma)
        wm = math.exp(-0.5 * zm * zm) / (_SQRT2PI * sigma)
        return 0.5 * ((q_minus(x) * wp if wp else 0.0) + (q_plus(x) * wm if wm else 0.0))

    # every rule's error is at least the Bayes error: the scale for the quadrature
    return _quad_pieces(f, _rule_grid(rule, mu, sigma), float(bayes_error(mu, sigma)), "the error of the rule")


def decision_error(rule, mu, sigma):
    """Error probability ``P(f(X) ≠ Y)`` of a (possibly randomised) decision rule.

    ``P_err = ½ [P(predict −1 | Y=+1) + P(predict +1 | Y=−1)]``:

    * :class:`ThresholdRule` (x > t): ``½[Φ((t−μ)/σ) + Φ(−(t+μ)/σ)]``, reversed
      ``½[Φ((μ−t)/σ) + Φ((t+μ)/σ)]`` (closed form; the standardised arguments carried as
      hi + lo into an erfcx-based tail, because Φ's condition number is ~x²);
    * :class:`IntervalRule`: ``½ Σ_k [(1 − p_k) P₊(I_k) + p_k P₋(I_k)]`` with the interval
      probabilities from differences of same-side tails;
    * :class:`RandomizedRule`: ``½ ∫ [(1 − q(x)) φ₊(x) + q(x) φ₋(x)] dx`` by quad with
      breakpoints at μ ± kσ and the rule's breakpoints.

    Vectorised over μ, σ. Reference: THEOREMS.md §B, Thm 4.3 (``P_err ≥ Φ(−|μ|/σ)``).
    """
    m, s = _mu_sigma(mu, sigma)
    if isinstance(rule, ThresholdRule):
        t = float(rule.threshold)
        a, a_lo = _standardize(t, m, s)  # (t − μ)/σ
        b, b_lo = _standardize(t, -m, s)  # (t + μ)/σ
        if rule.reverse:  # ½[Φ(−a) + Φ(b)]
            out = 0.5 * (_normal_tail(a, a_lo) + _normal_tail(-b, -b_lo))
        else:  # ½[Φ(a) + Φ(−b)]
            out = 0.5 * (_normal_tail(-a, -a_lo) + _normal_tail(b, b_lo))
        return _out(out)
    if isinstance(rule, IntervalRule):
        edges = np.array((-np.inf,) + rule.edges + (np.inf,))
        p = np.array(rule.prob_plus)
        mm, ss = m[..., None], s[..., None]
        plus = _interval_prob(*_standardize(edges[:-1], mm, ss), *_standardize(edges[1:], mm, ss))
        minus = _interval_prob(*_standardize(edges[:-1], -mm, ss), *_standardize(edges[1:], -mm, ss))
        out = 0.5 * np.sum((1.0 - p) * plus + p * minus, axis=-1)
        return _out(out)
    if isinstance(rule, RandomizedRule):
        out = np.empty(m.shape)
        for idx in np.ndindex(m.shape):
            out[idx] = _rule_error_scalar(rule, float(m[idx]), float(s[idx]))
        return _out(out)
    raise TypeError(f"rule must be a ThresholdRule, IntervalRule or RandomizedRule, got {type(rule).__name__}")


# ----------------------------------------------------------------------------
# mpmath oracles (scalar μ, σ; textbook integrands at raised working precision)
# ----------------------------------------------------------------------------

_INV_SQRT_2PI = {}


def _ncdf_mp(x):
    """``Φ(x)``; mpmath.ncdf itself overflows a float inside its series check for |x| ≳ 1e150, so
    far tails use the asymptotic series ``Φ(−x) = φ(x)/x · Σ_k (−1)^k (2k−1)!!/x^{2k}``
    (five terms; truncation < 945/x^10, below 10^-(dps+5) at the switch point)."""
    if mpmath.isinf(x):
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)
    switch = mpmath.mpf(10) ** (mpmath.mp.dps / 10 + 1)
    if abs(x) < switch:
        return mpmath.ncdf(x)
    a = abs(x)
    tail = mpmath.exp(-a * a / 2 - mpmath.log(a) - mpmath.log(2 * mpmath.pi) / 2) * _asym_series(a)
    return tail if x < 0 else 1 - tail


def _asym_series(a):
    inv = 1 / (a * a)
    return 1 - inv * (1 - 3 * inv * (1 - 5 * inv * (1 - 7 * inv)))


def _log_ncdf_neg_mp(s):
    """``log Φ(−s)`` for s ≥ 0, finite for any s (log of the asymptotic form in the far tail)."""
    switch = mpmath.mpf(10) ** (mpmath.mp.dps / 10 + 1)
    if s < switch:
        return mpmath.log(mpmath.ncdf(-s))
    return -s * s / 2 - mpmath.log(s) - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(_asym_series(s))


def _phi_mp(z):
    prec = mpmath.mp.prec
    if prec not in _INV_SQRT_2PI:
        _INV_SQRT_2PI[prec] = 1 / mpmath.sqrt(2 * mpmath.pi)
    return mpmath.exp(-z * z / 2) * _INV_SQRT_2PI[prec]


def _mp_quad(f, pts):
    """``mpmath.quad`` of ``f`` over consecutive ``pts`` (see :func:`_mp_quad_pieces`)."""
    return _mp_quad_pieces([(f, a, b) for a, b in zip(pts[:-1], pts[1:])])


def _mp_quad_pieces(pieces):
    """Sum of ``∫_a^b f`` over ``pieces = [(f, a, b), ...]`` by tanh-sinh, made scale-free.

    mpmath's tanh-sinh stops when successive levels differ by less than the working epsilon in
    *absolute* terms, so an integral of size 1e-89 is accepted after one level. A cheap first
    pass (degree 1, 15 digits) estimates the magnitude of the sum; the integrands are divided by
    it, so the working precision becomes relative precision. Raises ``ArithmeticError`` if
    mpmath's own error estimate then exceeds 1e-(dps − 10) relative to the result.
    """
    dps = mpmath.mp.dps
    with mpmath.workdps(15):
        est = sum(abs(mpmath.quad(f, [a, b], maxdegree=1)) for f, a, b in pieces if b > a)
    scale = est if est > 0 else mpmath.mpf(1)
    total, err = mpmath.mpf(0), mpmath.mpf(0)
    for f, a, b in pieces:
        if b > a:
            v, e = mpmath.quad(lambda x: f(x) / scale, [a, b], error=True)
            total += v
            err += e
    if err > abs(total) * mpmath.mpf(10) ** (10 - dps) and err > mpmath.mpf(10) ** (10 - dps):
        raise ArithmeticError(f"mpmath quadrature did not converge: {total} +/- {err} (times {scale})")
    return total * scale


def _cond_entropy_quad_mp(s):
    """``H(Y|X) = ∫ φ(z) log(1 + e^{−2s(s+z)}) dz`` by tanh-sinh with breakpoints around z = −s."""
    w = min(mpmath.mpf(1), 1 / s)
    pts = sorted({-s - 40 * w, -s - 10 * w, -s - w, -s, -s + w, -s + 10 * w, mpmath.mpf(0)})
    pts = [-mpmath.inf] + pts + [mpmath.inf]
    return _mp_quad(lambda z: _phi_mp(z) * mpmath.log1p(mpmath.exp(-2 * s * (s + z))), pts)


#: Below this SNR the oracle switches to the Taylor series I = s²/2 − s⁴/4 + O(s⁶):
#: relative truncation error ≤ s⁴ < 1e-100, beyond 50 digits.
_MP_SERIES_SNR = mpmath.mpf("1e-25")


def mutual_information_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`mutual_information`: ``log 2 − ∫ φ(z) log(1 + e^{−2s(s+z)}) dz`` at
    ``dps`` + guard digits (2 log10(1/s) more at small s for the cancellation); below
    s = 1e-25 the series ``s²/2 − s⁴/4`` (error < s⁶)."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + _extra_digits(s)):
        if s == 0:
            return mpmath.mpf(0)
        if s < _MP_SERIES_SNR:
            val = s**2 / 2 - s**4 / 4
        else:
            val = mpmath.log(2) - _cond_entropy_quad_mp(s)
    with mpmath.workdps(dps):
        return +val


def conditional_entropy_y_given_x_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`conditional_entropy_y_given_x` (the same integral, no subtraction)."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + 10):
        val = mpmath.log(2) if s == 0 else _cond_entropy_quad_mp(s)
    with mpmath.workdps(dps):
        return +val


def bayes_error_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`bayes_error`: ``mpmath.ncdf(−|μ|/σ)`` (asymptotic series beyond 1e6)."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps):
        return _ncdf_mp(-s)


def log_bayes_error_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`log_bayes_error`."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + 10):
        val = _log_ncdf_neg_mp(s)
    with mpmath.workdps(dps):
        return +val


def information_sign_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`information_sign`: ``log 2 − H_b(Φ(−s))`` at raised precision."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + _extra_digits(s)):
        p = _ncdf_mp(-s)
        hb = -(p * mpmath.log(p) + (1 - p) * mpmath.log1p(-p)) if p != 0 else mpmath.mpf(0)
        val = mpmath.log(2) - hb
    with mpmath.workdps(dps):
        return +val


def _statistic_integrand_mp(mu, sigma, x_and_jac):
    """The textbook integrand ``½ Σ_y f_T(t|y) log(f_T(t|y)/f_T(t))`` in a chart c of t;
    ``x_and_jac(c)`` returns ``x = T⁻¹(t(c))`` and ``|dx/dt|·|dt/dc|``."""
    def f(c):
        x, jac = x_and_jac(c)
        fp = _phi_mp((x - mu) / sigma) / sigma * jac
        fm = _phi_mp((x + mu) / sigma) / sigma * jac
        fbar = (fp + fm) / 2
        return mpmath.fsum(fy * mpmath.log(fy / fbar) for fy in (fp, fm) if fy != 0) / 2
    return f


def information_tanh_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`information_tanh`: the textbook ``½ Σ_y ∫ f_T(t|y) log(f_T(t|y)/f_T(t)) dt``
    with the original μ, σ (no reduction to the SNR), ``x(t) = σ² atanh(t)/μ``,
    ``|dx/dt| = σ²/(|μ|(1 − t²))``, in the same three charts of (−1, 1) as the float code
    (near ±1 the chart ``ρ = log(1 − |t|)`` carries 1 − |t| exactly at any magnitude).
    Guard digits: log10(1/s) + 10 for the cancellation between the two y terms."""
    s, m, sg = _mp_snr(mu, sigma, dps)
    if s == 0:
        return mpmath.mpf(0)
    guard = 10 + max(0, int(math.ceil(-float(mpmath.log10(s)))))
    with mpmath.workdps(dps + guard):
        k = m / sg**2
        ak = abs(k)
        u_half = mpmath.atanh(mpmath.mpf(1) / 2)

        def t_chart(t):  # c = t on [−½, ½]: x = atanh(t)/k, |dx/dt| = 1/(|k|(1 − t²))
            return mpmath.atanh(t) / k, 1 / (ak * (1 - t * t))

        def rho_chart(sign):
            # c = ρ = log(1 − |t|), t = sign·(1 − e^ρ): atanh|t| = ½(log(2 − e^ρ) − ρ) without
            # forming 1 − r, and |dx/dt|·|dt/dρ| = e^ρ / (|k| e^ρ (2 − e^ρ)) = 1/(|k|(2 − e^ρ))
            def ch(rho):
                r = mpmath.exp(rho)
                return sign * (mpmath.log(2 - r) - rho) / (2 * k), 1 / (ak * (2 - r))
            return ch

        up, down = rho_chart(1), rho_chart(-1)

        def rho_of(u):
            return mpmath.log(1 - mpmath.tanh(abs(u))) if abs(u) < 20 else \
                mpmath.log(2) - 2 * abs(u) - mpmath.log1p(mpmath.exp(-2 * abs(u)))

        u_hi = s * s + 40 * s
        grid = {y * s * s + j * s for y in (-1, 1) for j in _SD_GRID} | {-u_half, u_half}
        us = sorted(u for u in grid if -u_hi <= u <= u_hi)
        pieces = []
        for a, b in zip(us[:-1], us[1:]):
            if b <= -u_half:
                chart, ca, cb = down, rho_of(a), rho_of(b)
            elif a >= u_half:
                chart, ca, cb = up, rho_of(b), rho_of(a)
            else:
                chart, ca, cb = t_chart, mpmath.tanh(a), mpmath.tanh(b)
            pieces.append((_statistic_integrand_mp(m, sg, chart), ca, cb))
        total = _mp_quad_pieces(pieces)
    with mpmath.workdps(dps):
        return +total


def _mp_invert(T, t, xa, xb, ta, tb):
    """The x in [xa, xb] with T(x) = t (T monotone, T(xa) = ta, T(xb) = tb): Illinois regula falsi,
    bracketing and superlinear, to the working precision."""
    fa, fb = ta - t, tb - t
    if fa == 0 or (fa > 0) == (fb > 0):  # t at (or by rounding past) an end of the bracket
        return xa if abs(fa) <= abs(fb) else xb
    tol = abs(xb - xa) * mpmath.eps * 4
    floor = 8 * mpmath.eps * max(abs(ta), abs(tb))  # T is only known to this accuracy
    side = 0
    for _ in range(400):
        x = (xa * fb - xb * fa) / (fb - fa)
        fx = T(x) - t
        if fx == 0 or abs(xb - xa) < tol:
            return x
        if (fx > 0) == (fb > 0):
            xb, fb = x, fx
            if side == -1:
                fa /= 2
            side = -1
        else:
            xa, fa = x, fx
            if side == 1:
                fb /= 2
            side = 1
        if abs(xb - xa) <= tol * 4 or abs(fx) <= floor:
            return x
    raise ArithmeticError("inverting the statistic did not converge")


def information_of_statistic_mp(statistic: Callable, mu, sigma, *, inverse: Callable | None = None,
                                derivative: Callable | None = None, dps: int = 50):
    """Oracle for :func:`information_of_statistic`: textbook integrand in t at ``dps`` + guard digits.

    ``statistic`` (and ``inverse``/``derivative`` if given) must accept mpf; the default inverse is
    ``mpmath.findroot`` (bracketed), the default derivative ``mpmath.diff``.
    """
    s, m, sg = _mp_snr(mu, sigma, dps)
    if s == 0:
        return mpmath.mpf(0)
    guard = 10 + max(0, int(math.ceil(-float(mpmath.log10(s)))))
    with mpmath.workdps(dps + guard):
        xs = _merge_close(sorted({y * m + j * sg for y in (-1, 1) for j in _SD_GRID}), sg / 10**9)
        ts = [statistic(x) for x in xs]
        increasing = ts[1] > ts[0]
        pieces = []
        for xa, xb, ta, tb in zip(xs[:-1], xs[1:], ts[:-1], ts[1:]):
            if (tb > ta) != increasing or ta == tb:
                raise ValueError("statistic is not strictly monotone on the mass region of X")
            pieces.append((xa, xb, ta, tb))
        integrals = []
        for xa, xb, ta, tb in pieces:
            def x_and_jac(t, xa=xa, xb=xb, ta=ta, tb=tb):
                x = inverse(t) if inverse is not None else _mp_invert(statistic, t, xa, xb, ta, tb)
                d = derivative(x) if derivative is not None else mpmath.diff(statistic, x)
                return x, 1 / abs(d)

            lo, hi = (ta, tb) if increasing else (tb, ta)
            integrals.append((_statistic_integrand_mp(m, sg, x_and_jac), lo, hi))
        total = _mp_quad_pieces(integrals)
    with mpmath.workdps(dps):
        return +total


def decision_error_mp(rule, mu, sigma, dps: int = 50):
    """Oracle for :func:`decision_error`: ``mpmath.ncdf`` closed forms for threshold/interval
    rules, ``mpmath.quad`` for randomised ones."""
    _, m, sg = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + 10):
        if isinstance(rule, ThresholdRule):
            t = mpmath.mpf(float(rule.threshold))
            if rule.reverse:
                val = (_ncdf_mp((m - t) / sg) + _ncdf_mp((t + m) / sg)) / 2
            else:
                val = (_ncdf_mp((t - m) / sg) + _ncdf_mp(-(t + m) / sg)) / 2
        elif isinstance(rule, IntervalRule):
            edges = [-mpmath.inf] + [mpmath.mpf(e) for e in rule.edges] + [mpmath.inf]
            terms = []
            for (a, b), p in zip(zip(edges[:-1], edges[1:]), rule.prob_plus):
                p = mpmath.mpf(p)

                def prob(shift, a=a, b=b):
                    za, zb = (a - shift) / sg, (b - shift) / sg
                    # same-side tails, as the float code, but at 60 digits either way is exact enough
                    return _ncdf_mp(-za) - _ncdf_mp(-zb) if za >= 0 else _ncdf_mp(zb) - _ncdf_mp(za)

                terms.append((1 - p) * prob(m) + p * prob(-m))
            val = mpmath.fsum(terms) / 2
        elif isinstance(rule, RandomizedRule):
            qp = rule.prob_plus_mp or rule.prob_plus
            qm = rule.prob_minus_mp or (lambda x: 1 - qp(x))

            def f(x):
                return (qm(x) * _phi_mp((x - m) / sg) + qp(x) * _phi_mp((x + m) / sg)) / (2 * sg)

            val = _mp_quad(f, _rule_grid(rule, m, sg))
        else:
            raise TypeError(f"rule must be a ThresholdRule, IntervalRule or RandomizedRule, got {type(rule).__name__}")
    with mpmath.workdps(dps):
        return +val
