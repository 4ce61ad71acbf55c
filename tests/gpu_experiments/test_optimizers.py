"""Tests of gpu_experiments.optimizers: Lion and tanh-Lion (the rule of the paper's Section 4).

What is checked, and against what:

* Lion vs ``lion-pytorch`` on random training problems: bit for bit against
  ``lion_pytorch.foreach.Lion`` (same arithmetic), and against the default
  ``lion_pytorch.Lion`` in float64 (parameters equal, momenta within rounding).
* Every mode vs its arbitrary-precision oracle (``*_step_mp``), step by step, with
  the tolerance computed as the image of the float inputs' rounding box plus the
  output rounding (see ``_direction_interval``).
* The exact properties of the rule: τ → 0 is Lion, small signal is
  momentum SGD with learning rate η/τ, ``|Δθ| ≤ η(1 + λ|θ|)``, zero and
  non-finite gradients.
* Engineering: foreach and per-tensor paths agree bit for bit, state dicts round
  trip, param groups, bf16 parameters with float32 state, closures, bad input.
* A small MLP on sklearn digits trains with every optimizer.

Each agreement check has a meta-test that feeds it a deliberately wrong optimizer
and asserts that it fails.
"""

from __future__ import annotations

import copy
import io
import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gpu_experiments.lion_oracles import lion_step_mp, tanh_lion_step_mp
from gpu_experiments.optimizer_defaults import DEFAULT_LR, DEFAULT_MODE, DEFAULT_TEMPERATURE, TANH_LION_MODES
from gpu_experiments.optimizers import Lion, TanhLion
from gpu_experiments.snr_moments import snr_momentum_variance_factor, weighted_variance_unbias_factor

lion_pytorch = pytest.importorskip("lion_pytorch")
from lion_pytorch.foreach import Lion as LionPytorchForeach  # noqa: E402

EPS64 = 2.0**-53  # unit roundoff of float64


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    # every tensor here is tiny: intra-op threads only add spin-waiting, which on a
    # loaded 2-core machine made the digits test 20x slower
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

# every optimizer configuration under test: (name, class, extra kwargs)
CONFIGS = [
    ("lion", Lion, {}),
    ("fixed", TanhLion, {"mode": "fixed", "temperature": 1e-2}),
    ("snr", TanhLion, {"mode": "snr"}),
    ("snr-momentum", TanhLion, {"mode": "snr", "snr_noise": "momentum", "snr_beta": 0.9}),
    ("optax-smooth", TanhLion, {"mode": "optax-smooth", "smooth_beta": 50.0}),
]
CONFIG_IDS = [c[0] for c in CONFIGS]


# ----------------------------------------------------------------------------- strategies

# gradients: 0 or magnitudes in [1e-30, 1e30] (the normal float range of every
# quantity the step forms, g² included)
def _signed(lo: float, hi: float):
    mag = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return st.one_of(mag, mag.map(lambda x: -x))


grad_values = st.one_of(st.just(0.0), _signed(1e-30, 1e30), _signed(1e-3, 1e1))
theta_values = st.one_of(st.just(0.0), _signed(1e-6, 1e6))
betas_st = st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0))


@st.composite
def trajectories(draw, n_max: int = 6, steps_max: int = 5, grads=grad_values):
    n = draw(st.integers(1, n_max))
    steps = draw(st.integers(1, steps_max))
    theta0 = draw(st.lists(theta_values, min_size=n, max_size=n))
    gs = [draw(st.lists(grads, min_size=n, max_size=n)) for _ in range(steps)]
    return np.array(theta0), [np.array(g) for g in gs]


# ----------------------------------------------------------------------------- Lion vs lion-pytorch


def _mlp(seed: int, dtype=torch.float32) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).to(dtype)


def _groups(model, lr, wd, betas):
    """Three groups: first layer, second-layer weight (own lr/betas), biases without decay."""
    l1, l2 = model[0], model[2]
    return [
        {"params": [l1.weight], "lr": lr, "weight_decay": wd, "betas": betas},
        {"params": [l2.weight], "lr": 2.5 * lr, "weight_decay": 3 * wd, "betas": (betas[1], betas[0])},
        {"params": [l1.bias, l2.bias], "lr": lr, "weight_decay": 0.0, "betas": betas},
    ]


