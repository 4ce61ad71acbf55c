"""Sharpness measures: float vs mpmath oracles, closed forms on quadratic
losses, stochastic vs exact on a small network, SAM ascent vs the exact
trust-region value, and the report.

Single-threaded throughout (see tests/numerics/test_rmed.py for why).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from numerics import sharpness as S
from numerics.entropy import renyi_entropy
from numerics.hessian import HessianOperator, diagonal_estimate, sqrt_diagonal_trace
from numerics.rmed import r_med
from tests.numerics.adam_mlp import adam_trained_tanh_mlp
from tests.numerics.agreement import Agreement
from tests.numerics.threads import one_thread


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    with one_thread():
        yield


# ----------------------------------------------------------------------------
# strategies
# ----------------------------------------------------------------------------


@st.composite
def signed_vectors(draw, min_n=1, max_n=30, decades=10):
    n = draw(st.integers(min_n, max_n))
    mags = 10.0 ** np.array(draw(st.lists(st.floats(-decades, decades), min_size=n, max_size=n)))
    signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=n, max_size=n)))
    zeros = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) & draw(st.booleans())
    v = np.where(zeros, 0.0, mags * signs)
    i = int(np.argmax(np.abs(v)))
    v[i] = abs(v[i]) or 1.0  # one positive entry, so 'clip' keeps something
    return v


@st.composite
def quadratic_problems(draw, max_n=8):
    """``(g, H, ρ)``: symmetric ``H`` with entries O(1), ``‖g‖`` O(1e-3..10), ``ρ`` in [1e-3, 10];
    a third of the draws is (nearly) the hard case -- ``g`` orthogonal to ``H``'s top eigenvector."""
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    H = (B + B.T) / 2
    g = rng.standard_normal(n) * 10.0 ** draw(st.floats(-3, 1))
    if draw(st.integers(0, 2)) == 0:
        lam, Q = np.linalg.eigh(H)
        g = g - Q[:, -1] * (Q[:, -1] @ g)  # hard case up to rounding
        if draw(st.booleans()):
            g = g * 1e-3  # small g: ‖ε(λ₁)‖ < ρ, the top eigenvector carries the rest of the radius
    rho = 10.0 ** draw(st.floats(-3, 1))
    return g, H, rho


@st.composite
def grad_pairs(draw):
    g, H, rho = draw(quadratic_problems())
    if not np.any(g):
        g = np.ones_like(g)
    return g, H @ g, rho


# ----------------------------------------------------------------------------
# float vs mpmath
# ----------------------------------------------------------------------------

ALPHAS = st.sampled_from([0.5, 1.0, 2.0, 3.7, 0.1])

#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "sqrt_diag_trace", S.sqrt_diag_trace, S.sqrt_diag_trace_mp,
        st.tuples(signed_vectors(), st.sampled_from(["abs", "clip"])),
        rtol=1e-14, atol=0.0,
        why="n <= 30 non-negative terms, each sqrt correctly rounded: pairwise sum error <= n·eps ≈ 7e-15",
        meta_factor=1e-6,
    ),
    Agreement(
        "hessian_trace", S.hessian_trace, S.hessian_trace_mp, st.tuples(signed_vectors()),
        rtol=2.3e-16, atol=1e-300,
        why="math.fsum is correctly rounded: <= 1/2 ulp of the exact sum",
        meta_factor=1e-6,
    ),
    Agreement(
        "spectral_renyi_entropy", S.spectral_renyi_entropy, S.spectral_renyi_entropy_mp,
        st.tuples(signed_vectors(2, 30, 6), ALPHAS, st.sampled_from(["abs", "clip"])),
        rtol=1e-12, atol=1e-14,
        why="p_i = v_i/Σv carries one rounding (relative δ_i <= eps); dH_α = −α/(1−α) Σ w_i δ_i "
        "with w = p^α/Σp^α a convex combination (α = 1: −Σ p_i (1 + log p_i) δ_i <= (1 + 28)·eps "
        "for 12 decades), so <= 30·eps ≈ 7e-15 absolute; measured worst 7.5e-16 relative",
        meta_factor=1e-6,
    ),
    Agreement(
        "sam_first_order", S.sam_first_order, S.sam_first_order_mp,
        st.tuples(signed_vectors(), st.floats(1e-3, 1e3)),
        rtol=1e-15, atol=0.0,
        why="norm of <= 30 entries (~2 ulps, scaled by numpy to avoid overflow) times ρ: <= 4 ulps",
        meta_factor=1e-6,
    ),
    Agreement(
        "sam_second_order", S.sam_second_order, S.sam_second_order_mp, grad_pairs(),
        rtol=1e-13, atol=1e-12,
        why="gᵀHg can cancel: its error is <= n·eps·‖g‖·‖Hg‖, so the ρ²/2 term is off by "
        "<= ρ²/2·n·eps·‖H‖ <= 50·8·6·2.2e-16 ≈ 5e-13 (ρ <= 10, n <= 8, ‖H‖ ≈ 2√n for these draws); "
        "the value can be ~0 when negative curvature cancels ρ‖g‖, hence the absolute floor "
        "(measured worst 1.8e-14 absolute)",
        meta_factor=1e-6,
    ),
    Agreement(
        "sam_quadratic_exact", S.sam_quadratic_exact, S.sam_quadratic_exact_mp, quadratic_problems(),
        rtol=1e-12, atol=1e-12,
        why="eigh is backward stable (‖δH‖ <= c·n·eps·‖H‖, c = O(1)) and the trust-region value "
        "is Lipschitz in (g, H) with constants (ρ, ρ²/2): error <= ρ²/2·n·eps·‖H‖ + ρ·eps·‖g‖ ≈ 5e-13 "
        "(near-hard case included: the value is continuous there); measured worst 7e-16 relative, "
        "1.8e-15 absolute",
        meta_factor=1e-6,
    ),
]


