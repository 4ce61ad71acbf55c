"""The PyHessian-style entry point: formats and values against the exact spectrum (and PyHessian if installed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics.hessian import HessianOperator, dense_matrix, hessian, spectral_summary

from .distributed_worker import problem


@pytest.fixture(scope="module")
def setup():
    model, loss_fn, batches = problem()
    X = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    lam = np.linalg.eigvalsh(dense_matrix(HessianOperator(model, loss_fn, (X, y))).numpy())
    return model, loss_fn, (X, y), batches, lam


def test_eigenvalues_trace_density_formats_and_values(setup):
    model, loss_fn, data, _, lam = setup
    h = hessian(model, loss_fn, data=data, cuda=False)
    values, vectors = h.eigenvalues(top_n=2)
    # 24 Lanczos steps on n = 83 resolve the two top eigenvalues to rounding
    np.testing.assert_allclose(values, lam[::-1][:2], rtol=1e-8)
    assert [tuple(t.shape) for t in vectors[0]] == [tuple(p.shape) for p in model.parameters()]
    tr = h.trace(maxIter=60)
    assert isinstance(tr, list) and abs(np.mean(tr) - lam.sum()) / abs(lam.sum()) < 0.05
    est = h.trace_estimate(60)
    assert est.value == pytest.approx(np.mean(tr))
    nodes, weights = h.density(iter=30, n_v=2)
    assert len(nodes) == 2 and len(nodes[0]) == 30
    assert all(abs(sum(w) - 1) < 1e-12 for w in weights)
    # Σ_j w_j θ_j = vᵀAv/‖v‖²: its probe average estimates tr A / n (Hutchinson, 2 probes: loose)
    mean_eig = np.mean([np.dot(t, w) for t, w in zip(nodes, weights)])
    assert abs(mean_eig - lam.mean()) < 5 * np.abs(lam).max() / np.sqrt(2 * lam.size)
    exact = spectral_summary(lam, "abs").entropy_gap
    assert h.entropy_gap(150).contains(exact)  # n = 83: one probe's relative noise ~ sqrt(2/n), the interval says so
    # a deflation run as long as n resolves every eigenpair: the gap is then exact to rounding
    assert h.entropy_gap(200, deflation_fraction=0.5).relative_error(exact) < 1e-8


def test_dataloader_gives_the_same_operator(setup):
    model, loss_fn, data, batches, lam = setup
    a = hessian(model, loss_fn, data=data).eigenvalues()[0]
    b = hessian(model, loss_fn, dataloader=batches).eigenvalues()[0]
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_exactly_one_data_source(setup):
    model, loss_fn, data, batches, _ = setup
    with pytest.raises(ValueError, match="exactly one"):
        hessian(model, loss_fn, data=data, dataloader=batches)
    with pytest.raises(ValueError, match="exactly one"):
        hessian(model, loss_fn)


def test_agrees_with_pyhessian_top_eigenvalue(setup):
    pytest.importorskip("pyhessian")
    from pyhessian import hessian as py_hessian

    from benchmarks.hessian_report import pyhessian_torch_eig_patch

    model, loss_fn, data, _, lam = setup
    with pyhessian_torch_eig_patch():
        torch.manual_seed(0)
        theirs = py_hessian(model, loss_fn, data=data, cuda=False).eigenvalues(maxIter=500, tol=1e-8)[0][0]
    model.zero_grad(set_to_none=True)
    ours = hessian(model, loss_fn, data=data).eigenvalues()[0][0]
    assert ours == pytest.approx(lam.max(), rel=1e-10)
    assert theirs == pytest.approx(ours, rel=1e-3)  # power iteration stops at a relative change of 1e-8
