"""Entropy-gap estimator: error budget, interval coverage, memory modes, allocation rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numerics.hessian import MatrixOperator, spectral_summary
from numerics.hessian.entropy_gap import deflation_error, entropy_gap_estimate, quadrature_error
from numerics.hessian.lanczos import probe_runs
from numerics.hessian.probes import make_generator


def outliers_over_bulk(n=300, k=6, seed=0):
    """``k`` outliers in [20, 80] over a spread indefinite bulk in [-0.3, 1] (float64)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([rng.uniform(20, 80, k), rng.uniform(-0.3, 1.0, n - k)])
    return MatrixOperator((Q * lam) @ Q.T), lam


@pytest.fixture(scope="module")
def case():
    op, lam = outliers_over_bulk()
    return op, lam, spectral_summary(lam, "abs").entropy_gap


def test_interval_is_the_sum_of_three_half_widths(case):
    op, _, _ = case
    est = entropy_gap_estimate(op, 150, seed=0)
    d = est.details
    assert est.num_probes == 3 and d["probes"] == 3
    total = d["probe_half_width"] + d["quadrature_half_width"] + d["deflation_half_width"]
    assert est.half_width == pytest.approx(total, rel=1e-12)
    assert d["probe_half_width"] > 0 and d["quadrature_half_width"] >= 0 and d["deflation_half_width"] >= 0


def test_no_interval_from_two_probes(case):
    op, _, _ = case
    est = entropy_gap_estimate(op, 90, seed=0, num_probes=2)
    assert est.num_probes == 2 and math.isinf(est.half_width)  # 1 degree of freedom: no 95 % claim


def test_coverage_over_seeds(case):
    """20 seeds at 150 products: the interval covers the exact gap in >= 17 (nominal 95 %: 19)."""
    op, _, exact = case
    ests = [entropy_gap_estimate(op, 150, seed=s) for s in range(20)]
    assert sum(e.contains(exact) for e in ests) >= 17
    assert np.median([e.relative_error(exact) for e in ests]) < 0.02


def test_interval_without_the_quadrature_term_would_not_cover():
    """Meta: diag(λ) with Rademacher probes has no probe noise (every probe sees the uniform spectral
    measure), so the error at 45 products (15-step runs) is pure quadrature bias (1.2 %): the probe
    half-width alone misses it and the quadrature half-width must cover it."""
    lam = np.random.default_rng(0).uniform(-1, 1, 500)
    op = MatrixOperator(np.diag(lam))
    exact = spectral_summary(lam, "abs").entropy_gap
    for s in range(3):
        e = entropy_gap_estimate(op, 45, seed=s, deflation_fraction=0.0)
        assert e.relative_error(exact) > 5e-3
        assert abs(e.value - exact) > e.details["probe_half_width"]
        assert e.contains(exact)


def test_quadrature_error_shrinks_with_depth(case):
    op, lam, _ = case
    runs, _ = probe_runs(op, 2, 60, None, make_generator(0), "rademacher", True, None)
    errs = [quadrature_error(runs, s, op.shape[0], np.zeros(0), np.abs) for s in (6, 60)]
    assert errs[0] > errs[1] >= 0


def test_deflation_error_is_zero_for_exact_pairs_and_grows_with_residuals():
    vals = np.array([50.0, 30.0])
    assert deflation_error(vals, np.zeros(2), 100.0, 200.0, np.abs) == 0.0
    assert deflation_error(vals, np.full(2, 1e-3), 100.0, 200.0, np.abs) > 0


def test_low_memory_mode_is_accurate(case):
    op, _, exact = case
    std = [entropy_gap_estimate(op, 150, seed=s).relative_error(exact) for s in range(5)]
    low = [entropy_gap_estimate(op, 150, seed=s, memory="low") for s in range(5)]
    assert all(e.details["deflation_steps"] <= 32 for e in low)
    assert np.median([e.relative_error(exact) for e in low]) < max(0.02, 3 * np.median(std))


def test_adaptive_allocation_spends_the_budget(case):
    op, _, exact = case
    est = entropy_gap_estimate(op, 300, seed=0, allocation="adaptive")
    assert est.hvp_count <= 300 and est.num_probes >= 3
    assert est.details["probe_steps"] <= (300 - est.details["deflation_steps"]) // 3
    assert est.relative_error(exact) < 0.05


@pytest.mark.parametrize("kw, msg", [({"memory": "tiny"}, "memory mode"), ({"allocation": "magic"}, "allocation"),
                                     ({"policy": "nope"}, "policy"), ({"quadrature": "simpson"}, "quadrature")])
def test_bad_arguments(case, kw, msg):
    op, _, _ = case
    with pytest.raises(ValueError, match=msg):
        entropy_gap_estimate(op, 100, **kw)


def test_float32_operator_gives_float64_accurate_gap():
    op, lam = outliers_over_bulk(n=200)
    op32 = op.astype(torch.float32)
    exact = spectral_summary(lam, "abs").entropy_gap
    e64 = entropy_gap_estimate(op, 120, seed=3).value
    e32 = entropy_gap_estimate(op32, 120, seed=3).value
    assert abs(e32 - e64) < 1e-3 * abs(exact)  # same probes; float32 products differ at ~1e-6 relative