def test_agreement_check_catches_a_dropped_term():
    """Second-order SAM without its curvature term, and the TRS without the μρ²/2 term, must be caught."""
    so = AGREEMENTS[4]
    dropped = Agreement(so.name, lambda g, hg, r: S.sam_first_order(g, r), so.mp_fn, so.args, so.rtol, so.atol, "")
    with pytest.raises((AssertionError, ExceptionGroup)):
        dropped.run(shrink=False)
    trs = AGREEMENTS[5]
    boundary_only = Agreement(
        trs.name, lambda g, H, r: S.sam_second_order(g, H @ g, r) if np.any(g) else 0.0, trs.mp_fn,
        st.just((np.array([0.0, 1.0]), np.diag([1.0, -1.0]), 1.0)), trs.rtol, trs.atol, "")
    with pytest.raises((AssertionError, ExceptionGroup)):
        boundary_only.run(shrink=False)


# ----------------------------------------------------------------------------
# hand-computed values
# ----------------------------------------------------------------------------


def test_hand_computed_values():
    d = np.array([4.0, 9.0, -16.0, 0.0])
    assert S.sqrt_diag_trace(d) == 9.0
    assert S.sqrt_diag_trace(d, "clip") == 5.0
    assert S.hessian_trace(d) == -3.0
    # uniform spectrum: H_α = log n for every α; two-valued: H_2 = −log Σp²
    assert S.spectral_renyi_entropy([2.0, -2.0, 2.0], 0.5) == pytest.approx(math.log(3), rel=1e-15)
    assert S.spectral_renyi_entropy([3.0, 1.0], 2.0) == pytest.approx(-math.log(0.625), rel=1e-15)
    assert S.spectral_renyi_entropy([3.0, -1.0], 2.0, "clip") == pytest.approx(0.0, abs=1e-300)
    assert S.sam_first_order([3.0, 4.0], 0.1) == pytest.approx(0.5, rel=1e-15)
    # quadratic along g: L(θ+ρĝ) − L = ρ‖g‖ + ρ²/2 ĝᵀHĝ; g = (3,4), H = diag(1,2): ĝᵀHĝ = (9+32)/25
    assert S.sam_second_order([3.0, 4.0], [3.0, 8.0], 0.1) == pytest.approx(0.5 + 0.005 * 41 / 25, rel=1e-15)


