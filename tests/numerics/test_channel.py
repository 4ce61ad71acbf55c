"""Gaussian binary channel (Definition 4.1): float64 vs mpmath, literals, extremes, bad input.

The quadrature oracles run at 30 digits in the Hypothesis properties (14 beyond float64, and
2-4x faster than 50); the literal tests use the default 50.
"""

import functools
import math
from dataclasses import replace

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import channel as C
from numerics.channel import information as channel_information
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps
TWO_OVER_PI = 2 / math.pi


# ----------------------------------------------------------------------------
# strategies: (μ, σ) over 200 decades of σ and SNR s = |μ|/σ from 1e-300 to 1e200
# ----------------------------------------------------------------------------

EDGE_SNRS = [0.0, 1e-300, 1e-160, 1e-25, 1e-8, 1.0, math.nextafter(1.0, 2.0), 37.9, 38.4, 38.6, 1e3, 1e200]


@st.composite
def mu_sigma(draw, lo=-30.0, hi=1.6, edges=tuple(EDGE_SNRS)):
    if edges and draw(st.integers(0, 3)) == 0:
        s = draw(st.sampled_from(edges))
    else:
        s = 10.0 ** draw(st.floats(lo, hi))
    log_s = math.log10(s) if s > 0 else 0.0
    e = draw(st.floats(max(-100.0, -300.0 - log_s), min(100.0, 300.0 - log_s)))
    sigma = 10.0**e
    mu = draw(st.sampled_from([1.0, -1.0])) * s * sigma
    return mu, sigma


@st.composite
def threshold_rules(draw):
    mu, sigma = draw(mu_sigma(lo=-10.0, hi=1.6, edges=(0.0, 1.0, 20.0, 38.0)))
    z = draw(st.one_of(st.floats(-60, 60), st.sampled_from([0.0, math.inf, -math.inf])))
    return C.ThresholdRule(z * sigma, reverse=draw(st.booleans())), mu, sigma


@st.composite
def interval_rules(draw):
    mu, sigma = draw(mu_sigma(lo=-10.0, hi=1.6, edges=(0.0, 1.0, 20.0)))
    k = draw(st.integers(0, 5))
    zs = sorted(draw(st.lists(st.floats(-45, 45), min_size=k, max_size=k, unique=True)))
    edges = []
    for z in zs:  # keep gaps >= 1e-3 σ (see the tolerance)
        if not edges or z - edges[-1] >= 1e-3:
            edges.append(z)
    probs = draw(st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0])), min_size=len(edges) + 1,
                          max_size=len(edges) + 1))
    return C.IntervalRule(tuple(z * sigma for z in edges), tuple(probs)), mu, sigma


def _step(x):
    return 1.0 if x > 0 else 0.0


SIN_RULE = C.RandomizedRule(lambda x: 0.5 * (1 + math.sin(x)), prob_plus_mp=lambda x: (1 + mpmath.sin(x)) / 2)
STEP_RULE = C.RandomizedRule(_step, breakpoints=(0.0,), prob_minus=lambda x: 1.0 - _step(x))


@st.composite
def randomized_rules(draw):
    kind = draw(st.sampled_from(["logistic", "step", "sin"]))
    if kind == "sin":  # sin(x) has its own length scale: σ = 1, |μ| ≤ 40
        return SIN_RULE, draw(st.floats(-40, 40)), 1.0
    mu, sigma = draw(mu_sigma(lo=-3.0, hi=1.55, edges=(0.0, 1.0, 20.0)))
    if kind == "logistic":
        rule = C.logistic_rule(draw(st.floats(-1e3, 1e3)) / sigma, draw(st.floats(-5, 5)))
    else:
        rule = STEP_RULE
    return rule, mu, sigma


def _memo(fn):
    """Cache an oracle by its arguments: the meta-tests evaluate each point twice."""
    cache = {}

    @functools.wraps(fn)
    def wrapped(*args):
        if args not in cache:
            cache[args] = fn(*args)
        return cache[args]

    return wrapped


def _mp30(fn):
    return _memo(functools.partial(fn, dps=30))