def assert_same_trajectory_as(make_ours, make_ref, seed, lr, wd, betas, steps=6, dtype=torch.float32,
                              momentum_rtol=0.0):
    """Train two copies of a random MLP on a random regression problem, one step at a time.

    Parameters must be bitwise equal after every step; momenta within
    ``momentum_rtol`` (0: bitwise).
    """
    ours, ref = _mlp(seed, dtype), _mlp(seed, dtype)
    opt_a, opt_b = make_ours(_groups(ours, lr, wd, betas)), make_ref(_groups(ref, lr, wd, betas))
    gen = torch.Generator().manual_seed(seed + 1)
    for k in range(steps):
        x = torch.randn(16, 7, generator=gen, dtype=dtype)
        y = torch.randn(16, 3, generator=gen, dtype=dtype)
        for model, opt in ((ours, opt_a), (ref, opt_b)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        for (name, pa), pb in zip(ours.named_parameters(), ref.parameters()):
            assert torch.equal(pa, pb), f"step {k}: parameter {name} differs by {(pa - pb).abs().max():.3e}"
            ma, mb = opt_a.state[pa]["exp_avg"], opt_b.state[pb]["exp_avg"]
            if momentum_rtol == 0:
                assert torch.equal(ma, mb), f"step {k}: momentum of {name} differs"
            else:
                # lerp vs mul/add: each step adds <= 3 eps (|m| + |g|) <= 6 eps max|g|;
                # the momentum is a contraction, so k steps stay below 6 eps (k+1) max|g|
                bound = momentum_rtol * (k + 1) * float(pb.grad.abs().max() + mb.abs().max())
                assert float((ma - mb).abs().max()) <= bound, f"step {k}: momentum of {name} off"


lion_problem = dict(
    seed=st.integers(0, 2**20),
    lr=st.sampled_from([1e-4, 3e-3, 0.1]),
    wd=st.sampled_from([0.0, 0.01, 1.0]),
    betas=st.sampled_from([(0.9, 0.99), (0.95, 0.98), (0.0, 0.5), (1.0, 1.0)]),
    foreach=st.booleans(),
)


@given(**lion_problem)
def test_lion_matches_lion_pytorch_foreach_bitwise(seed, lr, wd, betas, foreach):
    assert_same_trajectory_as(
        lambda g: Lion(g, foreach=foreach), lambda g: LionPytorchForeach(g), seed, lr, wd, betas
    )


@given(**lion_problem)
def test_lion_matches_default_lion_pytorch_in_float64(seed, lr, wd, betas, foreach):
    # lion_pytorch.Lion forms c and m with mul/add instead of lerp: the momenta differ
    # by rounding, the signs (hence the parameters) only where |c| < ~1e-16 |g|.
    assert_same_trajectory_as(
        lambda g: Lion(g, foreach=foreach), lambda g: lion_pytorch.Lion(g), seed, lr, wd, betas,
        dtype=torch.float64, momentum_rtol=6 * EPS64,
    )


class _LionWithoutWeightDecay(Lion):
    """A deliberately wrong Lion that drops the λθ term."""

    def _update_single(self, group, p, g, state):
        super()._update_single({**group, "weight_decay": 0.0}, p, g, state)

    def _update_foreach(self, group, items):
        super()._update_foreach({**group, "weight_decay": 0.0}, items)


class _LionWithWrongMomentum(Lion):
    """A deliberately wrong Lion whose momentum uses β₁ instead of β₂."""

    def _update_single(self, group, p, g, state):
        b1, _ = group["betas"]
        super()._update_single({**group, "betas": (b1, b1)}, p, g, state)


def test_lion_pytorch_comparison_can_fail():
    with pytest.raises(AssertionError):
        assert_same_trajectory_as(_LionWithoutWeightDecay, LionPytorchForeach, 0, 1e-2, 0.1, (0.9, 0.99))
    with pytest.raises(AssertionError):
        assert_same_trajectory_as(_LionWithWrongMomentum, LionPytorchForeach, 0, 1e-2, 0.0, (0.9, 0.99))
    with pytest.raises(AssertionError):
        assert_same_trajectory_as(
            _LionWithWrongMomentum, lion_pytorch.Lion, 0, 1e-2, 0.0, (0.9, 0.99),
            dtype=torch.float64, momentum_rtol=6 * EPS64,
        )


def test_weight_decay_forms_are_the_same_rule():
    """lion-pytorch's θ(1 − ηλ) − η sign(c) is the paper's θ − η(sign(c) + λθ), in exact arithmetic."""
    with mpmath.workdps(60):
        rng = np.random.default_rng(1)
        for th, lr, wd, s in zip(rng.normal(size=50), rng.uniform(0, 1, 50), rng.uniform(0, 10, 50),
                                 rng.choice([-1, 0, 1], 50)):
            th, lr, wd = mpmath.mpf(th), mpmath.mpf(lr), mpmath.mpf(wd)
            assert th * (1 - lr * wd) - lr * s == th - lr * (s + wd * th)


# ----------------------------------------------------------------------------- mp oracles


def _direction_interval(mode: str, kw: dict, c: float, dc: float, mu: float = 0.0, dmu: float = 0.0,
                        var: float = 1.0, dvar: float = 0.0) -> tuple[float, float]:
    """Range of u over the box c ± dc, |μ̂| ± dmu, var ± dvar (u is monotone in each)."""
    cs = (c - dc, c + dc)
    if mode == "sign":
        vals = [float(mpmath.sign(x)) for x in cs]
    elif mode == "fixed":
        vals = [float(mpmath.tanh(x / kw["temperature"])) for x in cs]
    elif mode == "optax-smooth":
        vals = [float(mpmath.tanh(kw["smooth_beta"] * x)) for x in cs]
    else:
        mus = (max(abs(mu) - dmu, 0.0), abs(mu) + dmu)
        vs = (max(var - dvar, kw.get("eps", 1e-30) * (1 - 1e-15)), var + dvar)
        vals = [float(mpmath.tanh(mpmath.mpf(x) * m / v)) for x in cs for m in mus for v in vs]
    return min(vals), max(vals)


def _kwargs_for_mp(kw: dict) -> dict:
    keys = ("betas", "weight_decay", "mode", "temperature", "smooth_beta", "snr_beta", "eps", "snr_noise")
    return {k: kw[k] for k in keys if k in kw}


def assert_steps_match_mp(opt_cls, kw: dict, theta0: np.ndarray, grads: list[np.ndarray]) -> None:
    """Run ``opt_cls`` in float64 and compare every step with the mp oracle from the same state.

    Tolerances: lerp/EMA results within 4 eps (|old| + |new term|) (two roundings and
    a subtraction); the direction u anywhere in the image of the rounding box of its
    inputs (``_direction_interval``) widened by 4 eps (tanh/sign evaluation); θ within
    η·(u range) + 4 eps (|θ| + η(1 + λ|θ|)) (three roundings).
    """
    mode = kw.get("mode", "sign") if opt_cls is not Lion else "sign"
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], **kw)
    lr, wd = kw["lr"], kw.get("weight_decay", 0.0)
    b1, b2 = kw.get("betas", (0.9, 0.99))
    for k, g in enumerate(grads):
        st_ = opt.state[p]
        theta = p.detach().clone().numpy()
        m = st_["exp_avg"].clone().numpy() if st_ else np.zeros_like(theta)
        snr_kw = {}
        if mode == "snr":
            has = "grad_mean" in st_
            snr_kw = dict(
                grad_mean=st_["grad_mean"].clone().numpy() if has else np.zeros_like(theta),
                grad_sq_mean=st_["grad_sq_mean"].clone().numpy() if has else np.zeros_like(theta),
                snr_step=st_["snr_step"] if has else 0,
            )
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        ref = tanh_lion_step_mp(theta, g, m, lr=lr, **{**_kwargs_for_mp(kw), "mode": mode}, **snr_kw)
        new_theta = p.detach().numpy()
        new_m = opt.state[p]["exp_avg"].numpy()
        for i in range(len(theta)):
            where = f"step {k}, coordinate {i} (θ={theta[i]!r}, g={g[i]!r}, m={m[i]!r})"
            # the lerp weight 1 − β is itself rounded (absolute error ≤ eps/2, which is not
            # small relative to a tiny β), hence eps (|m| + |g|) rather than eps (β|m| + ...)
            m_tol = 4 * EPS64 * (abs(m[i]) + abs(g[i])) + 1e-300
            assert abs(new_m[i] - ref["exp_avg"][i]) <= m_tol, f"momentum at {where}"
            dc = 4 * EPS64 * (abs(m[i]) + abs(g[i]))
            box = {}
            if mode == "snr":
                bs = kw.get("snr_beta", 0.99)
                a_old, s_old = snr_kw["grad_mean"][i], snr_kw["grad_sq_mean"][i]
                a_tol = 4 * EPS64 * (abs(a_old) + abs(g[i])) + 1e-300
                s_tol = 4 * EPS64 * (s_old + g[i] ** 2) + 1e-300
                assert abs(opt.state[p]["grad_mean"][i].item() - ref["grad_mean"][i]) <= a_tol, f"mean at {where}"
                assert abs(opt.state[p]["grad_sq_mean"][i].item() - ref["grad_sq_mean"][i]) <= s_tol, f"sq at {where}"
                bias = float(1 - mpmath.mpf(bs) ** (snr_kw["snr_step"] + 1))
                mu = float(ref["mu_hat"][i])
                dmu = (a_tol + 8 * EPS64 * abs(float(ref["grad_mean"][i]))) / bias
                s_hat = float(ref["grad_sq_mean"][i]) / bias
                ds = (s_tol + 8 * EPS64 * s_hat * bias) / bias
                var = float(ref["var"][i])
                # var = max(ŝ − μ̂², 0)·k + ε: error of ŝ − μ̂² times k (≤ (1+β)/(2β)·(1/(1−β)) ·κ),
                # plus relative rounding of the scale factor (expm1/log) and of the final ops
                k_scale = (var - kw.get("eps", 1e-30)) / max(s_hat - mu * mu, 1e-300) if s_hat > mu * mu else 0.0
                k_bound = max(k_scale, weighted_variance_unbias_factor(bs, max(snr_kw["snr_step"] + 1, 2)))
                if kw.get("snr_noise") == "momentum":
                    k_bound *= max(1.0, snr_momentum_variance_factor(b1, b2))
                dvar = k_bound * (ds + 2 * abs(mu) * dmu + dmu**2 + 4 * EPS64 * (s_hat + mu * mu)) + 32 * EPS64 * var
                box = dict(mu=mu, dmu=dmu, var=var, dvar=dvar)
            u_lo, u_hi = _direction_interval(mode, kw, float(ref["c"][i]), dc, **box)
            u_lo, u_hi = u_lo - 4 * EPS64, u_hi + 4 * EPS64
            u_mp = float(ref["u"][i])
            th_mp = ref["theta"][i]
            th_tol = 4 * EPS64 * (abs(theta[i]) + lr * (1 + wd * abs(theta[i]))) + 1e-300
            lo = float(th_mp - lr * (u_hi - u_mp)) - th_tol
            hi = float(th_mp + lr * (u_mp - u_lo)) + th_tol
            assert lo <= new_theta[i] <= hi, (
                f"θ at {where}: got {new_theta[i]!r}, mp {float(th_mp)!r}, allowed [{lo!r}, {hi!r}]"
            )