@pytest.mark.parametrize(
    "g, H, rho, expected",
    [
        ([1.0], [[2.0]], 1.0, 2.0),  # boundary: ρ|g| + ρ²h/2
        ([1.0], [[-4.0]], 1.0, 1 / 8),  # interior: g²/(2|h|) at ε = 1/4
        ([1.0], [[-4.0]], 0.1, 0.1 - 0.02),  # concave but the unconstrained max lies outside
        ([0.0, 1.0], [[1.0, 0.0], [0.0, -1.0]], 1.0, 0.75),  # hard case: ε = (√3/2, 1/2)
        ([0.0, 0.0], [[1.0, 0.0], [0.0, 3.0]], 2.0, 6.0),  # g = 0: ρ²λ_max/2
        ([0.0, 0.0], [[-1.0, 0.0], [0.0, -3.0]], 2.0, 0.0),  # g = 0, H ≺ 0: ε = 0
    ],
)
def test_trust_region_closed_forms(g, H, rho, expected):
    assert S.sam_quadratic_exact(g, H, rho) == pytest.approx(expected, rel=1e-14, abs=1e-15)
    assert float(S.sam_quadratic_exact_mp(g, H, rho)) == pytest.approx(expected, rel=1e-30, abs=1e-40)


@given(quadratic_problems())
def test_trust_region_dominates_every_feasible_point(problem):
    """The exact value is >= the first-order point's value and >= random feasible points."""
    g, H, rho = problem
    best = S.sam_quadratic_exact(g, H, rho)
    rng = np.random.default_rng(0)
    E = rng.standard_normal((200, g.size))
    E *= rho * rng.uniform(0, 1, (200, 1)) ** (1 / g.size) / np.linalg.norm(E, axis=1, keepdims=True)
    vals = E @ g + 0.5 * np.einsum("ij,jk,ik->i", E, H, E)
    scale = rho * np.linalg.norm(g) + rho * rho * np.abs(H).sum()
    assert best >= vals.max() - 1e-12 * scale
    if np.any(g):
        assert best >= S.sam_second_order(g, H @ g, rho) - 1e-12 * scale


@pytest.mark.parametrize(
    "fn, args, match",
    [
        (S.sam_first_order, ([1.0], 0.0), "rho"),
        (S.sam_first_order, ([1.0], -1.0), "rho"),
        (S.sam_first_order, ([1.0], math.nan), "rho"),
        (S.sam_first_order, ([1.0], math.inf), "rho"),
        (S.sam_first_order, ([1.0], "big"), "rho"),
        (S.sam_first_order, ([math.nan], 1.0), "NaN"),
        (S.sam_second_order, ([0.0, 0.0], [1.0, 1.0], 1.0), "zero"),
        (S.sam_second_order, ([1.0, 0.0], [1.0], 1.0), "entries"),
        (S.sam_quadratic_exact, ([1.0, 0.0], [[1.0, 2.0], [0.0, 1.0]], 1.0), "symmetric"),
        (S.sam_quadratic_exact, ([1.0, 0.0], [[1.0]], 1.0), "shape"),
        (S.sam_quadratic_exact, ([1.0], [[math.inf]], 1.0), r"hessian contains inf \(at index \(0, 0\)\)"),
        (S.sam_quadratic_exact, ([1.0], [[1.0]], 0.0), "rho"),
        (S.spectral_renyi_entropy, ([1.0, 2.0], 0.0), "alpha"),
        (S.spectral_renyi_entropy, ([1.0, 2.0], -1.0), "alpha"),
        (S.spectral_renyi_entropy, ([1.0, 2.0], math.nan), "alpha"),
        (S.spectral_renyi_entropy, ([-1.0, -2.0], 2.0, "clip"), "all zero"),
        (S.spectral_renyi_entropy, ([1.0, -2.0], 2.0, "error"), "negative"),
        (S.sqrt_diag_trace, ([1.0], "sqrt"), "policy"),
        (S.sqrt_diag_trace, ([],), "empty"),
        (S.hessian_trace, ([1.0, math.inf],), "inf"),
    ],
)
def test_bad_input_raises(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


# ----------------------------------------------------------------------------
# projected gradient ascent vs the exact trust-region value
# ----------------------------------------------------------------------------


def _quadratic_oracle(g, H):
    gt, Ht = torch.tensor(g), torch.tensor(H)
    return lambda e: (float(gt @ e + 0.5 * e @ Ht @ e), gt + Ht @ e)


@settings(max_examples=25)
@given(quadratic_problems(max_n=6))
def test_ascent_is_a_lower_bound_close_to_the_exact_value(problem):
    """Every iterate is feasible, so the ascent never exceeds the exact maximum; 100 steps x 3
    restarts get within 1e-2 relative (measured worst over 200 random problems: 2.1e-5; Hypothesis
    found 3.1e-3 on an indefinite 4x4 H where no restart converged in 100 steps)."""
    g, H, rho = problem
    exact = S.sam_quadratic_exact(g, H, rho)
    res = S.maximize_in_ball(_quadratic_oracle(g, H), g.size, rho, steps=100, restarts=3, seed=0)
    scale = rho * np.linalg.norm(g) + rho * rho * np.abs(H).sum()
    assert res.value <= exact + 1e-12 * scale
    assert res.value >= exact - 1e-2 * abs(exact) - 1e-12 * scale
    assert float(torch.linalg.vector_norm(res.epsilon)) <= rho * (1 + 1e-12)
    assert res.gradient_evaluations <= 1 + 3 * 101


def test_ascent_bad_input():
    f = _quadratic_oracle(np.ones(2), np.eye(2))
    for kwargs, match in [({"steps": -1}, "steps"), ({"restarts": 0}, "restarts"), ({"initial_step": 0.0}, "step")]:
        with pytest.raises(ValueError, match=match):
            S.maximize_in_ball(f, 2, 1.0, **kwargs)
    with pytest.raises(ValueError, match="rho"):
        S.maximize_in_ball(f, 2, -1.0)


# ----------------------------------------------------------------------------
# quadratic *model*: the report against closed forms
# ----------------------------------------------------------------------------


class Quadratic(nn.Module):
    """``L(θ) = ½ (θ − c)ᵀ A (θ − c)``: Hessian ``A``, gradient ``A(θ − c)``, SAM sharpness = TRS."""

    def __init__(self, A: np.ndarray, theta: np.ndarray, center: np.ndarray):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(theta))
        self.register_buffer("A", torch.tensor(A))
        self.register_buffer("c", torch.tensor(center))

    def forward(self, x):
        d = self.theta - self.c
        return 0.5 * d @ self.A @ d + 0.0 * x.sum()


