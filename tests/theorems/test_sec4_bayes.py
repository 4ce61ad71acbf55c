"""Section 4 checkers, Bayes part: thm-4.2 (MAP rule), thm-4.3 (error floor), cor-4.4 (P_e* ≤ ½, iff μ = 0).

Agreement tests compare the float sides used by the search with the exact sides that certify
(Arb enclosures), with the tolerance stated where it is used; each is paired with a meta-test in
which a perturbed float side must make the comparison fail.
"""

from __future__ import annotations

from fractions import Fraction

import flint
import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.backends import MP, Arb
from tests.theorems.quick_checks import mutants_of, quick_check
from theorems.channel_rules import (
    bayes_error_exact,
    canonical_rule,
    exact_rule_input,
    rule_error_exact,
    rule_error_float,
    rule_of,
)
from theorems.cor_4_4 import EqualityIff, decide_half, equality
from theorems.statement import Verdict, exactify, floatify
from theorems.strategies import channel_observations, channels_and_rules, logistic_rules
from theorems.thm_4_2 import bayes_label, posterior_exact, posterior_float
from theorems.thm_4_3 import min_error
from theorems.verify import verify_report


def assert_float_in_ball(value: float, ball, rtol: float, what: str = "") -> None:
    """``|value − ball| ≤ rad + rtol·|mid|`` (plus the smallest normal for values that are 0)."""
    mid = float(ball.mid().str(30, radius=False))
    rad = float(ball.rad())
    err = abs(value - mid)
    assert err <= rad + rtol * abs(mid) + 1e-307, f"{what}: float {value!r} vs Arb {ball.str(20, radius=True)}"


# ----------------------------------------------------------------------------
# decision-rule errors
# ----------------------------------------------------------------------------

FIXED_RULES = [
    {"mu": 1.0, "sigma": 1.0, "rule": "threshold", "t": 0.0, "reverse": False},
    {"mu": -2.0, "sigma": 0.5, "rule": "threshold", "t": 0.3, "reverse": True},
    {"mu": 1.0, "sigma": 1.0, "rule": "interval", "edges": [-1.0, 0.0, 2.0], "probs": [0.0, 0.3, 1.0, 0.9]},
    {"mu": 1.0, "sigma": 1.0, "rule": "logistic", "slope": 2.0, "intercept": 0.0},
    {"mu": 5.0, "sigma": 0.5, "rule": "logistic", "slope": 2000.0, "intercept": 0.3},
    {"mu": 30.0, "sigma": 1.0, "rule": "logistic", "slope": 60.0, "intercept": 0.0},
]


@pytest.mark.parametrize("raw", FIXED_RULES, ids=lambda r: f"{r['rule']}-mu{r['mu']}")
def test_rule_error_arb_mpmath_float_agree(raw):
    x = exactify(raw)
    with Arb(128) as B:
        ball = rule_error_exact(x, B)
    with MP(40) as B:
        mp = rule_error_exact(x, B)
    # the mpmath value (40 digits) must lie in the certified ball widened by 1e-35 relative
    with mpmath.workdps(50):
        assert abs(mpmath.mpf(ball.mid().str(45, radius=False)) - mp) <= float(ball.rad()) + 1e-35 * abs(mp)
    # float: ndtr closed forms are ~1e-16 relative, the quadrature of numerics.channel ~1e-14
    assert_float_in_ball(rule_error_float(floatify(x)), ball, 1e-13, raw["rule"])


@settings(max_examples=25)
@given(channels_and_rules())
def test_rule_error_float_in_arb_ball(raw):
    x = exact_rule_input(raw)
    with Arb(128) as B:
        ball = rule_error_exact(x, B)
    # worst seen over 600 draws: 4e-14 relative (logistic quadrature); normal floats only (SNR ≤ 36)
    assert_float_in_ball(rule_error_float(floatify(x)), ball, 1e-12, raw["rule"])


def test_perturbed_rule_error_fails_the_agreement_helper():
    x = exactify(FIXED_RULES[2])
    with Arb(128) as B:
        ball = rule_error_exact(x, B)
    with pytest.raises(AssertionError):
        assert_float_in_ball(rule_error_float(floatify(x)) * (1 + 1e-9), ball, 1e-12)


def test_bayes_rule_attains_the_floor_and_others_do_not():
    for mu in (Fraction(1), Fraction(-3, 2)):
        x = {"mu": mu, "sigma": Fraction(1), "rule": "threshold", "t": Fraction(0), "reverse": mu < 0}
        with Arb(128) as B:
            err, floor = rule_error_exact(x, B), bayes_error_exact(x, B)
            assert err.overlaps(floor) and float((err - floor).rad()) < 1e-30
            x["t"] = Fraction(1, 10)
            assert rule_error_exact(x, B) > floor  # certified strict excess
            x["t"], x["reverse"] = Fraction(0), not x["reverse"]
            assert rule_error_exact(x, B) > floor