step_hparams = dict(
    lr=st.floats(1e-6, 1e-1),
    wd=st.one_of(st.just(0.0), st.floats(1e-4, 1.0)),
    betas=betas_st,
)


@given(traj=trajectories(), **step_hparams)
def test_lion_matches_mp_oracle(traj, lr, wd, betas):
    theta0, grads = traj
    assert_steps_match_mp(Lion, dict(lr=lr, weight_decay=wd, betas=betas), theta0, grads)


@pytest.mark.parametrize("mode", TANH_LION_MODES)
@given(
    traj=trajectories(),
    temperature=st.floats(1e-8, 1e2),
    smooth_beta=st.floats(1e-2, 1e8),
    snr_beta=st.floats(0.5, 0.999),
    snr_noise=st.sampled_from(["gradient", "momentum"]),
    **step_hparams,
)
def test_tanh_lion_matches_mp_oracle(mode, traj, lr, wd, betas, temperature, smooth_beta, snr_beta, snr_noise):
    theta0, grads = traj
    kw = dict(lr=lr, weight_decay=wd, betas=betas, mode=mode, temperature=temperature,
              smooth_beta=smooth_beta, snr_beta=snr_beta, snr_noise=snr_noise)
    assert_steps_match_mp(TanhLion, kw, theta0, grads)


class _PerturbedTanhLion(TanhLion):
    """A deliberately wrong tanh-Lion: its direction is 1e-6 too large."""

    def _direction_single(self, group, c, g, state):
        return super()._direction_single(group, c, g, state).mul_(1 + 1e-6)


class _SignedMuTanhLion(TanhLion):
    """A deliberately wrong snr mode that uses the signed μ̂ (u = tanh(c μ̂ / σ̂²))."""

    def _direction_single(self, group, c, g, state):
        if group["mode"] != "snr":
            return super()._direction_single(group, c, g, state)
        u = super()._direction_single(group, c, g, state)
        return u.mul_(torch.sign(state["grad_mean"]))


def test_mp_oracle_comparison_can_fail():
    theta0 = np.array([0.3, -2e-3, 1e-4])
    grads = [np.array([0.5, -1e-2, 2e-3]), np.array([-0.2, 3e-2, 1e-3]), np.array([0.1, 5e-3, -4e-3])]
    with pytest.raises(AssertionError):
        assert_steps_match_mp(_LionWithoutWeightDecay, dict(lr=1e-3, weight_decay=0.5), theta0, grads)
    for mode in TANH_LION_MODES:
        kw = dict(lr=1e-3, mode=mode, temperature=1e-2, smooth_beta=30.0, snr_beta=0.9)
        assert_steps_match_mp(TanhLion, kw, theta0, grads)  # the unperturbed one passes
        with pytest.raises(AssertionError):
            assert_steps_match_mp(_PerturbedTanhLion, kw, theta0, grads)
    neg = [-np.abs(g) for g in grads]
    with pytest.raises(AssertionError):
        assert_steps_match_mp(_SignedMuTanhLion, dict(lr=1e-3, mode="snr", snr_beta=0.9), theta0, neg)


def test_mp_oracle_rejects_bad_input():
    with pytest.raises(ValueError, match="mode"):
        tanh_lion_step_mp([0.0], [0.0], [0.0], lr=1e-3, mode="bogus")
    with pytest.raises(ValueError, match="same length"):
        lion_step_mp([0.0, 1.0], [0.0], [0.0], lr=1e-3)


# ----------------------------------------------------------------------------- exact properties


tiny_or_zero_grads = st.one_of(st.just(0.0), _signed(1e-100, 1e100))


