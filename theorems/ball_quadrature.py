"""Integrals in Arb ball arithmetic (certified) or mpmath (second opinion), with one integrand.

An integrand ``f(z, ops, analytic)`` is written once against an operations table —
:class:`AcbOps` (complex balls for ``acb.integral``) or :class:`MpOps` (mpmath) — and
:func:`integrate` sums it over consecutive exact breakpoints, adding a certified tail
ball where the caller bounds the mass outside the window. :func:`gaussian_window` and
:func:`step_points` place the breakpoints for Gaussian integrands (the Section 4
channel errors, informations and Fano bounds).

Reference: F. Johansson, "Numerical integration in arbitrary-precision ball
arithmetic", ICMS 2018 (``acb_calc_integrate``); mpmath's Gauss-Legendre quadrature.
"""

from __future__ import annotations

from fractions import Fraction

import flint
import mpmath

from numerics.backends import Arb

#: Gaussian mass beyond 40 sd is < 2Φ(−40) ≈ 7e-350: the quadrature windows stop there
#: and the rest is added as a certified tail ball.
WINDOW_SD = 40
#: breakpoints (in standard deviations) of every Gaussian window
SD_GRID = (-40, -20, -10, -6, -3, -1, 0, 1, 3, 6, 10, 20, 40)


class AcbOps:
    """Complex ball operations for integrands evaluated by ``acb.integral``."""

    exact = True

    @staticmethod
    def num(v):
        # called millions of times inside integrands: a fast path for the exact types, and a
        # refusal of floats and mpmath numbers (their value was rounded before it got here)
        if isinstance(v, int):
            return flint.arb(v)
        if isinstance(v, Fraction):
            return flint.arb(flint.fmpq(v.numerator, v.denominator))
        if isinstance(v, flint.arb):
            return v
        return Arb().num(v)  # raises InexactInputError for inexact numbers

    exp = staticmethod(lambda z: z.exp())
    sqrt = staticmethod(lambda z: z.sqrt())
    log = staticmethod(lambda z: z.log())
    log1p = staticmethod(lambda z: z.log1p())
    sinh = staticmethod(lambda z: z.sinh())
    pi = staticmethod(lambda: flint.arb.pi())
    log2 = staticmethod(lambda: flint.arb(2).log())

    @staticmethod
    def re_positive(z) -> bool:
        """Certified Re z > 0 (the analyticity test for log/log1p/powers near a branch cut)."""
        return bool(flint.acb(z).real > 0)

    @staticmethod
    def nan():
        return flint.acb(flint.arb.nan())


class MpOps:
    """The same operations in mpmath (the non-rigorous second opinion)."""

    exact = False
    num = staticmethod(lambda v: mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator)
    exp = staticmethod(mpmath.exp)
    sqrt = staticmethod(mpmath.sqrt)
    log = staticmethod(mpmath.log)
    log1p = staticmethod(mpmath.log1p)
    sinh = staticmethod(mpmath.sinh)
    pi = staticmethod(lambda: +mpmath.pi)
    log2 = staticmethod(lambda: mpmath.log(2))
    re_positive = staticmethod(lambda z: True)
    nan = staticmethod(lambda: mpmath.nan)


def ops_for(B):
    return AcbOps if isinstance(B, Arb) else MpOps


