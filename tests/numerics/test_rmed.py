"""R_med: the float statistic against its mpmath twin, hand-computed values,
Adam's preconditioner against torch's Adam, and the exact/stochastic paths on the
Hessian engine.

Everything runs single-threaded: multi-threaded BLAS spin-waits on the shared
2-core machine made a 600x600 ``eigh`` take 10 s instead of 0.08 s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from numerics import rmed as R
from numerics.hessian import HessianOperator, MatrixOperator, dense_matrix, diagonal_estimate
from tests.numerics.adam_mlp import adam_trained_tanh_mlp
from tests.numerics.agreement import Agreement
from tests.numerics.threads import one_thread


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    with one_thread():
        yield


# ----------------------------------------------------------------------------
# float vs mpmath
# ----------------------------------------------------------------------------


@st.composite
def diagonals(draw, with_preconditioner: bool = False):
    """Signed diagonals over 24 decades, with zeros and ties; optionally a positive preconditioner."""
    n = draw(st.integers(1, 40))
    mags = 10.0 ** np.array(draw(st.lists(st.floats(-12, 12), min_size=n, max_size=n)))
    kind = draw(st.sampled_from(["signed", "positive", "ties", "zeros"]))
    if kind == "ties":
        mags = np.round(mags / mags.max() * 3) + 1.0
    signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=n, max_size=n)))
    if kind == "positive":
        signs[:] = 1.0
    d = mags * signs
    if kind == "zeros" and n > 1:
        d[: n // 2] = 0.0
    i = int(np.argmax(np.abs(d)))  # keep a positive entry, so 'clip' has something left
    d[i] = abs(d[i]) or 1.0
    D = None
    if with_preconditioner:
        D = 10.0 ** np.array(draw(st.lists(st.floats(-8, 8), min_size=n, max_size=n)))
    return d, D, draw(st.sampled_from(["abs", "clip"]))


#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "r_med", R.r_med, R.r_med_mp, diagonals(with_preconditioner=False),
        rtol=1e-15, atol=0.0,
        why="v_i = |d_i| is exact; the median of an even count adds one rounding (a+b)/2 and the "
        "ratio one more: <= 2 ulps = 4.4e-16 relative",
        meta_factor=1e-6,
    ),
    Agreement(
        "r_med_preconditioned", R.r_med, R.r_med_mp, diagonals(with_preconditioner=True),
        rtol=2e-15, atol=0.0,
        why="one more rounding per entry (d_i / D_i) on the max and on each median operand: <= 4 ulps = 8.9e-16",
        meta_factor=1e-6,
    ),
]


def test_agreement_check_catches_min_instead_of_median():
    case = AGREEMENTS[0]
    wrong = Agreement(case.name, lambda d, D, p: float(np.max(np.abs(d)) / np.min(np.abs(d)[np.abs(d) > 0])),
                      case.mp_fn, st.just((np.array([1.0, 2.0, 3.0, 10.0]), None, "abs")), case.rtol, case.atol, "")
    with pytest.raises((AssertionError, ExceptionGroup)):
        wrong.run(shrink=False)


# ----------------------------------------------------------------------------
# hand-computed values
# ----------------------------------------------------------------------------


def test_hand_computed_values():
    assert R.r_med([1.0, 2.0, 3.0, 4.0, 100.0]) == pytest.approx(100 / 3, rel=1e-15)
    assert R.r_med([1.0, 2.0, 3.0, 100.0]) == pytest.approx(40.0, rel=1e-15)  # median (2+3)/2
    assert R.r_med([5.0]) == 1.0
    # negative entries: |.| by default, clipped with 'clip'
    assert R.r_med([-8.0, 1.0, 2.0]) == pytest.approx(4.0)
    assert R.r_med([-8.0, 1.0, 2.0, 4.0], policy="clip") == pytest.approx(4.0 / 1.5)
    # the preconditioner divides the diagonal: D = diag(H) makes it uniform (the ideal diagonal preconditioner)
    d = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    assert R.r_med(d, preconditioner=d) == pytest.approx(1.0, rel=1e-15)
    assert R.r_med(d, preconditioner=np.sqrt(d)) == pytest.approx(10 / math.sqrt(3), rel=1e-15)
    # a zero median with a positive maximum is an honest infinity
    assert R.r_med([0.0, 0.0, 0.0, 1.0]) == math.inf
    assert R.r_med_mp([0.0, 0.0, 0.0, 1.0]) == math.inf


def test_structural_zeros_left_out():
    """``exclude_zeros`` drops the exact zeros of the raw diagonal, and nothing else (clip keeps negatives at 0)."""
    d = [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 8.0]
    assert R.r_med(d) == math.inf
    assert R.r_med(d, exclude_zeros=True) == pytest.approx(4.0, rel=1e-15) == R.r_med([1.0, 2.0, 8.0])
    assert R.r_med_mp(d, exclude_zeros=True) == pytest.approx(4.0, rel=1e-40)
    assert R.r_med([0.0, -1.0, 0.0, 2.0, 8.0], policy="clip", exclude_zeros=True) == pytest.approx(8.0 / 2.0)
    with pytest.raises(ValueError, match="all zero"):
        R.r_med([0.0, 0.0], exclude_zeros=True)
    with pytest.raises(ValueError, match="all zero"):
        R.r_med_mp([0.0, 0.0], exclude_zeros=True)
    # the stochastic path sees the same zeros: a zero row of A gives (A v)_i = 0 for every probe
    A = torch.diag(torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 8.0], dtype=torch.float64))
    A[4, 5] = A[5, 4] = 0.5
    est = diagonal_estimate(MatrixOperator(A), 64, seed=0)
    res = R.r_med_from_diagonal_estimate(est, {"a": slice(0, 2), "b": slice(2, 7)}, exclude_zeros=True)
    plain = R.r_med_from_diagonal_estimate(est, {"a": slice(0, 2), "b": slice(2, 7)})
    vals = est.values.numpy()
    assert plain.total.value == math.inf
    assert res.total.value == pytest.approx(R.r_med(vals[4:]), rel=1e-14)
    assert math.isnan(res.blocks["a"].value)  # only structural zeros: no ratio
    assert res.blocks["b"].value == pytest.approx(R.r_med(vals[4:]), rel=1e-14)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([],), {}, "empty"),
        (([1.0, math.nan],), {}, "NaN"),
        (([1.0, math.inf],), {}, "inf"),
        (([[1.0, 2.0]],), {}, "1-D"),
        (([0.0, 0.0],), {}, "all zero"),
        (([-1.0, -2.0],), {"policy": "clip"}, "all zero"),
        (([1.0, 2.0],), {"policy": "square"}, "policy"),
        (([1.0, 2.0],), {"preconditioner": [1.0]}, "entries"),
        (([1.0, 2.0],), {"preconditioner": [1.0, 0.0]}, "positive"),
        (([1.0, 2.0],), {"preconditioner": [1.0, -1.0]}, "positive"),
        (([1.0, 2.0],), {"preconditioner": [1.0, math.nan]}, "NaN"),
    ],
)
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        R.r_med(*args, **kwargs)
    with pytest.raises(ValueError, match=match):
        R.r_med_mp(*args, **kwargs)


@given(diagonals(with_preconditioner=True))
def test_scale_invariance_and_lower_bound(args):
    d, D, policy = args
    r = R.r_med(d, D, policy)
    assert r >= 1.0
    # R_med is invariant to scaling the Hessian (a learning-rate-free statistic) ...
    assert R.r_med(d * 2.0**7, D, policy) == pytest.approx(r, rel=1e-15)
    # ... and to scaling the preconditioner
    assert R.r_med(d, D * 2.0**-5, policy) == pytest.approx(r, rel=1e-15)


# ----------------------------------------------------------------------------
# Adam's preconditioner
# ----------------------------------------------------------------------------


def _adam_model(amsgrad=False, cls=torch.optim.Adam, steps=3):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    opt = cls(model.parameters(), lr=1e-2, betas=(0.8, 0.95), eps=1e-6, amsgrad=amsgrad)
    X, y = torch.randn(16, 4, dtype=torch.float64), torch.randint(0, 2, (16,))
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model, opt, X, y


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_preconditioner_is_the_one_adam_divides_by(amsgrad):
    """The next Adam step must equal ``−lr · m̂ / D`` with our ``D`` (no weight decay)."""
    model, opt, X, y = _adam_model(amsgrad)
    before = torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])
    opt.zero_grad()
    nn.functional.cross_entropy(model(X), y).backward()
    opt.step()
    after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    D = R.adam_preconditioner_from_optimizer(opt, model)
    t = int(opt.state[next(model.parameters())]["step"])
    m_hat = torch.cat([opt.state[p]["exp_avg"].reshape(-1) for p in model.parameters()]) / (1 - 0.8**t)
    torch.testing.assert_close(after - before, -1e-2 * m_hat / D, rtol=1e-10, atol=1e-15)


def test_adam_preconditioner_formula_and_bad_input():
    v = torch.tensor([0.0, 1e-4, 4.0])
    D = R.adam_preconditioner(v, step=3, beta2=0.9, eps=1e-8)
    torch.testing.assert_close(D, torch.sqrt(v.double() / (1 - 0.9**3)) + 1e-8, rtol=1e-15, atol=0)
    assert R.adam_preconditioner(v, step=1, beta2=0.0)[2] == pytest.approx(2.0 + 1e-8)
    for kwargs, match in [
        ({"step": 0}, "step"), ({"step": 1.5}, "step"), ({"step": 1, "beta2": 1.0}, "beta2"),
        ({"step": 1, "eps": 0.0}, "eps"),
    ]:
        with pytest.raises(ValueError, match=match):
            R.adam_preconditioner(v, **kwargs)
    with pytest.raises(ValueError, match="non-negative"):
        R.adam_preconditioner(torch.tensor([-1.0]), step=1)
    with pytest.raises(ValueError, match="empty"):
        R.adam_preconditioner(torch.tensor([]), step=1)


def test_adam_preconditioner_from_optimizer_bad_input():
    model, opt, _, _ = _adam_model()
    fresh = torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match="stepped"):
        R.adam_preconditioner_from_optimizer(fresh, model)
    with pytest.raises(ValueError, match="unknown parameter"):
        R.adam_preconditioner_from_optimizer(opt, model, ["nope"])
    partial = torch.optim.Adam([list(model.parameters())[-1]])
    with pytest.raises(ValueError, match="not optimised"):
        R.adam_preconditioner_from_optimizer(partial, model)
    # AdamW keeps the same second-moment state
    model_w, opt_w, _, _ = _adam_model(cls=torch.optim.AdamW)
    assert R.adam_preconditioner_from_optimizer(opt_w, model_w).shape == (sum(p.numel() for p in model_w.parameters()),)


# ----------------------------------------------------------------------------
# exact path on a quadratic model (closed form) and on a matrix
# ----------------------------------------------------------------------------


class TwoBlockQuadratic(nn.Module):
    """``L(a, b) = ½ (a,b)ᵀ A (a,b)`` with two parameter tensors: Hessian ``A`` exactly."""

    def __init__(self, A: torch.Tensor, theta: torch.Tensor, split: int):
        super().__init__()
        self.a = nn.Parameter(theta[:split].clone())
        self.b = nn.Parameter(theta[split:].clone())
        self.register_buffer("A", A)

    def forward(self, x):
        t = torch.cat([self.a, self.b])
        return 0.5 * t @ self.A @ t + 0.0 * x.sum()


def _scalar_loss(out, y):
    return out


def test_exact_path_on_quadratic_model_matches_hand_values():
    diag = torch.tensor([1.0, 2.0, 3.0, 4.0, 100.0, 0.5], dtype=torch.float64)
    B = torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 0.1
    A = torch.diag(diag) + (B + B.T) / 2 - torch.diag(torch.diagonal((B + B.T) / 2))  # off-diagonals, same diagonal
    model = TwoBlockQuadratic(A, torch.ones(6, dtype=torch.float64), split=4)
    op = HessianOperator(model, _scalar_loss, (torch.zeros(1, 1), torch.zeros(1)))
    res = R.r_med_exact(op)
    # whole: sorted |diag| = 0.5 1 2 3 4 100 -> median 2.5, max 100
    assert res.total.value == pytest.approx(40.0, rel=1e-14)
    assert res.blocks["a"].value == pytest.approx(4.0 / 2.5, rel=1e-14)
    assert res.blocks["b"].value == pytest.approx(100.0 / 50.25, rel=1e-14)
    assert res.total.hvp_count == 6 and not res.preconditioned
    pre = R.r_med_exact(op, preconditioner=diag.numpy())
    assert pre.total.value == pytest.approx(1.0, rel=1e-14) and pre.preconditioned


def test_stochastic_path_is_exact_for_a_diagonal_matrix():
    """Rademacher probes give ``v ⊙ A v = diag A`` exactly when ``A`` is diagonal: zero-width interval."""
    d = np.array([1.0, -2.0, 3.0, 4.0, 100.0])
    op = MatrixOperator(torch.diag(torch.tensor(d)))
    res = R.r_med_stochastic(op, 8, seed=0)
    assert res.total.value == pytest.approx(R.r_med(d), rel=1e-14)
    assert res.total.half_width == pytest.approx(0.0, abs=1e-12)
    assert res.total.hvp_count == 8


def test_stochastic_bad_input():
    op = MatrixOperator(torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="policy"):
        R.r_med_stochastic(op, 4, policy="nope")
    with pytest.raises(ValueError, match="entries"):
        R.r_med_stochastic(op, 4, preconditioner=np.ones(2))
    with pytest.raises(ValueError, match="num_probes"):
        R.r_med_stochastic(op, 0)


# ----------------------------------------------------------------------------
# stochastic vs exact on a small network
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlp():
    """A 610-parameter tanh MLP after 30 full-batch Adam steps on 128 digits, its Hessian and Adam's D."""
    model, loss_fn, batch, opt = adam_trained_tanh_mlp()
    op = HessianOperator(model, loss_fn, batch)
    H = dense_matrix(op)
    D = R.adam_preconditioner_from_optimizer(opt, model, op.block_names)
    return op, H.diagonal().numpy().copy(), D