@given(traj=trajectories(grads=tiny_or_zero_grads), foreach=st.booleans(), **step_hparams)
def test_zero_temperature_limit_is_lion_exactly(traj, foreach, lr, wd, betas):
    """τ → 0: with τ = 1e-300 and gradients 0 or |g| ≥ 1e-100, every nonzero c has
    |c|/τ ≫ 19.1 (tanh rounds to ±1; |c| ≥ 1e-100 · 2^-53 even after cancellation) or
    overflows to ±inf (tanh(±inf) = ±1), and c = 0 gives tanh(0) = 0 = sign(0): the
    trajectories are identical bit for bit."""
    theta0, grads = traj
    pa = torch.tensor(theta0, requires_grad=True)
    pb = torch.tensor(theta0, requires_grad=True)
    lion = Lion([pa], lr=lr, betas=betas, weight_decay=wd, foreach=foreach)
    tanh = TanhLion([pb], lr=lr, betas=betas, weight_decay=wd, mode="fixed", temperature=1e-300, foreach=foreach)
    for g in grads:
        pa.grad, pb.grad = torch.tensor(g), torch.tensor(g)
        lion.step()
        tanh.step()
        assert torch.equal(pa, pb)
        assert torch.equal(lion.state[pa]["exp_avg"], tanh.state[pb]["exp_avg"])


def test_zero_signal_gives_zero_update_in_every_mode():
    """c = 0 (zero gradient, zero momentum): sign(0) = 0 = tanh(0); θ stays put when λ = 0."""
    for _, cls, kw in CONFIGS:
        p = torch.tensor([1.5, -2.0, 0.0], requires_grad=True)
        opt = cls([p], lr=0.1, **kw)
        for _ in range(3):
            p.grad = torch.zeros(3)
            opt.step()
        assert torch.equal(p, torch.tensor([1.5, -2.0, 0.0]))
        for key, value in opt.state[p].items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, torch.zeros(3)), key


@given(c=_signed(1e-6, 1.0), tau=st.floats(1e-6, 1e-1))
@settings(max_examples=40)
def test_tanh_approaches_sign_exponentially(c, tau):
    """One step from zero momentum: |Δθ_tanh − Δθ_lion| ≤ η · 2 e^{−2|c|/τ} (+ rounding).

    ``1 − tanh x = 2/(e^{2x} + 1) ≤ 2 e^{−2x}`` for x ≥ 0.
    """
    lr, b1 = 1e-2, 0.5
    g = c / (1 - b1)
    pa = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    pb = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    lion = Lion([pa], lr=lr, betas=(b1, 0.9))
    tanh = TanhLion([pb], lr=lr, betas=(b1, 0.9), mode="fixed", temperature=tau)
    pa.grad = torch.tensor([g], dtype=torch.float64)
    pb.grad = pa.grad.clone()
    lion.step()
    tanh.step()
    gap = abs(float(pa.detach() - pb.detach()))
    assert gap <= lr * 2 * math.exp(-2 * abs(c) / tau) * (1 + 1e-12) + 4 * EPS64 * lr


def assert_small_signal_is_momentum_sgd(opt_cls, theta0, grads, lr, wd, betas, tau, x_max):
    """tanh-Lion vs θ ← θ − (η/τ) c − ηλθ with Lion's momentum, in float64.

    The momentum does not depend on θ, so both see the same c; per step
    |tanh(x) − x| ≤ |x|³/3 moves θ by at most η x_max³/3, and the two weight
    decays contract the difference (|1 − ηλ| ≤ 1). Rounding: 8 eps (|θ| + η x_max)
    per step.
    """
    p = torch.tensor(theta0, requires_grad=True)
    opt = opt_cls([p], lr=lr, betas=betas, weight_decay=wd, mode="fixed", temperature=tau)
    theta_sgd = torch.tensor(theta0)
    m = torch.zeros_like(theta_sgd)
    b1, b2 = betas
    allowed = 0.0
    for g in grads:
        g = torch.tensor(g)
        c = b1 * m + (1 - b1) * g
        assert float(c.abs().max()) / tau <= x_max * (1 + 1e-9)
        theta_sgd = theta_sgd - (lr / tau) * c - lr * wd * theta_sgd
        m = b2 * m + (1 - b2) * g
        p.grad = g
        opt.step()
        allowed += lr * x_max**3 / 3 + 8 * EPS64 * (float(theta_sgd.abs().max()) + lr * x_max)
        err = float((p.detach() - theta_sgd).abs().max())
        assert err <= allowed, f"small-signal deviation {err:.3e} > {allowed:.3e}"


@given(
    traj=trajectories(grads=_signed(1e-3, 1.0)),
    x_max=st.sampled_from([1e-1, 1e-2, 1e-4]),
    **step_hparams,
)
def test_small_signal_is_momentum_sgd_with_lr_over_tau(traj, x_max, lr, wd, betas):
    theta0, grads = traj
    # τ so that |c|/τ ≤ x_max: |c| ≤ max|g| because c and m are convex combinations of gradients
    tau = max(float(np.abs(g).max()) for g in grads) / x_max
    assert_small_signal_is_momentum_sgd(TanhLion, theta0, grads, lr, wd, betas, tau, x_max)


class _HalfTemperatureTanhLion(TanhLion):
    """A deliberately wrong tanh-Lion whose small-signal learning rate is η/(2τ)."""

    def _direction_single(self, group, c, g, state):
        return super()._direction_single(group, c, g, state).mul_(0.5)


def test_small_signal_check_can_fail():
    theta0 = np.array([0.1, -0.2])
    grads = [np.array([1e-3, -2e-3])] * 3
    with pytest.raises(AssertionError):
        assert_small_signal_is_momentum_sgd(_HalfTemperatureTanhLion, theta0, grads, 1e-2, 0.0, (0.9, 0.99), 1.0, 2e-3)