#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "bayes_error", C.bayes_error, C.bayes_error_mp, mu_sigma(),
        rtol=16 * EPS, atol=1e-321,
        why="s = |μ|/σ carried as hi + lo (error 2^-104), erfcx and exp(−h) with x²/2 = h + l exact: "
        "a few ulp; atol: subnormal results (s in 37.5..38.6) have absolute granularity 5e-324",
        meta_args=((1.0, 1.0), (30.0, 1.0),),
    ),
    Agreement(
        "log_bayes_error", C.log_bayes_error, C.log_bayes_error_mp, mu_sigma(),
        rtol=16 * EPS, atol=0.0,
        why="log(½ erfcx) − h − l with the same exact split: a few ulp of |log Φ(−s)| ≥ log 2",
        meta_args=((1.0, 1.0), (1e3, 1.0),),
    ),
    Agreement(
        "mutual_information", C.mutual_information, _mp30(C.mutual_information_mp), mu_sigma(),
        rtol=1e-13, atol=1e-300,
        why="quadpack to 1.2e-14 relative per piece (≤ 10 pieces, all of one sign) plus O(eps) kernels "
        "(log cosh via log1p(2 sinh²), softplus); no log 2 − H cancellation at s ≤ 1 (s² R(s) form); "
        "atol: I ≈ s²/2 underflows below s ~ 1e-154",
        examples=10,
        meta_args=((1.0, 1.0), (1e-5, 1.0), (20.0, 3.0),),
    ),
    Agreement(
        "conditional_entropy_y_given_x", C.conditional_entropy_y_given_x,
        _mp30(C.conditional_entropy_y_given_x_mp), mu_sigma(),
        rtol=1e-13, atol=1e-321,
        why="as mutual_information; at s > 1 e^{−s²/2}·J(s)/s with s² split exactly, so relative accuracy "
        "holds down to 1e-308; atol: subnormal H for s in 37.6..38.5",
        examples=8,
        meta_args=((1.0, 1.0), (30.0, 1.0),),
    ),
    Agreement(
        "information_sign", C.information_sign, C.information_sign_mp, mu_sigma(),
        rtol=64 * EPS, atol=1e-300,
        why="s ≤ 1: d atanh d + ½ log1p(−d²), d = erf(s/√2), loses one bit (d² − d²/2); s > 1: log 2 − H_b(Φ(−s)) "
        "with H_b ≤ 0.44, a cancellation factor ≤ 2.7, each term a few ulp",
        meta_args=((1.0, 1.0), (1e-6, 1.0),),
    ),
    Agreement(
        "information_tanh", C.information_tanh, _mp30(C.information_tanh_mp),
        mu_sigma(lo=-12.0, hi=1.6, edges=(0.0, 1.0, 5.0, 37.9, 38.6, 1e3)),
        rtol=1e-13, atol=1e-300,
        why="quadpack to 1.2e-14 per piece over ≤ 30 pieces in three charts, non-negative integrand f_T·g; "
        "g(v) = v tanh v − log cosh v loses one bit; T-density evaluation O(eps)",
        examples=3,
        meta_args=((1.0, 1.0),),
    ),
    Agreement(
        "decision_error[threshold]", lambda r, m, s: C.decision_error(r, m, s),
        _memo(lambda r, m, s: C.decision_error_mp(r, m, s)), threshold_rules(),
        rtol=32 * EPS, atol=1e-321,
        why="(t ∓ μ)/σ carried as hi + lo into the few-ulp erfcx tail; sum of two positive terms",
        meta_args=((C.ThresholdRule(0.3), 1.0, 1.0), (C.ThresholdRule(5.0, True), 30.0, 1.0),),
    ),
    Agreement(
        "decision_error[interval]", lambda r, m, s: C.decision_error(r, m, s),
        _memo(lambda r, m, s: C.decision_error_mp(r, m, s)), interval_rules(),
        rtol=1e-12, atol=1e-321,
        why="interval masses are differences of same-side tails, relative error ≤ eps Φ(a)/(Φ(a) − Φ(b)) "
        "≤ ~1e3 eps for gaps ≥ 1e-3 σ; then a sum of non-negative terms",
        meta_args=((C.IntervalRule((-1.0, 2.0), (0.2, 0.9, 0.5)), 1.0, 1.0),),
    ),
    Agreement(
        "decision_error[randomized]", lambda r, m, s: C.decision_error(r, m, s),
        _memo(lambda r, m, s: C.decision_error_mp(r, m, s, dps=30)), randomized_rules(),
        rtol=1e-11, atol=1e-300,
        why="quadpack; decision_error raises unless quadpack's own error estimate is ≤ 1e-11 relative",
        examples=3,
        meta_args=((C.logistic_rule(2.0), 1.0, 1.0),),
    ),
    Agreement(
        "information_of_statistic[arctan]",
        lambda m, s: C.information_of_statistic(math.atan, m, s, inverse=math.tan,
                                                derivative=lambda x: 1 / (1 + x * x)),
        _memo(lambda m, s: C.information_of_statistic_mp(mpmath.atan, m, s, inverse=mpmath.tan,
                                                         derivative=lambda x: 1 / (1 + x * x), dps=30)),
        st.tuples(st.floats(-3, 3).filter(lambda m: abs(m) > 1e-3), st.floats(0.3, 3)),
        rtol=1e-12, atol=1e-300,
        why="quadpack to 1.2e-14 per piece (26 pieces) in t; tan(atan x) round trip and the density "
        "evaluation add O(eps·|x|²/σ²) with |x| ≤ |μ| + 40σ",
        examples=2,
        meta_args=((1.0, 1.0),),
    ),
]
CASES = {c.name: c for c in AGREEMENTS}


