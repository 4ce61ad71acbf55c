"""Sharpness measures of the adaptive-optimizer literature, exact and stochastic, on the Hessian engine.

* ``tr(diag(H)^{1/2}) = Σ_i sqrt(policy(H_ii))`` -- the sharpness Adam minimises
  near the minimiser manifold (label-noise setting), against SGD's ``tr(H)``
  ("Adam Reduces a Unique Form of Sharpness").  ``H`` is PSD on the
  manifold; elsewhere the diagonal can be negative and an explicit policy is
  applied: ``"abs"`` (default) ``Σ sqrt|H_ii|``, ``"clip"`` ``Σ sqrt(max(H_ii, 0))``.
* ``tr(H) = Σ_i H_ii`` (signed).
* Rényi entropy ``H_α(p)`` of the normalised (policy-mapped) spectrum
  ``p = v / Σ v``, ``v = |λ|`` or ``max(λ, 0)``: ``H_α = log(Σ p_i^α)/(1 − α)``
  (α = 1 Shannon).  Rényi sharpness (Zhang, Sun, Zhang & Liu, "Rényi Sharpness:
  A Novel Sharpness that Strongly Correlates with Generalization") is the
  *negative* Rényi entropy of the Hessian, ``−H_α``: a spread-out spectrum (small
  entropy) is sharp.  This module reports ``H_α`` itself.
* SAM sharpness (Foret et al. 2021) ``S_ρ = max_{‖ε‖₂ ≤ ρ} L(θ + ε) − L(θ)``:

  - first order: ``L(θ+ε) ≈ L + gᵀε`` gives ``ε* = ρ g/‖g‖`` and ``S ≈ ρ ‖g‖``;
  - second order along that direction: ``S ≈ ρ‖g‖ + (ρ²/2) gᵀHg / ‖g‖²``
    (the exact value of ``L(θ + ρ g/‖g‖) − L(θ)`` for a quadratic loss, so a
    lower bound on ``S`` there);
  - quadratic loss ``L = ½ θᵀAθ + ...``: ``S`` is the trust-region subproblem
    ``max_{‖ε‖≤ρ} gᵀε + ½ εᵀAε``, solved exactly by :func:`sam_quadratic_exact`
    (Moré & Sorensen 1983 secular equation, hard case included);
  - any loss: :func:`maximize_in_ball`, projected gradient ascent with
    backtracking and restarts.  Every iterate is feasible, so its best value is
    a *lower bound* on ``S`` (up to the rounding of the loss difference,
    ``~eps·|L|``), never an overestimate.

Paths (:func:`sharpness_report`): exact -- the dense Hessian
(:func:`numerics.hessian.dense_matrix`) and ``eigh`` -- when the parameter count
is at most ``exact_max_params``; otherwise stochastic -- shared Rademacher probes
of :func:`numerics.hessian.diagonal_estimate` for ``tr H``, ``tr(diag H^{1/2})``
and ``R_med`` (:mod:`numerics.rmed`), and stochastic Lanczos quadrature
(:func:`numerics.hessian.slq`) for ``H_α``; every stochastic number carries a
confidence interval and its product count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import mpmath
import numpy as np
import torch

from numerics.entropy import renyi_entropy, renyi_entropy_mp
from numerics.hessian.dense import dense_matrix, eigenvalues_of
from numerics.hessian.estimate import Estimate, check_confidence, mean_interval
from numerics.hessian.lanczos import renyi_entropy_from_slq, slq
from numerics.hessian.operators import HessianOperator
from numerics.hessian.trace import DiagonalEstimate, diagonal_estimate, make_generator
from numerics.rmed import (
    adam_preconditioner_from_optimizer,
    check_preconditioner,
    diagonal_functional_estimate,
    r_med_from_diagonal,
    r_med_from_diagonal_estimate,
)
from numerics.sam import (  # noqa: F401  (re-exported: SAM sharpness lives in numerics.sam)
    BallMaximum,
    ShiftedLoss,
    _grad_vector,
    _mp_dps,
    _project,
    _symmetric_matrix,
    check_rho,
    maximize_in_ball,
    sam_ascent,
    sam_first_order,
    sam_first_order_mp,
    sam_quadratic_exact,
    sam_quadratic_exact_mp,
    sam_second_order,
    sam_second_order_mp,
)
from numerics.spectrum import normalize_spectrum
from numerics.validation import as_float_vector, check_alpha

POLICIES = ("abs", "clip")


def _check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"unknown negative-value policy {policy!r}; choose one of {POLICIES}")
    return policy


# ----------------------------------------------------------------------------
# Diagonal functionals: tr(diag(H)^{1/2}) and tr(H)
# ----------------------------------------------------------------------------


def _sqrt_sum(d: np.ndarray, policy: str) -> float:
    v = np.abs(d) if policy == "abs" else np.maximum(d, 0.0)
    return float(np.sum(np.sqrt(v)))


def sqrt_diag_trace(diagonal, policy: str = "abs") -> float:
    """``tr(diag(H)^{1/2}) = Σ_i sqrt(policy(H_ii))`` (Adam's implicit regulariser).

    Args:
        diagonal: the Hessian diagonal.
        policy: ``"abs"`` (``sqrt|H_ii|``, default) or ``"clip"`` (``sqrt(max(H_ii, 0))``).

    All terms are non-negative, so the float sum is accurate to ``~n·eps`` relative.
    """
    d = as_float_vector(diagonal, "diagonal")
    return _sqrt_sum(d, _check_policy(policy))


def sqrt_diag_trace_mp(diagonal, policy: str = "abs", dps: int = 50):
    """Oracle for :func:`sqrt_diag_trace`."""
    d = as_float_vector(diagonal, "diagonal")
    _check_policy(policy)
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(float(a)) for a in d]
        return mpmath.fsum(mpmath.sqrt(abs(a) if policy == "abs" else max(a, 0)) for a in xs)


def hessian_trace(diagonal) -> float:
    """``tr H = Σ_i H_ii``, correctly rounded (``math.fsum``)."""
    return math.fsum(as_float_vector(diagonal, "diagonal"))


def hessian_trace_mp(diagonal, dps: int = 50):
    """Oracle for :func:`hessian_trace`: the exact sum of the given doubles."""
    d = as_float_vector(diagonal, "diagonal")
    with mpmath.workdps(_mp_dps(d, dps)):
        return mpmath.fsum(mpmath.mpf(float(a)) for a in d)


def trace_from_diagonal_estimate(est: DiagonalEstimate, confidence: float = 0.95) -> Estimate:
    """Hutchinson ``tr A`` from the diagonal probes: per probe ``Σ_i v_i (P A v)_i`` plus the exact deflated part."""
    confidence = check_confidence(confidence)
    per_probe = est.samples.double().sum(dim=1).cpu().numpy()
    exact = float(est.exact_part.double().sum())
    mean, lo, hi, se = mean_interval(per_probe, confidence)
    return Estimate(exact + mean, exact + lo, exact + hi, confidence, se, est.hvp_count, per_probe.size,
                    "hutchinson-diag", est.interrupted, {"exact_part": exact})


def sqrt_diag_trace_from_diagonal_estimate(est: DiagonalEstimate, policy: str = "abs", confidence: float = 0.95,
                                           num_groups: int | None = None) -> Estimate:
    """Jackknife ``Σ sqrt(policy(A_ii))`` from shared probes (as :func:`numerics.hessian.sqrt_diagonal_trace`)."""
    _check_policy(policy)
    return diagonal_functional_estimate(est, lambda d: _sqrt_sum(d, policy), confidence=confidence,
                                        num_groups=num_groups, method="sqrt-diag")


# ----------------------------------------------------------------------------
# Rényi entropy of the spectrum
# ----------------------------------------------------------------------------


def spectral_renyi_entropy(eigenvalues, alpha: float, policy: str = "abs") -> float:
    """``H_α(p)`` of ``p = v/Σv``, ``v = policy(λ)`` (Zhang et al.'s Rényi sharpness is ``−H_α``).

    Args:
        eigenvalues: the spectrum.
        alpha: order ``> 0`` (1: Shannon; ``inf``: min-entropy).
        policy: ``"abs"`` or ``"clip"`` (``"error"`` for a PSD spectrum, see
            :func:`numerics.spectrum.normalize_spectrum`).
    """
    alpha = check_alpha(alpha)
    p, _ = normalize_spectrum(eigenvalues, policy)
    return renyi_entropy(p, alpha)


def spectral_renyi_entropy_mp(eigenvalues, alpha: float, policy: str = "abs", dps: int = 50):
    """Oracle for :func:`spectral_renyi_entropy`: exact normalisation, textbook formula in mpmath."""
    check_alpha(alpha)
    lam = as_float_vector(eigenvalues, "eigenvalues")
    normalize_spectrum(lam, policy)  # same validation as the float path
    v = [abs(float(x)) if policy == "abs" else max(float(x), 0.0) for x in lam]
    return renyi_entropy_mp(v, alpha, dps=dps)


def renyi_entropies_slq(op, alphas: Sequence[float], num_probes: int, num_steps: int, *, policy: str = "abs",
                        seed=None, confidence: float = 0.95) -> dict[float, Estimate]:
    """``{α: H_α}`` from one stochastic Lanczos quadrature run (jackknife intervals, shared products)."""
    alphas = [_check_finite_alpha(a) for a in alphas]
    res = slq(op, num_probes, min(num_steps, op.shape[0]), seed=seed)
    return {a: renyi_entropy_from_slq(res, a, policy, confidence) for a in alphas}


def _check_finite_alpha(alpha) -> float:
    a = check_alpha(alpha)
    if math.isinf(a):
        raise ValueError("alpha must be finite for the stochastic (SLQ) path")
    return a


# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------


def _metric(value, method: str, estimator: str, hvp_count: int, ci=None, stderr=None, confidence=None, **extra) -> dict:
    value = float(value)
    lo, hi = (value, value) if ci is None else (float(ci[0]), float(ci[1]))
    out = {"value": value, "ci_low": lo, "ci_high": hi, "stderr": 0.0 if stderr is None else float(stderr),
           "method": method, "estimator": estimator, "hvp_count": int(hvp_count)}
    if confidence is not None:
        out["confidence"] = float(confidence)
    out.update(extra)
    return out


def _from_estimate(est: Estimate, estimator: str | None = None, **extra) -> dict:
    return _metric(est.value, "stochastic", estimator or est.method, est.hvp_count, (est.ci_low, est.ci_high),
                   est.stderr, est.confidence, num_probes=est.num_probes, **extra)


def _rmed_dict(res, method: str, hvp_count: int) -> dict:
    if method == "exact":
        out = _metric(res.total.value, "exact", "dense-diagonal", hvp_count)
        out["blocks"] = {k: float(v.value) for k, v in res.blocks.items()}
    else:
        out = _from_estimate(res.total, "diagonal-probes+jackknife", plug_in=res.total.details.get("plug_in"))
        out["blocks"] = {k: {"value": float(v.value), "ci_low": float(v.ci_low), "ci_high": float(v.ci_high)}
                         for k, v in res.blocks.items()}
    out["policy"] = res.policy
    return out


def sharpness_report(
    model: torch.nn.Module,
    loss_fn,
    batch,
    *,
    exact_max_params: int = 2_000,
    seed: int = 0,
    rho: float = 0.05,
    alphas: Sequence[float] = (0.5, 1.0, 2.0),
    policy: str = "abs",
    preconditioner=None,
    num_probes: int = 100,
    deflation_rank: int = 0,
    slq_probes: int = 10,
    slq_steps: int = 80,
    sam_steps: int = 20,
    sam_restarts: int = 2,
    confidence: float = 0.95,
    params=None,
    mode: str = "eval",
    dtype: torch.dtype | None = torch.float64,
    device=None,
) -> dict:
    """Every sharpness metric (R_med, tr diag(H)^½, Rényi, SAM) of ``model`` on ``batch``.

    Each comes with its method, product count and interval.

    Args:
        model, loss_fn, batch: as for :class:`~numerics.hessian.HessianOperator`
            (``batch`` is an ``(X, y)`` pair or a list of them; ``loss_fn`` must
            return a scalar).
        exact_max_params: dense Hessian + ``eigh`` up to this many parameters,
            stochastic estimators above.
        seed: seed of every probe and random restart (use the same seed for all
            optimizers of a comparison: common random numbers).
        rho: SAM radius.
        alphas: Rényi orders (finite, ``> 0``).
        policy: ``"abs"`` or ``"clip"`` for negative eigenvalues / diagonal entries.
        preconditioner: ``None``, a flat positive vector ``D`` (length ``n``), or
            an Adam/AdamW optimizer of ``model`` (``D = sqrt(v̂) + ε`` is read from
            its state); adds ``r_med_preconditioned``.
        num_probes, deflation_rank: diagonal probes (stochastic path).
        slq_probes, slq_steps: stochastic Lanczos quadrature (stochastic path).  The
            intervals cover the probe error, not the deterministic quadrature error,
            which matters for ``α < 1`` (``|λ|^α`` has a cusp at 0 where network
            spectra pile up): on the digits MLP ``H_0.5`` was off by +0.13 nats with
            40 steps and +0.015 with 80.
        sam_steps, sam_restarts: projected-gradient ascent budget.
        params, mode, dtype, device: passed to the operator (``dtype=None``: the
            parameters' dtype; float64 is the default because the SAM differences
            ``L(θ+ε) − L(θ)`` lose ``log10(L/S)`` digits).

    Returns:
        A JSON-able dict: ``n``, ``path`` (``"exact"``/``"stochastic"``), ``loss``,
        ``grad_norm``, the settings, and per metric a dict with ``value``,
        ``ci_low``, ``ci_high``, ``stderr``, ``method``, ``estimator``,
        ``hvp_count`` -- ``trace``, ``sqrt_diag_trace``, ``renyi_entropy``
        (``{str(α): metric}``), ``r_med`` (with per-tensor ``blocks``),
        ``r_med_preconditioned`` (``None`` without a preconditioner) and ``sam``
        (``first_order``, ``second_order``, ``ascent`` -- the ascent's interval is
        ``[value, inf)``: a lower bound); ``hvp_count`` and ``seconds`` in total.

    Raises:
        ValueError: ``rho <= 0``, ``alpha <= 0``, unknown policy, non-scalar or
            non-finite loss, bad preconditioner.

    Example (a checkpoint of an Adam run; for SGD pass ``preconditioner=None``)::

        rep = sharpness_report(model, nn.CrossEntropyLoss(), eval_batches, preconditioner=adam,
                               exact_max_params=5_000, seed=seed, mode="train", device="cuda")
        rep["sqrt_diag_trace"]["value"], rep["r_med"]["value"], rep["sam"]["ascent"]["value"]
    """
    t0 = time.perf_counter()
    rho = check_rho(rho)
    alphas = [_check_finite_alpha(a) for a in alphas]
    _check_policy(policy)
    confidence = check_confidence(confidence)
    if isinstance(exact_max_params, bool) or not isinstance(exact_max_params, int) or exact_max_params < 0:
        raise ValueError(f"exact_max_params must be an integer >= 0, got {exact_max_params!r}")
    op = HessianOperator(model, loss_fn, batch, params=params, mode=mode, dtype=dtype, device=device)
    n = op.shape[0]
    if isinstance(preconditioner, torch.optim.Optimizer):
        preconditioner = adam_preconditioner_from_optimizer(preconditioner, model, op.block_names)
    D = check_preconditioner(preconditioner, n)
    gen = make_generator(seed)
    out: dict = {
        "n": n, "loss": float(op.loss_value), "policy": policy, "mode": mode,
        "dtype": str(op.dtype).replace("torch.", ""), "seed": seed, "rho": rho, "confidence": confidence,
        "block_names": list(op.block_names),
    }
    if n <= exact_max_params:
        out["path"] = "exact"
        start = op.hvp_count
        A = dense_matrix(op, max_params=None)
        hv = op.hvp_count - start
        lam = eigenvalues_of(A)
        diag = A.diagonal().double().cpu().numpy()
        del A
        out["trace"] = _metric(hessian_trace(diag), "exact", "dense-diagonal", hv)
        out["sqrt_diag_trace"] = _metric(sqrt_diag_trace(diag, policy), "exact", "dense-diagonal", hv)
        out["renyi_entropy"] = {str(a): _metric(spectral_renyi_entropy(lam, a, policy), "exact", "eigh", hv)
                                for a in alphas}
        out["r_med"] = _rmed_dict(r_med_from_diagonal(diag, op.block_slices(), None, policy, hv), "exact", hv)
        out["r_med_preconditioned"] = (
            _rmed_dict(r_med_from_diagonal(diag, op.block_slices(), D, policy, hv), "exact", hv) if D is not None
            else None
        )
        out["top_eigenvalue"] = float(lam[-1])
    else:
        out["path"] = "stochastic"
        est = diagonal_estimate(op, num_probes, deflation_rank=deflation_rank, seed=gen)
        out["trace"] = _from_estimate(trace_from_diagonal_estimate(est, confidence))
        out["sqrt_diag_trace"] = _from_estimate(
            sqrt_diag_trace_from_diagonal_estimate(est, policy, confidence), "diagonal-probes+jackknife"
        )
        out["r_med"] = _rmed_dict(
            r_med_from_diagonal_estimate(est, op.block_slices(), None, policy, confidence=confidence), "stochastic",
            est.hvp_count,
        )
        out["r_med_preconditioned"] = (
            _rmed_dict(r_med_from_diagonal_estimate(est, op.block_slices(), D, policy, confidence=confidence),
                       "stochastic", est.hvp_count) if D is not None else None
        )
        renyi = renyi_entropies_slq(op, alphas, slq_probes, slq_steps, policy=policy, seed=gen, confidence=confidence)
        out["renyi_entropy"] = {str(a): _from_estimate(e, "slq+jackknife") for a, e in renyi.items()}
    # SAM: gradient, one product for the second-order term, then the ascent
    g = op.gradient()
    gnorm = float(torch.linalg.vector_norm(g))
    out["grad_norm"] = gnorm
    sam: dict = {"rho": rho, "first_order": _metric(rho * gnorm, "closed_form", "rho*|g|", 0)}
    if gnorm > 0:
        Hg = op.matvec(g)
        sam["second_order"] = _metric(sam_second_order(g, Hg, rho), "closed_form", "rho|g|+rho^2/2 gHg/|g|^2", 1)
    else:
        sam["second_order"] = _metric(math.nan, "closed_form", "undefined at g = 0", 0)
    ascent = sam_ascent(op, rho, steps=sam_steps, restarts=sam_restarts, seed=gen)
    sam["ascent"] = _metric(
        ascent.value, "lower_bound", "projected-gradient-ascent", 0, (ascent.value, math.inf),
        gradient_evaluations=ascent.gradient_evaluations, restart_values=[float(v) for v in ascent.restart_values],
        converged=list(ascent.converged),
    )
    best = ascent.value
    sam["first_order_rel_gap"] = (best - sam["first_order"]["value"]) / best if best > 0 else math.nan
    sam["second_order_rel_gap"] = (best - sam["second_order"]["value"]) / best if best > 0 else math.nan
    out["sam"] = sam
    out["hvp_count"] = op.hvp_count
    out["seconds"] = time.perf_counter() - t0
    return out