def test_small_signal_matches_torch_sgd():
    """β₁ = β₂ = β, λ = 0: c is the EMA momentum, so small-signal tanh-Lion is
    torch.optim.SGD(lr=η/τ, momentum=β, dampening=β) (torch's buffer is
    β·buf + (1 − dampening)·g) with a zero-initialised buffer (torch would start the
    buffer at g; we seed it with zeros)."""
    torch.manual_seed(3)
    beta, lr, tau, x_max = 0.9, 1e-2, 10.0, 0.1
    theta0 = torch.randn(50, dtype=torch.float64)
    pa, pb = theta0.clone().requires_grad_(), theta0.clone().requires_grad_()
    tanh = TanhLion([pa], lr=lr, betas=(beta, beta), mode="fixed", temperature=tau)
    sgd = torch.optim.SGD([pb], lr=lr / tau, momentum=beta, dampening=beta)
    sgd.state[pb]["momentum_buffer"] = torch.zeros_like(pb)
    allowed = 0.0
    for _ in range(20):
        g = torch.rand(50, dtype=torch.float64) * 2 - 1  # |g| ≤ 1 ⇒ |c|/τ ≤ 0.1
        pa.grad, pb.grad = g, g.clone()
        tanh.step()
        sgd.step()
        allowed += lr * x_max**3 / 3 + 16 * EPS64 * float(pb.detach().abs().max())
        assert float((pa.detach() - pb.detach()).abs().max()) <= allowed


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
@given(
    theta=st.lists(st.one_of(st.just(0.0), _signed(1e-6, 1e4)), min_size=1, max_size=8),
    grads=st.lists(st.one_of(st.just(0.0), _signed(1e-12, 1e12)), min_size=1, max_size=8),
    steps=st.integers(1, 4),
    lr=st.floats(1e-6, 1.0),
    wd=st.one_of(st.just(0.0), st.floats(1e-4, 2.0)),
)
@settings(max_examples=15)
def test_update_magnitude_is_bounded(name, cls, kw, dtype, theta, grads, steps, lr, wd):
    """|θ_new − θ| ≤ η (1 + λ|θ|) per coordinate, because |u| ≤ 1 in every mode.

    Slack: 4 eps_state (|θ| + η(1 + λ|θ|)) for the arithmetic in the state dtype, and
    for bf16 parameters the final rounding, half an ulp of the result.
    """
    n = min(len(theta), len(grads))
    p = torch.tensor(theta[:n], dtype=torch.float64).to(dtype).requires_grad_()
    opt = cls([p], lr=lr, weight_decay=wd, **kw)
    eps_state = torch.finfo(torch.promote_types(dtype, torch.float32)).eps
    eps_param = torch.finfo(dtype).eps
    for k in range(steps):
        before = p.detach().double().clone()
        p.grad = (torch.tensor(grads[:n], dtype=torch.float64) * (-1.0) ** k).to(dtype)
        opt.step()
        delta = (p.detach().double() - before).abs()
        bound = lr * (1 + wd * before.abs())
        slack = 4 * eps_state * (before.abs() + bound)
        if dtype == torch.bfloat16:
            slack = slack + eps_param * (before.abs() + bound)
        assert bool((delta <= bound + slack).all()), f"{name}: Δθ {delta.tolist()} > bound {bound.tolist()}"


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("foreach", [False, True])
def test_nonfinite_gradient_raises_and_changes_nothing(name, cls, kw, bad, foreach):
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0, 5.0], requires_grad=True)
    opt = cls([{"params": [a]}, {"params": [b]}], lr=0.1, weight_decay=0.1, foreach=foreach, **kw)
    a.grad, b.grad = torch.ones(2), torch.ones(3)
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    before = a.detach().clone(), b.detach().clone()
    b.grad = torch.tensor([1.0, bad, 0.5])
    with pytest.raises(ValueError, match=r"(NaN|inf).*parameter 0 of param group 1"):
        opt.step()
    assert torch.equal(a, before[0]) and torch.equal(b, before[1])
    after = opt.state_dict()
    for key, st_ in saved["state"].items():
        for name_, v in st_.items():
            if isinstance(v, torch.Tensor):
                assert torch.equal(v, after["state"][key][name_]), name_
            else:
                assert v == after["state"][key][name_], name_


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_nonfinite_gradient_unchecked_behaviour(name, cls, kw):
    """check_finite=False: the documented behaviour (module notes)."""
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = cls([p], lr=0.1, check_finite=False, **kw)
    p.grad = torch.tensor([math.nan, 1.0])
    opt.step()
    theta = p.detach()
    assert math.isnan(opt.state[p]["exp_avg"][0])
    if cls is Lion:
        # sign(NaN) as torch computes it here (0 on CPU in torch 2.13): θ moves by −η sign(NaN)
        s = torch.sign(torch.tensor(math.nan)).item()
        expected = 1.0 - 0.1 * s
        assert (math.isnan(expected) and math.isnan(theta[0])) or theta[0].item() == expected
    else:
        assert math.isnan(theta[0])
    assert math.isfinite(theta[1])


def test_snr_mode_rejects_gradients_whose_square_overflows():
    p = torch.zeros(2, requires_grad=True)
    opt = TanhLion([p], mode="snr")
    p.grad = torch.tensor([1.0, 2e19])  # (2e19)² > float32 max
    with pytest.raises(ValueError, match="above"):
        opt.step()
    lion = Lion([p])
    lion.step()  # Lion is fine with it


# ----------------------------------------------------------------------------- snr statistics


@given(beta=st.floats(0.01, 0.999), t=st.integers(2, 500))
def test_weighted_variance_unbias_factor_matches_direct_sum(beta, t):
    with mpmath.workdps(40):
        b = mpmath.mpf(beta)
        w = [(1 - b) * b ** (t - k) / (1 - b**t) for k in range(1, t + 1)]
        want = 1 / (1 - mpmath.fsum(x * x for x in w))
    got = weighted_variance_unbias_factor(beta, t)
    # closed form with expm1/log: a few eps relative, times the cancellation 1/(1−β^{t−1})
    # which the direct sum does not have; 1e-12 covers β^{t−1} up to 1 − 1e-3
    assert abs(got - float(want)) <= 1e-12 * float(want)


def test_weighted_variance_unbias_factor_edges():
    assert weighted_variance_unbias_factor(0.9, 1) == 0.0
    assert weighted_variance_unbias_factor(0.99, 10**6) == pytest.approx(1.99 / 1.98, rel=1e-15)
    for beta, t in ((0.0, 3), (1.0, 3), (0.5, 0)):
        with pytest.raises(ValueError):
            weighted_variance_unbias_factor(beta, t)


