"""I(T; Y) of a statistic T of the Gaussian binary channel, from T's own density (Arb: certified).

For X | Y = ±1 ~ N(±μ, σ²) and an injective statistic T = t(X), I(T; Y) is computed
by integrating over T's coordinate (charts for tanh, x³, arctan and x), with a
certified tail ball; in Arb the result encloses the exact value. These are the exact
sides of the Section 4.1 statements (:mod:`theorems.sec_4_1`).

Reference: Cover & Thomas (2006), §2.9 (sufficient statistics).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

import flint
import mpmath

from numerics.backends import Arb
from theorems.ball_quadrature import SD_GRID as _SD_GRID
from theorems.ball_quadrature import WINDOW_SD, AcbOps, gaussian_window, integrate, phi, softplus
from theorems.channel_information_exact import binary_entropy_exact
from theorems.channel_rules import bayes_error_exact, check_channel

LOG2 = math.log(2.0)

# ----------------------------------------------------------------------------
# I(T;Y) from the density of T, in T's own coordinate (Arb: certified)
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A coordinate c on (part of) the range of T: ``x(c)`` (= T⁻¹ of the t that c labels),
    ``|dx/dc|``, and the analyticity test for ``acb.integral`` (Re of every log/power argument > 0)."""

    x: object
    jac: object
    ok: object


def _information_integrand(mu: Fraction, sigma: Fraction, chart: Chart):
    """``½ Σ_y f_T(t|y) log(f_T(t|y)/f_T(t)) · dt/dc`` in the chart coordinate c, where
    ``f_T(t|y) = φ((x(t) − yμ)/σ)/σ · |dx/dt|`` (the Jacobians cancel inside the log):
    ``log(2 f_y/(f₊ + f₋)) = log 2 − log1p(r_y)``, ``r_y = φ((x+yμ)/σ)/φ((x−yμ)/σ)``."""

    def f(c, ops, analytic):
        if analytic and not chart.ok(c, ops):
            return ops.nan()
        m, sg = ops.num(mu), ops.num(sigma)
        x = chart.x(c, ops)
        total = 0
        for y in (1, -1):
            z_same, z_other = (x - y * m) / sg, (x + y * m) / sg
            sp = softplus((z_same * z_same - z_other * z_other) / 2, ops, analytic)  # log1p(r_y)
            if sp is None:
                return ops.nan()
            total = total + phi(z_same, ops) / sg * (ops.log2() - sp)
        return chart.jac(c, ops) * total / 2

    return f


def _statistic_information(mu, sigma, pieces, tail_bound_fn, B, scale_fn):
    """``Σ_pieces ∫ integrand`` (+ the certified tail ball in Arb); pieces = [(chart, [c_0, c_1, ...])]."""
    total = None
    for chart, pts in pieces:
        f = _information_integrand(mu, sigma, chart)
        if isinstance(B, Arb):
            val = integrate(B, f, pts, abs_scale=scale_fn(B))
        else:
            val = integrate(B, f, pts)
        total = val if total is None else total + val
    if isinstance(B, Arb):
        total += flint.arb(0).union(tail_bound_fn(B))
    return total


def _outside_mass_bound(mu: Fraction, sigma: Fraction, r_lower, B):
    """``log 2 · P(|X| > R)`` for ``R ≥ r_lower``: the integrand is between 0 and ``log 2 · f_T``."""
    m, sg = B.num(mu), B.num(sigma)
    return B.log(B.num(2)) * (B.ncdf(-(r_lower + m) / sg) + B.ncdf((m - r_lower) / sg))


def _info_scale(mu, sigma):
    """A lower estimate of I(T;Y) ~ min(s², 1)/2 for the absolute tolerance of the integrator."""
    s = abs(mu) / sigma
    return lambda B: B.num(min(s * s, Fraction(1))) / 20


def _tanh_charts(k: Fraction):
    """Charts for T = tanh(kx): t on [−½, ½], and ``t = ±(1 − ½e^c)``, c ≤ 0, near ±1
    (c = 0 is t = ±½ exactly, so the pieces meet at rational coordinates)."""
    ak = abs(k)

    def mid_x(t, ops):
        return (ops.log1p(t) - ops.log1p(-t)) / (2 * ops.num(k))

    def mid_jac(t, ops):
        return 1 / (ops.num(ak) * (1 - t * t))

    def mid_ok(t, ops):
        return ops.re_positive(1 + t) and ops.re_positive(1 - t)

    def end_chart(sign):
        # 1 − |t| = ½e^c, 1 + |t| = 2 − ½e^c: atanh|t| = ½(log(2 − ½e^c) − c + log 2)
        def x(c, ops):
            w = 2 - ops.exp(c) / 2
            return sign * (ops.log(w) - c + ops.log2()) / (2 * ops.num(k))

        def jac(c, ops):  # |dx/dt|·|dt/dc| = ½e^c / (|k| (1 − |t|)(1 + |t|))
            return 1 / (ops.num(ak) * (2 - ops.exp(c) / 2))

        def ok(c, ops):
            return ops.re_positive(2 - ops.exp(c) / 2)

        return Chart(x, jac, ok)

    return Chart(mid_x, mid_jac, mid_ok), end_chart(1), end_chart(-1)


