"""Report logic on constructed data: claim verdicts, Thm 3.2 helpers, tables, ranking.

The claim evaluator is checked on rows built so that the verdict is known; the
fast supremum ``G*(n, κ)`` is checked against the full scan of
``theorems.thm_3_2.supremum_gap`` (they must agree exactly: both evaluate the
same closed form at the same integer m), with a meta-test that a perturbed
version is caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gpu_experiments.report as rep
from gpu_experiments.report import (
    _check_status,
    compare,
    evaluate_claims,
    kappa_needed,
    measure_ranking,
    paper_table,
    supremum_gap_fast,
)
from theorems.thm_3_2 import dimension_free_bound, paper_bound, supremum_gap


def _rows(spec, percent=100, seeds=(0, 1, 2), jitter=0.01):
    """``spec[(arch, opt)] = {metric: value}`` -> rows with a small seed jitter."""
    rows = []
    for (arch, opt), metrics in spec.items():
        for s in seeds:
            r = {"arch": arch, "optimizer": opt, "seed": s, "percent": percent, "step": 10}
            for k, v in metrics.items():
                r[k] = v * (1 + jitter * (s - 1))
            rows.append(r)
    return rows


def _claim(claims, start):
    return next(v for k, v in claims.items() if k.startswith(start))


def test_claims_supported_when_the_better_optimizer_has_the_smaller_gap():
    rows = _rows({
        ("resnet18", "sgd"): {"test_accuracy": 95, "entropy_gap": 1.0, "trace": 1.0, "deviation_trace": 0.2},
        ("resnet18", "adam"): {"test_accuracy": 90, "entropy_gap": 2.0, "trace": 5.0, "deviation_trace": 0.5},
        ("vit", "sgd"): {"test_accuracy": 80, "entropy_gap": 3.0, "trace": 0.5, "deviation_trace": 0.9},
        ("vit", "adam"): {"test_accuracy": 85, "entropy_gap": 1.5, "trace": 2.0, "deviation_trace": 0.3},
    })
    claims = evaluate_claims(rows)
    assert _claim(claims, "premise")["verdict"] == "supported"
    assert _claim(claims, "the better optimizer per architecture has the smaller entropy gap")["verdict"] == "supported"
    assert _claim(claims, "the better optimizer per architecture has the smaller deviation")["verdict"] == "supported"
    # on ViT the better optimizer (Adam) has the larger trace: sharpness alone does not explain the ranking
    assert _claim(claims, "sharpness")["verdict"] == "supported"


def test_claims_contradicted_and_inconclusive():
    rows = _rows({
        ("resnet18", "sgd"): {"test_accuracy": 95, "entropy_gap": 3.0, "trace": 1.0},
        ("resnet18", "adam"): {"test_accuracy": 90, "entropy_gap": 2.0, "trace": 5.0},
        ("vit", "sgd"): {"test_accuracy": 85, "entropy_gap": 2.0, "trace": 1.0},
        ("vit", "adam"): {"test_accuracy": 80, "entropy_gap": 2.0, "trace": 3.0},
    })
    claims = evaluate_claims(rows)
    assert _claim(claims, "premise")["verdict"] == "not supported"  # SGD wins on ViT here
    assert _claim(claims, "the better optimizer per architecture has the smaller entropy gap")["verdict"] == \
        "not supported"
    assert _claim(claims, "sharpness")["verdict"].startswith("not supported")
    # equal accuracies within noise: no better optimizer
    tie = _rows({("vit", "sgd"): {"test_accuracy": 80, "entropy_gap": 1.0, "trace": 1.0},
                 ("vit", "adam"): {"test_accuracy": 80.1, "entropy_gap": 2.0, "trace": 1.0}}, jitter=0.05)
    v = _claim(evaluate_claims(tie), "the better optimizer per architecture has the smaller entropy gap")
    assert v["verdict"] == "inconclusive"


def test_single_seed_gives_signs_only():
    rows = _rows({("vit", "sgd"): {"test_accuracy": 80, "entropy_gap": 1.0, "trace": 1.0},
                  ("vit", "adam"): {"test_accuracy": 85, "entropy_gap": 2.0, "trace": 2.0}}, seeds=(0,))
    v = _claim(evaluate_claims(rows), "the better optimizer per architecture has the smaller entropy gap")
    assert "1 seed" in v["verdict"] and v["verdict"].startswith("not supported")


def test_compare_standard_error():
    c = compare(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0]))
    assert c["diff"] == 2.0 and c["se"] == pytest.approx(math.sqrt(1 / 3)) and c["resolved"]
    assert compare(np.array([1.0]), np.array([0.0]))["resolved"] is None


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
    assert _check_status(1.0, 2.0, exact=True, rhs_is_lower=False) == "holds"
    assert _check_status(3.0, 2.0, exact=True, rhs_is_lower=False) == "violated"
    assert _check_status(1.0, 2.0, exact=False, rhs_is_lower=True) == "holds (implied)"
    assert _check_status(3.0, 2.0, exact=False, rhs_is_lower=True) == "undetermined"
    assert _check_status(3.0, 2.0, exact=False, rhs_is_lower=False) == "violated (estimate)"
    assert _check_status(math.nan, 2.0, exact=True, rhs_is_lower=False) == "n/a"


def test_bounds_at_infinite_kappa_are_the_limits():
    b = rep._bounds(100, math.inf)
    assert b["paper_bound"] == pytest.approx(math.log(100)) and b["supremum_gap"] == pytest.approx(math.log(100))
    assert b["dimension_free_bound"] == math.inf
    b = rep._bounds(100, 1e300)
    assert b["paper_bound"] == pytest.approx(math.log(100), rel=1e-12)


def test_theory_rows_flag_a_paper_bound_violation_on_an_exact_range_spectrum():
    # two-valued spectrum with m = n/2 values at κ: the supremum, above the paper bound for κ < κ_n
    n, kappa = 100, 10.0
    lam = np.array([kappa] * 50 + [1.0] * 50)
    p = lam / lam.sum()
    gap = float(np.sum(p * np.log(n * p)))
    assert gap > float(paper_bound(n, kappa))
    h = {"method": "exact", "n": n, "entropy_gap": {"value": gap}, "kappa": kappa, "tv_uniform": 0.5 * np.abs(p - 1 / n).sum(),
         "spectrum_cv2": float(n * np.sum(lam**2) / lam.sum() ** 2 - 1)}
    record = {"arch": "mlp", "optimizer": "sgd", "seed": 0, "metrics": [{"percent": 100, "hessian": h}]}
    (row,) = rep.theory_rows([record])
    assert row["thm32_paper"] == "violated" and row["thm32_supremum"] == "holds"
    assert row["lemma35"] == "holds" and row["lemma36"] == "holds" and row["pinsker"] == "holds"
    assert row["kappa_threshold_n"] > kappa  # below κ_n the paper's bound is not the supremum


def test_paper_table_layout():
    rows = _rows({("resnet18", "sgd"): {"test_accuracy": 95.0}}, percent=0) + \
        _rows({("resnet18", "sgd"): {"test_accuracy": 96.0}}, percent=100)
    t = paper_table(rows, "test_accuracy", [0, 100]).splitlines()
    assert t[0] == "| Configuration | 0 % Steps | 100 % Steps |"
    assert t[2].startswith("| ResNet18 (SGD) | 95 ± 0.95 | 96 ± 0.96 |")


def test_measure_ranking_perfect_order():
    rows = []
    for i, opt in enumerate(["sgd", "adam", "lion", "tanh-lion"]):
        rows += _rows({("vit", opt): {"test_accuracy": 90 - i, "entropy_gap": 1.0 + i, "trace": 5.0 - i}}, jitter=0)
    r = measure_ranking(rows)
    assert r["vit"]["entropy_gap"]["rho"] == pytest.approx(-1.0)
    assert r["vit"]["trace"]["rho"] == pytest.approx(1.0)


def test_exact_spearman_p_by_enumeration():
    from gpu_experiments.report import spearman_exact_p

    assert spearman_exact_p([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(2 / 24)  # ρ = ±1: 2 of 24 orderings
    assert spearman_exact_p([1, 2, 3], [1, 3, 2]) == pytest.approx(1.0)  # ρ = 0.5; every ordering has |ρ| ≥ 0.5
    with pytest.raises(ValueError, match="too many"):
        spearman_exact_p(list(range(9)), list(range(9)))
    assert math.isnan(spearman_exact_p([1, 2, 3, 4], [5, 5, 5, 5]))  # no ρ, not "maximally significant"


def test_measure_ranking_over_optimizer_means_uses_the_exact_p():
    rows = []
    for i, opt in enumerate(["sgd", "adam", "lion", "tanh-lion"]):
        rows += _rows({("vit", opt): {"test_accuracy": 90 - i, "entropy_gap": 1.0 + i}}, jitter=0)
    e = measure_ranking(rows)["vit"]["entropy_gap"]
    assert e["rho_optimizers"] == pytest.approx(-1.0) and e["p_optimizers"] == pytest.approx(2 / 24)
    assert measure_ranking(rows)["vit"]["best"] == ["entropy_gap"]