def test_snr_variance_estimate_is_unbiased():
    """Monte Carlo: for i.i.d. N(μ, σ²) gradients, σ̂² formed as documented from the
    optimizer's running moments averages to σ² within 5 standard errors (t = 2, 3, 10).
    Without the (1 − Σw²) correction it would be 1 − Σw² times too small (0.44 at t = 2)."""
    torch.manual_seed(0)
    n, mu, sigma, beta = 200_000, 0.3, 2.0, 0.8
    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    opt = TanhLion([p], lr=1e-3, mode="snr", snr_beta=beta)
    for t in range(1, 11):
        p.grad = mu + sigma * torch.randn(n, dtype=torch.float64)
        opt.step()
        if t in (2, 3, 10):
            st_ = opt.state[p]
            assert st_["snr_step"] == t
            bias = 1 - beta**t
            m_hat, s_hat = st_["grad_mean"] / bias, st_["grad_sq_mean"] / bias
            var = (s_hat - m_hat**2).clamp_min(0) * weighted_variance_unbias_factor(beta, t)
            se = float(var.std()) / math.sqrt(n)
            assert abs(float(var.mean()) - sigma**2) <= 5 * se, (t, float(var.mean()))


def test_snr_momentum_variance_factor_by_simulation():
    """Var(c) = κ σ² for i.i.d. gradients once the momentum is stationary."""
    torch.manual_seed(1)
    b1, b2, n = 0.9, 0.9, 50_000
    m = torch.zeros(n, dtype=torch.float64)
    for _ in range(200):  # the start's weight in Var(m) is β₂^400 ≈ 5e-19: stationary
        m = b2 * m + (1 - b2) * torch.randn(n, dtype=torch.float64)
    c = b1 * m + (1 - b1) * torch.randn(n, dtype=torch.float64)
    kappa = snr_momentum_variance_factor(b1, b2)
    # std error of a sample variance ≈ κ √(2/n)
    assert abs(float(c.var()) - kappa) <= 5 * kappa * math.sqrt(2 / n)


def test_snr_first_step_is_lion():
    """At t = 1 the variance estimate is 0 (σ̂² = 0 by definition), so u = sign(c)."""
    torch.manual_seed(2)
    g = torch.randn(100)
    pa, pb = torch.zeros(100, requires_grad=True), torch.zeros(100, requires_grad=True)
    lion, snr = Lion([pa], lr=1e-2), TanhLion([pb], lr=1e-2, mode="snr")
    pa.grad, pb.grad = g, g.clone()
    lion.step()
    snr.step()
    assert torch.equal(pa, pb)


def test_optax_smooth_is_fixed_with_inverse_temperature():
    """mode='optax-smooth', β = 2^k equals mode='fixed', τ = 2^-k bit for bit (exact scalings)."""
    torch.manual_seed(4)
    for k in (-3, 0, 5, 10):
        pa, pb = torch.randn(30, requires_grad=True), None
        pb = pa.detach().clone().requires_grad_()
        a = TanhLion([pa], lr=1e-2, weight_decay=0.1, mode="optax-smooth", smooth_beta=2.0**k)
        b = TanhLion([pb], lr=1e-2, weight_decay=0.1, mode="fixed", temperature=2.0**-k)
        for _ in range(5):
            g = torch.randn(30) * 1e-2
            pa.grad, pb.grad = g, g.clone()
            a.step()
            b.step()
        assert torch.equal(pa, pb)


def _optax_smooth_reference(theta, grads, lr, b1, b2, wd, smooth_beta):
    """optax's lion chain with scale_by_lion(mode='smooth'), transcribed in numpy float64
    (google-deepmind/optax, optax/_src/transform.py, scale_by_lion._comb and
    update_moment; add_decayed_weights; scale_by_learning_rate)."""
    mu = np.zeros_like(theta)
    for g in grads:
        x = (1.0 - b1) * g + b1 * mu
        upd = np.tanh(smooth_beta * x)
        mu = (1 - b2) * g + b2 * mu
        upd = upd + wd * theta
        theta = theta + (-lr) * upd
    return theta


def test_optax_smooth_matches_transcribed_optax():
    rng = np.random.default_rng(5)
    theta0 = rng.normal(size=40)
    grads = [rng.normal(size=40) * 0.02 for _ in range(8)]
    p = torch.tensor(theta0, requires_grad=True)
    opt = TanhLion([p], lr=3e-3, betas=(0.9, 0.99), weight_decay=0.05, mode="optax-smooth", smooth_beta=30.0)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    want = _optax_smooth_reference(theta0, grads, 3e-3, 0.9, 0.99, 0.05, 30.0)
    # different op order (lerp vs mul/add, θ(1−ηλ) vs θ − η(u + λθ)): rounding only
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=0, atol=1e-14)


def test_optax_smooth_matches_optax_itself():
    """Against optax's own scale_by_lion(mode='smooth') where optax ≥ 0.2.7 is installed."""
    optax = pytest.importorskip("optax")
    import inspect

    if "mode" not in inspect.signature(optax.scale_by_lion).parameters:
        pytest.skip("this optax has no scale_by_lion(mode=...)")
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    rng = np.random.default_rng(6)
    theta0 = rng.normal(size=40)
    grads = [rng.normal(size=40) * 0.02 for _ in range(8)]
    tx = optax.chain(
        optax.scale_by_lion(b1=0.9, b2=0.99, mode="smooth", smooth_beta=30.0),
        optax.add_decayed_weights(0.05),
        optax.scale(-3e-3),
    )
    params = jnp.asarray(theta0)
    state = tx.init(params)
    for g in grads:
        upd, state = tx.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, upd)
    p = torch.tensor(theta0, requires_grad=True)
    opt = TanhLion([p], lr=3e-3, betas=(0.9, 0.99), weight_decay=0.05, mode="optax-smooth", smooth_beta=30.0)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), np.asarray(params), rtol=0, atol=1e-14)


# ----------------------------------------------------------------------------- engineering