def test_exact_path_equals_statistic_of_dense_diagonal(mlp):
    op, diag, D = mlp
    res = R.r_med_exact(op, preconditioner=D)
    assert res.total.value == R.r_med(diag, D)
    for name, sl in op.block_slices().items():
        assert res.blocks[name].value == R.r_med(diag[sl], D.numpy()[sl])


def test_stochastic_value_is_the_plug_in_of_the_engine_diagonal(mlp):
    op, _, D = mlp
    est = diagonal_estimate(op, 40, seed=5)
    res = R.r_med_stochastic(op, 40, preconditioner=D, seed=5)
    # torch and numpy sum the probe rows in different orders: a few ulps apart
    assert res.total.value == pytest.approx(R.r_med(est.values.numpy(), D), rel=1e-13)
    assert res.total.hvp_count == 40


@pytest.mark.parametrize("preconditioned", [False, True])
def test_stochastic_interval_covers_exact_value(mlp, preconditioned):
    """Seeded coverage over 10 independent runs (200 probes, Diag++ rank 50): nominal 95%.

    Measured over 40 seeds: 38/40 (identity) and 40/40 (Adam's D) covered, plug-in bias
    +0.12 and −0.04 against exact values 5.64 and 18.98.  Requiring 8 of 10 leaves room
    for the nominal 5% misses (P[≤7 of 10 | p = 0.95] = 1.2%) while a broken interval or
    a biased value (e.g. without the plug-in, or the max replaced by a mean) fails.
    """
    op, diag, D = mlp
    pre = D if preconditioned else None
    exact = R.r_med(diag, pre)
    hits, errors = 0, []
    for seed in range(10):
        res = R.r_med_stochastic(op, 200, preconditioner=pre, deflation_rank=50, seed=seed)
        hits += res.total.contains(exact)
        errors.append(res.total.value - exact)
        for name in op.block_slices():  # per-layer values exist and are finite
            assert math.isfinite(res.blocks[name].value)
    assert hits >= 8, f"coverage {hits}/10, errors {errors}"
    assert abs(np.mean(errors)) < 0.1 * exact
