"""Proposition 4.5 (Fano): ``H_b(P_e) ≥ H(Y|X) = log 2 − I(X;Y)``, hence ``P_e* ≥ H_b⁻¹(H(Y|X))``.

Channel (Definition 4.1): ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``; natural logs.

What this module computes, every run:

* ``prop-4.5``: Fano's inequality for an *arbitrary* classifier (thresholds on
  either side, randomised rules on intervals, logistic rules; the strategy of
  :func:`theorems.strategies.channels_and_rules`): ``H(Y|X) ≤ H_b(P(f(X) ≠ Y))``. Float sides from
  :mod:`numerics.channel` / :mod:`numerics.entropy`; exact sides in Arb with a
  certified enclosure of ``H(Y|X)`` (``acb.integral`` plus Gaussian tail balls,
  :func:`conditional_entropy_exact`).
* ``prop-4.5/inverse``: ``H_b⁻¹(H(Y|X)) ≤ Φ(−|μ|/σ)`` with ``H_b⁻¹`` the inverse on
  [0, ½]. In float, near s = 0 the inverse is taken through the information gap
  ``I = log 2 − H`` (``H_b(½ − d) = log 2 − g(d)``, g solved for d), because
  ``H_b⁻¹`` is ill-conditioned at log 2; in Arb the inverse is bracketed by two
  rationals whose images certifiably straddle the enclosure of H (monotonicity).

Exact I(X;Y), H(Y|X) and H_b come from :mod:`theorems.channel_information_exact`.

Reference: T. M. Cover, J. A. Thomas, Elements of Information Theory (2006),
Thm 2.10.1 (Fano); Tan & Huang (2025), Prop 4.5 (statements ``prop-4.5``, ``prop-4.5/inverse`` in docs/statements.md).
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import mpmath

from numerics.backends import Arb
from numerics.channel import bayes_error, conditional_entropy_y_given_x, mutual_information
from numerics.entropy import binary_entropy, binary_entropy_inv
from theorems import domain_checks as D
from theorems.ball_quadrature import MpOps
from theorems.channel_information_exact import (
    binary_entropy_exact,
    conditional_entropy_exact,
    mutual_information_exact,
    snr_exact,
)
from theorems.channel_rules import (
    QUICK_EXAMPLES,
    bayes_error_exact,
    canonical_channel,
    canonical_rule,
    exact_rule_input,
    flipped_rule,
    rule_error_exact,
    rule_error_float,
    rule_size,
)
from theorems.inequality import Inequality
from theorems.strategies import channel_params, channels_and_rules

LOG2 = math.log(2.0)
#: lower end of the bisection for H_b(p) = h: H(Y|X) ≥ 1e-320 on the domain (s ≤ 36), so p ≫ 1e-2000
_TINY = mpmath.mpf("1e-2000")


# ----------------------------------------------------------------------------
# H_b and its inverse
# ----------------------------------------------------------------------------


def _gap(d, B):
    """``g(d) = log 2 − H_b(½ − d) = ½[(1+2d) log1p(2d) + (1−2d) log1p(−2d)]`` (no cancellation)."""
    return ((1 + 2 * d) * B.log1p(2 * d) + (1 - 2 * d) * B.log1p(-2 * d)) / 2


def _gap_float(d: float) -> float:
    if d < 1e-4:  # g(d) = Σ_k (2d)^{2k}/(2k(2k−1)): 2d² + (4/3)d⁴ + (32/15)d⁶ + ...
        d2 = d * d
        return d2 * (2.0 + d2 * (4.0 / 3.0 + d2 * 32.0 / 15.0))
    return 0.5 * ((1 + 2 * d) * math.log1p(2 * d) + (1 - 2 * d) * math.log1p(-2 * d))


def hb_inverse_of_cond_entropy(x: dict) -> float:
    """``H_b⁻¹(H(Y|X))`` on [0, ½] in float.

    For ``I(X;Y) < 0.1`` it solves ``g(d) = I`` for d and returns ``½ − d``: ``H_b⁻¹`` at
    h = log 2 − I has condition number ~1/I (``H_b(½ − d) ≈ log 2 − 2d²``), so going through
    ``h = log 2 − I`` in float would lose all digits of d at s ≲ 1e-8. Otherwise
    :func:`numerics.entropy.binary_entropy_inv`.
    """
    mu, sigma = float(x["mu"]), float(x["sigma"])
    info = float(mutual_information(mu, sigma))
    if info == 0.0:
        return 0.5
    if info < 0.1:
        # Newton on g(d) = I from d = sqrt(I/2) (g(d) = 2d²(1 + O(d²))), g'(d) = 2 atanh(2d): quadratic
        # convergence; below I ~ 1e-16 the start is already exact to rounding
        d = math.sqrt(info / 2.0)
        for _ in range(40):
            step = (_gap_float(d) - info) / (2.0 * math.atanh(2.0 * d))
            d -= step
            if abs(step) <= 1e-17 * d:
                break
        return 0.5 - d
    return float(binary_entropy_inv(float(conditional_entropy_y_given_x(mu, sigma))))


def _mp_increasing_root(fn, target, lo, hi, dps: int):
    """Bisection for ``fn(t) = target`` on [lo, hi], fn increasing; in log space when lo > 0."""
    with mpmath.workdps(dps + 10):
        lo, hi, target = _MPB.num(lo), _MPB.num(hi), _MPB.num(target)
        for _ in range(int(3.5 * dps) + 60):
            mid = (lo + hi) / 2 if lo == 0 or hi / lo < 4 else mpmath.sqrt(lo * hi)
            if fn(mid) < target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2


def _ball_mid(ball, dps: int):
    """The midpoint of an Arb ball as an mpf carrying ``dps`` digits (parsed at that precision)."""
    with mpmath.workdps(dps + 10):
        return mpmath.mpf(ball.mid().str(dps + 5, radius=False))


def _arb_bracket(fn_exact, target_ball, approx, lo_limit: Fraction, hi_limit: Fraction, prec: int):
    """An Arb ball for the root of ``fn(t) = target`` (fn increasing on [lo_limit, hi_limit]).

    Rational ``a < b`` near ``approx`` with ``fn(a) < target`` and ``fn(b) > target`` certified
    make the root lie in [a, b] by monotonicity; widened until that is proved.
    """
    if not isinstance(approx, Fraction):
        man, exp = approx.man_exp  # exact (re-creating an mpf would round to the global 53 bits)
        approx = Fraction(int(man)) * Fraction(2) ** int(exp)
    eps = Fraction(1, 2 ** max(prec - 16, 8))
    while True:
        a = max(lo_limit, approx * (1 - eps)) if approx > 0 else lo_limit
        b = min(hi_limit, approx * (1 + eps)) if approx > 0 else hi_limit
        ok_a = a == lo_limit or fn_exact(a) < target_ball
        ok_b = b == hi_limit or fn_exact(b) > target_ball
        if ok_a and ok_b:
            return flint.arb(flint.fmpq(a.numerator, a.denominator)).union(
                flint.arb(flint.fmpq(b.numerator, b.denominator)))
        if eps > 1:
            return flint.arb(flint.fmpq(lo_limit.numerator, lo_limit.denominator)).union(
                flint.arb(flint.fmpq(hi_limit.numerator, hi_limit.denominator)))
        eps *= 256


def hb_inverse_exact(x: dict, B):
    """``H_b⁻¹(H(Y|X))`` on [0, ½] in backend B.

    Large H (s ≤ 1): solve ``g(d) = I(X;Y)`` for d ∈ [0, ½] and return ``½ − d``; small H: solve
    ``H_b(p) = H`` for p ∈ [0, ½]. In Arb the root is bracketed by two rationals whose images
    certifiably straddle the enclosure (:func:`_arb_bracket`); in mpmath, bisection.
    """
    s = snr_exact(x)
    if s == 0:
        return B.num(Fraction(1, 2))
    by_gap = s <= 1
    target = mutual_information_exact(x, B) if by_gap else conditional_entropy_exact(x, B)
    if not by_gap:
        return hb_inverse_of_value(target, B)
    half = Fraction(1, 2)
    if isinstance(B, Arb):
        prec = flint.ctx.prec
        dps = int(prec * 0.30103) + 5
        mid = _ball_mid(target, dps)
        approx = _mp_increasing_root(lambda d: _gap(d, _MPB), mid, 0, half, dps)
        with Arb(prec) as A:
            d = _arb_bracket(lambda t: _gap(A.num(t), A), target, approx, Fraction(0), half, prec)
        return B.num(half) - d
    return _MPB.num(half) - _mp_increasing_root(lambda d: _gap(d, _MPB), target, 0, half, mpmath.mp.dps)


class _MPBackend:
    """The operations the closed forms above need, in plain mpmath (current working precision)."""

    num = staticmethod(lambda v: v if isinstance(v, mpmath.mpf) else MpOps.num(v))
    log = staticmethod(mpmath.log)
    log1p = staticmethod(mpmath.log1p)


_MPB = _MPBackend()


# ----------------------------------------------------------------------------
# The statements
# ----------------------------------------------------------------------------


def _cond_entropy_float(x: dict) -> float:
    return float(conditional_entropy_y_given_x(x["mu"], x["sigma"]))


def _fano_rhs_float(x: dict) -> float:
    """``H_b(P_e)``; for P_e > ½ from the flipped rule's error 1 − P_e (H_b is symmetric): a rule
    that is almost always wrong has P_e = 1 − 3e-18 at μ/σ = −8.6, which rounds to 1 in float."""
    err = rule_error_float(x)
    if err > 0.5:
        err = rule_error_float(flipped_rule(x))
    return float(binary_entropy(min(max(err, 0.0), 1.0)))


def _fano_rhs_exact(x: dict, B):
    return binary_entropy_exact(rule_error_exact(x, B), B)


def _fano_mutants(s):
    def mi_float(x):
        return float(mutual_information(x["mu"], x["sigma"]))

    return [
        s.mutant("log 2 − I/2", lhs_float=lambda x: LOG2 - mi_float(x) / 2,
                 lhs_exact=lambda x, B: B.log(B.num(2)) - mutual_information_exact(x, B) / 2),
        s.mutant("H(Y|X) → I(X;Y)", lhs_float=mi_float, lhs_exact=mutual_information_exact),
        s.mutant("log 2 → 1 (bits/nats mix-up)", lhs_float=lambda x: 1.0 - mi_float(x),
                 lhs_exact=lambda x, B: 1 - mutual_information_exact(x, B)),
    ]


fano = Inequality(
    id="prop-4.5",
    expected="holds",
    domain_check=D.all_of(D.gaussian_channel, D.channel_rule),
    title="Prop 4.5: Fano, H(Y|X) ≤ H_b(P_e) for every classifier",
    claim="For every (possibly randomised) classifier f with error P_e = P(f(X) ≠ Y): "
    "H_b(P_e) ≥ H(Y|X) = log 2 − I(X;Y).",
    reading="Binary Fano (|Y| = 2, so the P_e log(|Y|−1) term vanishes), natural logs; f ranges over "
    "threshold, interval (randomised) and logistic rules as in thm-4.3; any P_e in [0, 1] (H_b is symmetric).",
    quick_examples=QUICK_EXAMPLES,
    scale_floor=1e-290,  # errors and entropies are relative-accurate down to normal floats
    domain=channels_and_rules(),
    prepare=exact_rule_input,
    canonical=canonical_rule,
    lhs_float=_cond_entropy_float,
    rhs_float=_fano_rhs_float,
    lhs_exact=conditional_entropy_exact,
    rhs_exact=_fano_rhs_exact,
    size=rule_size,
    extra_mutants=_fano_mutants,
    proof="Y − X − f(X) is a Markov chain (f's randomness independent of Y), so H(Y|X) ≤ H(Y|f(X)) ≤ "
    "H_b(P_e) by Fano (Cover & Thomas Thm 2.10.1 with |Y| = 2).",
)


def _inverse_mutants(s):
    def hb_inv_float(h):
        return float(binary_entropy_inv(min(max(h, 0.0), LOG2)))

    return [
        s.mutant("H_b⁻¹(I(X;Y))", lhs_float=lambda x: hb_inv_float(float(mutual_information(x["mu"], x["sigma"]))),
                 lhs_exact=lambda x, B: hb_inverse_of_value(mutual_information_exact(x, B), B)),
        s.mutant("H_b⁻¹ dropped", lhs_float=_cond_entropy_float, lhs_exact=conditional_entropy_exact),
    ]


def hb_inverse_of_value(h, B):
    """``H_b⁻¹(h)`` on [0, ½] for a backend value h (solving ``H_b(p) = h`` directly; h ≥ log 2 gives ½)."""
    half = Fraction(1, 2)
    if isinstance(B, Arb):
        prec = flint.ctx.prec
        dps = int(prec * 0.30103) + 5
        if h.lower() >= B.log(B.num(2)).upper():
            return B.num(half)
        mid = _ball_mid(h, dps)
        # the midpoint only guides the bracket; ½ is returned only when h ≥ log 2 is certified above
        approx = half if mid >= mpmath.log(2) else _mp_increasing_root(
            lambda p: binary_entropy_exact(p, _MPB), mid, _TINY, half, dps)
        with Arb(prec) as A:
            return _arb_bracket(lambda t: binary_entropy_exact(A.num(t), A), h, approx, Fraction(0), half, prec)
    if h >= mpmath.log(2):
        return _MPB.num(half)
    return _mp_increasing_root(lambda p: binary_entropy_exact(p, _MPB), h, _TINY,
                               half, mpmath.mp.dps)


inverse = Inequality(
    id="prop-4.5/inverse",
    expected="holds",
    domain_check=D.gaussian_channel,
    title="Prop 4.5: P_e* ≥ H_b⁻¹(H(Y|X))",
    claim="The Bayes error satisfies Φ(−|μ|/σ) = P_e* ≥ H_b⁻¹(H(Y|X)), H_b⁻¹ the inverse of H_b on [0, ½].",
    reading="Fano applied to the Bayes rule, then H_b increasing on [0, ½] (P_e* ≤ ½ by Cor 4.4).",
    quick_examples=QUICK_EXAMPLES,
    scale_floor=1e-290,  # errors and entropies are relative-accurate down to normal floats
    domain=channel_params(),
    canonical=canonical_channel,
    lhs_float=hb_inverse_of_cond_entropy,
    rhs_float=lambda x: float(bayes_error(x["mu"], x["sigma"])),
    lhs_exact=hb_inverse_exact,
    rhs_exact=bayes_error_exact,
    extra_mutants=_inverse_mutants,
    proof="H_b(P_e*) ≥ H(Y|X) (prop-4.5 for the Bayes rule) and P_e*, H_b⁻¹(H) ∈ [0, ½] where H_b is "
    "increasing, so P_e* ≥ H_b⁻¹(H(Y|X)).",
)

STATEMENTS = [fano, inverse]