def _mixed_params(seed: int):
    torch.manual_seed(seed)
    return [
        torch.randn(4, 3, dtype=torch.float32),
        torch.randn(5, dtype=torch.float64),
        torch.randn(2, 2, dtype=torch.bfloat16),
        torch.randn(0),  # empty tensors are legal parameters
        torch.randn(3, dtype=torch.float32),
    ]


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_foreach_and_per_tensor_paths_agree_bitwise(name, cls, kw):
    params_a = [t.clone().requires_grad_() for t in _mixed_params(0)]
    params_b = [t.clone().requires_grad_() for t in _mixed_params(0)]
    opt_a = cls([{"params": params_a[:2]}, {"params": params_a[2:], "lr": 3e-2}], lr=1e-2, weight_decay=0.1,
                foreach=True, **kw)
    opt_b = cls([{"params": params_b[:2]}, {"params": params_b[2:], "lr": 3e-2}], lr=1e-2, weight_decay=0.1,
                foreach=False, **kw)
    gen = torch.Generator().manual_seed(9)
    for k in range(6):
        for pa, pb in zip(params_a, params_b):
            if k == 2 and pa.numel() == 3:
                pa.grad = pb.grad = None  # a parameter without gradient is skipped
                continue
            g = (torch.randn(pa.shape, generator=gen, dtype=torch.float64) * 0.05).to(pa.dtype)
            pa.grad, pb.grad = g, g.clone()
        opt_a.step()
        opt_b.step()
        for pa, pb in zip(params_a, params_b):
            assert torch.equal(pa, pb), (name, k, pa.dtype)
            for key, v in opt_a.state[pa].items():
                w = opt_b.state[pb][key]
                assert torch.equal(v, w) if isinstance(v, torch.Tensor) else v == w, key


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip(name, cls, kw):
    params = [t.clone().requires_grad_() for t in _mixed_params(1)]
    opt = cls(params, lr=1e-2, weight_decay=0.1, **kw)
    gen = torch.Generator().manual_seed(10)

    def grads():
        return [(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.05).to(p.dtype) for p in params]

    for _ in range(3):
        for p, g in zip(params, grads()):
            p.grad = g
        opt.step()
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    clones = [p.detach().clone().requires_grad_() for p in params]
    opt2 = cls(clones, lr=0.5, **kw)  # hyperparameters come from the state dict
    opt2.load_state_dict(torch.load(buf))
    assert opt2.param_groups[0]["lr"] == 1e-2 and opt2.param_groups[0]["weight_decay"] == 0.1
    for p in clones:
        # the state dtype survives loading: float32 momentum for bf16 parameters
        assert opt2.state[p]["exp_avg"].dtype == torch.promote_types(p.dtype, torch.float32)
    # no aliasing with the dict it was loaded from
    sd = opt.state_dict()
    opt3 = cls([p.detach().clone().requires_grad_() for p in params], **kw)
    opt3.load_state_dict(sd)
    assert all(
        opt3.state[q]["exp_avg"].data_ptr() != opt.state[p]["exp_avg"].data_ptr() or p.numel() == 0
        for p, q in zip(params, opt3.param_groups[0]["params"])
    )
    for _ in range(3):
        gs = grads()
        for p, q, g in zip(params, clones, gs):
            p.grad, q.grad = g, g.clone()
        opt.step()
        opt2.step()
    for p, q in zip(params, clones):
        assert torch.equal(p, q)
        for key, v in opt.state[p].items():
            w = opt2.state[q][key]
            assert torch.equal(v, w) if isinstance(v, torch.Tensor) else v == w, key


def test_param_groups_equal_separate_optimizers():
    """Per-group hyperparameters, modes included: one optimizer with three groups
    equals three optimizers with one group each, bit for bit."""
    torch.manual_seed(5)
    base = [torch.randn(6), torch.randn(3, 2), torch.randn(4)]
    ga = [t.clone().requires_grad_() for t in base]
    gb = [t.clone().requires_grad_() for t in base]
    settings_ = [
        dict(lr=1e-2, mode="fixed", temperature=3e-2, weight_decay=0.0),
        dict(lr=2e-2, mode="snr", snr_beta=0.9, weight_decay=0.3, betas=(0.8, 0.95)),
        dict(lr=5e-3, mode="optax-smooth", smooth_beta=20.0, weight_decay=0.1),
    ]
    together = TanhLion([{"params": [p], **s} for p, s in zip(ga, settings_)])
    apart = [TanhLion([p], **s) for p, s in zip(gb, settings_)]
    for _ in range(5):
        for pa, pb in zip(ga, gb):
            g = torch.randn(pa.shape) * 0.05
            pa.grad, pb.grad = g, g.clone()
        together.step()
        for o in apart:
            o.step()
    for pa, pb in zip(ga, gb):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_bf16_params_are_float32_updates_rounded_once(name, cls, kw):
    torch.manual_seed(6)
    p = torch.randn(64).to(torch.bfloat16).requires_grad_()
    ref = p.detach().float().requires_grad_()
    opt = cls([p], lr=1e-2, weight_decay=0.1, **kw)
    opt_ref = cls([ref], lr=1e-2, weight_decay=0.1, **kw)
    for _ in range(5):
        g = (torch.randn(64) * 0.05).to(torch.bfloat16)
        p.grad, ref.grad = g, g.float()
        opt.step()
        opt_ref.step()
        assert opt.state[p]["exp_avg"].dtype == torch.float32
        assert torch.equal(p, ref.detach().to(torch.bfloat16))
        with torch.no_grad():
            ref.copy_(p.float())  # the reference continues from the rounded parameters
        assert torch.equal(opt.state[p]["exp_avg"], opt_ref.state[ref]["exp_avg"])


def test_state_dtype_override():
    p = torch.randn(5, dtype=torch.bfloat16, requires_grad=True)
    opt = Lion([p], state_dtype=torch.bfloat16)
    p.grad = torch.ones(5, dtype=torch.bfloat16)
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == torch.bfloat16
    q = torch.randn(5, dtype=torch.float16, requires_grad=True)
    opt = TanhLion([q], mode="snr", state_dtype=torch.float16)
    q.grad = torch.ones(5, dtype=torch.float16)
    with pytest.raises(ValueError, match="underflows"):
        opt.step()


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    w = torch.tensor([1.0, -1.0], requires_grad=True)
    for opt in (Lion([w], lr=0.1), TanhLion([w], lr=0.1)):
        def closure():
            opt.zero_grad()
            loss = (w**2).sum()
            loss.backward()
            return loss

        with torch.no_grad():
            loss = opt.step(closure)
        assert float(loss.detach()) > 0 and w.grad is not None
    assert opt.step() is None