def test_hypothesis_property_fails_on_a_perturbed_implementation():
    with pytest.raises((AssertionError, ExceptionGroup)):
        replace(CASES["bayes_error"], examples=20).perturbed(1e-8).run()


def test_agreement_catches_a_dropped_term(monkeypatch):
    """Meta-test: dropping the higher-order terms of log cosh(u)/u² (keeping ½) must be caught."""
    monkeypatch.setattr(channel_information, "_logcosh_over_sq", lambda u: 0.5)
    with pytest.raises(AssertionError):
        CASES["mutual_information"].assert_agrees((1.0, 1.0))


# ----------------------------------------------------------------------------
# the numbers quoted for Section 4 (docs/statements.md), reproduced from first principles
# ----------------------------------------------------------------------------

def test_literals_at_mu_sigma_one():
    mi, mi_mp = C.mutual_information(1.0, 1.0), C.mutual_information_mp(1.0, 1.0)
    th, th_mp = C.information_tanh(1.0, 1.0), C.information_tanh_mp(1.0, 1.0)
    sg, sg_mp = C.information_sign(1.0, 1.0), C.information_sign_mp(1.0, 1.0)
    # two independent 50-digit computations (z-integral of softplus; T-density integral) agree to 45 digits
    assert abs(mi_mp - th_mp) < mpmath.mpf("1e-45")
    for got, want in ((mi, mi_mp), (th, th_mp), (sg, sg_mp)):
        assert abs(got - float(want)) <= 4 * EPS * float(want)
    assert round(mi, 10) == 0.3368308203 and round(th, 10) == 0.3368308203
    assert round(sg, 10) == 0.2557139396
    assert C.conditional_entropy_y_given_x(1.0, 1.0) == pytest.approx(math.log(2) - mi, rel=1e-15)
    assert C.bayes_error(1.0, 1.0) == pytest.approx(0.15865525393145707, rel=1e-15)


@pytest.mark.parametrize("s", [1e-1, 1e-2, 1e-3, 1e-4, 1e-6])
def test_low_snr_ratio_sign_over_full_information_tends_to_two_over_pi(s):
    ratio = C.information_sign(s, 1.0) / C.mutual_information(s, 1.0)
    # I_sign = s²/π − s⁴/(3π) + s⁴/(3π²) + O(s⁶) (d = erf(s/√2), g(d) = d²/2 + d⁴/12 + ...) and
    # I = s²/2 − s⁴/4 + O(s⁶), so the ratio is (2/π)(1 + c s²) + O(s⁴), c = 1/6 + 1/(3π):
    # it tends to 2/π from above
    c = 1 / 6 + 1 / (3 * math.pi)
    assert abs(ratio - TWO_OVER_PI * (1 + c * s * s)) <= s**4 + 1e-14
    assert ratio > TWO_OVER_PI


