"""Lanczos numerics: breakdown relative to rounding, float32 narrow bulks, memory of Ritz pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numerics.hessian.krylov as krylov
from numerics.hessian import MatrixOperator, entropy_gap_estimate, krylov_trace, spectral_summary
from numerics.hessian.krylov import deflation_pairs, lanczos, top_eigenpairs


def narrow_bulk(n=400, k=8, seed=0, dtype=torch.float32):
    """``k`` outliers in [100, 1000] over a bulk in [-0.01, 0.05]: the bulk is 5e-5 of λ_max wide."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([rng.uniform(100, 1000, k), rng.uniform(-0.01, 0.05, n - k)])
    return MatrixOperator(torch.tensor((Q * lam) @ Q.T, dtype=dtype)), lam


def test_float32_narrow_bulk_entropy_gap_and_trace():
    op, lam = narrow_bulk()
    exact_gap = spectral_summary(lam, "abs").entropy_gap
    errs = [entropy_gap_estimate(op, 300, seed=s).relative_error(exact_gap) for s in range(3)]
    # measured 0.02 %; 0.5 % is the accuracy goal of the estimator at 300 products
    assert max(errs) < 5e-3
    for s in range(3):
        est = krylov_trace(op, 100, seed=s)
        assert est.ci_high > est.ci_low  # residual probes were taken: a real interval
        assert est.contains(lam.sum()) or est.relative_error(lam.sum()) < 1e-5


def test_breakdown_threshold_relative_to_lambda_max_is_the_failure(monkeypatch):
    """Mutation: the former threshold 10³ ε ‖A‖ stops Lanczos after the outliers and the gap is off by %."""
    op, lam = narrow_bulk()
    exact_gap = spectral_summary(lam, "abs").entropy_gap
    run = lanczos(op, 60, seed=0)
    assert not run.breakdown and run.steps == 60
    monkeypatch.setattr(krylov, "BREAKDOWN_EPS", 1e3)
    assert lanczos(op, 60, seed=0).breakdown
    assert entropy_gap_estimate(op, 300, seed=0).relative_error(exact_gap) > 1e-2


def test_breakdown_never_hides_residual_probes():
    """5 distinct eigenvalues: the Krylov space of one start vector is invariant after 5 steps."""
    rng = np.random.default_rng(1)
    n = 300
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.repeat([1.0, 2.0, 3.0, 4.0, 5.0], n // 5)
    op = MatrixOperator((Q * lam) @ Q.T)
    run = lanczos(op, 50, seed=0)
    assert run.breakdown and run.steps <= 6
    est = krylov_trace(op, 60, seed=0)
    # tr(KᵀAK) alone is ~15 of 900; the residual Hutchinson probes carry the rest
    assert est.details["krylov_dim"] <= 6 and est.num_probes >= 50
    assert est.relative_error(lam.sum()) < 0.05 and est.ci_high > est.ci_low


def test_alpha_accumulated_in_float64():
    """Σ α_j (the exact part of the Krylov trace) in float32 vs float64 operators agrees to float32 eps."""
    op32, lam = narrow_bulk(n=200, k=4)
    op64 = op32.astype(torch.float64)
    a32 = lanczos(op32, 20, seed=3).alpha
    a64 = lanczos(op64, 20, seed=3).alpha
    assert a32.dtype == np.float64
    np.testing.assert_allclose(a32[:4], a64[:4], rtol=1e-5)


def test_deflation_pairs_form_only_converged_vectors():
    op, lam = narrow_bulk(n=300, k=6, dtype=torch.float64)
    pairs = deflation_pairs(op, 40, seed=0)
    assert pairs.vectors.shape == (300, pairs.values.size)
    assert pairs.values.size >= 6 and bool(np.all(pairs.converged))
    np.testing.assert_allclose(pairs.values[:6], np.sort(lam)[::-1][:6], rtol=1e-8)
    assert deflation_pairs(op, 40, seed=0, max_pairs=3).vectors.shape == (300, 3)
    top = top_eigenpairs(op, 2, num_steps=30, seed=0)
    assert top.vectors.shape == (300, 2)


@pytest.mark.parametrize("bad", [0, -3])
def test_lanczos_rejects_bad_steps(bad):
    op, _ = narrow_bulk(n=50, k=2)
    with pytest.raises(ValueError, match="num_steps"):
        lanczos(op, bad)


def test_krylov_trace_stop_rule():
    """krylov_fraction=None: few Krylov steps without outliers, more with them; the estimate stays unbiased."""
    rng = np.random.default_rng(2)
    n = 300
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    flat = rng.uniform(0.5, 1.5, n)
    spiky = np.concatenate([rng.uniform(100, 200, 5), flat[5:]])
    dims = {}
    for name, lam in (("flat", flat), ("spiky", spiky)):
        op = MatrixOperator((Q * lam) @ Q.T)
        est = krylov_trace(op, 100, seed=0, krylov_fraction=None)
        dims[name] = est.details["krylov_dim"]
        assert est.details["krylov_dim"] <= 50 and est.relative_error(lam.sum()) < 0.05
    assert dims["flat"] < dims["spiky"]