def _scalar(out, y):
    return out


BATCH = (torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1))


@pytest.fixture(scope="module")
def quadratic():
    rng = np.random.default_rng(7)
    n = 6
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.array([5.0, 2.0, 1.0, 0.5, -0.3, -1.0])  # indefinite, like a Hessian away from a minimum
    A = (Q * lam) @ Q.T
    A = (A + A.T) / 2
    theta, center = rng.standard_normal(n), rng.standard_normal(n)
    return Quadratic(A, theta, center), A, A @ (theta - center), lam


def test_report_on_quadratic_model_matches_closed_forms(quadratic):
    model, A, g, lam = quadratic
    rho = 0.3
    rep = S.sharpness_report(model, _scalar, BATCH, rho=rho, alphas=(0.5, 2.0), sam_steps=200, sam_restarts=3)
    assert rep["path"] == "exact" and rep["n"] == 6
    d = np.diag(A)
    assert rep["trace"]["value"] == pytest.approx(np.trace(A), rel=1e-12)
    assert rep["sqrt_diag_trace"]["value"] == pytest.approx(np.sum(np.sqrt(np.abs(d))), rel=1e-12)
    for a in (0.5, 2.0):
        p = np.abs(lam) / np.abs(lam).sum()
        assert rep["renyi_entropy"][str(a)]["value"] == pytest.approx(renyi_entropy(p, a), rel=1e-12)
    assert rep["r_med"]["value"] == pytest.approx(r_med(d), rel=1e-12)
    assert rep["r_med_preconditioned"] is None
    assert rep["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    sam = rep["sam"]
    exact = S.sam_quadratic_exact(g, A, rho)
    assert sam["first_order"]["value"] == pytest.approx(rho * np.linalg.norm(g), rel=1e-12)
    assert sam["second_order"]["value"] == pytest.approx(S.sam_second_order(g, A @ g, rho), rel=1e-12)
    # the loss difference L(θ+ε) − L(θ) of a quadratic is exact up to rounding of L (~1e-16 · L)
    assert sam["ascent"]["value"] <= exact + 1e-12
    assert sam["ascent"]["value"] == pytest.approx(exact, rel=1e-6)
    assert sam["second_order"]["value"] <= exact + 1e-12  # ρĝ is feasible
    assert rep["hvp_count"] == 6 + 1
    json.dumps(rep)  # JSON-able


def test_report_with_preconditioner_on_quadratic_model(quadratic):
    model, A, _, _ = quadratic
    D = np.abs(np.diag(A))
    rep = S.sharpness_report(model, _scalar, BATCH, preconditioner=D, sam_steps=2, sam_restarts=1)
    assert rep["r_med_preconditioned"]["value"] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rho": 0.0}, "rho"), ({"rho": -0.1}, "rho"), ({"rho": math.nan}, "rho"),
        ({"alphas": (0.5, 0.0)}, "alpha"), ({"alphas": (-2.0,)}, "alpha"), ({"alphas": (math.inf,)}, "finite"),
        ({"policy": "square"}, "policy"), ({"confidence": 1.5}, "confidence"),
        ({"exact_max_params": -1}, "exact_max_params"), ({"preconditioner": np.ones(5)}, "entries"),
        ({"preconditioner": -np.ones(6)}, "positive"),
    ],
)
def test_report_bad_input(quadratic, kwargs, match):
    model = quadratic[0]
    with pytest.raises(ValueError, match=match):
        S.sharpness_report(model, _scalar, BATCH, **kwargs)