@settings(max_examples=25)
@given(mu_sigma(lo=-8.0, hi=1.6))
def test_sufficiency_tanh_information_equals_mutual_information(ms):
    mu, sigma = ms
    a, b = C.information_tanh(mu, sigma), C.mutual_information(mu, sigma)
    assert abs(a - b) <= 2e-13 * b + 1e-300


@settings(max_examples=15)
@given(mu_sigma(lo=-4.0, hi=1.6, edges=()))
def test_data_processing_sign_below_full_information(ms):
    mu, sigma = ms
    assert C.information_sign(mu, sigma) <= C.mutual_information(mu, sigma) * (1 + 1e-13)


STATISTICS = {
    "cubic": (lambda x: x**3 + x, None, lambda x: 3 * x * x + 1, 1e-13),
    "cubic, numeric inverse and derivative": (lambda x: x**3 + x, None, None, 1e-11),
    "decreasing exp": (lambda x: -math.exp(x / 7), lambda t: 7 * math.log(-t), lambda x: -math.exp(x / 7) / 7, 1e-13),
    "logistic": (lambda x: 1 / (1 + math.exp(-x / 4)), None, None, 1e-11),
    "affine": (lambda x: 3 - 2 * x, lambda t: (3 - t) / 2, lambda x: -2.0, 1e-13),
}


@pytest.mark.parametrize("name", list(STATISTICS))
@pytest.mark.parametrize("mu, sigma", [(0.01, 1.0), (1.0, 1.0), (2.5, 0.8)])
def test_any_injective_statistic_keeps_all_information(name, mu, sigma):
    T, inv, der, rtol = STATISTICS[name]
    want = C.mutual_information(mu, sigma)
    got = C.information_of_statistic(T, mu, sigma, inverse=inv, derivative=der)
    # rtol: 1e-13 with exact T', 1e-11 with Richardson differences (O(h⁴) + O(eps/h))
    assert abs(got - want) <= rtol * want


def test_information_of_statistic_mp_with_numeric_inverse():
    got = C.information_of_statistic_mp(lambda x: x**3 + x, 1.0, 1.0, dps=20)
    assert abs(got - C.mutual_information_mp(1.0, 1.0, dps=20)) < mpmath.mpf("1e-17")


def test_statistic_that_is_not_injective_is_rejected():
    with pytest.raises(ValueError, match="monotone"):
        C.information_of_statistic(lambda x: x * x, 1.0, 1.0)
    # raw tanh saturates to ±1 in float64 on the mass region: refused, not silently wrong
    with pytest.raises(ValueError, match="monotone|resolvable"):
        C.information_of_statistic(math.tanh, 1.0, 1.0)
    with pytest.raises(TypeError):
        C.information_of_statistic(3.0, 1.0, 1.0)


# ----------------------------------------------------------------------------
# extremes, vectorisation, decision rules
# ----------------------------------------------------------------------------

def test_zero_signal():
    assert C.mutual_information(0.0, 2.0) == 0.0
    assert C.information_tanh(0.0, 2.0) == 0.0
    assert C.information_sign(0.0, 2.0) == 0.0
    assert C.information_of_statistic(math.atan, 0.0, 2.0) == 0.0
    assert C.conditional_entropy_y_given_x(0.0, 2.0) == math.log(2)
    assert C.bayes_error(0.0, 2.0) == 0.5
    assert C.decision_error(C.ThresholdRule(0.7), 0.0, 2.0) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize("mu, sigma", [(1.0, 1e-300), (1e300, 1e-300), (1e3, 1.0), (-50.0, 1.0)])
def test_huge_snr_saturates_without_nan(mu, sigma):
    log2 = math.log(2)
    assert C.mutual_information(mu, sigma) == log2
    assert C.information_tanh(mu, sigma) == log2
    assert C.information_sign(mu, sigma) == log2
    assert C.conditional_entropy_y_given_x(mu, sigma) == 0.0
    assert C.bayes_error(mu, sigma) == 0.0
    lb = C.log_bayes_error(mu, sigma)
    assert lb < -1000 and not math.isnan(lb)


