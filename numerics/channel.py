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


def snr(mu, sigma) -> np.ndarray:
    """``s = |μ|/σ`` (may be inf when σ is tiny relative to μ)."""
    m, s = _mu_sigma(mu, sigma)
    with np.errstate(over="ignore", under="ignore"):
        return np.abs(m) / s


def _out(a: np.ndarray):
    return float(a) if a.ndim == 0 else a


def _mp_snr(mu, sigma):
    """(|μ|/σ as an exact-input mpf, μ, σ) after the same checks as the float code."""
    _mu_sigma(mu, sigma)
    if np.ndim(mu) or np.ndim(sigma):
        raise ValueError("the mpmath oracles take scalar mu and sigma")
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
    q = 1.0 / (1.0 + math.exp(2.0 * a)) if a < 700 else 0.0
    if q == 0.0:
        return LOG2
    return LOG2 - (-q * math.log(q) - (1.0 - q) * math.log1p(-q))


def _quad(f, a: float, b: float, scale: float) -> float:
    """quad to relative 1.2e-14 (the least quadpack accepts) or absolute 1e-17·scale, whichever is
    looser: ``scale`` is a lower bound of the whole integral, so pieces that hold almost no mass
    are not refined to a pointless relative accuracy."""
    return integrate.quad(f, a, b, epsabs=1e-17 * scale, epsrel=1.2e-14, limit=200)[0]


def _quad_pieces(f, edges, scale: float) -> float:
    """Sum of :func:`_quad` over consecutive ``edges`` (a sorted list)."""
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            total += _quad(f, a, b, scale)
    return total


def _ratio_small_snr(s: float) -> float:
    """``R(s) = I/s²`` for s ≤ 1: ``1 − E[(s+Z)² r(s(s+Z))]``."""

    def f(z):
        w = s + z
        return math.exp(-0.5 * z * z) / _SQRT2PI * w * w * _logcosh_over_sq(s * w)

    edges = sorted({-39.0, -10.0, -3.0, -1.0, -s, 0.0, 1.0, 3.0, 10.0, 39.0})
    return 1.0 - _quad_pieces(f, edges, 0.3)  # the integral is ≥ E[(s+Z)²]·r(…) ≳ 0.3


def _log_cond_entropy_large_snr(s: float) -> float:
    """``log H(Y|X)`` for s > 1 via ``H = e^{−s²/2}/s · J(s)``."""

    def f(v):
        sp = _softplus(-2.0 * v)
        return math.exp(-0.5 * (v / s) ** 2 + v) * sp / _SQRT2PI

    j = _quad_pieces(f, [-60.0, -20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 20.0, 60.0], 0.1)  # J(s) > 0.1 for s ≥ 1
    return -0.5 * s * s - math.log(s) + math.log(j)


def _mi_scalar(s: float) -> float:
    if s == 0.0:
        return 0.0
    if s <= 1.0:
        return s * s * _ratio_small_snr(s)
    if s > SNR_SATURATION:
        return LOG2
    return LOG2 - math.exp(_log_cond_entropy_large_snr(s))


def _ce_scalar(s: float) -> float:
    if s <= 1.0:
        return LOG2 - s * s * _ratio_small_snr(s) if s > 0 else LOG2
    if s > SNR_SATURATION:
        return 0.0
    return math.exp(_log_cond_entropy_large_snr(s))


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
    s = snr(mu, sigma)
    return _out(np.vectorize(_mi_scalar, otypes=[np.float64])(s))


def conditional_entropy_y_given_x(mu, sigma):
    """``H(Y|X) = log 2 − I(X;Y) = E[softplus(−2s(s+Z))]`` in nats, with relative accuracy
    also where it is tiny (large SNR; it underflows to 0 beyond s ≈ 38.5).

    Reference: THEOREMS.md §B, Prop 4.5 (the Fano bound uses it).
    """
    s = snr(mu, sigma)
    return _out(np.vectorize(_ce_scalar, otypes=[np.float64])(s))


def bayes_error(mu, sigma):
    """Bayes error ``P_e* = Φ(−|μ|/σ)`` (``scipy.special.ndtr``: relative accuracy in the tail).

    Reference: THEOREMS.md §B, Thm 4.3.
    """
    return _out(np.asarray(special.ndtr(-snr(mu, sigma))))


def log_bayes_error(mu, sigma):
    """``log Φ(−|μ|/σ)`` via ``log_ndtr`` (finite where Φ(−s) itself underflows, s > 38.5)."""
    return _out(np.asarray(special.log_ndtr(-snr(mu, sigma))))


