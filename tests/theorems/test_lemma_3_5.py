"""Unit tests of theorems/lemma_3_5.py: float sides against mpmath, the equality case, the misreading."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given

from numerics.backends import MP
from numerics.divergence import total_variation
from theorems import lemma_3_5 as L
from theorems.exact_inputs import exact_distribution
from theorems.statement import Verdict, floatify, normalise_exact
from theorems.verify import verify_report


def _x(p):
    """The float view the checker's float sides see, and the exact distribution it represents
    (its float entries divided by their exact sum: the float functions normalise the same way).
    Comparing against the checker's original exact p instead would fold in the conditioning of
    the sides near uniform (rounding p_i moves n p_i − 1 by eps, relative eps/|n p_i − 1|)."""
    xf = floatify(exact_distribution({"p": np.asarray(p, dtype=float)}))
    x = {"p": normalise_exact([Fraction(float(v)) for v in xf["p"]])}
    return x, xf


def assert_float_side_agrees(float_fn, exact_fn, p, rtol, atol=1e-300):
    x, xf = _x(p)
    got = float_fn(xf)
    with MP(60) as B:
        want = exact_fn(x, B)
    assert abs(mpmath.mpf(got) - want) <= rtol * abs(want) + atol, (got, want)


# The float view rounds each p_i (1 ulp) and the sums below are over terms of one sign after
# forming n p_i − 1 exactly, so a few ulps relative; 1e-13 leaves room for n ≤ 200 terms.
SIDES = [
    ("symmetrised sum", L._sym_sum_float, L._sym_sum_exact, 1e-13),
    ("TV to uniform", L._tv, L._tv_exact, 1e-13),
]
# (The lhs, numerics.divergence.jeffreys_divergence(p, u), is tested in tests/numerics; against u it
# forms p − fl(1/n), so within ~1e-15 of uniform its relative error is O(1) -- at absolute values
# ~1e-31, far below this statement's absolute floor rel_tol·scale_floor = 1e-21.)


@pytest.mark.parametrize("name, f, e, rtol", SIDES, ids=[s[0] for s in SIDES])
@given(p=L.domain.map(lambda d: d["p"]))
def test_float_sides_agree_with_mpmath(name, f, e, rtol, p):
    assert_float_side_agrees(f, e, p, rtol)


@pytest.mark.parametrize("name, f, e, rtol", SIDES, ids=[s[0] for s in SIDES])
def test_agreement_check_catches_a_perturbed_side(name, f, e, rtol):
    with pytest.raises(AssertionError):
        assert_float_side_agrees(lambda xf: f(xf) * (1 + 1e-9), e, [0.5, 0.3, 0.2], rtol)


def test_tv_matches_the_library_away_from_uniform():
    p = np.array([0.5, 0.25, 0.125, 0.125])
    _, xf = _x(p)
    assert L._tv(xf) == pytest.approx(total_variation(p, np.full(4, 0.25)), rel=1e-15)
    assert L._tv(xf) == pytest.approx(0.25, rel=1e-15)


def test_two_valued_equality_is_exact():
    ev = L.two_valued_equality_evidence(8)
    assert ev["all_enclosures_contain_0"] and ev["two_valued_cases"] == sum(n - 1 for n in range(2, 9)) * 5
    assert float(ev["widest_enclosure_of_rhs_minus_lhs"]) < 1e-60
    # and a three-valued p is strictly inside
    x = {"p": [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]}
    with MP(40) as B:
        assert L._tv_exact(x, B) * L._log_kappa_exact(x, B) - L._sym_sum_exact(x, B) > 1e-3


def test_best_constant_is_below_one_and_grows_with_n():
    ev = L.best_constant_evidence("quick")
    ratios = [r["sup_ratio_two_valued"] for r in ev["best_constant"]]
    assert all(0 < r < 1 for r in ratios) and ratios == sorted(ratios)
    huge = [r["sup_ratio_m1"] for r in ev["best_constant_huge_n"]]
    assert huge == sorted(huge) and 0.99 < huge[-1] < 1


def test_misreading_is_refuted_with_a_small_certified_counterexample():
    r = L.misreading.check()
    assert r.verdict is Verdict.REFUTED
    cx = r.counterexample
    assert cx.size == 3 and cx.margin_upper < 0
    lines = list(verify_report({"results": [r.to_json()]}))
    assert lines and all(ok for _, ok in lines), lines
    # independently: the shrunk p in plain mpmath
    p = [mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator for v in cx.inputs["p"]]
    n = len(p)
    kl = sum(v * mpmath.log(n * v) for v in p)
    tv = sum(abs(v - mpmath.mpf(1) / n) for v in p) / 2
    assert kl > tv * mpmath.log(1 / (n * min(p)))


def test_misreading_fails_near_uniform_for_every_n_at_least_3():
    # one entry raised by ε: KL ≈ n²(n−1)η²/2 vs TV·log(1/(n p_min)) ≈ n(n−1)η², ratio ≈ n/2
    for n in (3, 4, 10, 50):
        w = [Fraction(1)] * n
        w[0] += Fraction(1, 10**4)
        x = {"p": [v / sum(w) for v in w]}
        with MP(50) as B:
            assert L.misreading.lhs_exact(x, B) > L.misreading.rhs_exact(x, B)
    with MP(50) as B:  # n = 2: the misreading holds for this p
        x = {"p": [Fraction(10001, 20001), Fraction(10000, 20001)]}
        assert L.misreading.lhs_exact(x, B) < L.misreading.rhs_exact(x, B)


def test_gap_bound_drops_the_true_rhs_x_099_mutant_and_keeps_three():
    ids = [m.id for m in L.gap_bound.mutants()]
    assert len(ids) == 3 and not any(i.endswith("rhs x 0.99") for i in ids)


def test_holding_statements_hold_on_a_short_run():
    for s in (L.identity, L.lemma, L.gap_bound):
        r = s.check(examples=30)
        assert r.verdict is Verdict.HOLDS, (s.id, r.evidence)
        assert r.evidence["numerical_artefacts"] == 0
    assert math.isfinite(float(L.lemma.check(examples=10).evidence["smallest_relative_margin"]))
