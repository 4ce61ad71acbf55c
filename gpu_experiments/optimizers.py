"""Lion and tanh-Lion as ``torch.optim.Optimizer`` s (the tanh-Lion rule of the paper's Section 4).

Both optimizers share one step. With gradient ``g``, momentum ``m`` (zero at the
start), learning rate ``η``, betas ``(β₁, β₂)`` and decoupled weight decay ``λ``::

    c = β₁ m + (1 − β₁) g                 (the update signal)
    θ ← θ − η (u(c) + λ θ)                (u = sign for Lion, a tanh for tanh-Lion)
    m ← β₂ m + (1 − β₂) g

Lion is ``u(c) = sign(c)`` (Chen et al., *Symbolic Discovery of Optimization
Algorithms*, arXiv 2302.06675, Algorithm 2). tanh-Lion replaces the sign by a
tanh of the signal, in one of three modes (see :class:`TanhLion`): a fixed
temperature, the signal-to-noise form suggested by the Bayesian reading of
Section 4 (``E[Y | X] = tanh(μX/σ²)`` for the Gaussian channel of Def. 4.1), and
optax's ``scale_by_lion(mode="smooth")``.

Implementation notes (why the code looks the way it does):

* Weight decay is applied as ``θ ← θ (1 − ηλ)`` followed by ``θ ← θ − η u``,
  which is the same rule as ``θ − η(u + λθ)``: ``θ(1 − ηλ) − ηu = θ − ηu − ηλθ``.
  This is the order of operations of the ``lion-pytorch`` package, so that
  ``Lion`` reproduces it bit for bit (the tests check both statements). It is
  "decoupled" in the AdamW sense (λ multiplies θ, not the gradient, and is scaled
  by η), i.e. lion-pytorch with its default ``decoupled_weight_decay=False``.
* ``c`` and the momentum update use ``lerp`` (``m + w (g − m)``), one kernel
  each, as ``lion_pytorch.foreach.Lion`` does.
* Tensor ops run through ``torch._foreach_*`` over all tensors of a (device,
  dtype) bucket (``foreach=True``, default on CUDA) or tensor by tensor
  (``foreach=False``, default on CPU, where the foreach kernels are plain loops).
  The two paths execute the same arithmetic and give identical results.
* Precision: the optimizer state (momentum, and the running moments of the
  ``"snr"`` mode) is kept in ``promote_types(param.dtype, float32)`` unless
  ``state_dtype`` says otherwise: float32 for bf16/fp16/fp32 parameters, float64
  for float64 ones. A bf16 momentum would be useless with β₂ = 0.99: bf16 has an
  8-bit significand, so the increment ``(1 − β₂)(g − m)`` is rounded away
  whenever ``|g − m|`` is below 0.2–0.4 ``|m|`` (half an ulp of m, relative).
  Low-precision parameters are updated in the state dtype and rounded once per
  step; a bf16 parameter does not move at all when ``η`` is below half its ulp
  (use float32 master weights for that).
* ``load_state_dict`` keeps that state dtype (``torch.optim.Optimizer`` would cast
  floating state to the parameter dtype, i.e. to bf16) and copies the tensors, so
  the loaded optimizer never shares storage with the dict it was loaded from.
* Non-finite gradients raise ``ValueError`` before anything is modified (one
  max-|g| reduction and one host synchronisation per (device, dtype) bucket of
  gradients; ``check_finite=False`` saves them, see
  ``benchmarks/test_optimizer_overhead.py``). With ``check_finite=False`` the
  step runs anyway, and: in Lion, torch's ``sign(NaN)`` is 0 (seen with torch
  2.13 on CPU and 2.11 on CUDA), so the coordinate silently stops moving while
  its momentum stays NaN forever; in tanh-Lion ``tanh(NaN) = NaN``
  is written into the parameter. Inf gradients make the momentum inf, and the
  next ``lerp`` of inf with a finite value is NaN.
* Gradients must stay below ``finfo(state dtype).max / 2`` in magnitude
  (``lerp`` computes ``g − m``); in the ``"snr"`` mode below
  ``sqrt(finfo.max) / 2`` (≈ 9.2e18 in float32) because it stores ``g²``: with
  ``check_finite`` on, a larger gradient raises ``ValueError``.

Companion modules: :mod:`.optimizer_defaults` (default mode, temperature and
learning rates with the study numbers behind them), :mod:`.snr_moments` (the
bias corrections of the ``"snr"`` mode), :mod:`.lion_oracles` (mpmath oracles of
one step, which the tests compare against).
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch.optim import Optimizer

from .optimizer_defaults import DEFAULT_LR, DEFAULT_MODE, DEFAULT_TEMPERATURE, TANH_LION_MODES
from .snr_moments import one_minus_power, snr_momentum_variance_factor, weighted_variance_unbias_factor

__all__ = ["Lion", "TanhLion", "NonFiniteGradientError"]


# ----------------------------------------------------------------------------- helpers


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _check_betas(betas) -> None:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        b = _real(f"betas[{i}]", b)
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"betas[{i}] must lie in [0, 1], got {b!r}")


# ----------------------------------------------------------------------------- base


class NonFiniteGradientError(ValueError):
    """A gradient was NaN, inf or too large; raised by ``step`` before anything changed."""


class _SignMomentumOptimizer(Optimizer):
    """The step shared by Lion and tanh-Lion; subclasses supply the direction u(c)."""

    _state_keys: tuple[str, ...] = ("exp_avg",)

    def __init__(
        self,
        params,
        defaults: dict,
        *,
        foreach: bool | None,
        check_finite: bool,
        state_dtype: torch.dtype | None,
    ):
        if foreach is not None and not isinstance(foreach, bool):
            raise TypeError(f"foreach must be True, False or None, got {foreach!r}")
        if state_dtype is not None and (
            not isinstance(state_dtype, torch.dtype) or not state_dtype.is_floating_point
        ):
            raise TypeError(f"state_dtype must be a floating torch.dtype or None, got {state_dtype!r}")
        self.foreach = foreach
        self.check_finite = bool(check_finite)
        self.state_dtype = state_dtype
        super().__init__(params, defaults)

    # ---- configuration

    def _validate_group(self, group: dict) -> None:
        lr = _real("lr", group["lr"])
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr!r}")
        _check_betas(group["betas"])
        wd = _real("weight_decay", group["weight_decay"])
        if wd < 0:
            raise ValueError(f"weight_decay must be >= 0, got {wd!r}")

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            if not p.is_floating_point():
                raise TypeError(
                    f"{type(self).__name__} optimizes real floating-point tensors, got dtype {p.dtype}"
                )
        try:
            self._validate_group(group)
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    def _state_dtype_of(self, p: torch.Tensor) -> torch.dtype:
        return self.state_dtype or torch.promote_types(p.dtype, torch.float32)

    def _use_foreach(self, device: torch.device) -> bool:
        return self.foreach if self.foreach is not None else device.type != "cpu"

    def _init_state(self, p: torch.Tensor, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p, dtype=self._state_dtype_of(p), memory_format=torch.preserve_format)
        return state

    # ---- checks

    def _max_abs_grad_limit(self, group: dict, state_dtype: torch.dtype) -> float:
        return torch.finfo(state_dtype).max / 2

    def _check_gradients(self, work) -> None:
        """Raise ValueError if any gradient is NaN/inf (or too large), before any update."""
        buckets: dict = defaultdict(list)
        for gi, group, params, grads in work:
            for i, (p, g) in enumerate(zip(params, grads)):
                if g.numel():
                    sd = self._state_dtype_of(p)
                    buckets[(g.device, g.dtype, self._max_abs_grad_limit(group, sd))].append((gi, i, p, g))
        for (device, _, limit), items in buckets.items():
            gs = [g for *_, g in items]
            # one host sync per bucket (NaN propagates through min/max and fails the
            # comparisons); fewest kernels measured on an H100 and on a CPU core
            if device.type == "cpu":
                # the inf-norm has no vectorised CPU kernel: aminmax is 15x faster
                mins, maxs = zip(*(torch.aminmax(g) for g in gs))
                if -limit <= float(torch.stack(mins).min()) and float(torch.stack(maxs).max()) <= limit:
                    continue
            elif float(torch.stack(torch._foreach_norm(gs, float("inf"))).max()) <= limit:
                continue
            for gi, i, p, g in items:
                n = float(g.abs().max())
                if not n <= limit:
                    what = "NaN" if math.isnan(n) or bool(torch.isnan(g).any()) else (
                        "inf" if math.isinf(n) else f"|g| = {n:.3e} above {limit:.3e}"
                    )
                    raise NonFiniteGradientError(
                        f"non-finite or too large gradient ({what}) for parameter {i} of param group "
                        f"{gi} (shape {tuple(p.shape)}); no parameter or state was changed. "
                        "Pass check_finite=False to skip this check (see the module notes for what "
                        "the step then does)."
                    )

    # ---- the step

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None):
        """Perform one optimisation step.

        Args:
            closure: optional callable that re-evaluates the model and returns the
                loss; it is called with gradients enabled.

        Returns:
            The closure's loss, or None.

        Raises:
            ValueError: a gradient is NaN/inf (with ``check_finite``), or a group's
                hyperparameter was set to an invalid value.
            TypeError: a gradient is sparse.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        work = []
        for gi, group in enumerate(self.param_groups):
            self._validate_group(group)
            params, grads = [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise TypeError(f"{type(self).__name__} does not support sparse gradients")
                params.append(p)
                grads.append(p.grad)
            if params:
                work.append((gi, group, params, grads))
        # lazy state creation (zeros) may raise (eps of "snr" vs the state dtype), so it
        # happens, like the gradient check, before anything is modified
        states = [[self._init_state(p, group) for p in params] for _, group, params, _ in work]
        if self.check_finite:
            self._check_gradients(work)

        for (_, group, params, grads), group_states in zip(work, states):
            buckets: dict = defaultdict(list)
            for p, g, state in zip(params, grads, group_states):
                state["step"] += 1
                buckets[(p.device, p.dtype)].append((p, g, state))
            for (device, _), items in buckets.items():
                if self._use_foreach(device):
                    self._update_foreach(group, items)
                else:
                    for item in items:
                        self._update_single(group, *item)
        return loss

    def _update_single(self, group: dict, p: torch.Tensor, g: torch.Tensor, state: dict) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        m = state["exp_avg"]
        g = g.to(m.dtype)
        c = torch.lerp(m, g, 1.0 - beta1)
        u = self._direction_single(group, c, g, state)
        theta = p if p.dtype == m.dtype else p.to(m.dtype)
        if wd != 0:
            theta.mul_(1.0 - lr * wd)
        theta.add_(u, alpha=-lr)
        if theta is not p:
            p.copy_(theta)
        m.lerp_(g, 1.0 - beta2)

    def _update_foreach(self, group: dict, items) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        params = [p for p, _, _ in items]
        states = [s for _, _, s in items]
        ms = [s["exp_avg"] for s in states]
        sd = ms[0].dtype
        grads = [g.to(sd) for _, g, _ in items]
        cs = torch._foreach_lerp(ms, grads, 1.0 - beta1)
        us = self._direction_foreach(group, cs, grads, states)
        thetas = params if params[0].dtype == sd else [p.to(sd) for p in params]
        if wd != 0:
            torch._foreach_mul_(thetas, 1.0 - lr * wd)
        torch._foreach_add_(thetas, us, alpha=-lr)
        if thetas is not params:
            torch._foreach_copy_(params, thetas)
        torch._foreach_lerp_(ms, grads, 1.0 - beta2)

    # ---- direction u(c); may overwrite c

    def _direction_single(self, group, c, g, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def _direction_foreach(self, group, cs, grads, states):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- state dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict, keeping the state dtype and copying every tensor.

        ``torch.optim.Optimizer.load_state_dict`` would cast floating state to the
        parameter dtype (bf16 momentum for bf16 parameters) and may alias the
        tensors of ``state_dict``; both are undone here.
        """
        saved_ids = [i for g in state_dict["param_groups"] for i in g["params"]]
        super().load_state_dict(state_dict)
        params = [p for g in self.param_groups for p in g["params"]]
        for saved_id, p in zip(saved_ids, params):
            saved = state_dict["state"].get(saved_id)
            if saved is None:
                continue
            for key, value in saved.items():
                if isinstance(value, torch.Tensor):
                    dtype = self._state_dtype_of(p) if value.is_floating_point() else value.dtype
                    self.state[p][key] = value.to(device=p.device, dtype=dtype, copy=True)


# ----------------------------------------------------------------------------- Lion


class Lion(_SignMomentumOptimizer):
    r"""Lion (EvoLved Sign Momentum), Chen et al. 2023, arXiv 2302.06675, Algorithm 2.

    The step of the module notes with ``u(c) = sign(c)`` (``sign(0) = 0``):
    ``θ ← θ − η (sign(c) + λ θ)``. It matches ``lion_pytorch.Lion`` (default
    ``decoupled_weight_decay=False``) update for update, in the same order of
    operations (see the module notes).

    Args:
        params: iterable of tensors or of param-group dicts.
        lr: learning rate η ≥ 0 (default 1e-4, as in the paper).
        betas: (β₁, β₂) in [0, 1] (default (0.9, 0.99)).
        weight_decay: decoupled weight decay λ ≥ 0 (default 0).
        foreach: use ``torch._foreach_*`` kernels (None: on non-CPU devices).
        check_finite: raise ``ValueError`` on a NaN/inf gradient (default True).
        state_dtype: dtype of the momentum (None: ``promote_types(param.dtype,
            float32)``).

    State per parameter: ``step`` (int), ``exp_avg`` (the momentum m).
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        check_finite: bool = True,
        state_dtype: torch.dtype | None = None,
    ):
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, weight_decay=weight_decay)
        super().__init__(params, defaults, foreach=foreach, check_finite=check_finite, state_dtype=state_dtype)

    def _direction_single(self, group, c, g, state):
        return c.sign_()

    def _direction_foreach(self, group, cs, grads, states):
        torch._foreach_sign_(cs)
        return cs