def test_sparse_and_nonreal_inputs_are_rejected():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(TypeError, match="sparse"):
        Lion(emb.parameters()).step()
    with pytest.raises(TypeError, match="floating"):
        Lion([torch.zeros(2, dtype=torch.complex64, requires_grad=True)])
    with pytest.raises(TypeError, match="floating"):
        TanhLion([torch.zeros(2, dtype=torch.int64)])


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(lr=-1e-3), ValueError, "lr"),
        (dict(lr=math.nan), ValueError, "lr must be finite"),
        (dict(lr="0.1"), TypeError, "lr"),
        (dict(lr=True), TypeError, "lr"),
        (dict(betas=(1.1, 0.9)), ValueError, r"betas\[0\]"),
        (dict(betas=(0.9, -0.1)), ValueError, r"betas\[1\]"),
        (dict(betas=(0.9,)), ValueError, "pair"),
        (dict(weight_decay=-0.1), ValueError, "weight_decay"),
        (dict(weight_decay=math.inf), ValueError, "weight_decay"),
        (dict(mode="hard"), ValueError, "mode"),
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(temperature=-1.0), ValueError, "temperature"),
        (dict(smooth_beta=0.0), ValueError, "smooth_beta"),
        (dict(snr_beta=1.0), ValueError, "snr_beta"),
        (dict(snr_beta=0.0), ValueError, "snr_beta"),
        (dict(eps=0.0), ValueError, "eps"),
        (dict(snr_noise="signal"), ValueError, "snr_noise"),
        (dict(state_dtype=torch.int32), TypeError, "state_dtype"),
        (dict(foreach="yes"), TypeError, "foreach"),
    ],
)
def test_bad_hyperparameters_are_rejected(kwargs, exc, match):
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(exc, match=match):
        TanhLion([p], **kwargs)
    lion_keys = {"lr", "betas", "weight_decay", "state_dtype", "foreach"}
    if set(kwargs) <= lion_keys:
        with pytest.raises(exc, match=match):
            Lion([p], **kwargs)
    # the same value in a param group
    if "state_dtype" not in kwargs and "foreach" not in kwargs:
        with pytest.raises(exc, match=match):
            TanhLion([{"params": [p], **kwargs}])
    # and set after construction, e.g. by a scheduler
    if "state_dtype" not in kwargs and "foreach" not in kwargs:
        opt = TanhLion([p])
        opt.param_groups[0].update(kwargs)
        p.grad = torch.ones(2)
        with pytest.raises(exc, match=match):
            opt.step()


def test_defaults_are_the_documented_ones():
    p = torch.zeros(1, requires_grad=True)
    lion, tanh = Lion([p]), TanhLion([torch.zeros(1, requires_grad=True)])
    assert lion.defaults == dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0)
    assert tanh.defaults["mode"] == DEFAULT_MODE == "snr" and tanh.defaults["temperature"] == DEFAULT_TEMPERATURE
    assert tanh.defaults["lr"] == DEFAULT_LR["snr"] == 0.1 and tanh.defaults["betas"] == (0.9, 0.99)
    # the default lr follows the mode: each mode's rate tuned in the study
    q = torch.zeros(1, requires_grad=True)
    assert TanhLion([q], mode="fixed").defaults["lr"] == DEFAULT_LR["fixed"] == 3e-3
    assert TanhLion([q], mode="optax-smooth").defaults["lr"] == DEFAULT_LR["optax-smooth"] == 0.3
    assert TanhLion([q], lr=1e-4).defaults["lr"] == 1e-4
    with pytest.raises(ValueError, match="needs its own lr"):
        TanhLion([{"params": [q], "mode": "fixed"}])
    assert TanhLion([{"params": [q], "mode": "fixed", "lr": 1e-3}]).param_groups[0]["lr"] == 1e-3
    assert tanh.defaults["smooth_beta"] == 1.0  # optax's default


# ----------------------------------------------------------------------------- end to end


def test_small_mlp_on_digits_trains_with_every_optimizer():
    """300 mini-batch steps on sklearn digits (CPU): the full-data loss at least halves."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    runs = [
        ("lion", Lion, dict(lr=3e-3, weight_decay=1e-2)),
        ("fixed", TanhLion, dict(lr=3e-3, weight_decay=1e-2, mode="fixed", temperature=1e-3)),
        ("snr", TanhLion, dict(lr=3e-3, weight_decay=1e-2, mode="snr")),
        ("snr-momentum", TanhLion, dict(lr=3e-3, mode="snr", snr_noise="momentum")),
        ("optax-smooth", TanhLion, dict(lr=3e-3, mode="optax-smooth", smooth_beta=1e3)),
    ]
    for name, cls, kw in runs:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
        opt = cls(model.parameters(), **kw)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            initial = float(torch.nn.functional.cross_entropy(model(x), y))
        for _ in range(300):
            idx = torch.randint(0, len(x), (64,), generator=gen)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        with torch.no_grad():
            final = float(torch.nn.functional.cross_entropy(model(x), y))
            acc = float((model(x).argmax(1) == y).float().mean())
        assert final < 0.5 * initial, f"{name}: loss {initial:.3f} -> {final:.3f}"
        assert acc > 0.8, f"{name}: accuracy {acc:.3f}"


# ----------------------------------------------------------------------------- GPU


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_cuda_foreach_matches_cpu(name, cls, kw):
    """On CUDA (fused foreach kernels) vs CPU per-tensor in float64: same result up to
    rounding of tanh (CUDA's tanh is not correctly rounded), bitwise for Lion."""
    params_cpu = [t.double().requires_grad_() for t in _mixed_params(2)]
    params_gpu = [t.detach().cuda().requires_grad_() for t in params_cpu]
    opt_c, opt_g = cls(params_cpu, lr=1e-2, weight_decay=0.1, **kw), cls(params_gpu, lr=1e-2, weight_decay=0.1, **kw)
    assert opt_g._use_foreach(params_gpu[0].device)
    gen = torch.Generator().manual_seed(3)
    for _ in range(5):
        for pc, pg in zip(params_cpu, params_gpu):
            g = torch.randn(pc.shape, generator=gen, dtype=torch.float64) * 0.05
            pc.grad, pg.grad = g, g.cuda()
        opt_c.step()
        opt_g.step()
    for pc, pg in zip(params_cpu, params_gpu):
        if cls is Lion:
            assert torch.equal(pc, pg.cpu())
        else:
            torch.testing.assert_close(pc, pg.cpu(), rtol=0, atol=1e-13)


@pytest.mark.gpu
@cuda
def test_cuda_nonfinite_check_and_bf16():
    p = torch.randn(1000, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    opt = TanhLion([p], lr=1e-2, mode="snr")
    p.grad = torch.randn_like(p)
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == torch.float32
    p.grad[7] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        opt.step()
    a = torch.randn(100, device="cuda", requires_grad=True)
    b = a.detach().clone().requires_grad_()
    oa, ob = Lion([a], lr=1e-2, weight_decay=0.1), LionPytorchForeach([b], lr=1e-2, weight_decay=0.1)
    for _ in range(5):
        g = torch.randn(100, device="cuda")
        a.grad, b.grad = g, g.clone()
        oa.step()
        ob.step()
    assert torch.equal(a, b)