def _end_coordinate(u: float) -> Fraction:
    """c with ``1 − tanh|u| = ½e^c``: ``c = log 4 − 2|u| − log1p(e^{−2|u|})`` (exact rational of the float)."""
    a = abs(u)
    return Fraction(2 * LOG2 - 2 * a - math.log1p(math.exp(-2 * a)))


def information_tanh_exact(x: dict, B, k_factor: Fraction = Fraction(1)):
    """``I(tanh(k_factor·μX/σ²); Y)`` from the density of T (see :func:`_information_tanh`); the
    mpmath values are cached (≈2 s each at 60 digits; certification asks for the same one repeatedly)."""
    check_channel(x)
    mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
    if isinstance(B, Arb):
        return _information_tanh(mu, sigma, B, k_factor)
    return _information_tanh_mp_cached(mu, sigma, k_factor, mpmath.mp.dps)


@functools.lru_cache(maxsize=128)
def _information_tanh_mp_cached(mu: Fraction, sigma: Fraction, k_factor: Fraction, dps: int):
    with mpmath.workdps(dps):
        return _information_tanh(mu, sigma, None, k_factor)


def _information_tanh(mu: Fraction, sigma: Fraction, B, k_factor: Fraction):
    """``I(tanh(k_factor·μX/σ²); Y)`` from the density of T, in backend B (Arb: certified enclosure).

    The covered range is ``|kX| ≤ U`` with U ≈ s² + 40s (k = k_factor·μ/σ²); the rest holds
    less than ``log 2 · P(|X| > U/|k|)`` (tail ball), with U recomputed in Arb from the exact
    chart endpoint so the bound refers to exactly the uncovered set.
    """
    if mu == 0:
        return B.num(0) if B is not None else mpmath.mpf(0)
    k = k_factor * mu / sigma**2
    s = float(abs(mu) / sigma)
    u_scale = float(abs(k_factor)) * s  # sd of u = kX
    u_hi = float(abs(k_factor)) * s * s + WINDOW_SD * u_scale
    us = sorted({float(abs(k_factor)) * y * s * s + j * u_scale for y in (-1, 1) for j in _SD_GRID})
    us = [u for u in us if -u_hi <= u <= u_hi] + [-u_hi, u_hi]
    u_half = math.atanh(0.5)
    mid, up, down = _tanh_charts(k)
    mid_pts = {Fraction(math.tanh(u)) for u in us if abs(u) < u_half}
    if u_hi >= u_half:
        mid_pts |= {Fraction(-1, 2), Fraction(1, 2)}
        end_pts = {_end_coordinate(u) for u in us if abs(u) > u_half} | {Fraction(0)}
        c_min = min(end_pts)
        pieces = [(mid, sorted(mid_pts)), (up, sorted(end_pts)), (down, sorted(end_pts))]

        def covered_u(B):  # |u| ≤ atanh(1 − ½e^{c_min})
            cm = B.num(c_min)
            return (B.log(2 - B.exp(cm) / 2) - cm + B.log(B.num(2))) / 2
    else:
        t_hi = max(abs(t) for t in mid_pts)
        mid_pts |= {-t_hi, t_hi}
        pieces = [(mid, sorted(mid_pts))]

        def covered_u(B):
            t = B.num(t_hi)
            return (B.log1p(t) - B.log1p(-t)) / 2

    def tail(B):
        return _outside_mass_bound(mu, sigma, covered_u(B) / B.num(abs(k)), B)

    if isinstance(B, Arb):
        return _statistic_information(mu, sigma, pieces, tail, B, _info_scale(mu, sigma))
    with mpmath.workdps(mpmath.mp.dps + 15):
        val = _statistic_information(mu, sigma, pieces, tail, B, _info_scale(mu, sigma))
    return +val


