"""Unit tests of theorems/thm_3_7.py: closed forms vs quadrature, the exact finite-n mean, the simulation."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from numerics.backends import MP, Arb
from numerics.entropy import entropy_gap
from tests.theorems.quick_checks import mutants_of, quick_check
from theorems import entropy_gap_laws as L
from theorems import thm_3_7 as T
from theorems.statement import Verdict

# dyadic parameters: numerics.cv_limit reads parameters through float(), and a = 1/3 would be
# integrated at fl(1/3), 1e-17 away
LAWS = [
    L.law("exponential"), L.law("gamma", a=Fraction(1, 4)), L.law("gamma", a=7), L.law("lognormal", s=Fraction(3, 4)),
    L.law("uniform", loc=0, scale=1), L.law("uniform", loc=Fraction(5, 2), scale=2), L.law("chi2", df=5),
]


def assert_closed_form_matches_quadrature(limit_fn, c, rtol=1e-25):
    """The Arb enclosure of the closed form against mpmath quadrature at 30 digits (numerics.cv_limit;
    tanh-sinh converges to ~1e-28 on these smooth integrands in t = log x)."""
    with Arb(200) as B:
        ball = limit_fn(c, B)
    with mpmath.workdps(40):
        q = L.limit_quadrature_mp(c, dps=30)
        mid = mpmath.mpf(ball.mid().str(40, radius=False))
        assert abs(mid - q) <= rtol * abs(q), (L.label(c), mid, q)


@pytest.mark.parametrize("c", LAWS, ids=L.label)
def test_closed_form_limits_match_quadrature(c):
    assert_closed_form_matches_quadrature(L.limit_exact, c)


def test_closed_form_check_catches_a_perturbed_formula():
    with pytest.raises(AssertionError):
        assert_closed_form_matches_quadrature(
            lambda c, B: L.limit_exact(c, B) * (1 + B.num(Fraction(1, 10**12))), LAWS[1])


def test_known_values():
    with MP(30) as B:
        assert L.limit_exact(L.law("exponential"), B) == pytest.approx(1 - float(mpmath.euler), rel=1e-15)
        assert L.limit_exact(L.law("lognormal", s=2), B) == 2
        assert float(L.limit_exact(L.law("uniform", loc=0, scale=1), B)) == pytest.approx(math.log(2) - 0.5, rel=1e-15)
        # chi2(k) = gamma(k/2), scaled: the same Y
        assert L.limit_exact(L.law("chi2", df=6), B) == L.limit_exact(L.law("gamma", a=3), B)
        assert L.cv2_exact(L.law("lognormal", s=2), B) / 2 == pytest.approx(26.799075016572118, rel=1e-15)


GAMMA_LAWS = [L.law("exponential"), L.law("gamma", a=Fraction(1, 2)), L.law("gamma", a=4)]


@pytest.mark.parametrize("c", GAMMA_LAWS, ids=L.label)
@pytest.mark.parametrize("n", [2, 10, 100])
def test_exact_finite_n_mean_matches_beta_quadrature(c, n):
    with mpmath.workdps(30):
        q = L.beta_mean_mp(c, n)
        with MP(30) as B:
            e = L.finite_n_mean_exact(c, n, B)
        assert abs(q - e) <= mpmath.mpf(10) ** -20 * abs(e)


def test_exponential_finite_n_mean_is_the_harmonic_formula():
    # p ~ Dirichlet(1,…,1): E[gap_n] = log n − (H_n − 1)
    for n in (2, 10, 1000):
        h = sum(Fraction(1, k) for k in range(1, n + 1))
        with MP(40) as B:
            want = mpmath.log(n) - (mpmath.mpf(h.numerator) / h.denominator - 1)
            assert abs(L.finite_n_mean_exact(L.law("exponential"), n, B) - want) < 1e-35


def test_gamma_bias_coefficient_matches_the_delta_method():
    # b = (L + ½)CV² − (E[Y² log Y] − L) with E[Y² log Y] = ((a+1)/a)(ψ(a+2) − log a) for Y ~ Gamma(a, 1/a)
    for a in (Fraction(1, 2), Fraction(1), Fraction(4)):
        c = L.law("gamma", a=a)
        with mpmath.workdps(30):
            A = mpmath.mpf(a.numerator) / a.denominator
            lim = mpmath.digamma(A + 1) - mpmath.log(A)
            ey2 = (A + 1) / A * (mpmath.digamma(A + 2) - mpmath.log(A))
            assert abs((lim + mpmath.mpf(1) / 2) / A - (ey2 - lim) - L.bias_coefficient_mp(c)) < 1e-25


def test_vectorised_gaps_match_the_library():
    x = L.sample(L.law("lognormal", s=1), np.random.default_rng(0), (3, 500))
    for row, g in zip(x, L.gaps(x)):
        assert g == pytest.approx(entropy_gap(row / math.fsum(row)), rel=1e-12)


def test_simulation_matches_the_exact_mean():
    rows = L.simulate([L.law("exponential"), L.law("uniform", loc=0, scale=1)], (10, 1000), budget=100_000)
    for r in rows:
        assert abs(r["z_vs_reference"]) < 4, r
        assert r["ci95"][0] < r["mean_gap"] < r["ci95"][1]
    # and the CI is informative: CV²/2 (0.5 for the exponential) is far outside it
    assert all(abs(r["z_vs_cv2_half"]) > 20 for r in rows if r["law"] == "exponential()")


def test_five_percent_thresholds():
    th = {f: L.five_percent_threshold(f) for f in ("gamma", "lognormal", "uniform", "chi2")}
    # lognormal in closed form: (e^{s²} − 1)/s² = 1.05
    s2 = float(mpmath.findroot(lambda v: mpmath.expm1(v) / v - mpmath.mpf("1.05"), 0.1))
    assert th["lognormal"]["cv_5pct"] == pytest.approx(math.sqrt(math.expm1(s2)), abs=2e-5)
    assert th["gamma"]["cv_5pct"] == th["chi2"]["cv_5pct"]
    assert th["chi2"]["df_min_integer"] == 7
    for t in th.values():
        assert t["monotone_on_grid"]


@pytest.mark.parametrize("bad", [
    ("weibull", {"c": 2}), ("gamma", {}), ("gamma", {"a": 0}), ("gamma", {"a": 1, "b": 2}),
    ("uniform", {"loc": -1, "scale": 1}), ("lognormal", {"s": -1}),
])
def test_law_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        L.law(bad[0], **bad[1])


def test_law_at_cv_hits_the_cv():
    for fam in ("gamma", "lognormal", "uniform", "chi2"):
        with MP(30) as B:
            cv = float(mpmath.sqrt(L.cv2_exact(L.law_at_cv(fam, Fraction(1, 10)), B)))
            assert cv == pytest.approx(0.1, rel=1e-14)
    with pytest.raises(ValueError):
        L.law_at_cv("uniform", 0.9)


def test_verifier_rejects_a_non_violation_and_confirms_a_violation():
    truth_claim = T.thm_3_7_limit  # claims exactly the limit: nothing to confirm
    cx = {"inputs": {"family": "gamma", "a": "4", "n": "limit"}}
    ok, line = truth_claim.verify_counterexample(cx)
    assert not ok and "NOT a violation" in line
    ok, line = T.thm_3_7.verify_counterexample(cx)  # CV²/2 = 1/8 vs 0.1198
    assert ok and "confirmed" in line


def test_mutants_are_refuted_with_certified_counterexamples():
    from theorems.verify import verify_report

    for s in T.STATEMENTS:
        ms = mutants_of(s)
        assert len(ms) >= 3
        for m in ms:
            r = quick_check(m)
            assert r.verdict is Verdict.REFUTED and r.counterexample.margin_upper < 0, m.id
            lines = list(verify_report({"results": [r.to_json()]}))
            assert lines and all(ok for _, ok in lines), lines