def test_rule_strategies_cover_every_kind():
    kinds = set()

    @settings(max_examples=60)
    @given(channels_and_rules())
    def collect(raw):
        kinds.add(raw["rule"])

    collect()
    assert kinds == {"threshold", "interval", "logistic"}


@settings(max_examples=20)
@given(st.floats(0.1, 5.0).flatmap(lambda sg: logistic_rules(1.0, sg)))
def test_logistic_strategy_slopes_stay_integrable(rule):
    assert abs(rule["slope"]) < 1e6 and -3 <= rule["intercept"] <= 3


def test_bad_rule_inputs_raise():
    with pytest.raises(ValueError, match="unknown rule kind"):
        rule_of({"rule": "nope"})
    with pytest.raises(ValueError, match="sigma"):
        canonical_rule({"mu": Fraction(1), "sigma": Fraction(0), "rule": "threshold"})
    with pytest.raises(ValueError, match="strictly increasing"):
        with Arb(64) as B:
            rule_error_exact({"mu": 1, "sigma": 1, "rule": "interval", "edges": [1, 0], "probs": [0, 1, 0]}, B)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        with Arb(64) as B:
            rule_error_exact({"mu": 1, "sigma": 1, "rule": "interval", "edges": [0], "probs": [0, 2]}, B)
    with pytest.raises(ValueError, match="edges collapsed"):
        canonical_rule({"mu": 1, "sigma": 1, "rule": "interval", "edges": [Fraction(1), Fraction(1)],
                        "probs": [0, 1, 0]})


def test_mutant_counterexamples_verify_independently():
    for m in mutants_of(min_error)[:3]:
        r = quick_check(m)
        assert r.verdict is Verdict.REFUTED
        lines = list(verify_report({"results": [r.to_json()]}))
        assert lines and all(ok for _, ok in lines), lines


# ----------------------------------------------------------------------------
# thm-4.2: posterior
# ----------------------------------------------------------------------------


@settings(max_examples=40)
@given(channel_observations())
def test_posterior_float_in_arb_ball(raw):
    x = exactify(raw)
    xf = floatify(x)
    y = bayes_label(x)
    with Arb(128) as B:
        ball = posterior_exact(x, y, B)
    # expit of 2μx/σ²: the argument is rounded 3 times, expit's relative condition number at
    # argument a is a·(1 − expit(a)) ≤ ~700 where the result is not 0: 1e-12 relative is ample
    assert_float_in_ball(posterior_float(xf, y), ball, 1e-12, "posterior")


def test_perturbed_posterior_fails_the_agreement_helper():
    x = exactify({"mu": 1.0, "sigma": 2.0, "x": 0.3})
    with Arb(128) as B:
        ball = posterior_exact(x, 1, B)
    with pytest.raises(AssertionError):
        assert_float_in_ball(posterior_float(floatify(x), 1) * (1 + 1e-9), ball, 1e-12)


def test_posterior_of_map_label_is_at_least_half_and_ties_are_half():
    with Arb(128) as B:
        x = {"mu": Fraction(-2), "sigma": Fraction(3), "x": Fraction(5, 7)}
        assert posterior_exact(x, bayes_label(x), B) > B.num(Fraction(1, 2))
        x = {"mu": Fraction(2), "sigma": Fraction(3), "x": Fraction(0)}
        p = posterior_exact(x, bayes_label(x), B)
        assert p.overlaps(B.num(Fraction(1, 2))) and float(p.rad()) < 1e-30


# ----------------------------------------------------------------------------
# cor-4.4/equality
# ----------------------------------------------------------------------------


def test_decide_half():
    eq, enc, _ = decide_half(Fraction(0), Fraction(7))
    assert eq and "0" in enc
    eq, _, lower = decide_half(Fraction(1, 10**150), Fraction(1))
    assert not eq and 0 < lower < 1e-150
    with pytest.raises(ValueError):
        decide_half(Fraction(1), Fraction(0))


def test_equality_statement_holds_and_mutant_counterexamples_verify():
    r = equality.check(examples=30)
    assert r.verdict is Verdict.HOLDS and r.evidence["equalities (μ = 0)"] >= 1
    for m in equality.mutants():
        rm = m.check(examples=30)
        assert rm.verdict is Verdict.REFUTED
        ok, line = m.verify_counterexample(rm.to_json()["counterexample"])
        assert ok, line


def test_equality_verifier_rejects_a_non_counterexample():
    never = EqualityIff(condition=lambda mu, sigma: False, condition_text="never")
    ok, _ = never.verify_counterexample({"inputs": {"mu": "1", "sigma": "1"}})
    assert not ok  # at μ = 1 the claim "strict" is right
    ok, _ = equality.verify_counterexample({"inputs": {"mu": "0", "sigma": "2"}})
    assert not ok


def test_arb_erfc_of_zero_is_exact():
    """The equality certificate relies on Arb returning erfc(0) = 1 as an exact ball."""
    with Arb(64):
        v = flint.arb(0).erfc()
    assert v.is_exact() and v == 1
