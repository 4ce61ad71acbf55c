"""Exact permutation tests, Holm's adjustment and group comparisons of the report, against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from gpu_experiments.report_statistics import (
    compare_groups,
    holm,
    rank_agreement,
    sign_flip_p,
    two_sample_permutation_p,
)


def test_sign_flip_p_exact_values():
    assert sign_flip_p([1.0, 2.0, 3.0]) == pytest.approx(2 / 8)  # only all-plus and all-minus reach |Σ| = 6
    assert sign_flip_p([1.0, -1.0]) == 1.0
    assert sign_flip_p([0.0, 0.0, 0.0]) == 1.0  # a tie is never significant
    d = [0.3, -0.1, 0.7, 0.2, 0.9]
    brute = np.mean([abs(np.dot(s, d)) >= abs(sum(d)) - 1e-12 for s in itertools.product((1, -1), repeat=5)])
    assert sign_flip_p(d) == pytest.approx(brute)
    with pytest.raises(ValueError, match="too many"):
        sign_flip_p(np.ones(17))
    with pytest.raises(ValueError, match="no differences"):
        sign_flip_p([])


def test_two_sample_permutation_p():
    assert two_sample_permutation_p([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    assert two_sample_permutation_p([1, 2], [1, 2]) == 1.0


def test_holm_matches_the_definition():
    p = [0.01, 0.04, 0.03, math.nan, 0.5]
    adj = holm(p)
    # m = 4 finite: sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.09, 0.09 (monotone), 0.5
    assert adj[0] == pytest.approx(0.04) and adj[2] == pytest.approx(0.09) and adj[1] == pytest.approx(0.09)
    assert adj[4] == pytest.approx(0.5) and math.isnan(adj[3])
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # 2 x 0.8 capped at 1, then monotone


def test_compare_groups_paired_and_unpaired():
    a = {0: 90.0, 1: 91.0, 2: 92.5}
    b = {0: 89.0, 1: 89.5, 2: 90.0}
    c = compare_groups(a, b)
    d = np.array([1.0, 1.5, 2.5])
    assert c["test"].startswith("paired") and c["diff"] == pytest.approx(d.mean())
    assert c["sd"] == pytest.approx(d.std(ddof=1)) and c["effect"] == pytest.approx(d.mean() / d.std(ddof=1))
    assert c["p"] == pytest.approx(0.25) and c["p_min"] == pytest.approx(0.25)
    assert c["p_t"] == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
    u = compare_groups({0: 1.0, 1: 2.0}, {5: 3.0, 6: 4.0})
    assert u["test"].startswith("two-sample") and u["diff"] == -2.0


def test_rank_agreement_signs():
    r = rank_agreement([1, 2, 3, 4], [8, 6, 4, 2])
    assert r["tau"] == pytest.approx(-1) and r["rho"] == pytest.approx(-1) and r["p_method"] == "exact"
    big = rank_agreement(list(range(12)), list(range(12)))
    assert big["p_method"] == "asymptotic" and big["tau"] == pytest.approx(1)


def test_vectorised_rank_p_equals_the_loop_with_ties():
    from gpu_experiments.report_statistics import exact_rank_p, kendall, spearman

    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.integers(0, 3, 5).astype(float)  # ties on purpose
        y = rng.integers(0, 3, 5).astype(float)
        for stat in (kendall, spearman):
            if stat(x, y) != stat(x, y):
                continue
            looped = np.mean([abs(stat(x, y[list(p)])) >= abs(stat(x, y)) - 1e-12
                              for p in itertools.permutations(range(5))])
            assert exact_rank_p(x, y, stat) == pytest.approx(looped)
            assert exact_rank_p(x, y, lambda a, b, s=stat: s(a, b)) == pytest.approx(looped)  # generic path