# ----------------------------------------------------------------------------- tanh-Lion


class TanhLion(_SignMomentumOptimizer):
    r"""tanh-Lion: Lion with ``sign(c)`` replaced by a tanh of the signal (the paper's Section 4).

    The step of the module notes with the direction ``u``, per coordinate, given by ``mode``:

    ``"fixed"``::

        u = tanh(c / τ),   τ = temperature (default DEFAULT_TEMPERATURE = 1e-3)

      τ → 0 recovers Lion exactly for c ≠ 0 (``|tanh(c/τ) − sign(c)| ≤ 2 e^{−2|c|/τ}``;
      in float64 the tanh rounds to ±1 once ``|c|/τ > 19.1``, in float32 once
      ``> 9.1``), and at c = 0 both give 0 (``sign(0) = 0 = tanh(0)``). For
      ``|c| ≪ τ``, ``u = c/τ + O(|c/τ|³)`` (``|tanh x − x| ≤ |x|³/3``): the step
      is momentum SGD ``θ ← θ − (η/τ) c − ηλθ`` with learning rate η/τ (for
      β₁ = β₂ = β this is ``torch.optim.SGD(momentum=β, dampening=β)`` with a
      zero-initialised buffer).

    ``"snr"`` (default, :data:`DEFAULT_MODE` says why) — the Bayesian reading of Section 4: for ``X | Y ~ N(Yμ, σ²)``,
    ``E[Y | X] = tanh(μ X / σ²)``. With ``X = c`` and per-coordinate running
    estimates of the gradient's mean and variance::

        a ← β_s a + (1−β_s) g,      b ← β_s b + (1−β_s) g²        (a, b start at 0)
        μ̂ = a / (1 − β_s^t),        ŝ = b / (1 − β_s^t)           (bias correction)
        σ̂² = max(ŝ − μ̂², 0) · (1+β_s)(1−β_s^t) / (2β_s(1−β_s^{t−1}))   (σ̂² = 0 at t = 1)
        u = tanh( c · |μ̂| / (κ σ̂² + ε) )

      The second factor of σ̂² removes the bias ``E[ŝ − μ̂²] = σ²(1 − Σw²)`` of
      the weighted variance (see :func:`weighted_variance_unbias_factor`), so σ̂²
      is unbiased for i.i.d. gradients. μ̂ enters through its magnitude: the
      channel's μ is the signal amplitude and Y = sign of the mean gradient is
      what c observes; with the signed μ̂ the formula would point uphill whenever
      c and μ̂ are both negative. ε (``eps``, default 1e-30) guards a zero
      variance (t = 1, constant gradients, zero gradients): the argument is then
      ``c|μ̂|/ε``, i.e. huge, and the update is ``±1 = sign(c)`` — certainty falls
      back to Lion; ``c = 0`` or ``μ̂ = 0`` give ``u = 0``, never NaN. ε is tiny so
      that it never floors a genuine variance (per-coordinate gradient variances of
      real networks are ≫ 1e-30; it must be representable in the state dtype). In
      float arithmetic ``ŝ − μ̂²`` loses its relative accuracy when σ² ≲ ε_mach μ̂²,
      where the tanh is saturated anyway. ``κ`` is chosen by ``snr_noise``:

      - ``"gradient"`` (default, the formula of the paper's Section 4): κ = 1, σ̂² is the
        variance of the gradient;
      - ``"momentum"``: κ = :func:`snr_momentum_variance_factor` (β₁, β₂), the
        stationary variance of c itself under i.i.d. gradients, which is what the
        channel posterior asks for (at the default betas κ = 0.0141, i.e. the
        literal formula is ~71 times softer than the posterior of c).

      State: ``grad_mean`` (a) and ``grad_sq_mean`` (b), in the state dtype.

    ``"optax-smooth"`` — optax's ``scale_by_lion(mode="smooth", smooth_beta=β)``
    (``optax/_src/transform.py`` since commit 626e4de, Dec 2025; optax ≥ 0.2.7)::

        u = tanh(β · c),   β = smooth_beta (default 1.0, optax's default)

      with optax's ``lion`` chain ``scale_by_lion → add_decayed_weights(λ) →
      scale_by_learning_rate(η)``, i.e. ``θ ← θ − η (tanh(βc) + λθ)``, the same
      momentum (``mu = (1−b2) g + b2 mu``) and c. It is ``"fixed"`` with
      τ = 1/β (computed as a product, as optax does); the reference point differs
      by its default: β = 1 means τ = 1, far above typical |c|, so the default is
      close to momentum SGD with learning rate η. (optax's third mode,
      ``"refined"``: ``c`` where ``|c| < 1`` else ``sign(c)``, is not a tanh and
      is not reproduced.) Note ``optax.lion`` itself does not expose ``mode``.

    Every mode satisfies ``|u| ≤ 1``, hence ``|Δθ| ≤ η (1 + λ|θ|)`` per coordinate.

    Args:
        params: iterable of tensors or of param-group dicts (every option below
            except ``foreach``, ``check_finite`` and ``state_dtype`` can be set per
            group).
        lr: learning rate η ≥ 0 (default ``DEFAULT_LR[mode]``: 0.1 for ``"snr"``, 3e-3 for
            ``"fixed"``, 0.3 for ``"optax-smooth"``, the rates the study tuned; see
            :data:`gpu_experiments.optimizer_defaults.DEFAULT_LR`).  A param group whose
            ``mode`` differs from the constructor's must give its own ``lr``.
        betas: (β₁, β₂) in [0, 1] (default (0.9, 0.99)).
        weight_decay: decoupled weight decay λ ≥ 0 (default 0).
        mode: ``"fixed"`` | ``"snr"`` | ``"optax-smooth"`` (default ``"snr"``, chosen by
            the study: see :data:`DEFAULT_MODE`).
        temperature: τ > 0 of ``"fixed"``.
        smooth_beta: β > 0 of ``"optax-smooth"``.
        snr_beta: β_s in (0, 1) of ``"snr"`` (default 0.99).
        eps: ε > 0 of ``"snr"`` (default 1e-30).
        snr_noise: ``"gradient"`` | ``"momentum"`` (``"snr"`` only).
        foreach, check_finite, state_dtype: as in :class:`Lion`.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float | None = None,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        mode: Literal["fixed", "snr", "optax-smooth"] = DEFAULT_MODE,
        temperature: float = DEFAULT_TEMPERATURE,
        smooth_beta: float = 1.0,
        snr_beta: float = 0.99,
        eps: float = 1e-30,
        snr_noise: Literal["gradient", "momentum"] = "gradient",
        foreach: bool | None = None,
        check_finite: bool = True,
        state_dtype: torch.dtype | None = None,
    ):
        if mode not in TANH_LION_MODES:
            raise ValueError(f"mode must be one of {TANH_LION_MODES}, got {mode!r}")
        if lr is None:
            lr = DEFAULT_LR[mode]
            params = list(params)
            for g in params:
                if isinstance(g, dict) and g.get("mode", mode) != mode and "lr" not in g:
                    raise ValueError(
                        f"a param group with mode {g['mode']!r} needs its own lr: the default lr "
                        f"{lr} is the one tuned for mode {mode!r} (DEFAULT_LR = {DEFAULT_LR})"
                    )
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            weight_decay=weight_decay,
            mode=mode,
            temperature=temperature,
            smooth_beta=smooth_beta,
            snr_beta=snr_beta,
            eps=eps,
            snr_noise=snr_noise,
        )
        super().__init__(params, defaults, foreach=foreach, check_finite=check_finite, state_dtype=state_dtype)

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        if group["mode"] not in TANH_LION_MODES:
            raise ValueError(f"mode must be one of {TANH_LION_MODES}, got {group['mode']!r}")
        for name in ("temperature", "smooth_beta", "eps"):
            v = _real(name, group[name])
            if v <= 0:
                raise ValueError(f"{name} must be > 0, got {v!r}")
        sb = _real("snr_beta", group["snr_beta"])
        if not 0.0 < sb < 1.0:
            raise ValueError(f"snr_beta must lie in (0, 1), got {sb!r}")
        if group["snr_noise"] not in ("gradient", "momentum"):
            raise ValueError(f"snr_noise must be 'gradient' or 'momentum', got {group['snr_noise']!r}")

    def _init_state(self, p, group):
        state = super()._init_state(p, group)
        if group["mode"] == "snr" and "grad_mean" not in state:
            sd = state["exp_avg"].dtype
            if group["eps"] < torch.finfo(sd).tiny:
                raise ValueError(
                    f"eps = {group['eps']!r} underflows in the state dtype {sd} "
                    f"(smallest normal {torch.finfo(sd).tiny:.3e}); raise eps or use state_dtype=torch.float32"
                )
            state["grad_mean"] = torch.zeros_like(state["exp_avg"])
            state["grad_sq_mean"] = torch.zeros_like(state["exp_avg"])
            # moments start with the current step count t: a late switch to "snr"
            # still bias-corrects from its own first sample
            state["snr_step"] = 0
        return state

    def _max_abs_grad_limit(self, group, state_dtype):
        if group["mode"] == "snr":
            return math.sqrt(torch.finfo(state_dtype).max) / 2
        return super()._max_abs_grad_limit(group, state_dtype)

    # scalars of the snr mode for a state whose moments have seen t samples
    @staticmethod
    def _snr_scalars(group: dict, t: int) -> tuple[float, float]:
        beta_s = group["snr_beta"]
        inv_bias = 1.0 / one_minus_power(beta_s, t)
        kappa = 1.0 if group["snr_noise"] == "gradient" else snr_momentum_variance_factor(*group["betas"])
        return inv_bias, weighted_variance_unbias_factor(beta_s, t) * kappa

    def _direction_single(self, group, c, g, state):
        mode = group["mode"]
        if mode == "fixed":
            return c.div_(group["temperature"]).tanh_()
        if mode == "optax-smooth":
            return c.mul_(group["smooth_beta"]).tanh_()
        state["snr_step"] += 1
        inv_bias, var_scale = self._snr_scalars(group, state["snr_step"])
        w = 1.0 - group["snr_beta"]
        a, b = state["grad_mean"], state["grad_sq_mean"]
        a.lerp_(g, w)
        b.mul_(group["snr_beta"]).addcmul_(g, g, value=w)
        mu = torch.mul(a, inv_bias)
        var = torch.mul(b, inv_bias)
        var.addcmul_(mu, mu, value=-1.0).clamp_min_(0.0).mul_(var_scale).add_(group["eps"])
        # (c |μ̂|) / var, in this order: |μ̂|/var can overflow to inf, and 0 · inf = NaN
        return c.mul_(mu.abs_()).div_(var).tanh_()

    def _direction_foreach(self, group, cs, grads, states):
        mode = group["mode"]
        if mode == "fixed":
            torch._foreach_div_(cs, group["temperature"])
            torch._foreach_tanh_(cs)
            return cs
        if mode == "optax-smooth":
            torch._foreach_mul_(cs, group["smooth_beta"])
            torch._foreach_tanh_(cs)
            return cs
        inv_bias, var_scale = [], []
        for s in states:
            s["snr_step"] += 1
            ib, vs = self._snr_scalars(group, s["snr_step"])
            inv_bias.append(ib)
            var_scale.append(vs)
        w = 1.0 - group["snr_beta"]
        a = [s["grad_mean"] for s in states]
        b = [s["grad_sq_mean"] for s in states]
        torch._foreach_lerp_(a, grads, w)
        torch._foreach_mul_(b, group["snr_beta"])
        torch._foreach_addcmul_(b, grads, grads, value=w)
        mu = torch._foreach_mul(a, inv_bias)
        var = torch._foreach_mul(b, inv_bias)
        torch._foreach_addcmul_(var, mu, mu, value=-1.0)
        torch._foreach_clamp_min_(var, 0.0)
        torch._foreach_mul_(var, var_scale)
        torch._foreach_add_(var, group["eps"])
        torch._foreach_abs_(mu)
        torch._foreach_mul_(cs, mu)
        torch._foreach_div_(cs, var)
        torch._foreach_tanh_(cs)
        return cs