def information_sign(mu, sigma):
    """``I(sign X; Y) = log 2 − H_b(Φ(−s))``: sign X is Y through a binary symmetric
    channel with crossover ``Φ(−s)``. At μ = σ = 1: 0.2557139396... nats.

    For s ≤ 1 it is evaluated as ``d atanh d + ½ log1p(−d²)``, ``d = 1 − 2Φ(−s) = erf(s/√2)``,
    which keeps relative accuracy as s → 0 (where ``I ≈ s²/π``).

    Reference: THEOREMS.md §B, Section 4.1; Cover & Thomas (2006) §7.1.4 (BSC capacity).
    """
    s = snr(mu, sigma)
    out = np.empty_like(s)
    small = s <= 1.0
    d = special.erf(s[small] / math.sqrt(2.0))
    out[small] = d * np.arctanh(d) + 0.5 * np.log1p(-d * d)
    p = special.ndtr(-s[~small])
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
    total = 0.0
    for a, b in zip(us[:-1], us[1:]):
        if b <= a:
            continue
        if b <= -_U_HALF:
            total += integrate.quad(lower, rho_of(a), rho_of(b), **_QUAD)[0]
        elif a >= _U_HALF:
            total += integrate.quad(upper, rho_of(b), rho_of(a), **_QUAD)[0]
        else:
            total += integrate.quad(middle, math.tanh(a), math.tanh(b), **_QUAD)[0]
    return total


def information_tanh(mu, sigma):
    """``I(tanh(μX/σ²); Y)`` from the density of T = tanh(μX/σ²) (not from I(X;Y)).

    ``I(T;Y) = ∫_{−1}^{1} f_T(t) · g(v(t)) dt`` with ``f_T(t|y) = f_X(x(t)|y) |dx/dt|``,
    ``x(t) = σ² atanh(t)/μ``, ``v(t) = ½ log f_T(t|+1)/f_T(t|−1)``, g as in the module
    notes; quad in the t chart on [−½, ½] and the ρ = log(1 − |t|) charts near ±1.
    T is a sufficient statistic (``E[Y|X] = tanh(μX/σ²)``), so this must equal
    :func:`mutual_information`; at μ = σ = 1 both are 0.3368308203 nats.

    Reference: THEOREMS.md §B, Section 4.1 (tanh sufficiency).
    """
    s = snr(mu, sigma)
    return _out(np.vectorize(_tanh_info_scalar, otypes=[np.float64])(s))


def _numeric_derivative(fn: Callable, x: float, h: float) -> float:
    """Richardson-extrapolated central difference: error O(h⁴) + O(eps/h)."""
    d1 = (fn(x + h) - fn(x - h)) / (2.0 * h)
    d2 = (fn(x + h / 2) - fn(x - h / 2)) / h
    return (4.0 * d2 - d1) / 3.0


def _statistic_info_scalar(T, mu: float, sigma: float, inverse, derivative) -> float:
    s = abs(mu) / sigma
    if s == 0.0:
        return 0.0
    xs = sorted({y * mu + j * sigma for y in (-1.0, 1.0) for j in _SD_GRID})
    ts = np.array([float(T(x)) for x in xs])
    if not np.all(np.isfinite(ts)):
        raise ValueError("statistic is not finite on the mass region of X")
    dt = np.diff(ts)
    if not (np.all(dt > 0) or np.all(dt < 0)):
        raise ValueError(
            "statistic is not strictly monotone (or not resolvable in float64) on the mass region of X; "
            f"T at {xs} gives {ts.tolist()}"
        )
    increasing = dt[0] > 0

    def deriv(x: float) -> float:
        if derivative is not None:
            return abs(float(derivative(x)))
        return abs(_numeric_derivative(lambda z: float(T(z)), x, 1e-3 * max(abs(x), sigma)))

    total = 0.0
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
        total += integrate.quad(f, lo, hi, **_QUAD)[0]
    return total


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
    return RandomizedRule(
        prob_plus=lambda x: float(special.expit(a * x + b)),
        prob_minus=lambda x: float(special.expit(-(a * x + b))),
        prob_plus_mp=lambda x: 1 / (1 + mpmath.exp(-(a * x + b))),
        prob_minus_mp=lambda x: 1 / (1 + mpmath.exp(a * x + b)),
    )


