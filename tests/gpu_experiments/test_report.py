"""Report logic on constructed data: claim verdicts, tests, Thm 3.2 helpers, tables, ranking.

The claim evaluator is checked on rows built so that the verdict is known (and
so that an under-powered grid must come out inconclusive); the Thm 3.2 helpers,
computed from numerics, are checked against ``theorems.thm_3_2`` (the statement
checker), with meta-tests that a perturbed version is caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gpu_experiments.report as rep
from gpu_experiments.report import (
    check_status,
    evaluate_claims,
    kappa_needed,
    measure_ranking,
    paper_table,
    supremum_gap_fast,
)
from gpu_experiments.report_theory import dimension_free_bound as dfb_here
from gpu_experiments.report_theory import paper_bound as pb_here
from gpu_experiments.report_theory import thm37_status
from gpu_experiments.report_theory import threshold_kappa as tk_here
from theorems.thm_3_2 import dimension_free_bound, paper_bound, supremum_gap, threshold_kappa


def _rows(spec, percent=100, seeds=tuple(range(12)), jitter=0.01):
    """``spec[(arch, opt)] = {metric: value}`` -> rows with a small seed-dependent jitter."""
    rows = []
    for (arch, opt), metrics in spec.items():
        for s in seeds:
            r = {"arch": arch, "optimizer": opt, "seed": s, "percent": percent, "step": 10}
            for k, v in metrics.items():
                r[k] = v * (1 + jitter * ((s * 7919 + len(opt)) % 5 - 2) / 2)
            rows.append(r)
    return rows


def _claim(result, start):
    return next(v for k, v in result["claims"].items() if k.startswith(start))


def test_claims_supported_when_the_better_optimizer_has_the_smaller_gap():
    # 12 paired seeds: exact sign-flip p = 2/4096 per comparison, small enough to survive Holm over ~20 tests
    rows = _rows({
        ("resnet18", "sgd"): {"test_accuracy": 95, "entropy_gap": 1.0, "trace": 1.0, "deviation_trace": 0.2},
        ("resnet18", "adam"): {"test_accuracy": 90, "entropy_gap": 2.0, "trace": 5.0, "deviation_trace": 0.5},
        ("vit", "sgd"): {"test_accuracy": 80, "entropy_gap": 3.0, "trace": 0.5, "deviation_trace": 0.9},
        ("vit", "adam"): {"test_accuracy": 85, "entropy_gap": 1.5, "trace": 2.0, "deviation_trace": 0.3},
    })
    res = evaluate_claims(rows)
    assert _claim(res, "premise")["verdict"] == "supported"
    assert _claim(res, "the better optimizer per architecture has the smaller entropy gap")["verdict"] == "supported"
    assert _claim(res, "the better optimizer per architecture has the smaller deviation")["verdict"] == "supported"
    # on ViT the better optimizer (Adam) has the larger trace: sharpness alone does not explain the ranking
    assert _claim(res, "sharpness")["verdict"] == "supported"
    assert res["correction"] == "Holm" and res["family"] == len(res["tests"])
    t = res["tests"][0]
    assert t["test"].startswith("paired sign-flip") and t["p"] == pytest.approx(2 / 4096)
    assert t["p_holm"] >= t["p"] and t["decided"]


def test_claims_contradicted():
    rows = _rows({
        ("resnet18", "sgd"): {"test_accuracy": 95, "entropy_gap": 3.0, "trace": 1.0},
        ("resnet18", "adam"): {"test_accuracy": 90, "entropy_gap": 2.0, "trace": 5.0},
        ("vit", "sgd"): {"test_accuracy": 85, "entropy_gap": 2.0, "trace": 1.0},
        ("vit", "adam"): {"test_accuracy": 80, "entropy_gap": 2.5, "trace": 3.0},
    })
    res = evaluate_claims(rows)
    assert _claim(res, "premise")["verdict"] == "not supported"  # SGD wins on ViT here
    assert _claim(res, "the better optimizer per architecture has the smaller entropy gap")["verdict"] == \
        "not supported"  # ResNet: the better SGD has the larger gap
    assert _claim(res, "sharpness")["verdict"].startswith("not supported")


def test_ties_and_few_seeds_are_inconclusive():
    # identical accuracies: no better optimizer, whatever the metric does (the 10.28 % vs 10.28 % case)
    tie = _rows({("vit", "sgd"): {"test_accuracy": 10.28, "entropy_gap": 1.0, "trace": 1.0},
                 ("vit", "adam"): {"test_accuracy": 10.28, "entropy_gap": 2.0, "trace": 1.0}}, jitter=0)
    res = evaluate_claims(tie)
    assert res["tests"][0]["p"] == 1.0
    for c in res["claims"].values():
        assert c["verdict"] in ("inconclusive", "n/a"), c
    # huge, consistent effects but 3 seeds: the exact p cannot go below 0.25 -> inconclusive
    few = _rows({("resnet18", "sgd"): {"test_accuracy": 95, "entropy_gap": 1.0, "trace": 1.0},
                 ("resnet18", "adam"): {"test_accuracy": 50, "entropy_gap": 9.0, "trace": 9.0}}, seeds=(0, 1, 2))
    res = evaluate_claims(few)
    assert res["tests"][0]["p"] == pytest.approx(0.25) and res["tests"][0]["p_min"] == pytest.approx(0.25)
    assert _claim(res, "premise")["verdict"] == "inconclusive"
    assert _claim(res, "the better optimizer per architecture has the smaller entropy gap")["verdict"] == \
        "inconclusive"
    one = _rows({("vit", "sgd"): {"test_accuracy": 80, "entropy_gap": 1.0, "trace": 1.0},
                 ("vit", "adam"): {"test_accuracy": 85, "entropy_gap": 2.0, "trace": 2.0}}, seeds=(0,))
    assert _claim(evaluate_claims(one), "premise")["verdict"] == "inconclusive"  # one seed decides nothing


def test_claims_markdown_states_test_effect_p_and_correction():
    rows = _rows({("resnet18", "sgd"): {"test_accuracy": 95, "entropy_gap": 1.0, "trace": 1.0},
                  ("resnet18", "adam"): {"test_accuracy": 90, "entropy_gap": 2.0, "trace": 2.0},
                  ("resnet18", "lion"): {"test_accuracy": 85, "entropy_gap": 3.0, "trace": 3.0}}, seeds=(0, 1, 2))
    lines = rep.claims_markdown(evaluate_claims(rows))
    tests = [ln for ln in lines if ln.startswith("    - ")]
    assert tests
    for ln in tests:
        assert "exact p = " in ln and "Holm p = " in ln and ("d_z = " in ln or "τ = " in ln), ln
        assert "significant at α = 0.05" in ln
    assert not any("None" in ln for ln in lines)


def test_study_labels_are_printed_not_none():
    rows = []
    for i, opt in enumerate(["sgd", "adam", "tanh-lion-snr", "tanh-lion-fixed"]):
        rows += _rows({("vit", opt): {"test_accuracy": 80 + i, "entropy_gap": 1.0 + i, "trace": 1.0 + i}},
                      seeds=(0, 1, 2))
    text = "\n".join(rep.claims_markdown(evaluate_claims(rows)) + rep.ranking_markdown(measure_ranking(rows)))
    assert "None" not in text and "most accurate: tanh-lion-fixed" in text


def check_supremum(fast, ns=(2, 3, 4, 5, 10, 37, 62, 100, 1000, 4321),
                   kappas=(1.0001, 1.5, 2, 5, 13.85, 100, 347, 1e4, 1e8, 1e15)) -> None:
    """``fast(n, κ)`` equals the full scan over m to 1e-12 relative (same formula at the same m)."""
    for n in ns:
        for k in kappas:
            a, b = fast(n, k), supremum_gap(n, k)
            assert abs(a - b) <= 1e-12 * max(abs(b), 1e-300), (n, k, a, b)


def test_fast_supremum_equals_full_scan():
    check_supremum(supremum_gap_fast)


def test_fast_supremum_check_can_fail():
    with pytest.raises(AssertionError):
        check_supremum(lambda n, k: supremum_gap_fast(n, k) * (1 + 1e-9))
    with pytest.raises(AssertionError):  # the paper's m = 1 is not the supremum below κ_n
        check_supremum(lambda n, k: float(paper_bound(n, k)))


@pytest.mark.parametrize("n, gap", [(10, 0.3), (320, 2.0), (44550, 2.5)])
def test_kappa_needed_inverts_the_bounds(n, gap):
    k = kappa_needed(n, gap, "paper")
    assert float(paper_bound(n, k)) == pytest.approx(gap, rel=1e-9)
    assert float(paper_bound(n, k * 0.999)) < gap
    ks = kappa_needed(n, gap, "supremum")
    assert supremum_gap_fast(n, ks) == pytest.approx(gap, rel=1e-9) and ks <= k
    kd = kappa_needed(n, gap, "dimension_free")
    assert float(dimension_free_bound(kd)) == pytest.approx(gap, rel=1e-9)
    assert kappa_needed(n, math.log(n) + 0.1, "paper") == math.inf  # B(n, κ) < log n for every κ


def test_check_status_semantics():
    assert check_status(1.0, 2.0, exact=True, rhs_is_lower=False) == "holds"
    assert check_status(3.0, 2.0, exact=True, rhs_is_lower=False) == "violated"
    assert check_status(1.0, 2.0, exact=False, rhs_is_lower=True) == "holds (implied)"
    assert check_status(3.0, 2.0, exact=False, rhs_is_lower=True) == "undetermined"
    assert check_status(3.0, 2.0, exact=False, rhs_is_lower=False) == "violated (estimate)"
    assert check_status(math.nan, 2.0, exact=True, rhs_is_lower=False) == "n/a"
    assert check_status(3.0, math.inf, exact=True, rhs_is_lower=False) == rep.VACUOUS


def test_bounds_at_infinite_kappa_are_the_limits():
    b = rep.bounds(100, math.inf)
    assert b["paper_bound"] == pytest.approx(math.log(100)) and b["supremum_gap"] == pytest.approx(math.log(100))
    assert b["dimension_free_bound"] == math.inf
    b = rep.bounds(100, 1e300)
    assert b["paper_bound"] == pytest.approx(math.log(100), rel=1e-12)


def test_theory_rows_flag_a_paper_bound_violation_on_an_exact_range_spectrum():
    # two-valued spectrum with m = n/2 values at κ: the supremum, above the paper bound for κ < κ_n
    n, kappa = 100, 10.0
    lam = np.array([kappa] * 50 + [1.0] * 50)
    p = lam / lam.sum()
    gap = float(np.sum(p * np.log(n * p)))
    assert gap > float(paper_bound(n, kappa))
    h = {"method": "exact", "n": n, "entropy_gap": {"value": gap}, "kappa": kappa,
         "tv_uniform": 0.5 * np.abs(p - 1 / n).sum(),
         "spectrum_cv2": float(n * np.sum(lam**2) / lam.sum() ** 2 - 1)}
    record = {"arch": "mlp", "optimizer": "sgd", "seed": 0, "metrics": [{"percent": 100, "hessian": h}]}
    (row,) = rep.theory_rows([record])
    assert row["thm32_paper"] == "violated" and row["thm32_supremum"] == "holds"
    assert row["lemma35"] == "holds" and row["lemma36"] == "holds" and row["pinsker"] == "holds"
    assert row["kappa_threshold_n"] > kappa  # below κ_n the paper's bound is not the supremum


def test_paper_table_layout():
    rows = _rows({("resnet18", "sgd"): {"test_accuracy": 95.0}}, percent=0, seeds=(0, 1, 2), jitter=0.02) + \
        _rows({("resnet18", "sgd"): {"test_accuracy": 96.0}}, percent=100, seeds=(0, 1, 2), jitter=0.02)
    t = paper_table(rows, "test_accuracy", [0, 100]).splitlines()
    assert t[0] == "| Configuration | 0 % Steps | 100 % Steps |"
    assert t[2].startswith("| ResNet18 (SGD) |") and t[2].count(" ± ") == 2  # mean ± SD where SD is printed


def _ranked_rows(values):
    rows = []
    for i, opt in enumerate(["sgd", "adam", "lion", "tanh-lion"]):
        rows += _rows({("vit", opt): {"test_accuracy": 90 - i, **{k: v[i] for k, v in values.items()}}},
                      jitter=0, seeds=(0, 1, 2))
    return rows


def test_measure_ranking_is_signed_with_kendall_beside_spearman():
    rows = _ranked_rows({"entropy_gap": [1, 2, 3, 4], "trace": [4, 3, 2, 1], "top_eigenvalue": [1, 2, 4, 3]})
    r = measure_ranking(rows)["vit"]
    assert r["entropy_gap"]["tau_optimizers"] == pytest.approx(-1.0)
    assert r["entropy_gap"]["rho_optimizers"] == pytest.approx(-1.0)
    assert r["entropy_gap"]["p_tau_optimizers"] == pytest.approx(2 / 24)  # exact: 2 of 4! orderings
    assert r["trace"]["tau_optimizers"] == pytest.approx(1.0)  # |τ| = 1 too, but the wrong sign
    best = r["best"]
    assert best["measures"] == ["entropy_gap"] and best["tau"] == pytest.approx(-1.0)
    assert best["p_holm"] == pytest.approx(min(1.0, 3 * 2 / 24)) and not best["significant"]
    # a measure with τ = +1 only: no best, said in words
    r = measure_ranking(_ranked_rows({"trace": [4, 3, 2, 1], "entropy_gap": [4, 3, 1, 2]}))["vit"]
    assert r["best"]["measures"] == [] and "τ < 0" in r["best"]["note"]
    text = "\n".join(rep.ranking_markdown(measure_ranking(_ranked_rows({"trace": [4, 3, 2, 1]}))))
    assert "None" not in text and "no measure ranks the optimizers" in text


def test_exact_rank_p_by_enumeration():
    from gpu_experiments.report_statistics import exact_rank_p, kendall, spearman, spearman_exact_p

    assert spearman_exact_p([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(2 / 24)  # ρ = ±1: 2 of 24 orderings
    assert spearman_exact_p([1, 2, 3], [1, 3, 2]) == pytest.approx(1.0)  # ρ = 0.5; every ordering has |ρ| ≥ 0.5
    assert exact_rank_p([1, 2, 3, 4, 5], [1, 2, 3, 5, 4], kendall) == pytest.approx(10 / 120)  # τ = 0.8
    with pytest.raises(ValueError, match="too many"):
        spearman_exact_p(list(range(9)), list(range(9)))
    assert math.isnan(spearman_exact_p([1, 2, 3, 4], [5, 5, 5, 5]))  # no ρ, not "maximally significant"
    assert math.isnan(spearman([1, 2], [1, 2]))


def test_thm32_helpers_match_the_statement_checker():
    for n in (2, 3, 10, 320, 44550):
        for k in (1.0, 1 + 1e-12, 1.5, 13.85, 1e4, 1e15):
            assert pb_here(n, k) == pytest.approx(float(paper_bound(n, k)), rel=1e-13, abs=1e-300)
            assert dfb_here(k) == pytest.approx(float(dimension_free_bound(k)), rel=1e-13, abs=1e-300)
    for n in (5, 10, 50):
        assert tk_here(n) == pytest.approx(threshold_kappa(n), rel=1e-9)  # bisection vs Brent: 1e-9 is ample
    with pytest.raises(AssertionError):  # meta: the comparison catches a 1e-9 perturbation
        assert pb_here(10, 5.0) * (1 + 1e-9) == pytest.approx(float(paper_bound(10, 5.0)), rel=1e-13)


def test_singular_spectrum_checks_are_vacuous_and_thm37_gets_a_verdict():
    n = 6
    lam = np.array([3.0, 1.0, 0.5, 0.0, 0.0, 0.0])
    p = lam / lam.sum()
    nz = p[p > 0]
    gap = float(np.log(n) + np.sum(nz * np.log(nz)))
    cv2 = float(n * np.sum(lam**2) / lam.sum() ** 2 - 1)
    h = {"method": "exact", "n": n, "entropy_gap": {"value": gap}, "kappa": math.inf,
         "tv_uniform": 0.5 * np.abs(p - 1 / n).sum(), "spectrum_cv2": cv2}
    record = {"arch": "mlp", "optimizer": "sgd", "seed": 0, "metrics": [{"percent": 100, "hessian": h}]}
    (row,) = rep.theory_rows([record])
    assert row["thm32_paper"] == row["thm32_supremum"] == row["thm32_dimension_free"] == rep.VACUOUS
    assert row["lemma35"] == rep.VACUOUS and row["lemma36"] == "holds"
    assert row["thm37"].startswith("fails")
    s = rep.theory_summary([row])
    assert "vacuous on 1 exact spectra" in s["verdicts"]["thm32_paper"]
    assert s["verdicts"]["thm37"].startswith("fails: gap within 5% of CV²/2 on 0 of 1")
    # near-uniform spectrum: small CV, where gap ≈ CV²/2 (the approximation's regime)
    lam = 1 + 0.01 * np.cos(np.arange(200))
    p = lam / lam.sum()
    gap = float(np.log(200) + np.sum(p * np.log(p)))
    cv2 = float(200 * np.sum(lam**2) / lam.sum() ** 2 - 1)
    assert thm37_status(gap, cv2) == "holds"
    assert thm37_status(2 * gap, cv2).startswith("fails")  # meta: a gap twice CV²/2 is caught