def test_report_rejects_non_scalar_loss():
    model = nn.Linear(3, 2).double()
    X, y = torch.randn(4, 3, dtype=torch.float64), torch.randint(0, 2, (4,))
    with pytest.raises(ValueError, match="scalar"):
        S.sharpness_report(model, nn.CrossEntropyLoss(reduction="none"), (X, y))
    with pytest.raises(ValueError, match="not finite"):
        S.sharpness_report(model, lambda out, t: out.sum() * math.inf, (X, y))


# ----------------------------------------------------------------------------
# a small network: stochastic vs exact, SAM orders
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlp():
    return adam_trained_tanh_mlp()


@pytest.fixture(scope="module")
def mlp_reports(mlp):
    model, loss_fn, batch, opt = mlp
    exact = S.sharpness_report(model, loss_fn, batch, preconditioner=opt, sam_steps=5)
    stochastic = [
        S.sharpness_report(model, loss_fn, batch, preconditioner=opt, exact_max_params=0, seed=s, num_probes=200,
                           deflation_rank=50, slq_probes=6, slq_steps=80, sam_steps=0, sam_restarts=1)
        for s in range(6)
    ]
    return exact, stochastic


def _metrics(rep):
    out = {"trace": rep["trace"], "sqrt_diag_trace": rep["sqrt_diag_trace"], "r_med": rep["r_med"],
           "r_med_preconditioned": rep["r_med_preconditioned"]}
    out.update({f"renyi[{a}]": m for a, m in rep["renyi_entropy"].items()})
    return out


def test_stochastic_intervals_cover_exact_values(mlp_reports):
    """Six seeded stochastic reports (200 probes + Diag++ rank 50; SLQ 6 x 80) against the exact one.

    The intervals cover the probe error only; the Gauss-quadrature error of SLQ is
    deterministic.  For ``H_0.5`` (``|λ|^0.5`` has a cusp at 0, where ~20% of this
    spectrum sits) it was +0.13 nats with 40 steps -- larger than the interval --
    and +0.015 with 80 steps, so the test (and the report's default) uses 80.

    Each metric's 95% interval must cover the exact value in at least 5 of 6 runs
    (P[<= 4 of 6 | p = 0.95] = 0.2%), and the mean error must be inside 3 standard errors:
    a biased estimator or a too-narrow interval fails.
    """
    exact, runs = mlp_reports
    ex = _metrics(exact)
    for name in ex:
        truth = ex[name]["value"]
        hits = sum(_metrics(r)[name]["ci_low"] <= truth <= _metrics(r)[name]["ci_high"] for r in runs)
        errs = np.array([_metrics(r)[name]["value"] - truth for r in runs])
        se = np.mean([_metrics(r)[name]["stderr"] for r in runs]) / math.sqrt(len(runs))
        assert hits >= 5, f"{name}: coverage {hits}/6, exact {truth}, errors {errs}"
        assert abs(errs.mean()) <= 3 * max(se, errs.std() / math.sqrt(len(runs))), f"{name}: bias {errs.mean()}"
        assert all(_metrics(r)[name]["method"] == "stochastic" for r in runs)
        assert ex[name]["method"] == "exact"


