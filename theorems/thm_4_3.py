"""Theorem 4.3: every classifier of the Gaussian binary channel errs at least ``Φ(−|μ|/σ)``.

Channel (Definition 4.1): ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``. The claim is

    P(f(X) ≠ Y) ≥ P_e* = Φ(−|μ|/σ)        for every classifier f,

with equality for the Bayes rule ``sign(μx)`` (Thm 4.2).

What this module computes, every run:

* ``thm-4.3``: Hypothesis draws ``(μ, σ)`` (canonical channels covering μ < 0,
  σ > 1, s ≪ 1, s ≫ 1 and μ = 0; plain; extreme magnitudes; SNR down to 1e-12)
  and an *arbitrary* classifier: a threshold rule ``x > t`` or ``x < t`` with t
  anywhere (t = 0 with either orientation often, and tiny offsets from it), a
  randomised piecewise-constant rule (up to 6 intervals, each with its own
  P(predict +1); Bayes-like, Bayes with one interval perturbed, random, or
  deterministic), a smooth randomised rule (logistic ``P(+1|x) = 1/(1 +
  e^{−(ax+b)})``, slope c·2μ/σ² with c up to ~300 — nearly the Bayes rule — or
  arbitrary, capped at |a|σ ≤ 1000), or the exact Bayes rule (a quarter of the
  draws: the bound is tight there). The float error comes from
  :func:`numerics.channel.decision_error`; the exact one is a closed form in Φ for
  threshold and interval rules (``B.ncdf`` in Arb: certified), and for the
  logistic rules a rigorous Arb integral (``acb.integral``, with Gaussian tail
  bounds added as a ball ``[0, tail]``) or mpmath quadrature for the mpmath backend.

The shared pieces (channel-parameter strategy, rule strategy, exact errors, the
Arb/mpmath integrator) live here and are imported by ``thm_4_2``, ``cor_4_4``,
``prop_4_5`` and ``sec_4_1``.

Reference: Tan & Huang (2025), Section 4, Thm 4.3 (statement ``thm-4.3`` in docs/statements.md).
Cover & Thomas (2006), §2.10 (Bayes error); F. Johansson, "Numerical integration
in arbitrary-precision ball arithmetic", ICMS 2018 (``acb_calc_integrate``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import mpmath
from hypothesis import strategies as st
from scipy import special

from numerics.backends import Arb
from numerics.channel import (
    IntervalRule,
    RandomizedRule,
    ThresholdRule,
    bayes_error,
    decision_error,
)
from theorems.statement import Inequality, exactify

#: SNRs drawn stay below this: Φ(−36) ≈ 1e-284 keeps every error and entropy a normal float64
#: (subnormals below 2.2e-308 carry few digits: at s = 38 a rule's float error was off by 5e-9
#: relative, which the search would report as a violation).
MAX_SNR = 36.0
#: Gaussian mass beyond 40 sd is < 2Φ(−40) ≈ 7e-350: the quadrature windows stop there
#: and the rest is added as a certified tail ball.
WINDOW_SD = 40
_SD_GRID = (-40, -20, -10, -6, -3, -1, 0, 1, 3, 6, 10, 20, 40)
#: Examples per quick check of the Section 4 inequalities (≈1–2 s each). With the dev profile's 40, a
#: false variant survived 2 of 232 runs (Hypothesis draws few distinct regimes in 40 examples); with
#: 150, none of 232 did.
QUICK_EXAMPLES = 150

# ----------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------


#: (μ, σ): the paper's example, μ < 0, σ > 1, small and large SNR, μ = 0
CANONICAL_CHANNELS = [(1.0, 1.0), (-1.0, 1.0), (0.5, 2.0), (3.0, 1.0), (-10.0, 4.0), (0.01, 1.0),
                      (0.0, 1.0), (20.0, 1.0), (1.0, 3.0), (-0.25, 0.5)]


def _clamp_snr(mu: float, sigma: float) -> float:
    if sigma > 0 and abs(mu) / sigma > MAX_SNR:
        return math.copysign(MAX_SNR * sigma * 0.999, mu)
    return mu


@st.composite
def channel_params(draw, zero_mu: bool = True):
    """``{"mu", "sigma"}``: a fixed set of canonical channels (drawn 2/7 of the time, so that every
    regime a false variant needs — μ < 0, σ > 1, s ≪ 1, s ≫ 1, μ = 0 — shows up in a 40-example
    run with near certainty), plain, extreme magnitudes, tiny SNR, μ = 0, and the paper's μ = σ = 1.

    The SNR |μ|/σ is kept ≤ ``MAX_SNR``; σ spans 1e-3 .. 1e3 (σ > 1 matters: a σ² in
    place of σ only shows there), μ both signs.
    """
    kinds = ["plain", "canonical", "canonical", "logmag", "small-snr", "unit"] + (["zero"] if zero_mu else [])
    kind = draw(st.sampled_from(kinds))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    if kind == "canonical":
        cases = CANONICAL_CHANNELS if zero_mu else [c for c in CANONICAL_CHANNELS if c[0] != 0]
        mu, sigma = draw(st.sampled_from(cases))
    elif kind == "plain":
        mu, sigma = draw(st.floats(-8.0, 8.0)), draw(st.floats(0.05, 5.0))
        if not zero_mu and mu == 0.0:
            mu = 1.0
    elif kind == "logmag":
        sigma = 10.0 ** draw(st.floats(-3.0, 3.0))
        mu = sign * sigma * 10.0 ** draw(st.floats(-6.0, math.log10(MAX_SNR)))
    elif kind == "small-snr":
        sigma = 10.0 ** draw(st.floats(-3.0, 3.0))
        mu = sign * sigma * 10.0 ** draw(st.floats(-12.0, -2.0))
    elif kind == "unit":
        mu, sigma = sign, 1.0
    else:
        mu, sigma = 0.0, 10.0 ** draw(st.floats(-3.0, 3.0))
    if abs(mu) < 1e-150 * sigma:
        # Hypothesis likes subnormal floats (μ = 1e-320): their SNR is below every quadrature's reach in
        # numerics.channel (information_tanh returns NaN there) and the claims are continuous at μ = 0
        mu = 0.0 if zero_mu else math.copysign(1e-150 * sigma, mu or 1.0)
    return {"mu": _clamp_snr(mu, sigma), "sigma": sigma}


def _small_offset(draw, scale: float) -> float:
    return draw(st.sampled_from([-1.0, 1.0])) * scale * 10.0 ** draw(st.floats(-12.0, -1.0))


@st.composite
def threshold_rules(draw, mu: float, sigma: float) -> dict:
    """Predict +1 iff ``x > t`` (``reverse``: iff ``x < t``); t = 0 with the Bayes orientation often."""
    bayes_reverse = mu < 0
    reverse = draw(st.one_of(st.just(bayes_reverse), st.booleans()))
    w = abs(mu) + sigma
    t = draw(st.one_of(
        st.just(0.0),
        st.floats(-3.0, 3.0).map(lambda c: c * w),
        st.just(None),  # tiny offset from the Bayes threshold
    ))
    if t is None:
        t = _small_offset(draw, w)
    return {"rule": "threshold", "t": t, "reverse": bool(reverse)}


@st.composite
def interval_rules(draw, mu: float, sigma: float) -> dict:
    """Randomised piecewise-constant rule: P(predict +1) = probs[k] on the k-th interval cut by ``edges``."""
    w = abs(mu) + 4.0 * sigma
    raw = draw(st.lists(st.floats(-1.0, 1.0), min_size=0, max_size=6))
    edges = sorted({c * w for c in raw} | ({0.0} if draw(st.booleans()) else set()))
    n = len(edges) + 1
    mode = draw(st.sampled_from(["bayes", "bayes-perturbed", "random", "deterministic"]))

    def bayes_prob(k: int) -> float:
        lo = edges[k - 1] if k > 0 else (edges[0] - 1.0 if edges else -1.0)
        hi = edges[k] if k < len(edges) else (edges[-1] + 1.0 if edges else 1.0)
        mid = 0.5 * (lo + hi)
        return 1.0 if mu * mid > 0 else (0.5 if mu * mid == 0 else 0.0)

    if mode in ("bayes", "bayes-perturbed"):
        probs = [bayes_prob(k) for k in range(n)]
        if mode == "bayes-perturbed":
            k = draw(st.integers(0, n - 1))
            probs[k] = draw(st.one_of(st.floats(0.0, 1.0), st.just(1.0 - probs[k])))
    elif mode == "random":
        probs = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    else:
        probs = [float(b) for b in draw(st.lists(st.booleans(), min_size=n, max_size=n))]
    return {"rule": "interval", "edges": edges, "probs": probs}


@st.composite
def logistic_rules(draw, mu: float, sigma: float) -> dict:
    """``P(+1 | x) = 1/(1 + e^{−(ax + b)})``: a multiple of the posterior's slope 2μ/σ² (sharp = near
    Bayes, c = 1 is the Gibbs classifier), or an arbitrary slope; |a|σ ≤ 1000 keeps quadrature sane."""
    s = abs(mu) / sigma
    if draw(st.booleans()) and mu != 0:
        c = draw(st.one_of(st.just(1.0), st.floats(-1.0, 2.5).map(lambda e: 10.0**e)))
        c = min(c, 500.0 / max(2.0 * s, 1e-300))
        a = c * 2.0 * mu / sigma**2 * draw(st.sampled_from([1.0, 1.0, -1.0]))
    else:
        a = draw(st.sampled_from([-1.0, 1.0])) * 10.0 ** draw(st.floats(-3.0, 3.0)) / sigma
    b = draw(st.one_of(st.just(0.0), st.floats(-3.0, 3.0)))
    return {"rule": "logistic", "slope": a, "intercept": b}


def bayes_rules(mu: float, sigma: float):
    """The Bayes rule itself, ``x > 0`` (``x < 0`` for μ < 0): where every error bound is tight."""
    return st.just({"rule": "threshold", "t": 0.0, "reverse": bool(mu < 0)})


@st.composite
def channels_and_rules(draw) -> dict:
    """A channel ``(μ, σ)`` and an arbitrary classifier for it (threshold, interval or logistic), the
    exact Bayes rule a quarter of the time (the bounds are tight there; a 1 % mutant only shows there)."""
    x = draw(channel_params())
    kind = draw(st.sampled_from([threshold_rules, interval_rules, logistic_rules, bayes_rules]))
    x.update(draw(kind(x["mu"], x["sigma"])))
    return x


# ----------------------------------------------------------------------------
# Rules: float objects, exact errors
# ----------------------------------------------------------------------------


def check_channel(x: dict) -> None:
    """Raise ``ValueError`` unless the exact input has finite μ and σ > 0."""
    if "mu" not in x or "sigma" not in x:
        raise ValueError("channel input needs 'mu' and 'sigma'")
    if not float(x["sigma"]) > 0 or Fraction(x["sigma"]) <= 0:
        raise ValueError(f"sigma must be > 0, got {x['sigma']!r}")


def _logistic_rule(a: float, b: float) -> RandomizedRule:
    """Logistic rule with breakpoints around its centre −b/a (the quadrature must see a sharp step)."""
    bps = ()
    if a != 0 and math.isfinite(-b / a) and math.isfinite(1 / abs(a)):
        x0 = -b / a
        bps = tuple(p for p in (x0 + k / abs(a) for k in (-50, -20, -5, -1, 0, 1, 5, 20, 50)) if math.isfinite(p))
    return RandomizedRule(
        prob_plus=lambda x: float(special.expit(a * x + b)),
        prob_minus=lambda x: float(special.expit(-(a * x + b))),
        breakpoints=bps,
        prob_plus_mp=lambda x: 1 / (1 + mpmath.exp(-(a * x + b))),
        prob_minus_mp=lambda x: 1 / (1 + mpmath.exp(a * x + b)),
    )


def rule_of(x: dict):
    """The :mod:`numerics.channel` rule object of an input dict (float view)."""
    kind = x.get("rule")
    if kind == "threshold":
        return ThresholdRule(float(x["t"]), reverse=bool(x["reverse"]))
    if kind == "interval":
        return IntervalRule(tuple(float(e) for e in x["edges"]), tuple(float(p) for p in x["probs"]))
    if kind == "logistic":
        return _logistic_rule(float(x["slope"]), float(x["intercept"]))
    raise ValueError(f"unknown rule kind {kind!r} (expected 'threshold', 'interval' or 'logistic')")


def rule_error_float(x: dict) -> float:
    """``P(f(X) ≠ Y)`` in float64 (:func:`numerics.channel.decision_error`)."""
    return float(decision_error(rule_of(x), float(x["mu"]), float(x["sigma"])))


def flipped_rule(x: dict) -> dict:
    """The rule with every prediction swapped: its error is exactly ``1 − P_e``, and in float it keeps
    relative accuracy where ``P_e`` itself rounds to 1 (for H_b(P_e) = H_b(1 − P_e), Fano)."""
    y = dict(x)
    kind = x.get("rule")
    if kind == "threshold":
        y["reverse"] = not bool(x["reverse"])
    elif kind == "interval":
        y["probs"] = [1 - p for p in x["probs"]]  # exact for Fractions; for floats exact when p ≥ ½
    elif kind == "logistic":
        y["slope"], y["intercept"] = -x["slope"], -x["intercept"]
    else:
        raise ValueError(f"unknown rule kind {kind!r}")
    return y


def rule_size(x: dict) -> int:
    """Number of pieces of the rule (1 for thresholds and logistic rules)."""
    return len(x["edges"]) + 1 if x.get("rule") == "interval" else 1


def canonical_channel(x: dict) -> dict:
    """Keep a (rounded or optimiser-pushed) input inside the searched domain: σ > 0, SNR ≤ 37.5
    (beyond, float64 errors and entropies are subnormal and the search would only see rounding) and
    SNR = 0 or ≥ 1e-150 (numerics.channel's quadratures do not reach below);
    raises ``ValueError`` otherwise (the campaign optimiser and the rational simplifier skip such points)."""
    x = dict(x)
    check_channel(x)
    snr = abs(Fraction(x["mu"])) / Fraction(x["sigma"])
    if snr > Fraction(75, 2):
        raise ValueError("SNR |μ|/σ above 37.5 is outside the searched domain (subnormal floats)")
    if 0 < snr < Fraction(1, 10**150):
        raise ValueError("SNR |μ|/σ below 1e-150 (but not 0) is outside the searched domain")
    return x


def canonical_rule(x: dict) -> dict:
    """Re-impose the rule's constraints after rational rounding (strictly increasing edges, σ > 0)."""
    x = canonical_channel(x)
    if x.get("rule") == "interval":
        edges, probs = list(x["edges"]), list(x["probs"])
        keep_e, keep_p = [], [probs[0]]
        for e, p in zip(edges, probs[1:]):
            if keep_e and e <= keep_e[-1]:
                raise ValueError("edges collapsed by rounding")
            keep_e.append(e)
            keep_p.append(p)
        x["edges"], x["probs"] = keep_e, keep_p
    return x


def _same_side_mass(za, zb, B):
    """``Φ(zb) − Φ(za)`` for exact za ≤ zb (None = ∓∞), subtracting same-side tails only."""
    if za is None and zb is None:
        return B.num(1)
    if za is None:
        return B.ncdf(B.num(zb))
    if zb is None:
        return B.ncdf(-B.num(za))
    if za >= 0:
        return B.ncdf(-B.num(za)) - B.ncdf(-B.num(zb))
    return B.ncdf(B.num(zb)) - B.ncdf(B.num(za))


def rule_error_exact(x: dict, B):
    """``P(f(X) ≠ Y) = ½[P(f = −1 | Y = +1) + P(f = +1 | Y = −1)]`` in backend B.

    Threshold ``x > t``: ``½[Φ((t−μ)/σ) + Φ(−(t+μ)/σ)]`` (reversed: ``½[Φ((μ−t)/σ) + Φ((t+μ)/σ)]``);
    interval rule: ``½ Σ_k [(1 − p_k) P₊(I_k) + p_k P₋(I_k)]``; logistic: a quadrature
    (:func:`logistic_error_exact`).
    """
    check_channel(x)
    mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
    kind = x.get("rule")
    if kind == "threshold":
        t = Fraction(x["t"])
        m, sg, tt = B.num(mu), B.num(sigma), B.num(t)
        if x["reverse"]:
            return (B.ncdf((m - tt) / sg) + B.ncdf((tt + m) / sg)) / 2
        return (B.ncdf((tt - m) / sg) + B.ncdf(-(tt + m) / sg)) / 2
    if kind == "interval":
        edges = [Fraction(e) for e in x["edges"]]
        probs = [Fraction(p) for p in x["probs"]]
        if len(probs) != len(edges) + 1 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("interval rule needs strictly increasing edges and len(probs) = len(edges) + 1")
        if any(p < 0 or p > 1 for p in probs):
            raise ValueError("interval rule probabilities must lie in [0, 1]")
        lims = [None] + edges + [None]
        terms = []
        for (a, b), p in zip(zip(lims[:-1], lims[1:]), probs):
            def z(e, shift):
                return None if e is None else (e - shift) / sigma
            plus = _same_side_mass(z(a, mu), z(b, mu), B)
            minus = _same_side_mass(z(a, -mu), z(b, -mu), B)
            terms.append(B.num(1 - p) * plus + B.num(p) * minus)
        return B.sum(terms) / 2
    if kind == "logistic":
        return logistic_error_exact(mu, sigma, Fraction(x["slope"]), Fraction(x["intercept"]), B)
    raise ValueError(f"unknown rule kind {kind!r}")


# ----------------------------------------------------------------------------
# Integration in Arb (rigorous) or mpmath, with one integrand
# ----------------------------------------------------------------------------


class AcbOps:
    """Complex ball operations for integrands evaluated by ``acb.integral``."""

    exact = True

    @staticmethod
    def num(v):
        f = Fraction(v)
        return flint.arb(flint.fmpq(f.numerator, f.denominator))

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
    """mpmath Gauss-Legendre on [a, b] (3x faster than tanh-sinh here, once its nodes are cached), the integrand divided by its size ``c`` at the ends and middle first:
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
    pts = {y * mu + j * sigma for y in (-1, 1) for j in _SD_GRID} | {-r, r}
    pts |= {Fraction(e) for e in extra if -r < Fraction(e) < r}
    return sorted(p for p in pts if -r <= p <= r)


def _step_points(z0: Fraction, widths, lo: int = -WINDOW_SD, hi: int = WINDOW_SD) -> list[Fraction]:
    """``z0 ± w·2^k`` for each width w, inside ``[lo, hi]``: pieces that resolve a sharp step at z0
    (and the fast-varying Gaussian weight when z0 sits in a tail)."""
    out = {z0} if lo < z0 < hi else set()
    for w in widths:
        off = Fraction(w)
        while off <= 2 * (hi - lo):
            out |= {z for z in (z0 - off, z0 + off) if lo < z < hi}
            off *= 2
    return sorted(out)


def logistic_error_exact(mu: Fraction, sigma: Fraction, a: Fraction, b: Fraction, B):
    """Error of the logistic rule ``P(+1|x) = 1/(1 + e^{−(ax+b)})``, in backend B:

        P_err = ½ Σ_{y=±1} ∫ φ(z) / (1 + e^{y(a(yμ + σz) + b)}) dz

    (``x = yμ + σz`` given Y = y; the fraction is the probability of predicting −y). Each
    integrand is φ times a logistic step at ``z_y = (−b/a − yμ)/σ`` of width ``1/(|a|σ)``;
    breakpoints double away from z_y at that width and at ``1/(1 + |z_y|)`` (the scale on
    which φ varies there). The integrands are meromorphic (poles where the exponent is
    in iπ(2ℤ+1)), so ``acb.integral`` needs no analyticity test. Outside |z| ≤ 40 each
    integrand is at most φ: the tails add at most ``2Φ(−40)`` in all.
    """
    base = [Fraction(j) for j in _SD_GRID]
    total = []
    for y in (1, -1):
        pts = list(base)
        if a != 0:
            z0 = (-b / a - y * mu) / sigma
            pts += _step_points(z0, (1 / (abs(a) * sigma), Fraction(1) / (1 + math.ceil(abs(z0)))))

        def f(z, ops, analytic, y=y):
            m, sg, aa, bb = ops.num(mu), ops.num(sigma), ops.num(a), ops.num(b)
            u = aa * (y * m + sg * z) + bb
            return phi(z, ops) / (1 + ops.exp(y * u))

        if isinstance(B, Arb):
            scale = B.ncdf(-B.num(abs(mu) / sigma))  # every rule errs at least this much
            total.append(integrate(B, f, pts, tail_bound=2 * B.ncdf(B.num(-WINDOW_SD)), abs_scale=scale))
        else:
            with mpmath.workdps(B.dps + 10):
                total.append(integrate(B, f, pts))
    if isinstance(B, Arb):
        return (total[0] + total[1]) / 2
    return +((total[0] + total[1]) / 2)


def bayes_error_exact(x: dict, B):
    """``Φ(−|μ|/σ)`` in backend B."""
    check_channel(x)
    return B.ncdf(-B.num(abs(Fraction(x["mu"])) / Fraction(x["sigma"])))


# ----------------------------------------------------------------------------
# The statement
# ----------------------------------------------------------------------------


def _bound_mutants(s):
    """Bounds of the same shape that are false: no |·|, σ² in place of σ, half the SNR."""
    def snr_bound(num_fn, den_fn, name):
        return s.mutant(
            name,
            lhs_float=lambda x: float(special.ndtr(-num_fn(x["mu"]) / den_fn(x["sigma"]))),
            lhs_exact=lambda x, B: B.ncdf(-B.num(num_fn(Fraction(x["mu"]))) / B.num(den_fn(Fraction(x["sigma"])))),
        )
    return [
        snr_bound(lambda m: m, lambda sg: sg, "Φ(−μ/σ) without |·|"),
        snr_bound(abs, lambda sg: sg * sg, "Φ(−|μ|/σ²)"),
        snr_bound(abs, lambda sg: 2 * sg, "Φ(−|μ|/(2σ))"),
    ]


def _prepare(raw: dict) -> dict:
    return canonical_rule(exactify(raw))


min_error = Inequality(
    id="thm-4.3",
    title="Thm 4.3: every classifier errs ≥ Φ(−|μ|/σ)",
    claim="For Y uniform on {±1}, X|Y ~ N(Yμ, σ²) and every (possibly randomised) classifier f: "
    "P(f(X) ≠ Y) ≥ P_e* = Φ(−|μ|/σ).",
    reading="f ranges over threshold rules (either side, any t), randomised piecewise-constant rules on "
    "intervals and smooth randomised (logistic) rules; μ any sign, σ > 0; the SNR |μ|/σ ≤ 36 (errors stay normal floats).",
    quick_examples=QUICK_EXAMPLES,
    scale_floor=1e-290,  # errors and entropies are relative-accurate down to normal floats
    domain=channels_and_rules(),
    prepare=_prepare,
    canonical=canonical_rule,
    lhs_float=lambda x: float(bayes_error(x["mu"], x["sigma"])),
    rhs_float=rule_error_float,
    lhs_exact=bayes_error_exact,
    rhs_exact=rule_error_exact,
    size=rule_size,
    extra_mutants=_bound_mutants,
    proof="P(f(X) ≠ Y) = ∫ [q₋(x) φ₊(x) + q₊(x) φ₋(x)]/2 dx ≥ ∫ min(φ₊, φ₋)/2 dx = Φ(−|μ|/σ) for any "
    "q₊ + q₋ = 1, q ≥ 0 (pointwise minimisation; the min is attained by sign(μx)).",
)

STATEMENTS = [min_error]