def test_tiny_snr_keeps_relative_accuracy():
    s = 1e-150
    want = s * s / 2  # I = s²/2 − s⁴/4 + ...
    assert C.mutual_information(s, 1.0) == pytest.approx(want, rel=1e-14)
    assert C.information_tanh(s, 1.0) == pytest.approx(want, rel=1e-13)
    assert C.information_sign(s, 1.0) == pytest.approx(s * s / math.pi, rel=1e-14)


def test_vectorised_and_broadcast():
    mus = np.array([[0.0, 0.3, 1.0, 4.0, 45.0]])
    sig = np.array([[1.0], [2.0]])
    for f in (C.mutual_information, C.conditional_entropy_y_given_x, C.bayes_error, C.log_bayes_error,
              C.information_sign, C.information_tanh):
        out = f(mus, sig)
        assert out.shape == (2, 5)
        loop = np.array([[f(float(m), float(s)) for m in mus[0]] for s in sig[:, 0]])
        np.testing.assert_array_equal(out, loop)
    r = C.IntervalRule((0.0,), (0.0, 1.0))
    np.testing.assert_allclose(C.decision_error(r, mus, sig), C.bayes_error(mus, sig), rtol=1e-14)


@settings(max_examples=30)
@given(interval_rules())
def test_every_interval_rule_is_no_better_than_bayes(rms):
    rule, mu, sigma = rms
    assert C.decision_error(rule, mu, sigma) >= C.bayes_error(mu, sigma) * (1 - 1e-13)


def test_decision_error_closed_forms_and_quadrature_agree():
    # the same rule three ways: threshold, interval, and a callable integrated by quad
    for mu, sigma in [(0.4, 1.0), (3.0, 0.5), (20.0, 1.0)]:
        a = C.decision_error(C.ThresholdRule(0.25), mu, sigma)
        b = C.decision_error(C.IntervalRule((0.25,), (0.0, 1.0)), mu, sigma)
        c = C.decision_error(C.RandomizedRule(lambda x: float(x > 0.25), breakpoints=(0.25,),
                                              prob_minus=lambda x: float(x <= 0.25)), mu, sigma)
        assert b == pytest.approx(a, rel=1e-14) and c == pytest.approx(a, rel=1e-11)
    # reversed threshold at 0 with μ > 0 is the worst rule: 1 − P_e*
    assert C.decision_error(C.ThresholdRule(0.0, reverse=True), 1.0, 1.0) == pytest.approx(1 - C.bayes_error(1, 1))
    # the Gibbs rule (predict +1 with the posterior probability) has error E[min-free] = 2 P_e*(1−P_e*)-like value
    gibbs = C.decision_error(C.logistic_rule(2.0), 1.0, 1.0)
    assert C.bayes_error(1.0, 1.0) < gibbs < 0.5


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------

FUNCS = [C.mutual_information, C.conditional_entropy_y_given_x, C.bayes_error, C.log_bayes_error,
         C.information_sign, C.information_tanh]


@pytest.mark.parametrize(
    "mu, sigma, match",
    [
        (float("nan"), 1.0, "mu contains NaN"),
        (1.0, float("nan"), "sigma contains NaN"),
        (float("inf"), 1.0, "mu contains inf"),
        (1.0, float("inf"), "sigma contains inf"),
        (1.0, 0.0, "sigma must be > 0"),
        (1.0, -2.0, "sigma must be > 0"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "incompatible shapes"),
        ([], 1.0, "mu is empty"),
        ("abc", 1.0, "mu must be an array of real numbers"),
    ],
)
def test_bad_channel_parameters(mu, sigma, match):
    for f in FUNCS:
        with pytest.raises(ValueError, match=match):
            f(mu, sigma)
    with pytest.raises(ValueError, match=match):
        C.decision_error(C.ThresholdRule(0.0), mu, sigma)
    with pytest.raises(ValueError, match=match):
        C.information_of_statistic(math.atan, mu, sigma)


