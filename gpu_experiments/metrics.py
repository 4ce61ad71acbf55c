"""Metrics at a checkpoint: accuracy, losses, the Hessian metrics of the paper's Section 3, sharpness measures.

The Hessian is that of the mean cross-entropy on the fixed evaluation set
(:func:`gpu_experiments.data.evaluation_indices`), built by
:class:`numerics.hessian.HessianOperator` (``mode="train"`` by default: batch
norm uses the statistics of each evaluation batch, i.e. the curvature of the
loss the optimizer descends; running statistics are not touched).  Negative
eigenvalues go through an explicit policy (default ``"abs"``: ``v = |λ|``),
recorded with every number.

Two paths, chosen by the parameter count ``n`` (``hessian.exact_max_params``):

* **exact** (``n`` at most the cap): the dense matrix from ``n`` products and
  ``eigh`` (:mod:`numerics.hessian.dense`); every metric is then exact, including
  the full spectrum's condition number and total variation from uniform.
* **stochastic** (larger models), from one shared set of ``m`` Rademacher probes
  ``v_i`` and their products ``H v_i`` (``m`` products in all):

  - ``tr H ≈ mean vᵢᵀ H vᵢ`` (Hutchinson 1989; Student-t interval),
  - ``tr H² = ‖H‖_F² ≈ mean ‖H vᵢ‖²`` (same interval),
  - ``diag H ≈ mean vᵢ ⊙ H vᵢ`` (Bekas, Kokiopoulou & Saad 2007), hence every
    block's trace ``tr H_bb = Σ_{j∈b} H_jj`` (interval from the per-probe block
    sums) and ``tr(diag(H)^{1/2}) = Σ_j |H_jj|^{1/2}`` (jackknife, as
    :func:`numerics.hessian.sqrt_diagonal_trace`);

  then a Lanczos run of ``d`` steps (the top eigenvalue, with the residual bound
  ``[θ − r, θ + r]``, and the converged outliers for deflation) and stochastic
  Lanczos quadrature with ``s`` probes of ``k`` steps
  (:func:`numerics.hessian.slq`), from which the entropy gap
  ``log n − H(p)`` with ``p = v/Σv`` (jackknife interval,
  :func:`numerics.hessian.entropy_gap_from_slq`), the Rényi entropies
  ``H_α(p)``, the total variation ``TV(p, u) = tr|g(H) − (T/n) I| / (2T)``, the
  spectral ``CV² = n tr(g(H)²)/T² − 1`` and the smoothed spectral density.
  ``κ`` is not estimable (the smallest ``|λ|`` is unresolved); instead
  ``κ ≥ κ_low = n max v / T`` (because ``min v ≤ T/n``) is recorded, which is
  what the theory cross-check needs: every bound of Thm 3.2 increases with κ.

``hessian.exact_blocks`` names parameter tensors (e.g. the classifier weight)
whose block Hessian ``H_bb`` is also diagonalised exactly: a product with it only
back-propagates from the loss to that tensor, so this is cheap for late blocks,
and it gives the theory cross-check exact spectra even when the whole model is
too large for the dense path.  They are computed in float64 whatever ``hessian.dtype``.
Exact spectra also report their *range* (:func:`range_spectrum_metrics`: the
non-zero part, positive definite with a finite κ) and, up to
``hessian.store_eigenvalues_max`` entries, the eigenvalues themselves; stochastic
ones store the raw SLQ quadrature (nodes, weights, deflated eigenvalues).

Sharpness measures of seeds 003-004, from the same products:

* ``r_med`` -- ``R_med = max_i |H_ii| / median_i |H_ii|`` (:mod:`numerics.rmed`; exact
  diagonal, or the plug-in of the shared probes' diagonal with a jackknife
  interval), with the per-tensor values and their median; ``r_med_nonzero`` the
  same over the coordinates with ``H_ii ≠ 0`` (structural zeros -- parameters the
  loss does not depend on, over half of a width-4 ResNet-18 on 8x8 images -- make
  the plain ratio ∞); ``r_med_adam`` the latter for the Adam-preconditioned
  curvature ``H_ii / (sqrt(v̂_i) + ε)`` when the run's optimizer is Adam/AdamW;
* ``sam`` -- SAM sharpness ``max_{‖ε‖≤ρ} L(θ+ε) − L(θ)`` at ``ρ = hessian.sam_rho``
  (default 0.05; 0 turns it off): the first-order closed form ``ρ‖∇L‖``, the
  second-order one, and ``hessian.sam_steps`` steps of projected-gradient ascent
  (:func:`numerics.sharpness.sam_ascent`, a lower bound of the maximum).

Interrupts: Ctrl-C is never turned into a partial estimate here (``on_interrupt="raise"``,
and an interrupted Lanczos run raises :class:`numerics.hessian.progress.EstimationInterrupted`);
a checkpoint's metrics are complete or absent.

Per-block metrics (the paper's "blocks" are parameter tensors): traces (exact or
from the shared probes) always; the per-block spectra (top eigenvalue, entropy
gap) of :func:`numerics.hessian.blocks.block_report` when
``hessian.blocks.spectra`` is on (one operator per block: affordable on a GPU
or for tiny models).  *Deviation among blocks* = coefficient of variation
(population) of a block metric across blocks: of the block traces ``|tr H_bb|``
always, of the block entropy gaps when the block spectra are on.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

from numerics.divergence import total_variation
from numerics.entropy import entropy_gap, renyi_entropy
from numerics.hessian import (
    HessianOperator,
    dense_matrix,
    entropy_gap_from_slq,
    renyi_entropy_from_slq,
    slq,
    top_eigenpairs,
)
from numerics.hessian.blocks import block_report, coefficient_of_variation
from numerics.hessian.dense import eigenvalues_of
from numerics.hessian.estimate import jackknife_interval, mean_interval
from numerics.hessian.lanczos import Eigenpairs
from numerics.hessian.progress import EstimationInterrupted
from numerics.hessian.trace import DiagonalEstimate, make_generator, random_probes
from numerics.rmed import adam_preconditioner_from_optimizer, r_med_from_diagonal, r_med_from_diagonal_estimate
from numerics.sharpness import sam_ascent, sam_second_order

RENYI_ORDERS = (0.5, 2.0)
DENSITY_POINTS = 256
SAM_RHO = 0.05  # SAM's default radius (Foret et al. 2021)


# ----------------------------------------------------------------------------
# accuracy and losses
# ----------------------------------------------------------------------------


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, device) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy in %)`` of ``model`` in eval mode on ``(x, y)``."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, x.shape[0], batch_size):
            xb = x[start : start + batch_size].to(device)
            yb = y[start : start + batch_size].to(device)
            out = model(xb).float()
            total_loss += float(nn.functional.cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    n = x.shape[0]
    return total_loss / n, 100.0 * correct / n


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------


def _policy(x: np.ndarray, policy: str) -> np.ndarray:
    return np.abs(x) if policy == "abs" else np.maximum(x, 0.0)


def _interval(value, lo, hi, se=None) -> dict:
    out = {"value": float(value), "ci_low": float(lo), "ci_high": float(hi)}
    if se is not None:
        out["stderr"] = float(se)
    return out


def _exact_interval(value) -> dict:
    return {"value": float(value), "ci_low": float(value), "ci_high": float(value), "stderr": 0.0}


def _smoothed_density(nodes: np.ndarray, weights: np.ndarray, lo: float, hi: float, n: int) -> dict:
    """Gaussian-smoothed density of a discrete spectral measure on a grid (integrates to ~1)."""
    span = max(hi - lo, 1e-12 * max(abs(hi), abs(lo), 1.0))
    sigma = span / 100.0
    grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, DENSITY_POINTS)
    k = np.exp(-((grid[:, None] - nodes[None, :]) ** 2) / (2 * sigma**2)) / math.sqrt(2 * math.pi * sigma**2)
    dens = (k @ weights) / n
    return {"grid": grid.tolist(), "density": dens.tolist(), "sigma": sigma}


def _block_summary(names_sizes: list[tuple[str, int]], traces: list[dict]) -> dict:
    """Deviation among blocks from the block traces, and the Thm 3.7 view of them."""
    t = np.array([b["value"] for b in traces])
    sizes = np.array([s for _, s in names_sizes], dtype=np.float64)
    x = np.abs(t)
    out: dict = {
        "num_blocks": len(names_sizes),
        "frac_positive_trace": float(np.mean(t > 0)),
        "deviation_trace": math.nan,
        "deviation_mean_curvature": math.nan,
        "block_trace_entropy_gap": math.nan,
        "block_trace_cv2_half": math.nan,
    }
    if len(x) >= 2 and np.any(x > 0):
        out["deviation_trace"] = coefficient_of_variation(x)
        out["deviation_mean_curvature"] = coefficient_of_variation(x / sizes)
        # Thm 3.7: p_b = X_b / Σ X, gap ≈ CV²/2 for many i.i.d. blocks
        out["block_trace_entropy_gap"] = entropy_gap(x / x.sum())
        out["block_trace_cv2_half"] = out["deviation_trace"] ** 2 / 2
    return out


# ----------------------------------------------------------------------------
# exact path
# ----------------------------------------------------------------------------


def range_spectrum_metrics(lam: np.ndarray, policy: str, eps: float) -> dict:
    """Metrics of the policy-mapped spectrum restricted to its numerical range (zeros dropped).

    Real Hessians are singular (the softmax alone gives the classifier block a null space), so
    κ = ∞ and Thm 3.2's bounds are vacuous on the full spectrum.  On the range -- the ``r``
    values above the round-off level ``n · 8 · eps · max v`` -- the matrix is positive definite
    with a finite κ_r, and ``gap_n = gap_r + log(n/r)`` (the zeros only add ``log(n/r)``).
    """
    v = _policy(lam, policy)
    n = v.size
    level = n * 8 * eps * float(v.max()) if v.size else 0.0
    w = v[v > level]
    r = int(w.size)
    out = {"rank": r, "zero_level": level}
    if r >= 1:
        p = w / w.sum()
        out.update({
            "entropy_gap": entropy_gap(p),
            "kappa": float(w.max() / w.min()),
            "tv_uniform": total_variation(p, np.full(r, 1.0 / r)) if r > 1 else 0.0,
            "spectrum_cv2": float(r * np.sum(w**2) / w.sum() ** 2 - 1),
        })
    return out


def _exact_metrics(op: HessianOperator, policy: str, store_eigenvalues_max: int = 2000) -> dict:
    A = dense_matrix(op, max_params=None)
    lam = eigenvalues_of(A)
    diag = A.diagonal().double().cpu().numpy()
    n = lam.size
    v = _policy(lam, policy)
    T = float(v.sum())
    eps = float(torch.finfo(op.dtype).eps)  # round-off level of the matrix entries
    out: dict = {
        "method": "exact",
        "trace": _exact_interval(lam.sum()),
        "trace_sq": _exact_interval(float(np.sum(lam**2))),
        "top_eigenvalue": _exact_interval(lam.max()),
        "min_eigenvalue": float(lam.min()),
        "negative_mass": float(np.abs(lam[lam < 0]).sum() / max(np.abs(lam).sum(), 1e-300)),
        "sqrt_diag_trace": _exact_interval(np.sum(np.sqrt(np.abs(diag)))),
        "trace_policy": T,
    }
    if T > 0:
        p = v / T
        vmin = float(v.min())
        out["entropy_gap"] = _exact_interval(entropy_gap(p))
        out["renyi"] = {str(a): _exact_interval(renyi_entropy(p, a)) for a in RENYI_ORDERS}
        out["tv_uniform"] = total_variation(p, np.full(n, 1.0 / n))
        # |λ| at the eigh round-off level (n·8·eps·max|λ|, eps of the matrix dtype) is numerically zero:
        # κ is then ∞ (the raw ratio of round-off values is kept for reference)
        zero_level = n * 8 * eps * float(v.max())
        out["kappa_raw"] = math.inf if vmin == 0 else float(v.max()) / vmin
        out["numerically_singular"] = bool(vmin <= zero_level)
        out["kappa"] = math.inf if vmin <= zero_level else float(v.max()) / vmin
        out["kappa_low"] = out["kappa"]
        out["spectrum_cv2"] = float(n * np.sum(v**2) / T**2 - 1)
        out["range"] = range_spectrum_metrics(lam, policy, eps)
    else:
        out["entropy_gap"] = _exact_interval(math.nan)
    out["density"] = _smoothed_density(lam, np.ones(n), float(lam.min()), float(lam.max()), n)
    if n <= store_eigenvalues_max:
        out["eigenvalues"] = lam.tolist()
    out["block_traces"] = []
    for sl in op.block_slices().values():
        out["block_traces"].append(_exact_interval(diag[sl].sum()))
    out["_diagonal"] = diag  # for R_med (removed before the record is written)
    return out


# ----------------------------------------------------------------------------
# stochastic path
# ----------------------------------------------------------------------------


def _probe_products(op: HessianOperator, num_probes: int, generator, batch_size: int = 8):
    """Shared probes: per probe ``vᵀHv``, ``‖Hv‖²`` and ``v ⊙ Hv``."""
    quad, sq, diag_rows = [], [], []
    V = random_probes(op, num_probes, generator)
    for start in range(0, num_probes, batch_size):
        block = V[:, start : start + batch_size]
        HV = op.matmat(block)
        quad.extend((block * HV).sum(dim=0).double().cpu().tolist())
        sq.extend((HV * HV).sum(dim=0).double().cpu().tolist())
        rows = (block * HV).T
        # float64 when small; float32 beyond 5e7 numbers (the (m, n) array is GBs at paper size)
        diag_rows.append(rows.double().cpu() if num_probes * rows.shape[1] <= 5e7 else rows.float().cpu())
    return np.array(quad), np.array(sq), torch.cat(diag_rows).numpy()


def _stochastic_metrics(op: HessianOperator, h: dict, policy: str, seed: int, confidence: float) -> dict:
    n = op.shape[0]
    g = make_generator(seed)
    quad, sq, diag_rows = _probe_products(op, h["probes"], g)
    m = quad.size
    out: dict = {"method": "stochastic"}
    out["trace"] = _interval(*mean_interval(quad, confidence))
    out["trace_sq"] = _interval(*mean_interval(sq, confidence))
    # tr(diag(H)^{1/2}) with a jackknife over probe groups (bias of the square root is O(1/m))
    groups = np.array_split(diag_rows, min(m, 20), axis=0)
    group_means = np.stack([gr.mean(axis=0, dtype=np.float64) for gr in groups])
    sd = jackknife_interval(group_means, lambda d: float(np.sum(np.sqrt(np.abs(d)))), confidence)
    out["sqrt_diag_trace"] = _interval(*sd)
    out["_diagonal_probes"] = diag_rows  # for R_med (removed before the record is written)
    out["block_traces"] = []
    for sl in op.block_slices().values():
        per_probe = diag_rows[:, sl].sum(axis=1, dtype=np.float64)
        out["block_traces"].append(_interval(*mean_interval(per_probe, confidence)))

    # Lanczos: top eigenvalue and the outliers to deflate
    d = h.get("deflation_steps", 0)
    pairs = None
    if d > 0:
        ritz = top_eigenpairs(op, min(d, n), which="LM", num_steps=min(d, n), tol=h.get("deflation_tol", 1e-3), seed=g)
        if ritz.interrupted:  # Lanczos stops at Ctrl-C and returns what it has: a checkpoint wants all or nothing
            raise EstimationInterrupted("Lanczos interrupted during the checkpoint metrics")
        top = int(np.argmax(ritz.values))
        out["top_eigenvalue"] = _interval(
            ritz.values[top], ritz.values[top] - ritz.residual_norms[top], ritz.values[top] + ritz.residual_norms[top]
        )
        keep = np.flatnonzero(ritz.converged)
        if keep.size:
            idx = torch.as_tensor(keep, dtype=torch.long, device=ritz.vectors.device)
            pairs = Eigenpairs(ritz.values[keep], ritz.vectors[:, idx], ritz.residual_norms[keep],
                               ritz.converged[keep], ritz.hvp_count)
        max_abs_ritz = float(np.max(np.abs(ritz.values)))
    res = slq(op, h["slq_probes"], h["slq_steps"], deflate=pairs, seed=g, on_interrupt="raise")
    nodes = np.concatenate(res.nodes)
    if d == 0:
        # without a separate run the largest Ritz value over probes is a lower estimate of λ_max
        out["top_eigenvalue"] = _interval(nodes.max(), nodes.max(), math.inf)
        max_abs_ritz = float(np.max(np.abs(nodes)))
    if res.deflated_values.size:
        max_abs_ritz = max(max_abs_ritz, float(np.max(np.abs(res.deflated_values))))
    gap = entropy_gap_from_slq(res, policy, confidence)
    out["entropy_gap"] = _interval(gap.value, gap.ci_low, gap.ci_high, gap.stderr)
    out["renyi"] = {}
    for a in RENYI_ORDERS:
        r = renyi_entropy_from_slq(res, a, policy, confidence)
        out["renyi"][str(a)] = _interval(r.value, r.ci_low, r.ci_high, r.stderr)
    gfun = (lambda x: np.abs(x)) if policy == "abs" else (lambda x: np.maximum(x, 0.0))
    T = float(np.mean(res.probe_traces(gfun)))
    out["trace_policy"] = T
    out["slq_trace"] = float(np.mean(res.probe_traces(lambda x: x)))
    if T > 0:
        out["tv_uniform"] = float(np.mean(res.probe_traces(lambda x: np.abs(gfun(x) - T / n)))) / (2 * T)
        out["spectrum_cv2"] = float(n * np.mean(res.probe_traces(lambda x: gfun(x) ** 2)) / T**2 - 1)
        out["kappa_low"] = n * max_abs_ritz / T if policy == "abs" else n * float(out["top_eigenvalue"]["value"]) / T
    out["kappa"] = None  # not estimable: the smallest |λ| is not resolved by Lanczos
    # density of the SLQ measure (deflated eigenvalues with weight 1 each)
    all_nodes = np.concatenate([*res.nodes, res.deflated_values])
    all_w = np.concatenate([*(w / res.num_probes for w in res.weights), np.ones(res.deflated_values.size)])
    out["density"] = _smoothed_density(all_nodes, all_w, float(all_nodes.min()), float(all_nodes.max()), n)
    out["slq"] = {"probes": res.num_probes, "steps": res.steps, "deflated": int(res.deflated_values.size),
                  # the raw quadrature, so that other spectral functionals can be evaluated later
                  "nodes": [t.tolist() for t in res.nodes], "weights": [w.tolist() for w in res.weights],
                  "deflated_values": res.deflated_values.tolist()}
    return out


# ----------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------


def _rmed_metrics(out: dict, op: HessianOperator, policy: str, confidence: float, preconditioner) -> None:
    """R_med (seed 003) of the diagonal the metrics already hold, plain and (Adam) preconditioned."""
    slices = op.block_slices()
    diag = out.pop("_diagonal", None)
    rows = out.pop("_diagonal_probes", None)
    for key, D, nonzero in (("r_med", None, False), ("r_med_nonzero", None, True),
                            ("r_med_adam", preconditioner, True)):
        if key == "r_med_adam" and D is None:
            continue
        try:
            if diag is not None:
                res = r_med_from_diagonal(diag, slices, D, policy, exclude_zeros=nonzero)
            else:
                est = DiagonalEstimate(torch.zeros(rows.shape[1], dtype=torch.float64), torch.from_numpy(rows),
                                       rows.shape[0], False)
                res = r_med_from_diagonal_estimate(est, slices, D, policy, confidence=confidence,
                                                   exclude_zeros=nonzero)
        except ValueError as exc:  # an all-zero diagonal: no ratio
            out[key] = {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "error": str(exc)}
            continue
        t = res.total
        out[key] = _interval(t.value, t.ci_low, t.ci_high, t.stderr)
        per_block = np.array([b.value for b in res.blocks.values()], dtype=np.float64)
        finite = per_block[np.isfinite(per_block)]
        out[key]["blocks"] = per_block.tolist()
        # the paper reports R_med per layer; the median over tensors summarises that view
        out[key]["block_median"] = float(np.median(finite)) if finite.size else math.nan


def _sam_metrics(op: HessianOperator, rho: float, steps: int, generator) -> dict:
    """SAM sharpness ``max_{‖ε‖≤ρ} L(θ+ε) − L(θ)`` (seed 004): closed forms and projected-gradient ascent."""
    g = op.gradient()
    gnorm = float(torch.linalg.vector_norm(g.double()))
    out = {"rho": rho, "grad_norm": gnorm, "first_order": rho * gnorm, "second_order": math.nan}
    if gnorm > 0:
        out["second_order"] = sam_second_order(g, op.matvec(g), rho)
    ascent = sam_ascent(op, rho, steps=steps, restarts=1, seed=generator)
    out["ascent"] = float(ascent.value)  # a lower bound of the maximum
    out["ascent_gradient_evaluations"] = int(ascent.gradient_evaluations)
    return out


def hessian_metrics(model: nn.Module, batches, h: dict, *, seed: int, device, optimizer=None,
                    distributed: bool = False) -> dict:
    """All Hessian metrics of ``model`` on the evaluation batches under the preset's ``[hessian]`` table.

    Args:
        model: the network (not modified).
        batches: list of ``(X, y)`` evaluation batches (the same for every run).
        h: the preset's ``hessian`` table (``dtype``, ``mode``, ``policy``, ``exact_max_params``,
            ``probes``, ``slq_probes``, ``slq_steps``, ``deflation_steps``, ``confidence``,
            ``compare_stochastic``, ``exact_blocks``, ``blocks``).
        seed: seed of every probe (the same for all optimizers of a seed: common random numbers).
        device: compute device.
        optimizer: the run's optimizer; an Adam/AdamW with state adds ``r_med_adam``, R_med of the
            Adam-preconditioned curvature (diagonal ``H_ii / (sqrt(v̂_i) + ε)``, :mod:`numerics.rmed`).
        distributed: every rank of the default process group calls this with the same model and
            the same ``batches``; the curvature products are data-parallel (the operators keep
            batches ``rank, rank + world, ...`` and all-reduce each product: ``distributed=True,
            shard=True`` of :class:`numerics.hessian.HessianOperator`), so every estimator returns
            the same value on every rank.  SAM's ascent and the per-block spectra run locally on
            every rank (the same numbers; their loss evaluations are cheap next to the products).

    Returns:
        A JSON-able dict (see the module docstring for the definitions).
    """
    t0 = time.perf_counter()
    dtype = torch.float64 if h.get("dtype", "float64") == "float64" else torch.float32
    policy = h.get("policy", "abs")
    mode = h.get("mode", "train")
    confidence = float(h.get("confidence", 0.95))
    loss_fn = nn.CrossEntropyLoss()
    par = {"distributed": True, "shard": True} if distributed else {}
    op = HessianOperator(model, loss_fn, batches, mode=mode, dtype=dtype, device=device, **par)
    n = op.shape[0]
    common = {"n": n, "policy": policy, "mode": mode, "dtype": str(dtype).replace("torch.", ""),
              "operator": "hessian", "eval_loss": op.loss_value}
    if n <= h.get("exact_max_params", 0):
        out = _exact_metrics(op, policy, int(h.get("store_eigenvalues_max", 2000)))
        if h.get("compare_stochastic", False):
            out["stochastic"] = _stochastic_metrics(op, h, policy, seed, confidence)
            for key in ("block_traces", "density", "_diagonal_probes"):
                out["stochastic"].pop(key, None)
    else:
        out = _stochastic_metrics(op, h, policy, seed, confidence)
    out.update(common)
    D = None
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)) and optimizer.state:
        D = adam_preconditioner_from_optimizer(optimizer, model, op.block_names).to(torch.float64).cpu().numpy()
    _rmed_metrics(out, op, policy, confidence, D)
    sam_rho = float(h.get("sam_rho", SAM_RHO))
    if sam_rho > 0:
        # the ascent's shifted losses are rank-local: a local operator on the full evaluation set
        sam_op = HessianOperator(model, loss_fn, batches, mode=mode, dtype=dtype, device=device) \
            if distributed else op
        out["sam"] = _sam_metrics(sam_op, sam_rho, int(h.get("sam_steps", 10)), make_generator(seed + 1))
        del sam_op
    names_sizes = list(op.block_sizes)
    out["block_names"] = [nm for nm, _ in names_sizes]
    out["block_sizes"] = [s for _, s in names_sizes]
    out["blocks"] = _block_summary(names_sizes, out["block_traces"])
    out["hvp_count"] = op.hvp_count
    del op  # free the retained graphs before the per-block operators are built

    # exact spectra of chosen blocks (e.g. the classifier): cheap, since a product only
    # back-propagates from the loss to that block, and they give the theory checks exact κ and TV
    out["exact_blocks"] = {}
    for name in h.get("exact_blocks", []):
        # float64 whatever the preset's dtype: these spectra feed the exact theory checks
        bop = HessianOperator(model, loss_fn, batches, params=name, mode=mode, dtype=torch.float64, device=device,
                              **par)
        bm = _exact_metrics(bop, policy, int(h.get("store_eigenvalues_max", 2000)))
        bm.pop("block_traces", None)
        bm.pop("_diagonal", None)
        bm.update({"n": bop.shape[0], "policy": policy, "hvp_count": bop.hvp_count})
        out["exact_blocks"][name] = bm
        del bop

    bcfg = h.get("blocks", {})
    if bcfg.get("spectra", False):
        rep = block_report(
            model, loss_fn, batches, policy=policy, metric="entropy_gap", max_exact=int(bcfg.get("max_exact", 64)),
            num_hvps=int(bcfg.get("num_hvps", 40)), seed=seed, confidence=confidence, mode=mode, dtype=dtype,
            device=device,
        )
        rows = rep.rows
        gaps = np.array([r.entropy_gap for r in rows])
        tops = np.array([r.top_eigenvalue for r in rows])
        out["block_spectra"] = {
            "entropy_gap": gaps.tolist(),
            "top_eigenvalue": tops.tolist(),
            "trace": [r.trace for r in rows],
            "method": [r.method for r in rows],
            "hvp_count": int(sum(r.hvp_count for r in rows)),
        }
        finite = gaps[np.isfinite(gaps)]
        if finite.size >= 2 and finite.mean() != 0:
            out["blocks"]["deviation_entropy_gap"] = coefficient_of_variation(finite)
        if np.all(np.isfinite(tops)) and tops.size >= 2 and np.abs(tops).mean() > 0:
            out["blocks"]["deviation_top_eigenvalue"] = coefficient_of_variation(np.abs(tops))
    out["seconds"] = time.perf_counter() - t0
    return out
