"""Tests of ``numerics/prodigy.py``: the float port against the reference package (when installed),
the exact β = 0 step against the float one, the ε → 0 sign-descent limit, bad input."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from numerics import prodigy as pg


def _quadratic(seed, n=5):
    rng = np.random.default_rng(seed)
    a, c, x0 = rng.uniform(0.5, 3, n), rng.standard_normal(n), rng.standard_normal(n)
    return (lambda x: a * (np.asarray(x, dtype=float) - c)), x0


@pytest.mark.parametrize("betas", [(0.0, 0.0), (0.9, 0.999)])
def test_matches_reference_package(betas):
    prodigyopt = pytest.importorskip("prodigyopt")
    torch = pytest.importorskip("torch")
    grad, x0 = _quadratic(1)
    p = torch.tensor(x0.copy(), dtype=torch.float64, requires_grad=True)
    opt = prodigyopt.Prodigy([p], lr=1.0, betas=betas, d0=1e-3, eps=1e-8)
    ref = [x0.copy()]
    for _ in range(8):
        p.grad = torch.tensor(grad(p.detach().numpy()))
        opt.step()
        ref.append(p.detach().numpy().copy())
    xs, state = pg.prodigy_run(x0, grad, 8, lr=1.0, betas=betas, d0=1e-3, eps=1e-8)
    # same float64 operations up to ordering: agreement to a few ulp of the iterates
    np.testing.assert_allclose(np.array(xs), np.array(ref), rtol=1e-13, atol=1e-15)
    assert state.d == pytest.approx(opt.param_groups[0]["d"], rel=1e-13)


def test_estimate_grows_and_steps_are_sign_descent():
    grad, x0 = _quadratic(2)
    xs, state = pg.prodigy_run(x0, grad, 6, lr=1.0, betas=(0.0, 0.0), d0=1e-3, eps=1e-12)
    assert state.d > 1e-3  # d grew from d0
    d_after = [b for _, b in state.history]
    steps = np.diff(np.array(xs), axis=0)
    for t in range(1, 6):  # u_t = −lr·d'_t·sign(g) up to ε'/|g|
        np.testing.assert_allclose(steps[t], -d_after[t] * np.sign(grad(xs[t])), rtol=1e-7)


def test_exact_step_matches_float_update():
    grad, x0 = _quadratic(3)
    xs, state = pg.prodigy_run(x0, grad, 4, lr=0.5, betas=(0.0, 0.0), d0=1e-3, eps=1e-3)
    x, g = xs[-1], grad(xs[-1])
    st = pg.ProdigyState(d=state.d, d0=1e-3, d_max=state.d_max, x0=x0, m=0 * x, v=0 * x, s=0 * x)
    u, st = pg.prodigy_update(x, g, st, lr=0.5, betas=(0.0, 0.0), eps=1e-3, d0=1e-3)
    ue, d_new = pg.prodigy_zero_beta_step_exact(x, x0, g, state.d, 1e-3, state.d_max, 0.5, 1e-3)
    assert float(d_new) == pytest.approx(st.d, rel=1e-14)
    np.testing.assert_allclose(u, [float(v) for v in ue], rtol=1e-14)


def test_exact_step_check_can_fail():
    grad, x0 = _quadratic(3)
    ue, _ = pg.prodigy_zero_beta_step_exact(x0, x0, grad(x0), 1e-3, 1e-3, 1e-3, 0.5, 1e-3)
    st = pg.ProdigyState(d=1e-3, d0=1e-3, d_max=1e-3, x0=x0, m=0 * x0, v=0 * x0, s=0 * x0)
    u, _ = pg.prodigy_update(x0, grad(x0), st, lr=0.5 * 1.000001, betas=(0.0, 0.0), eps=1e-3, d0=1e-3)
    assert not np.allclose(u, [float(v) for v in ue], rtol=1e-14, atol=0)


def test_zero_gradient_takes_no_step():
    st = pg.ProdigyState(d=1.0, d0=1.0, d_max=1.0, x0=np.ones(2), m=np.zeros(2), v=np.zeros(2), s=np.zeros(2))
    u, _ = pg.prodigy_update(np.ones(2), np.zeros(2), st, betas=(0.0, 0.0))
    assert not np.any(u)
    assert pg.prodigy_zero_beta_step_exact([1], [1], [0], 1, 1, 1, 1, Fraction(1, 10)) == (None, 1)


@pytest.mark.parametrize("kw, msg", [({"lr": 0.0}, "lr"), ({"eps": -1.0}, "eps"), ({"betas": (1.0, 0.0)}, "betas"),
                                     ({"d0": float("nan")}, "d0")])
def test_bad_hyperparameters(kw, msg):
    with pytest.raises(ValueError, match=msg):
        pg.prodigy_update(np.ones(2), np.ones(2), None, **kw)


def test_bad_vectors():
    with pytest.raises(ValueError, match="one shape"):
        pg.prodigy_update(np.ones(2), np.ones(3), None)
    with pytest.raises(ValueError, match="d_max"):
        pg.prodigy_zero_beta_step_exact([1], [1], [1], 2, 1, 1, 1, 1)