def test_bad_parameters_of_the_oracles():
    for f in (C.mutual_information_mp, C.bayes_error_mp, C.information_sign_mp, C.information_tanh_mp):
        with pytest.raises(ValueError, match="sigma must be > 0"):
            f(1.0, 0.0)
        with pytest.raises(ValueError, match="scalar"):
            f([1.0, 2.0], 1.0)


def test_bad_rules():
    with pytest.raises(ValueError, match="NaN"):
        C.ThresholdRule(float("nan"))
    with pytest.raises(ValueError, match="increasing"):
        C.IntervalRule((1.0, 0.0), (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="len"):
        C.IntervalRule((0.0,), (0.1,))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        C.IntervalRule((0.0,), (0.1, 1.5))
    with pytest.raises(ValueError, match="finite"):
        C.IntervalRule((0.0, math.inf), (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="finite"):
        C.logistic_rule(math.nan)
    with pytest.raises(ValueError, match="not a probability"):
        C.decision_error(C.RandomizedRule(lambda x: 1.5), 1.0, 1.0)
    with pytest.raises(TypeError):
        C.RandomizedRule(0.5)
    with pytest.raises(TypeError, match="rule must be"):
        C.decision_error("sign", 1.0, 1.0)
    with pytest.raises(TypeError, match="rule must be"):
        C.decision_error_mp("sign", 1.0, 1.0)


# ----------------------------------------------------------------------------
# the measured worst disagreement (reporting; run with -m slow -s)
# ----------------------------------------------------------------------------



# ----------------------------------------------------------------------------
# backend= on the oracles (like the entropy oracles)
# ----------------------------------------------------------------------------

def test_oracles_take_an_mp_backend():
    from numerics.backends import MP

    for name in ("bayes_error_mp", "log_bayes_error_mp", "information_sign_mp", "mutual_information_mp"):
        fn = getattr(C, name)
        assert fn(0.7, 1.3, backend=MP(30)) == fn(0.7, 1.3, dps=30)


@pytest.mark.parametrize("mu, sigma", [(1, 1), ("3/8", 2), (40.0, 1.0), ("-1/1024", 1)])  # binary: float = exact
def test_arb_backend_encloses_the_closed_forms(mu, sigma):
    """Arb balls for Φ(−s), log Φ(−s) and log 2 − H_b(Φ(−s)) contain the 50-digit mpmath values."""
    from fractions import Fraction

    from flint import arb

    from numerics.backends import Arb

    mu, sigma = (Fraction(v) if isinstance(v, (int, str)) else v for v in (mu, sigma))
    for name in ("bayes_error_mp", "log_bayes_error_mp", "information_sign_mp"):
        ball = getattr(C, name)(mu, sigma, backend=Arb(192))
        ref = getattr(C, name)(float(mu), float(sigma), dps=50)  # the oracle reads μ, σ as floats
        assert ball.overlaps(arb(mpmath.nstr(ref, 50))), (name, ball, ref)
        # 192 bits ≈ 57 digits: the ball is tight, not just true
        assert float(ball.rad()) <= 1e-40 * abs(float(ref))


def test_arb_backend_meta_a_wrong_formula_is_not_enclosed():
    """Meta-test: a Bayes error off by one ulp-scale term in the SNR falls outside the ball."""
    from fractions import Fraction

    from flint import arb

    from numerics.backends import Arb

    ball = C.bayes_error_mp(Fraction(1), Fraction(1), backend=Arb(192))
    assert ball.overlaps(arb(mpmath.nstr(C.bayes_error_mp(1.0, 1.0, dps=50), 50)))
    wrong = C.bayes_error_mp(1.0 + 2**-40, 1.0, dps=50)
    assert not ball.overlaps(arb(mpmath.nstr(wrong, 50)))


def test_quadrature_oracles_refuse_arb_with_a_message():
    from numerics.backends import Arb

    with pytest.raises(ValueError, match="no Arb enclosure"):
        C.mutual_information_mp(1.0, 1.0, backend=Arb(64))
    with pytest.raises(TypeError, match="backend must be"):
        C.bayes_error_mp(1.0, 1.0, backend="arb")