def integrate(B, integrand, points, tail_bound=None, abs_scale=None):
    """``∫ integrand`` over consecutive exact ``points`` (Fractions), plus a tail ball ``[0, tail_bound]``.

    ``integrand(z, ops, analytic)`` is written once against ``ops`` (:class:`AcbOps` or
    :class:`MpOps`); with Arb it must return a non-finite ball where it cannot prove
    analyticity (``acb.integral`` contract). ``abs_scale``: a lower estimate of the
    integral's size, so the absolute tolerance is relative to it (tiny integrals).
    In Arb the result is a certified enclosure; in mpmath a tanh-sinh estimate.
    """
    pts = sorted(set(Fraction(p) for p in points))
    if isinstance(B, Arb):
        prec = flint.ctx.prec
        tol = flint.arb(2) ** (-prec) * (abs_scale if abs_scale is not None else flint.arb(1))
        total = flint.arb(0)
        for a, b in zip(pts[:-1], pts[1:]):
            val = flint.acb.integral(lambda z, an: integrand(z, AcbOps, an), AcbOps.num(a), AcbOps.num(b),
                                     abs_tol=tol, rel_tol=flint.arb(2) ** (-prec))
            total += val.real
        if tail_bound is not None:
            total += flint.arb(0).union(tail_bound)
        return total
    pieces = [(MpOps.num(a), MpOps.num(b)) for a, b in zip(pts[:-1], pts[1:])]
    sizes = [_mp_size(integrand, a, b) for a, b in pieces]
    total = mpmath.fsum(c * (b - a) for c, (a, b) in zip(sizes, pieces))
    # pieces below 10^-(dps+10) of the whole cannot change the result at working precision
    # (the size is taken at both ends and the middle; every peak of our integrands is a breakpoint)
    floor = total * mpmath.mpf(10) ** (-mpmath.mp.dps - 10)
    return mpmath.fsum(_mp_piece(integrand, a, b, c) for c, (a, b) in zip(sizes, pieces) if c * (b - a) > floor)


def _mp_size(integrand, a, b):
    return max(abs(integrand(z, MpOps, False)) for z in (a, (a + b) / 2, b))


def _mp_piece(integrand, a, b, c):
    """mpmath Gauss-Legendre on [a, b] (3x faster than tanh-sinh here, once its nodes are cached), the
    integrand divided by its size ``c`` at the ends and middle first:
    ``mpmath.quad`` stops on an *absolute* error of 10^-dps, so a piece of size 1e-198 would
    otherwise be accepted after the first level (relative error ~1e-11 seen at μ/σ = 30)."""
    if c == 0 or not mpmath.isfinite(c):
        c = mpmath.mpf(1)
    return c * mpmath.quad(lambda z: integrand(z, MpOps, False) / c, [a, b], method="gauss-legendre")


def softplus(w, ops, analytic: bool):
    """``log(1 + e^w)`` analytic on a neighbourhood of the real segment the integrator works on.

    ``w + log1p(e^{−w})`` where Re w > 0 and ``log1p(e^w)`` where Re w < 0: there |e^{∓w}| < 1,
    so the log1p argument has real part > 0 whatever Im w is (no branch cut; a single
    Re(1 + e^w) > 0 test would force subintervals of width ~π in w). A ball straddling
    Re w = 0 uses ``log1p(e^w)`` and must prove Re(1 + e^w) > 0; otherwise the result is
    non-finite and ``acb.integral`` subdivides. Returns None where analyticity fails.
    """
    if ops.exact:
        re = flint.acb(w).real
        if re > 0:
            return w + ops.log1p(ops.exp(-w))
        if re < 0:
            return ops.log1p(ops.exp(w))
        e = ops.exp(w)
        if analytic and not ops.re_positive(1 + e):
            return None
        return ops.log1p(e)
    return w + ops.log1p(ops.exp(-w)) if w > 0 else ops.log1p(ops.exp(w))


def phi(z, ops):
    """Standard normal density in ``ops``."""
    return ops.exp(-z * z / 2) / ops.sqrt(2 * ops.pi())


def gaussian_window(mu: Fraction, sigma: Fraction, extra=()) -> list[Fraction]:
    """Breakpoints ``±μ + jσ`` (j on a grid up to 40) and ``extra`` inside ``|x| ≤ |μ| + 40σ``."""
    r = abs(mu) + WINDOW_SD * sigma
    pts = {y * mu + j * sigma for y in (-1, 1) for j in SD_GRID} | {-r, r}
    pts |= {Fraction(e) for e in extra if -r < Fraction(e) < r}
    return sorted(p for p in pts if -r <= p <= r)


def step_points(z0: Fraction, widths, lo: int = -WINDOW_SD, hi: int = WINDOW_SD) -> list[Fraction]:
    """``z0 ± w·2^k`` for each width w, inside ``[lo, hi]``: pieces that resolve a sharp step at z0
    (and the fast-varying Gaussian weight when z0 sits in a tail)."""
    out = {z0} if lo < z0 < hi else set()
    for w in widths:
        off = Fraction(w)
        while off <= 2 * (hi - lo):
            out |= {z for z in (z0 - off, z0 + off) if lo < z < hi}
            off *= 2
    return sorted(out)
