"""Tests of ``numerics/small_networks.py``: closed-form gradients and Hessians against finite differences,
the optimisers against their textbook recurrences, batched = unbatched, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from numerics import small_networks as sn


def _models(seed=0):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    return rng, [sn.TwoLayerLinear(X, y, width=3), sn.TwoLayerTanh(X, y, width=3), sn.DiagonalLinear(X, y)]


def _fd_hessian(model, theta, h=1e-6):
    return np.array([(model.grad(theta + h * e) - model.grad(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


@pytest.mark.parametrize("k", range(3))
def test_gradient_and_hessian_diagonal_match_finite_differences(k):
    rng, models = _models(k)
    for m in models:
        th = rng.standard_normal(m.n_params) * 0.7
        h = 1e-6
        fd = np.array([(m.loss(th + h * e) - m.loss(th - h * e)) / (2 * h) for e in np.eye(m.n_params)])
        # central differences: error O(h²)·|L'''| + rounding ε/h ≈ 1e-10; 1e-7 leaves a wide margin
        np.testing.assert_allclose(m.grad(th), fd, atol=1e-7)
        H = _fd_hessian(m, th)
        np.testing.assert_allclose(m.hessian_diagonal(th), np.diag(H), atol=1e-7)
        if hasattr(m, "hessian"):
            np.testing.assert_allclose(m.hessian(th), H, atol=1e-7)


def test_hessian_check_can_fail():
    rng, models = _models()
    m = models[1]
    th = rng.standard_normal(m.n_params)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(m.hessian_diagonal(th) * 1.001, np.diag(_fd_hessian(m, th)), atol=1e-7)


def test_adam_step_is_the_textbook_recurrence():
    rng, models = _models()
    m = models[2]
    th0 = rng.standard_normal(m.n_params)
    th, _, _ = sn.train(m, th0, "adam", 0.01, 1, rng)
    g = m.grad(th0)
    np.testing.assert_allclose(th, th0 - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)  # step 1: m̂ = g, v̂ = g²


def test_sam_uses_the_perturbed_gradient_and_gd_the_plain_one():
    rng, models = _models()
    m = models[0]
    th0 = rng.standard_normal(m.n_params)
    g = m.grad(th0)
    th, _, _ = sn.train(m, th0, "sam", 0.1, 1, rng, rho=0.05)
    np.testing.assert_allclose(th, th0 - 0.1 * m.grad(th0 + 0.05 * g / np.linalg.norm(g)), rtol=1e-12)
    th, _, _ = sn.train(m, th0, "gd", 0.1, 1, rng)
    np.testing.assert_allclose(th, th0 - 0.1 * g, rtol=1e-12)


def test_batched_equals_unbatched_with_label_noise():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((1, 5, 4)), rng.standard_normal((1, 5))
    th0 = np.full((1, 8), 0.5)
    for opt in ("gd", "adam"):
        tb = sn.train_diagonal_batched(X, y, th0, opt, 0.01, 30, np.random.default_rng(1), label_noise=0.3)
        tu, _, _ = sn.train(sn.DiagonalLinear(X[0], y[0]), th0[0], opt, 0.01, 30, np.random.default_rng(1),
                            label_noise=0.3)
        np.testing.assert_allclose(tb[0], tu, rtol=1e-12, atol=1e-15)


def test_diagonal_regularisers_are_the_hessian_diagonal():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6))
    th = rng.standard_normal((2, 6))
    tr, sq = sn.diagonal_regularisers(X, th)
    for s in range(2):
        diag = sn.DiagonalLinear(X[s], y[s]).hessian_diagonal(th[s])
        assert tr[s] == pytest.approx(diag.sum()) and sq[s] == pytest.approx(np.sqrt(diag).sum())


def test_stop_loss_and_records():
    rng, models = _models()
    m = models[2]
    th, recs, steps = sn.train(m, np.full(6, 0.5), "gd", 0.05, 2000, rng, record_every=10, record=m.loss,
                               stop_loss=0.9 * m.loss(np.full(6, 0.5)))
    assert steps < 2000 and m.loss(th) <= 0.9 * m.loss(np.full(6, 0.5)) and len(recs) == steps // 10


def test_divergence_and_bad_input_are_named():
    rng, models = _models()
    m = models[0]
    with pytest.raises(FloatingPointError, match="diverged"):
        sn.train(m, np.full(m.n_params, 3.0), "gd", 1e6, 50, rng)
    with pytest.raises(ValueError, match="unknown optimizer"):
        sn.train(m, np.zeros(m.n_params), "lion", 0.1, 1, rng)
    with pytest.raises(ValueError, match="entries"):
        m.grad(np.zeros(3))
    with pytest.raises(ValueError, match="N×d"):
        sn.DiagonalLinear(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        sn.DiagonalLinear(np.full((2, 2), np.nan), np.zeros(2))
    with pytest.raises(ValueError, match="batched"):
        sn.train_diagonal_batched(np.zeros((1, 2, 2)), np.zeros((1, 2)), np.zeros((1, 4)), "sam", 0.1, 1, rng)
