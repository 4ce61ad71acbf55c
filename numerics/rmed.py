"""R_med^OPT: the max-to-median ratio of the loss Hessian's diagonal
(Jiang, Malik & Li, "How Does Adaptive Optimization Impact Local Neural Network Geometry?").

Source: K. Jiang, D. Malik & Y. Li, "How Does Adaptive Optimization Impact Local
Neural Network Geometry?", NeurIPS 2023 (arXiv:2211.02254).  For the iterates
``w_t`` of an optimizer OPT the paper introduces ``R^OPT_med``, "a statistic that
is analogous to the condition number of the loss Hessian evaluated at the
iterates", and reports that Adam's trajectories have small ``R^Adam_med`` while
SGD's have comparatively large ``R^SGD_med``.  The statistic is

    R_med(H) = max_i v_i / median_i v_i,     v_i = policy(H_ii),

the largest diagonal entry of the Hessian over its median diagonal entry,
computed over the parameters of one layer (the paper reports it per layer) or
over the whole model.  The superscript OPT names the *trajectory* at whose
iterates ``H = ∇²L(w_t)`` is taken; the Hessian itself is not preconditioned.

**Status of the definition (read this).**  The formula above could not be
recovered from the stored public text available to this project: the seed text
and every stored copy of the paper (ar5iv, NeurIPS abstract page, arXiv listings)
give the abstract only, with the formula stripped.  The max/median-of-the-diagonal
form is reconstructed from the name ("med" = median), the abstract ("analogous
to the condition number of the loss Hessian") and our recollection of the
paper's Section 2 (the diagonal because Adam's preconditioner is diagonal; the
median instead of the minimum because many diagonal entries of a network
Hessian are ≈ 0, which makes max/min infinite and uninformative).  Treat it as
the most faithful reading we could make, not as a quotation.

**The reading, checked against the seed's text.**  The seed states three things
about the statistic, and the reconstruction meets each: (i) it is evaluated *at
the iterates* of OPT's trajectory -- here ``H = ∇²L(w_t)``, and the seed-003
checks take the median of ``R_med(w_t)`` over the iterates of the second half of
training as ``R^OPT_med``; (ii) it is *analogous to the condition number of the
loss Hessian* -- ``R_med`` is ≥ 1, invariant under scaling the loss, = 1 for a
multiple of the identity, and for a positive definite H at most κ(H) =
λ_max/λ_min (every ``H_ii`` lies in [λ_min, λ_max]); these properties are tested;
(iii) "small R^Adam_med" vs "comparatively large R^SGD_med" compares two
trajectories with the same, unpreconditioned statistic.  The seed fixes neither
max/median against other spread ratios nor the granularity (layer or model):
the seed-003 statements say which block they use.

**Extension (not in the paper): the preconditioned statistic.**  Preconditioned
gradient descent ``w ← w − η D⁻¹ ∇L`` sees the curvature ``D⁻¹ H``, similar to
``D^{-1/2} H D^{-1/2}``, whose diagonal is ``H_ii / D_i``.  With
``preconditioner=D`` every function here computes ``R_med`` of that matrix:

* SGD: ``D = I`` (``preconditioner=None``) -- the paper's statistic;
* Adam: ``D = sqrt(v̂) + ε``, ``v̂ = v / (1 − β₂^t)`` the bias-corrected second
  moment (Kingma & Ba 2015, Alg. 1), see :func:`adam_preconditioner`.

Negative diagonal entries (a Hessian away from a minimum): ``policy="abs"``
(default) uses ``|H_ii|``, ``policy="clip"`` uses ``max(H_ii, 0)``.  Median of an
even count: the mean of the two middle values (numpy's convention).  A zero
median with a positive maximum gives ``inf`` (the honest value of the ratio); an
all-zero diagonal raises.

Two paths, both on the Hessian engine (:mod:`numerics.hessian`):

* exact: the diagonal of :func:`numerics.hessian.dense_matrix` (``n`` products),
  then :func:`r_med` -- see :func:`r_med_exact`;
* stochastic: :func:`numerics.hessian.diagonal_estimate` (Rademacher probes,
  ``diag H ≈ mean v ⊙ H v``, optionally Diag++-deflated); the value is the
  plug-in ``R_med`` of the estimated diagonal and the interval is the plug-in
  ``± t·se`` with the delete-one-group jackknife standard error
  (:func:`diagonal_functional_estimate` with ``bias_correct=False``) -- see
  :func:`r_med_stochastic`.  The maximum of noisy entries is biased *upward*
  (``E max ≥ max E``), by about the probe noise of the top entries; Diag++
  deflation (``deflation_rank``) shrinks that noise, and with it the bias, most
  (measured on the digits MLP: bias +1.75 → +0.12 for 200 probes, +100 products
  of deflation).  The interval covers the probe error; its coverage against the
  exact value is checked in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import torch

from numerics.hessian.dense import DEFAULT_MAX_PARAMS, dense_matrix
from numerics.hessian.estimate import Estimate, check_confidence, jackknife_interval
from numerics.hessian.operators import CurvatureOperator
from numerics.hessian.trace import DiagonalEstimate, diagonal_estimate
from numerics.validation import as_float_vector

POLICIES = ("abs", "clip")


# ----------------------------------------------------------------------------
# The statistic on a given diagonal
# ----------------------------------------------------------------------------


def _check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"unknown negative-diagonal policy {policy!r}; choose one of {POLICIES}")
    return policy


def check_preconditioner(preconditioner, n: int) -> np.ndarray | None:
    """``None`` (identity) or a length-``n`` vector of finite positive entries, as float64."""
    if preconditioner is None:
        return None
    if isinstance(preconditioner, torch.Tensor):
        preconditioner = preconditioner.detach().double().cpu().numpy()
    d = as_float_vector(preconditioner, "preconditioner")
    if d.size != n:
        raise ValueError(f"preconditioner has {d.size} entries but the diagonal has {n}")
    if np.any(d <= 0):
        i = int(np.flatnonzero(d <= 0)[0])
        raise ValueError(f"preconditioner must be positive, got {d[i]!r} at index {i}")
    return d


def _mapped(diagonal: np.ndarray, preconditioner: np.ndarray | None, policy: str,
            exclude_zeros: bool = False) -> np.ndarray:
    d = diagonal if preconditioner is None else diagonal / preconditioner
    if exclude_zeros:
        d = d[diagonal != 0]
    return np.abs(d) if policy == "abs" else np.maximum(d, 0.0)


def _ratio_or_nan(v: np.ndarray) -> float:
    """Per-block ratio: ``nan`` for a block whose mapped diagonal is all zero (loss independent of it)."""
    return _ratio(v) if np.any(v > 0) else math.nan


def _ratio(v: np.ndarray) -> float:
    if v.size == 0:
        raise ValueError("the (policy-mapped) diagonal is all zero: R_med is undefined")
    top = float(np.max(v))
    if not top > 0:
        raise ValueError("the (policy-mapped) diagonal is all zero: R_med is undefined")
    med = float(np.median(v))
    return math.inf if med == 0 else top / med


def r_med(diagonal, preconditioner=None, policy: str = "abs", exclude_zeros: bool = False) -> float:
    """``R_med = max_i v_i / median_i v_i`` with ``v_i = policy(H_ii / D_i)`` (module docstring).

    Args:
        diagonal: the Hessian diagonal ``H_ii`` (1-D, finite, non-empty).
        preconditioner: ``None`` (identity, SGD: the paper's statistic) or the
            positive diagonal ``D`` of a preconditioner (Adam: ``sqrt(v̂) + ε``).
        policy: ``"abs"`` (``|·|``, default) or ``"clip"`` (``max(·, 0)``).
        exclude_zeros: leave out the coordinates with ``H_ii = 0`` exactly --
            parameters the loss does not depend on (e.g. the outer taps of a 3x3
            convolution at 1x1 resolution, which only ever see padding).  When more
            than half the diagonal is such structural zeros, the plain ratio is ``inf``
            and says nothing about the rest.

    Returns:
        The ratio, ``>= 1``; ``inf`` when the median is 0 and the maximum is not.

    Raises:
        ValueError: empty/non-finite diagonal, non-positive preconditioner,
            mismatched lengths, unknown policy, all-zero mapped diagonal.

    Reference: Jiang, Malik & Li (2023), arXiv:2211.02254 (definition reconstructed,
    see the module docstring).
    """
    d = as_float_vector(diagonal, "diagonal")
    _check_policy(policy)
    D = check_preconditioner(preconditioner, d.size)
    return _ratio(_mapped(d, D, policy, exclude_zeros))


def r_med_mp(diagonal, preconditioner=None, policy: str = "abs", dps: int = 50, exclude_zeros: bool = False):
    """Oracle for :func:`r_med`: the same definition in mpmath at ``dps`` digits."""
    d = as_float_vector(diagonal, "diagonal")
    _check_policy(policy)
    D = check_preconditioner(preconditioner, d.size)
    with mpmath.workdps(dps):
        x = [mpmath.mpf(float(a)) for a in d]
        if D is not None:
            x = [a / mpmath.mpf(float(b)) for a, b in zip(x, D)]
        if exclude_zeros:
            x = [a for a, raw in zip(x, d) if raw != 0]
            if not x:
                raise ValueError("the (policy-mapped) diagonal is all zero: R_med is undefined")
        v = sorted(abs(a) if policy == "abs" else max(a, mpmath.mpf(0)) for a in x)
        top = v[-1]
        if not top > 0:
            raise ValueError("the (policy-mapped) diagonal is all zero: R_med is undefined")
        k = len(v)
        med = v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2
        return mpmath.inf if med == 0 else top / med


# ----------------------------------------------------------------------------
# Adam's preconditioner
# ----------------------------------------------------------------------------


def adam_preconditioner(exp_avg_sq, step: int, beta2: float = 0.999, eps: float = 1e-8) -> torch.Tensor:
    """Adam's diagonal preconditioner ``D = sqrt(v / (1 − β₂^t)) + ε`` (Kingma & Ba 2015, Alg. 1).

    Args:
        exp_avg_sq: the second-moment estimate ``v`` (any shape; returned flat, float64).
        step: the step count ``t >= 1`` (bias correction).
        beta2: ``β₂`` in ``[0, 1)``.
        eps: ``ε > 0`` (keeps ``D`` positive where ``v = 0``).
    """
    v = torch.as_tensor(exp_avg_sq).detach().double().reshape(-1).cpu()
    if v.numel() == 0:
        raise ValueError("exp_avg_sq is empty")
    if not bool(torch.isfinite(v).all()) or bool((v < 0).any()):
        raise ValueError("exp_avg_sq must be finite and non-negative")
    if isinstance(step, bool) or int(step) != step or step < 1:
        raise ValueError(f"step must be an integer >= 1, got {step!r}")
    if not 0 <= beta2 < 1:
        raise ValueError(f"beta2 must lie in [0, 1), got {beta2}")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be positive and finite, got {eps}")
    correction = -math.expm1(int(step) * math.log(beta2)) if beta2 > 0 else 1.0  # 1 − β₂^t without cancellation
    return torch.sqrt(v / correction) + eps


def adam_preconditioner_from_optimizer(
    optimizer: torch.optim.Optimizer, model: torch.nn.Module, names=None
) -> torch.Tensor:
    """Flat ``D = sqrt(v̂) + ε`` of a ``torch.optim.Adam``/``AdamW`` for the named parameters, in order.

    Args:
        optimizer: an Adam-type optimizer whose state holds ``exp_avg_sq`` and
            ``step`` (``max_exp_avg_sq`` when ``amsgrad``).
        model: the model the optimizer trains.
        names: parameter names in the flat order of the curvature operator
            (``op.block_names``); default every parameter with ``requires_grad``.

    Raises:
        ValueError: a parameter that the optimizer does not hold, or without state
            (the optimizer has not stepped).
    """
    named = dict(model.named_parameters())
    names = list(names) if names is not None else [n for n, p in named.items() if p.requires_grad]
    groups = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    parts = []
    for name in names:
        if name not in named:
            raise ValueError(f"unknown parameter {name!r}")
        p = named[name]
        group = groups.get(id(p))
        if group is None:
            raise ValueError(f"parameter {name!r} is not optimised by this optimizer")
        state = optimizer.state.get(p, {})
        key = "max_exp_avg_sq" if group.get("amsgrad", False) else "exp_avg_sq"
        if key not in state or "step" not in state:
            raise ValueError(f"parameter {name!r} has no Adam state ({key}, step): has the optimizer stepped?")
        beta2 = float(group["betas"][1])
        parts.append(adam_preconditioner(state[key], int(state["step"]), beta2, float(group["eps"])))
    if not parts:
        raise ValueError("no parameters selected")
    return torch.cat(parts)


# ----------------------------------------------------------------------------
# Exact and stochastic paths on a curvature operator
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RMedResult:
    """``R_med`` of the whole block and of every parameter tensor in it.

    Attributes:
        total: :class:`~numerics.hessian.Estimate` over all coordinates.
        blocks: ``{parameter name: Estimate}`` per tensor (the paper's per-layer view).
        preconditioned: whether a preconditioner ``D`` was applied.
        policy: the negative-diagonal policy.
    """

    total: Estimate
    blocks: dict = field(default_factory=dict)
    preconditioned: bool = False
    policy: str = "abs"


def _exact_estimate(value: float, hvp_count: int, method: str) -> Estimate:
    return Estimate(value, value, value, 1.0, 0.0, hvp_count, 0, method)


def r_med_from_diagonal(diagonal, block_slices: dict | None = None, preconditioner=None, policy: str = "abs",
                        hvp_count: int = 0, exclude_zeros: bool = False) -> RMedResult:
    """Exact :class:`RMedResult` from a known diagonal (and the operator's ``block_slices()``)."""
    d = as_float_vector(diagonal, "diagonal")
    D = check_preconditioner(preconditioner, d.size)
    _check_policy(policy)
    total = _exact_estimate(r_med(d, D, policy, exclude_zeros), hvp_count, "exact")
    blocks = {}
    for name, sl in (block_slices or {}).items():
        v = _mapped(d[sl], None if D is None else D[sl], policy, exclude_zeros)
        blocks[name] = _exact_estimate(_ratio_or_nan(v), hvp_count, "exact")
    return RMedResult(total, blocks, D is not None, policy)


def r_med_exact(op: CurvatureOperator, preconditioner=None, policy: str = "abs", *,
                max_params: int | None = DEFAULT_MAX_PARAMS, **dense_kwargs) -> RMedResult:
    """``R_med`` from the exact diagonal of the dense curvature matrix (``n`` products).

    A block whose mapped diagonal is all zero (e.g. a tensor the loss does not
    depend on) gets ``nan``; the whole-model value raises in that case.
    """
    start = op.hvp_count
    A = dense_matrix(op, max_params=max_params, **dense_kwargs)
    diag = A.diagonal().double().cpu().numpy()
    return r_med_from_diagonal(diag, op.block_slices(), preconditioner, policy, op.hvp_count - start)


def diagonal_functional_estimate(
    est: DiagonalEstimate,
    statistic: Callable[[np.ndarray], float],
    *,
    confidence: float = 0.95,
    num_groups: int | None = None,
    method: str = "diag-functional",
    columns: slice | None = None,
    bias_correct: bool = True,
) -> Estimate:
    """Jackknife estimate of ``statistic(diag A)`` from a :class:`~numerics.hessian.trace.DiagonalEstimate`.

    The probes are split into ``num_groups`` (default ``min(m, 20)``) groups; the
    delete-one-group jackknife (:func:`numerics.hessian.estimate.jackknife_interval`)
    of ``statistic(exact_part + mean of the group means)`` gives the
    bias-corrected value and the interval -- the scheme of
    :func:`numerics.hessian.sqrt_diagonal_trace`, for any functional of the diagonal.

    Args:
        columns: restrict to these coordinates (a parameter tensor's slice).
        bias_correct: report the jackknife's bias-corrected value (right for
            smooth functionals such as ``Σ sqrt|A_ii|``).  With ``False`` the value
            is the plug-in ``statistic(mean)`` and the interval is the plug-in
            ``± t·se_jackknife`` -- used for ``R_med``, whose max and median are not
            smooth in the probe means: there the bias-corrected value scattered
            2-6x more than the plug-in in our measurements, while the
            delete-one-group standard error is conservative (see the tests).
    """
    confidence = check_confidence(confidence)
    sl = columns if columns is not None else slice(None)
    exact = est.exact_part[sl].double().cpu().numpy()
    samples = est.samples[:, sl]  # (m, n) on the operator's device: reduce there, move only group means
    m = samples.shape[0]
    groups = min(m, num_groups or 20)
    plug_in = float(statistic(exact + samples.double().mean(dim=0).cpu().numpy()))
    if groups < 2:
        return Estimate(plug_in, -math.inf, math.inf, confidence, math.inf, est.hvp_count, m, method,
                        est.interrupted, {"plug_in": plug_in})
    # same partition as numpy.array_split (the first m % groups groups get one more probe)
    parts = torch.tensor_split(samples, groups, dim=0)
    group_means = torch.stack([p.double().mean(dim=0) for p in parts]).cpu().numpy()
    with np.errstate(invalid="ignore"):  # an infinite statistic (R_med with a zero median): NaN interval
        value, lo, hi, se = jackknife_interval(group_means, lambda g: statistic(exact + g), confidence)
    details = {"plug_in": plug_in, "jackknife": value, "groups": groups}
    if not bias_correct:
        half = hi - value
        value, lo, hi = plug_in, plug_in - half, plug_in + half
    return Estimate(value, lo, hi, confidence, se, est.hvp_count, m, method, est.interrupted, details)


def r_med_from_diagonal_estimate(est: DiagonalEstimate, block_slices: dict | None = None, preconditioner=None,
                                 policy: str = "abs", *, confidence: float = 0.95,
                                 num_groups: int | None = None, exclude_zeros: bool = False) -> RMedResult:
    """Stochastic :class:`RMedResult` from shared diagonal probes (jackknife per block and in total).

    With ``exclude_zeros`` a coordinate counts as a structural zero when every probe
    sample of it is exactly 0 (``(H v)_i = 0`` for all probes: row ``i`` of H is zero).
    """
    _check_policy(policy)
    n = est.samples.shape[1]
    D = check_preconditioner(preconditioner, n)
    keep = None
    if exclude_zeros:
        keep = ((est.samples != 0).any(dim=0) | (est.exact_part != 0)).cpu().numpy()

    def stat_for(sl, ratio=_ratio_or_nan):
        Ds = None if D is None else D[sl]
        if keep is None:
            return lambda d: ratio(_mapped(d, Ds, policy))
        k = keep[sl]
        return lambda d: ratio(_mapped(d[k], None if Ds is None else Ds[k], policy))

    total = diagonal_functional_estimate(est, stat_for(slice(None), _ratio), confidence=confidence,
                                         num_groups=num_groups, method="plug-in-rmed", bias_correct=False)
    blocks = {}
    for name, sl in (block_slices or {}).items():
        blocks[name] = diagonal_functional_estimate(est, stat_for(sl), confidence=confidence,
                                                    num_groups=num_groups, method="plug-in-rmed", columns=sl,
                                                    bias_correct=False)
    return RMedResult(total, blocks, D is not None, policy)


def r_med_stochastic(
    op: CurvatureOperator,
    num_probes: int,
    preconditioner=None,
    policy: str = "abs",
    *,
    deflation_rank: int = 0,
    seed=None,
    confidence: float = 0.95,
    num_groups: int | None = None,
    **kwargs,
) -> RMedResult:
    """``R_med`` from :func:`numerics.hessian.diagonal_estimate` (``num_probes + 2·deflation_rank`` products).

    Args:
        deflation_rank: Diag++ sketch size (removes the outlying eigendirections'
            contribution to the probe noise; worth it for Hessians with a few
            large outliers).
        kwargs: passed to :func:`~numerics.hessian.diagonal_estimate` (``batch_size``,
            ``progress``, ``on_interrupt``).
    """
    _check_policy(policy)
    check_preconditioner(preconditioner, op.shape[0])
    est = diagonal_estimate(op, num_probes, deflation_rank=deflation_rank, seed=seed, **kwargs)
    return r_med_from_diagonal_estimate(est, op.block_slices(), preconditioner, policy, confidence=confidence,
                                        num_groups=num_groups)
