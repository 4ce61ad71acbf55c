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

The shared pieces live in their own modules: the domains in :mod:`theorems.strategies`,
the rules and their exact errors in :mod:`theorems.channel_rules`, the Arb/mpmath
integrator in :mod:`theorems.ball_quadrature`.

Reference: Tan & Huang (2025), Section 4, Thm 4.3 (statement ``thm-4.3`` in docs/statements.md).
Cover & Thomas (2006), §2.10 (Bayes error); F. Johansson, "Numerical integration
in arbitrary-precision ball arithmetic", ICMS 2018 (``acb_calc_integrate``).
"""

from __future__ import annotations

from fractions import Fraction

from scipy import special

from numerics.channel import bayes_error
from theorems import domain_checks as D
from theorems.channel_rules import (
    QUICK_EXAMPLES,
    bayes_error_exact,
    canonical_rule,
    exact_rule_input,
    rule_error_exact,
    rule_error_float,
    rule_size,
)
from theorems.inequality import Inequality
from theorems.strategies import channels_and_rules

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


_prepare = exact_rule_input


min_error = Inequality(
    id="thm-4.3",
    expected="holds",
    domain_check=D.all_of(D.gaussian_channel, D.channel_rule),
    title="Thm 4.3: every classifier errs ≥ Φ(−|μ|/σ)",
    claim="For Y uniform on {±1}, X|Y ~ N(Yμ, σ²) and every (possibly randomised) classifier f: "
    "P(f(X) ≠ Y) ≥ P_e* = Φ(−|μ|/σ).",
    reading="f ranges over threshold rules (either side, any t), randomised piecewise-constant rules on "
    "intervals and smooth randomised (logistic) rules; μ any sign, σ > 0; the SNR |μ|/σ ≤ 36 "
    "(errors stay normal floats).",
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