def _interval_prob(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Φ(b) − Φ(a)`` for a ≤ b, subtracting only same-side tail probabilities."""
    out = np.empty(np.broadcast(a, b).shape)
    a, b = np.broadcast_arrays(a, b)
    right = a >= 0
    left = b <= 0
    mid = ~(right | left)
    out[right] = special.ndtr(-a[right]) - special.ndtr(-b[right])
    out[left] = special.ndtr(b[left]) - special.ndtr(a[left])
    # a < 0 < b: two positive halves, no cancellation
    out[mid] = 0.5 * (special.erf(b[mid] / math.sqrt(2)) - special.erf(a[mid] / math.sqrt(2)))
    return out


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

    lo = -abs(mu) - 40.0 * sigma
    hi = abs(mu) + 40.0 * sigma
    grid = {y * mu + j * sigma for y in (-1.0, 1.0) for j in _SD_GRID}
    grid |= {b for b in rule.breakpoints if lo < b < hi}
    return _quad_pieces(f, sorted(grid))


def decision_error(rule, mu, sigma):
    """Error probability ``P(f(X) ≠ Y)`` of a (possibly randomised) decision rule.

    ``P_err = ½ [P(predict −1 | Y=+1) + P(predict +1 | Y=−1)]``:

    * :class:`ThresholdRule` (x > t): ``½[Φ((t−μ)/σ) + Φ(−(t+μ)/σ)]``, reversed
      ``½[Φ((μ−t)/σ) + Φ((t+μ)/σ)]`` (``ndtr``, exact closed form);
    * :class:`IntervalRule`: ``½ Σ_k [(1 − p_k) P₊(I_k) + p_k P₋(I_k)]`` with the interval
      probabilities from ndtr differences of same-side tails;
    * :class:`RandomizedRule`: ``½ ∫ [(1 − q(x)) φ₊(x) + q(x) φ₋(x)] dx`` by quad with
      breakpoints at μ ± kσ and the rule's breakpoints.

    Vectorised over μ, σ. Reference: THEOREMS.md §B, Thm 4.3 (``P_err ≥ Φ(−|μ|/σ)``).
    """
    m, s = _mu_sigma(mu, sigma)
    if isinstance(rule, ThresholdRule):
        t = float(rule.threshold)
        with np.errstate(over="ignore", invalid="ignore"):
            a, b = (t - m) / s, (t + m) / s
        a = np.where(np.isnan(a), 0.0, a)  # only t = ±inf with huge μ/σ could do this; not reachable
        if rule.reverse:
            out = 0.5 * (special.ndtr(-a) + special.ndtr(b))
        else:
            out = 0.5 * (special.ndtr(a) + special.ndtr(-b))
        return _out(np.asarray(out, dtype=np.float64))
    if isinstance(rule, IntervalRule):
        edges = np.array((-np.inf,) + rule.edges + (np.inf,))
        p = np.array(rule.prob_plus)
        mm, ss = m[..., None], s[..., None]
        with np.errstate(over="ignore"):
            plus = _interval_prob((edges[:-1] - mm) / ss, (edges[1:] - mm) / ss)
            minus = _interval_prob((edges[:-1] + mm) / ss, (edges[1:] + mm) / ss)
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

def _phi_mp(z):
    return mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)


def _cond_entropy_quad_mp(s):
    """``H(Y|X) = ∫ φ(z) log(1 + e^{−2s(s+z)}) dz`` by tanh-sinh with breakpoints around z = −s."""
    w = min(mpmath.mpf(1), 1 / s)
    pts = sorted({-s - 40 * w, -s - 10 * w, -s - w, -s, -s + w, -s + 10 * w, mpmath.mpf(0)})
    pts = [-mpmath.inf] + pts + [mpmath.inf]
    return mpmath.quad(lambda z: _phi_mp(z) * mpmath.log1p(mpmath.exp(-2 * s * (s + z))), pts)


#: Below this SNR the oracle switches to the Taylor series I = s²/2 − s⁴/4 + O(s⁶):
#: relative truncation error ≤ s⁴ < 1e-100, beyond 50 digits.
_MP_SERIES_SNR = mpmath.mpf("1e-25")


def mutual_information_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`mutual_information`: ``log 2 − ∫ φ(z) log(1 + e^{−2s(s+z)}) dz`` at
    ``dps`` + guard digits (2 log10(1/s) more at small s for the cancellation); below
    s = 1e-25 the series ``s²/2 − s⁴/4`` (error < s⁶)."""
    s, _, _ = _mp_snr(mu, sigma)
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
    s, _, _ = _mp_snr(mu, sigma)
    with mpmath.workdps(dps + 10):
        val = mpmath.log(2) if s == 0 else _cond_entropy_quad_mp(s)
    with mpmath.workdps(dps):
        return +val


def bayes_error_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`bayes_error`: ``mpmath.ncdf(−|μ|/σ)``."""
    s, _, _ = _mp_snr(mu, sigma)
    with mpmath.workdps(dps):
        return mpmath.ncdf(-s)


def log_bayes_error_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`log_bayes_error`."""
    s, _, _ = _mp_snr(mu, sigma)
    with mpmath.workdps(dps + 10):
        val = mpmath.log(mpmath.ncdf(-s))
    with mpmath.workdps(dps):
        return +val


def information_sign_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`information_sign`: ``log 2 − H_b(Φ(−s))`` at raised precision."""
    s, _, _ = _mp_snr(mu, sigma)
    with mpmath.workdps(dps + _extra_digits(s)):
        p = mpmath.ncdf(-s)
        hb = -(p * mpmath.log(p) + (1 - p) * mpmath.log1p(-p)) if p != 0 else mpmath.mpf(0)
        val = mpmath.log(2) - hb
    with mpmath.workdps(dps):
        return +val


def _statistic_info_quad_mp(mu, sigma, t_pieces, x_of_t, jac_of_t):
    """``½ Σ_y ∫ f_T(t|y) log(f_T(t|y)/f_T(t)) dt`` over pieces, each given in its own chart.

    ``t_pieces`` is a list of (chart, a, b); a chart maps its coordinate c to (t, dt/dc).
    """
    def integrand(chart):
        def f(c):
            t, dtdc = chart(c)
            x = x_of_t(t, c)
            jac = jac_of_t(t, c) * dtdc
            fp = _phi_mp((x - mu) / sigma) / sigma * jac
            fm = _phi_mp((x + mu) / sigma) / sigma * jac
            fbar = (fp + fm) / 2
            terms = [fy * mpmath.log(fy / fbar) for fy in (fp, fm) if fy != 0]
            return mpmath.fsum(terms) / 2
        return f

    return mpmath.fsum(mpmath.quad(integrand(chart), [a, b]) for chart, a, b in t_pieces)


def information_tanh_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`information_tanh`: the textbook ``½ Σ_y ∫ f_T(t|y) log(f_T(t|y)/f_T(t)) dt``
    with the original μ, σ (no reduction to the SNR), ``x(t) = σ² atanh(t)/μ``,
    ``|dx/dt| = σ²/(|μ|(1 − t²))``, in the same three charts of (−1, 1) as the float code
    (near ±1 the chart ``ρ = log(1 − |t|)`` carries 1 − |t| exactly at any magnitude).
    Guard digits: log10(1/s) + 10 for the cancellation between the two y terms."""
    s, m, sg = _mp_snr(mu, sigma)
    if s == 0:
        return mpmath.mpf(0)
    guard = 10 + max(0, int(math.ceil(-float(mpmath.log10(s)))))
    with mpmath.workdps(dps + guard):
        k = m / sg**2
        ak = abs(k)
        u_half = mpmath.atanh(mpmath.mpf(1) / 2)

        # chart state is passed through c: the t chart uses c = t, the ρ charts c = ρ
        def t_chart(c):
            return c, mpmath.mpf(1)

        def chart_near(sign):
            def ch(rho):
                return sign * (1 - mpmath.exp(rho)), mpmath.exp(rho)
            ch.sign = sign
            return ch

        up, down = chart_near(1), chart_near(-1)

        def x_of(chart):
            if chart is t_chart:
                return lambda t, c: mpmath.atanh(t) / k
            # atanh(±(1 − r)) = ±½ (log(2 − r) − ρ), never forming 1 − r
            return lambda t, c: chart.sign * (mpmath.log(2 - mpmath.exp(c)) - c) / 2 / k

        def jac_of(chart):
            if chart is t_chart:
                return lambda t, c: 1 / (ak * (1 - t * t))
            return lambda t, c: 1 / (ak * mpmath.exp(c) * (2 - mpmath.exp(c)))

        def rho_of(u):
            return mpmath.log(1 - mpmath.tanh(abs(u))) if abs(u) < 20 else \
                mpmath.log(2) - 2 * abs(u) - mpmath.log1p(mpmath.exp(-2 * abs(u)))

        u_hi = s * s + 40 * s
        grid = {y * s * s + j * s for y in (-1, 1) for j in _SD_GRID} | {-u_half, u_half}
        us = sorted(u for u in grid if -u_hi <= u <= u_hi)
        total = mpmath.mpf(0)
        for a, b in zip(us[:-1], us[1:]):
            if b <= -u_half:
                chart, ca, cb = down, rho_of(a), rho_of(b)
            elif a >= u_half:
                chart, ca, cb = up, rho_of(b), rho_of(a)
            else:
                chart, ca, cb = t_chart, mpmath.tanh(a), mpmath.tanh(b)
            total += _statistic_info_quad_mp(m, sg, [(chart, ca, cb)], x_of(chart), jac_of(chart))
    with mpmath.workdps(dps):
        return +total


def information_of_statistic_mp(statistic: Callable, mu, sigma, *, inverse: Callable | None = None,
                                derivative: Callable | None = None, dps: int = 50):
    """Oracle for :func:`information_of_statistic`: textbook integrand in t at ``dps`` + guard digits.

    ``statistic`` (and ``inverse``/``derivative`` if given) must accept mpf; the default inverse is
    ``mpmath.findroot`` (bracketed), the default derivative ``mpmath.diff``.
    """
    s, m, sg = _mp_snr(mu, sigma)
    if s == 0:
        return mpmath.mpf(0)
    guard = 10 + max(0, int(math.ceil(-float(mpmath.log10(s)))))
    with mpmath.workdps(dps + guard):
        xs = sorted({y * m + j * sg for y in (-1, 1) for j in _SD_GRID})
        ts = [statistic(x) for x in xs]
        increasing = ts[1] > ts[0]
        pieces = []
        for xa, xb, ta, tb in zip(xs[:-1], xs[1:], ts[:-1], ts[1:]):
            if (tb > ta) != increasing or ta == tb:
                raise ValueError("statistic is not strictly monotone on the mass region of X")
            pieces.append((xa, xb, ta, tb))
        total = mpmath.mpf(0)
        for xa, xb, ta, tb in pieces:
            def x_of(t, c, xa=xa, xb=xb):
                if inverse is not None:
                    return inverse(t)
                return mpmath.findroot(lambda x: statistic(x) - t, (xa, xb), solver="anderson")

            def jac_of(t, c):
                x = x_of(t, c)
                d = derivative(x) if derivative is not None else mpmath.diff(statistic, x)
                return 1 / abs(d)

            lo, hi = (ta, tb) if increasing else (tb, ta)
            total += _statistic_info_quad_mp(m, sg, [(lambda c: (c, mpmath.mpf(1)), lo, hi)], x_of, jac_of)
    with mpmath.workdps(dps):
        return +total


def decision_error_mp(rule, mu, sigma, dps: int = 50):
    """Oracle for :func:`decision_error`: ``mpmath.ncdf`` closed forms for threshold/interval
    rules, ``mpmath.quad`` for randomised ones."""
    _, m, sg = _mp_snr(mu, sigma)
    with mpmath.workdps(dps + 10):
        if isinstance(rule, ThresholdRule):
            t = mpmath.mpf(float(rule.threshold))
            if rule.reverse:
                val = (mpmath.ncdf((m - t) / sg) + mpmath.ncdf((t + m) / sg)) / 2
            else:
                val = (mpmath.ncdf((t - m) / sg) + mpmath.ncdf(-(t + m) / sg)) / 2
        elif isinstance(rule, IntervalRule):
            edges = [-mpmath.inf] + [mpmath.mpf(e) for e in rule.edges] + [mpmath.inf]
            terms = []
            for (a, b), p in zip(zip(edges[:-1], edges[1:]), rule.prob_plus):
                p = mpmath.mpf(p)

                def prob(shift, a=a, b=b):
                    za, zb = (a - shift) / sg, (b - shift) / sg
                    # same-side tails, as the float code, but at 60 digits either way is exact enough
                    return mpmath.ncdf(-za) - mpmath.ncdf(-zb) if za >= 0 else mpmath.ncdf(zb) - mpmath.ncdf(za)

                terms.append((1 - p) * prob(m) + p * prob(-m))
            val = mpmath.fsum(terms) / 2
        elif isinstance(rule, RandomizedRule):
            qp = rule.prob_plus_mp or rule.prob_plus
            qm = rule.prob_minus_mp or (lambda x: 1 - qp(x))

            def f(x):
                return (qm(x) * _phi_mp((x - m) / sg) + qp(x) * _phi_mp((x + m) / sg)) / (2 * sg)

            grid = {y * m + j * sg for y in (-1, 1) for j in _SD_GRID}
            lo, hi = -abs(m) - 40 * sg, abs(m) + 40 * sg
            grid |= {mpmath.mpf(b) for b in rule.breakpoints if lo < b < hi}
            pts = sorted(grid)
            val = mpmath.fsum(mpmath.quad(f, [a, b]) for a, b in zip(pts[:-1], pts[1:]))
        else:
            raise TypeError(f"rule must be a ThresholdRule, IntervalRule or RandomizedRule, got {type(rule).__name__}")
    with mpmath.workdps(dps):
        return +val