def test_report_bookkeeping(mlp_reports, mlp):
    exact, runs = mlp_reports
    n = exact["n"]
    assert n == 610 and exact["path"] == "exact" and runs[0]["path"] == "stochastic"
    assert exact["trace"]["hvp_count"] == n
    r = runs[0]
    assert r["trace"]["hvp_count"] == 200 + 2 * 50
    assert r["renyi_entropy"]["1.0"]["hvp_count"] == 6 * 80
    assert r["hvp_count"] == 300 + 480 + 1
    assert set(r["r_med"]["blocks"]) == set(exact["block_names"])
    json.dumps(exact), json.dumps(r)
    # same seed, same numbers (common random numbers across optimizers)
    model, loss_fn, batch, opt = mlp
    again = S.sharpness_report(model, loss_fn, batch, preconditioner=opt, exact_max_params=0, seed=0, num_probes=200,
                               deflation_rank=50, slq_probes=6, slq_steps=80, sam_steps=0, sam_restarts=1)
    assert again["r_med"]["value"] == r["r_med"]["value"]
    assert again["renyi_entropy"]["2.0"]["value"] == r["renyi_entropy"]["2.0"]["value"]


def test_stochastic_sqrt_diag_matches_the_engine_estimator(mlp):
    """Our shared-probe jackknife reproduces numerics.hessian.sqrt_diagonal_trace on the same probes."""
    model, loss_fn, batch, _ = mlp
    op = HessianOperator(model, loss_fn, batch)
    ours = S.sqrt_diag_trace_from_diagonal_estimate(diagonal_estimate(op, 60, seed=3))
    engine = sqrt_diagonal_trace(op, 60, seed=3)
    assert ours.value == pytest.approx(engine.value, rel=1e-12)
    assert ours.ci_high == pytest.approx(engine.ci_high, rel=1e-12)


def test_shifted_loss_matches_operator(mlp):
    model, loss_fn, batch, _ = mlp
    op = HessianOperator(model, loss_fn, batch)
    f = S.ShiftedLoss(op)
    v, g = f.value_and_grad(torch.zeros(op.shape[0], dtype=torch.float64))
    assert v == pytest.approx(op.loss_value, rel=1e-14)
    torch.testing.assert_close(g, op.gradient(), rtol=1e-12, atol=1e-15)
    # finite differences of the shifted loss along a direction u recover uᵀHu (curvature consistency)
    u = torch.randn(op.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    u /= torch.linalg.vector_norm(u)
    h = 1e-3
    fd = (f.value(h * u) - 2 * v + f.value(-h * u)) / h**2
    assert fd == pytest.approx(float(u @ op.matvec(u)), rel=1e-4)
    with pytest.raises(TypeError):
        S.ShiftedLoss("not an operator")


def test_second_order_sam_error_is_third_order_in_rho(mlp):
    """``L(θ + ρĝ) − L(θ) − second_order(ρ) = O(ρ³)``: halving ρ divides the error by ~8.

    Measures the Taylor remainder of the closed form on a real network; the
    first-order form's remainder is O(ρ²) (ratio ~4) and would fail.
    """
    model, loss_fn, batch, _ = mlp
    op = HessianOperator(model, loss_fn, batch)
    f = S.ShiftedLoss(op)
    g = op.gradient()
    Hg = op.matvec(g)
    ghat = g / torch.linalg.vector_norm(g)
    L0 = f.value(torch.zeros_like(g))

    def remainder(rho, order):
        closed = S.sam_second_order(g, Hg, rho) if order == 2 else S.sam_first_order(g, rho)
        return f.value(rho * ghat) - L0 - closed

    r2 = [remainder(rho, 2) for rho in (0.2, 0.1)]
    r1 = [remainder(rho, 1) for rho in (0.2, 0.1)]
    assert 6.5 < r2[0] / r2[1] < 9.5, r2
    assert 3.0 < r1[0] / r1[1] < 5.0, r1


def test_ascent_improves_on_the_first_order_point(mlp):
    """Restart 0 starts at ρĝ and never decreases; on the MLP it beats both closed forms."""
    model, loss_fn, batch, _ = mlp
    op = HessianOperator(model, loss_fn, batch)
    rho = 0.5
    f = S.ShiftedLoss(op)
    g = op.gradient()
    start = f.value(rho * g / torch.linalg.vector_norm(g)) - f.value(torch.zeros_like(g))
    res = S.sam_ascent(op, rho, steps=10, restarts=2, seed=0)
    assert res.restart_values[0] >= start
    assert res.value >= max(res.restart_values) and res.value >= start
    assert res.value > S.sam_second_order(g, op.matvec(g), rho) > 0
    assert float(torch.linalg.vector_norm(res.epsilon)) <= rho * (1 + 1e-12)
