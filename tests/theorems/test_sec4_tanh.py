"""Section 4.1 checkers: tanh sufficiency, the uniqueness counterexample, max-entropy."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.backends import MP, Arb
from numerics.channel import information_of_statistic, information_tanh, information_tanh_mp, mutual_information
from tests.theorems.test_sec4_bayes import assert_float_in_ball
from theorems.channel_information_exact import mutual_information_exact
from theorems.sec_4_1 import (
    Uniqueness,
    _candidate_information,
    compression_evidence,
    information_arctan_exact,
    information_cube_exact,
    information_identity_exact,
    information_sign_exact,
    information_tanh_exact,
    max_entropy,
    sign_versus_tanh_evidence,
    sufficiency,
    uniqueness,
)
from theorems.statement import Verdict


@pytest.mark.parametrize("mu, sigma", [(1.0, 1.0), (1e-6, 1.0), (-3.0, 0.5), (0.3, 2.0), (20.0, 1.0), (35.0, 1.0)])
def test_tanh_density_route_enclosure(mu, sigma):
    x = {"mu": Fraction(mu), "sigma": Fraction(sigma)}
    with Arb(128) as B:
        t = information_tanh_exact(x, B)
        i = mutual_information_exact(x, B)
    assert t.overlaps(i) and float(t.rad()) < 1e-30  # the identity, numerically to 1e-30
    # numerics.channel.information_tanh: quadrature to ~1e-14 relative in its three charts
    assert_float_in_ball(float(information_tanh(mu, sigma)), t, 1e-13, "I(tanh(μX/σ²);Y)")


def test_tanh_enclosure_contains_the_independent_mpmath_oracle():
    with Arb(128) as B:
        t = information_tanh_exact({"mu": Fraction(-3, 2), "sigma": Fraction(2, 3)}, B)
    with mpmath.workdps(40):
        oracle = information_tanh_mp(-1.5, float(Fraction(2, 3)), dps=30)
        # the float 2/3 is not the rational 2/3: compare at the float's exact value
    with Arb(128) as B:
        t_float_sigma = information_tanh_exact({"mu": Fraction(-1.5), "sigma": Fraction(float(Fraction(2, 3)))}, B)
    assert abs(float(t_float_sigma.mid().str(30, radius=False)) - float(oracle)) < 1e-25 + float(t_float_sigma.rad())
    assert t.overlaps(t_float_sigma) or abs(float((t - t_float_sigma).mid())) < 1e-15


def test_perturbed_tanh_information_fails_the_agreement_helper():
    with Arb(128) as B:
        t = information_tanh_exact({"mu": Fraction(1), "sigma": Fraction(1)}, B)
    with pytest.raises(AssertionError):
        assert_float_in_ball(float(information_tanh(1.0, 1.0)) * (1 + 1e-10), t, 1e-13)


@pytest.mark.parametrize("mu, sigma", [(Fraction(1), Fraction(1)), (Fraction(-3, 2), Fraction(2, 3))])
def test_other_injective_statistics_keep_all_information(mu, sigma):
    """x³ (density singular at t = 0, not a grid point for the second channel), arctan, x itself."""
    x = {"mu": mu, "sigma": sigma}
    with Arb(128) as B:
        i = mutual_information_exact(x, B)
        for fn in (information_cube_exact, information_arctan_exact, information_identity_exact):
            v = fn(x, B)
            assert v.overlaps(i) and float((v - i).rad()) < 1e-25, fn.__name__


def test_tanh_with_doubled_slope_is_still_sufficient_so_not_a_mutant():
    """tanh(2μX/σ²) is another bijection of X: claiming it sufficient is *true*; the checker must not
    refute it (a guard against a checker that refutes everything)."""
    doubled = replace(
        sufficiency, id="sec-4.1/sufficiency(2μ)",
        lhs_float=lambda x: float(information_of_statistic(
            lambda v: math.tanh(2 * x["mu"] * v / x["sigma"] ** 2), x["mu"], x["sigma"],
            inverse=lambda t: math.atanh(t) * x["sigma"] ** 2 / (2 * x["mu"]),
            derivative=lambda v: 2 * x["mu"] / x["sigma"] ** 2 / math.cosh(2 * x["mu"] * v / x["sigma"] ** 2) ** 2))
        if x["mu"] != 0 else 0.0,
        lhs_exact=lambda x, B: information_tanh_exact(x, B, k_factor=Fraction(2)),
        # float quadrature through a user-supplied statistic: ~1e-12 (numerics.channel docstring)
        rel_tol=1e-9,
        # |2μx/σ²| ≤ 8 on x ∈ μ ± 40σ: the float route through T's density cannot resolve tanh ≈ ±1 beyond
        domain=st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(1e-3, 0.05), st.floats(0.5, 2.0)).map(
            lambda t: {"mu": t[0] * t[1], "sigma": t[2]}),
    )
    r = doubled.check(examples=15)
    assert r.verdict is Verdict.HOLDS, r.evidence
    with Arb(128) as B:  # and at high SNR, in Arb only
        for x in ({"mu": Fraction(3), "sigma": Fraction(1)}, {"mu": Fraction(-12), "sigma": Fraction(2)}):
            assert information_tanh_exact(x, B, k_factor=Fraction(2)).overlaps(mutual_information_exact(x, B))


def test_sign_loses_information_and_low_snr_ratio_tends_to_two_over_pi():
    ev = sign_versus_tanh_evidence()
    assert ev["I(sign X;Y) < I(X;Y) proved in Arb"] is True
    assert ev["I(sign X;Y) at μ=σ=1 (Arb)"].startswith("[0.2557139396")
    assert ev["I(X;Y) at μ=σ=1 (Arb, x-density)"].startswith("[0.3368308203")
    ratios = ev["I(sign X;Y)/I(X;Y) at low SNR (→ 2/π = 0.636619772...; error ~ s²)"]
    assert abs(ratios["s=1e-4"]["float"] - 2 / math.pi) < 1e-8
    with Arb(128) as B:  # ratio − 2/π ≈ 0.1737 s²: certified at s = 1e-3
        x = {"mu": Fraction(1, 1000), "sigma": Fraction(1)}
        d = information_sign_exact(x, B) / mutual_information_exact(x, B) - 2 / B.pi()
        assert 0.17e-6 < float(d.lower().str(20, radius=False)) <= float(d.upper().str(20, radius=False)) < 0.18e-6


def test_uniqueness_counterexample_and_its_verification():
    r = uniqueness.check()
    assert r.verdict is Verdict.REFUTED
    cx = r.to_json()["counterexample"]
    assert cx["inputs"]["statistic"] == "x^3" and cx["margin_upper"] < 1e-25
    ok, line = uniqueness.verify_counterexample(cx)
    assert ok, line
    # a tampered certificate must not verify: the claimed-unique statistic itself is no counterexample
    bad = dict(cx, inputs=dict(cx["inputs"], statistic="tanh(μx/σ²)"))
    ok, _ = uniqueness.verify_counterexample(bad)
    assert not ok


def test_uniqueness_up_to_bijection_holds():
    r = Uniqueness(id="sec-4.1/uniqueness(bijection)", equivalence="up to bijection").check()
    assert r.verdict is Verdict.HOLDS


def test_unknown_statistic_or_claim_raises():
    with Arb(64) as B:
        with pytest.raises(ValueError, match="unknown candidate"):
            _candidate_information("sinh(x)", {"mu": Fraction(1), "sigma": Fraction(1)}, B)
        with pytest.raises(ValueError, match="sigma"):
            information_tanh_exact({"mu": Fraction(1), "sigma": Fraction(0)}, B)
    with pytest.raises(ValueError, match="unknown uniqueness claim"):
        Uniqueness(equivalence="up to vibes").check()


def test_tanh_compresses_nothing():
    ev = compression_evidence((1e-1, 1e-2))
    a, b = ev["Δ=0.1"], ev["Δ=0.01"]
    assert a["T injective on the grid"] and b["T injective on the grid"]
    # H(X_Δ) ≈ h(X) − log Δ: ten times finer adds log 10 nats
    assert abs((b["I(T;X_Δ) = H(X_Δ) (nats)"] - a["I(T;X_Δ) = H(X_Δ) (nats)"]) - math.log(10)) < 0.01
    assert b["H(sign X_Δ) (nats)"] <= math.log(2)


@settings(max_examples=40)
@given(st.one_of(st.floats(-0.999, 0.999), st.floats(1e-15, 1e-3).map(lambda g: 1 - g),
                 st.floats(1e-15, 1e-3).map(lambda g: g - 1)))
def test_max_entropy_float_in_arb_ball(m):
    x = {"m": Fraction(m)}
    with Arb(128) as B:
        ball = max_entropy.rhs_exact(x, B)
        assert ball.overlaps(max_entropy.lhs_exact(x, B))
    # atanh near ±1: condition number ~1/((1−m²) atanh m) ≤ ~3e13 ⇒ λ to ~1e-2 relative at worst... but
    # expit(2λ) flattens it again: the end result is good to ~1e-12 relative (worst seen 3.4e-15)
    assert_float_in_ball(max_entropy.rhs_float({"m": m}), ball, 1e-12, "expit(2 atanh m)")


def test_max_entropy_mutants_are_false_but_the_identity_is_exact():
    with MP(50) as B:
        m = Fraction(1, 2)
        assert abs(max_entropy.lhs_exact({"m": m}, B) - max_entropy.rhs_exact({"m": m}, B)) < mpmath.mpf(10) ** -45
        for mut in max_entropy.mutants()[1:]:
            assert abs(mut.lhs_exact({"m": m}, B) - mut.rhs_exact({"m": m}, B)) > 1e-3


def test_mutual_information_float_reference_value():
    assert abs(float(mutual_information(1.0, 1.0)) - 0.3368308203) < 1e-10
