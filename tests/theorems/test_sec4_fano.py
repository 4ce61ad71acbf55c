"""Section 4 checkers, Fano part (prop-4.5): certified H(Y|X), I(X;Y), H_b and H_b⁻¹."""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.backends import MP, Arb
from numerics.channel import conditional_entropy_y_given_x, mutual_information
from numerics.entropy import binary_entropy
from tests.theorems.test_sec4_bayes import assert_float_in_ball
from theorems.channel_information_exact import binary_entropy_exact, conditional_entropy_exact, mutual_information_exact
from theorems.prop_4_5 import (
    fano,
    hb_inverse_exact,
    hb_inverse_of_cond_entropy,
    hb_inverse_of_value,
    inverse,
)
from theorems.statement import Verdict, exactify
from theorems.verify import verify_report

SNRS = [0.0, 1e-10, 1e-4, 0.3, 1.0, 1.5, 5.0, 20.0, 35.0]


@pytest.mark.parametrize("s", SNRS)
def test_information_enclosures_agree_with_float_and_mpmath(s):
    x = {"mu": Fraction(s), "sigma": Fraction(1)}
    with Arb(128) as B:
        ce, mi = conditional_entropy_exact(x, B), mutual_information_exact(x, B)
        total = ce + mi
        assert total.overlaps(B.log(B.num(2))) and float(total.rad()) < 1e-30  # H(Y|X) + I(X;Y) = log 2
    with MP(40) as B:
        ce_mp = conditional_entropy_exact(x, B)
    with mpmath.workdps(50):
        assert abs(mpmath.mpf(ce.mid().str(45, radius=False)) - ce_mp) <= float(ce.rad()) + 1e-35 * ce_mp
    # numerics.channel's quadratures: ~1e-14 relative (their docstrings; worst seen 4e-14)
    assert_float_in_ball(float(conditional_entropy_y_given_x(s, 1.0)), ce, 1e-13, "H(Y|X)")
    assert_float_in_ball(float(mutual_information(s, 1.0)), mi, 1e-13, "I(X;Y)")


def test_known_value_at_unit_snr():
    with Arb(128) as B:
        mi = mutual_information_exact({"mu": Fraction(1), "sigma": Fraction(1)}, B)
    assert mi.str(10, radius=False) == "0.3368308203"


def test_perturbed_information_fails_the_agreement_helper():
    with Arb(128) as B:
        mi = mutual_information_exact({"mu": Fraction(1), "sigma": Fraction(1)}, B)
    with pytest.raises(AssertionError):
        assert_float_in_ball(float(mutual_information(1.0, 1.0)) * (1 + 1e-10), mi, 1e-13)


@settings(max_examples=30)
@given(st.one_of(st.floats(0.0, 1.0), st.floats(0.0, 1e-200), st.floats(0.5, 1.0)))
def test_binary_entropy_exact_matches_numerics(p):
    with Arb(128) as B:
        ball = binary_entropy_exact(Fraction(p), B) if 0 < p < 1 else B.num(0)
    # numerics.entropy.binary_entropy: a few ulp (tests/numerics/test_entropy.py)
    assert_float_in_ball(float(binary_entropy(p)), ball, 64 * 2.0**-52, "H_b")


@pytest.mark.parametrize("s", [1e-10, 1e-4, 0.3, 1.0, 5.0, 20.0])
def test_hb_inverse_round_trip_and_float(s):
    x = {"mu": Fraction(s), "sigma": Fraction(1)}
    with Arb(160) as B:
        p = hb_inverse_exact(x, B)
        h = conditional_entropy_exact(x, B)
        assert binary_entropy_exact(p, B).overlaps(h)  # H_b(H_b⁻¹(h)) ∋ h
        assert p < B.num(Fraction(1, 2)) and p > 0
    # float: the gap form below I = 0.1 keeps ~1e-15 relative in ½ − p; binary_entropy_inv 4 ulp
    # times condition number |h/(p H_b'(p))| ≤ ~60 above it
    assert_float_in_ball(hb_inverse_of_cond_entropy(x), p, 1e-13, "H_b⁻¹(H(Y|X))")


def test_hb_inverse_of_value_saturates_at_log2():
    with Arb(128) as B:
        # a ball for log 2 overlaps log 2 itself: the sound answer is a narrow ball holding ½, not ½ exactly
        r = hb_inverse_of_value(B.log(B.num(2)), B)
        assert r.contains(flint.fmpq(1, 2)) and float(r.rad()) < 1e-15
        assert hb_inverse_of_value(B.log(B.num(2)) + B.num(Fraction(1, 10**30)), B) == B.num(Fraction(1, 2))
    with MP(30) as B:
        assert hb_inverse_of_value(mpmath.log(2), B) == mpmath.mpf(0.5)


def test_fano_is_tight_only_at_zero_snr():
    """At μ = 0 both sides are log 2 exactly; for μ ≠ 0 the Bayes rule leaves a certified gap."""
    bayes = {"rule": "threshold", "t": Fraction(0), "reverse": False, "sigma": Fraction(1)}
    with Arb(128) as B:
        x = dict(bayes, mu=Fraction(0))
        assert fano.lhs_exact(x, B).overlaps(fano.rhs_exact(x, B))
        for mu in (Fraction(1, 1000), Fraction(1), Fraction(10)):
            x = dict(bayes, mu=mu)
            assert fano.rhs_exact(x, B) > fano.lhs_exact(x, B)


def test_bad_channel_inputs_raise():
    with pytest.raises(ValueError, match="sigma"):
        with Arb(64) as B:
            conditional_entropy_exact({"mu": Fraction(1), "sigma": Fraction(-1)}, B)
    with pytest.raises(ValueError, match="mu"):
        with Arb(64) as B:
            mutual_information_exact({"sigma": Fraction(1)}, B)


def test_mutant_counterexamples_verify_independently():
    # (the others take ~10 s each to re-verify at 80 digits; tests/theorems/test_mutants.py kills them all)
    chosen = ("H_b⁻¹(I(X;Y))", "log 2 → 1")
    for m in [m for m in inverse.mutants() + fano.mutants() if m.id.split("~")[1].startswith(chosen)]:
        r = m.check(examples=60)
        assert r.verdict is Verdict.REFUTED, m.id
        lines = list(verify_report({"results": [r.to_json()]}))
        assert lines and all(ok for _, ok in lines), lines


def test_inverse_statement_holds_with_margin_order_s_at_small_snr():
    r = inverse.check()
    assert r.verdict is Verdict.HOLDS
    # at small s: Φ(−s) − H_b⁻¹(H) ≈ (½ − 1/√(2π)) s ≈ 0.1 s, certified at s = 1e-6
    x = exactify({"mu": 1e-6, "sigma": 1.0})
    with Arb(128) as B:
        gap = inverse.rhs_exact(x, B) - inverse.lhs_exact(x, B)
    assert 0.09e-6 < float(gap.lower().str(20, radius=False)) and float(gap.upper().str(20, radius=False)) < 0.11e-6
    assert math.isclose(0.5 - 1 / math.sqrt(2 * math.pi), 0.1011, rel_tol=1e-3)