def _cube_chart(sign: int) -> Chart:
    """t = x³ on t > 0 (sign +1) or t < 0 (sign −1): x = sign·|t|^{1/3}, |dx/dt| = 1/(3x²)."""

    def x(t, ops):
        return sign * ops.exp(ops.log(sign * t) / 3)

    def jac(t, ops):
        xv = x(t, ops)
        return 1 / (3 * xv * xv)

    def ok(t, ops):
        return ops.re_positive(sign * t)

    return Chart(x, jac, ok)


def information_cube_exact(x: dict, B, delta_exponent: int = 40):
    """``I(X³; Y)`` from the density of T = X³ integrated over t, in backend B.

    f_T(t) ~ |t|^{-2/3} at 0, so |t| < δ = (10^{-e}σ)³ is left out and bounded: there the
    integrand (in x) is ``f̄(x) g(μx/σ²)`` with ``g(v) ≤ v²/2`` and ``f̄ ≤ 1/(σ√(2π))``, so it
    holds at most ``μ²δ/(3σ⁵√(2π))``; beyond |x| > R = |μ| + 40σ at most log 2·P(|X| > R).
    """
    check_channel(x)
    mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
    if mu == 0:
        return B.num(0)
    eps = sigma / Fraction(10) ** delta_exponent
    xs = [p for p in gaussian_window(mu, sigma) if p > eps]
    r = abs(mu) + WINDOW_SD * sigma
    pos = sorted({eps**3} | {p**3 for p in xs} | {r**3})
    neg = sorted({-t for t in pos})
    pieces = [(_cube_chart(1), pos), (_cube_chart(-1), neg)]

    def tail(B):
        inner = B.num(mu) ** 2 * B.num(eps**3) / (3 * B.num(sigma) ** 5 * B.sqrt(2 * B.pi()))
        return inner + _outside_mass_bound(mu, sigma, B.num(r), B)

    if isinstance(B, Arb):
        return _statistic_information(mu, sigma, pieces, tail, B, _info_scale(mu, sigma))
    with mpmath.workdps(mpmath.mp.dps + 15):
        val = _statistic_information(mu, sigma, pieces, tail, B, _info_scale(mu, sigma))
    return +val


def information_arctan_exact(x: dict, B):
    """``I(arctan X; Y)`` from the density of T = arctan X over t ∈ (−π/2, π/2): x = tan t,
    |dx/dt| = 1 + tan² t (meromorphic: poles only at ±π/2, outside every piece)."""
    check_channel(x)
    mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
    if mu == 0:
        return B.num(0)

    def tan(c, ops):
        return c.tan() if ops is AcbOps else mpmath.tan(c)

    chart = Chart(tan, lambda c, ops: 1 + tan(c, ops) ** 2, lambda c, ops: True)
    pts = sorted({Fraction(math.atan(float(p))) for p in gaussian_window(mu, sigma)})
    t_lo, t_hi = pts[0], pts[-1]

    def tail(B):  # uncovered: x < tan(t_lo) or x > tan(t_hi); both |·| ≥ min of the two
        r = B.num(t_hi).tan() if isinstance(B, Arb) else mpmath.tan(B.num(t_hi))
        r2 = -(B.num(t_lo).tan() if isinstance(B, Arb) else mpmath.tan(B.num(t_lo)))
        r_min = r.min(r2) if isinstance(B, Arb) else min(r, r2)  # a ball holding the smaller, not a guess
        return _outside_mass_bound(mu, sigma, r_min, B)

    if isinstance(B, Arb):
        return _statistic_information(mu, sigma, [(chart, pts)], tail, B, _info_scale(mu, sigma))
    with mpmath.workdps(mpmath.mp.dps + 15):
        val = _statistic_information(mu, sigma, [(chart, pts)], tail, B, _info_scale(mu, sigma))
    return +val


def information_identity_exact(x: dict, B):
    """``I(X;Y)`` as the statistic T(x) = x through the same chart integrator (the x-density route)."""
    check_channel(x)
    mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
    if mu == 0:
        return B.num(0)
    chart = Chart(lambda c, ops: c, lambda c, ops: 1, lambda c, ops: True)
    pts = gaussian_window(mu, sigma)
    r = abs(mu) + WINDOW_SD * sigma

    def tail(B):
        return _outside_mass_bound(mu, sigma, B.num(r), B)

    return _statistic_information(mu, sigma, [(chart, pts)], tail, B, _info_scale(mu, sigma))


def information_sign_exact(x: dict, B):
    """``I(sign X; Y) = log 2 − H_b(Φ(−|μ|/σ))`` (sign X is Y through a BSC)."""
    return B.log(B.num(2)) - binary_entropy_exact(bayes_error_exact(x, B), B)
