"""Per-block curvature report and the deviation among blocks (the paper's Section 3).

A *block* is one parameter tensor (ResNet-18 has 62) or a named group; its
curvature is the diagonal block ``H_bb`` of the Hessian (or of the GGN) -- the
curvature of the loss as a function of that block alone, others held fixed.

For each block the report gives the trace ``tr H_bb``, the top eigenvalue
``λ_max(H_bb)`` and the entropy gap ``log n_b − H(p_b)`` of its normalised
(policy-mapped) spectrum -- exactly (dense ``eigh``) when the block has at most
``max_exact`` entries, otherwise by Krylov-deflated Hutchinson, Lanczos and deflated SLQ with
intervals (trace: Krylov-deflated Hutchinson).  The *deviation among blocks* is the coefficient of variation
``CV = σ/μ`` (population standard deviation, ``ddof=0``) of a chosen block
metric across blocks (Thm 3.7 reads the entropy gap as ``≈ CV²/2``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .dense import dense_matrix, eigenvalues_of, spectral_summary
from .entropy_gap import entropy_gap_estimate
from .estimate import Estimate
from .krylov import top_eigenpairs
from .operators import GGNOperator, HessianOperator
from .progress import progress_bar
from .trace import krylov_trace

METRICS = ("trace", "top_eigenvalue", "entropy_gap")


def coefficient_of_variation(values) -> float:
    """``σ/μ`` with the population standard deviation; needs >= 2 finite values and ``μ ≠ 0``."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"need at least 2 block values for a coefficient of variation, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("block values contain NaN or inf")
    mu = float(np.mean(x))
    if mu == 0:
        raise ValueError("mean of the block values is 0: the coefficient of variation is undefined")
    return float(np.std(x) / abs(mu))


@dataclass(frozen=True)
class BlockRow:
    """Curvature metrics of one block; ``*_ci`` are ``(low, high)`` (degenerate when exact)."""

    name: str
    numel: int
    method: str  # "exact" or "stochastic"
    trace: float
    top_eigenvalue: float
    entropy_gap: float
    trace_ci: tuple[float, float]
    top_eigenvalue_ci: tuple[float, float]
    entropy_gap_ci: tuple[float, float]
    hvp_count: int


@dataclass(frozen=True)
class BlockReport:
    """Rows per block plus the deviation (CV) of ``metric`` among blocks."""

    rows: list[BlockRow]
    operator: str
    policy: str
    metric: str
    deviation: float
    details: dict = field(default_factory=dict)

    def values(self, metric: str | None = None) -> np.ndarray:
        metric = metric or self.metric
        return np.array([getattr(r, metric) for r in self.rows])

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=float)

    def to_markdown(self) -> str:
        lines = [
            f"Block curvature ({self.operator}, policy {self.policy}); deviation among blocks "
            f"= CV({self.metric}) = {self.deviation:.4g}",
            "",
            "| block | numel | method | trace | top eigenvalue | entropy gap |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r.name} | {r.numel} | {r.method} | {r.trace:.4g} | {r.top_eigenvalue:.4g} | {r.entropy_gap:.4g} |"
            )
        return "\n".join(lines)


def _exact_row(op, name, policy) -> BlockRow:
    start = op.hvp_count
    lam = eigenvalues_of(dense_matrix(op))
    pol = "clip" if policy == "ggn" else policy
    if np.all(pol_values(lam, pol) == 0):
        gap = 0.0
    else:
        gap = spectral_summary(lam, pol).entropy_gap
    tr, top = float(np.sum(lam)), float(lam.max())
    return BlockRow(name, op.shape[0], "exact", tr, top, gap, (tr, tr), (top, top), (gap, gap), op.hvp_count - start)


def pol_values(lam: np.ndarray, policy: str) -> np.ndarray:
    return np.abs(lam) if policy == "abs" else np.maximum(lam, 0.0)


def _stochastic_row(op, name, policy, num_hvps, seed, confidence) -> BlockRow:
    start = op.hvp_count
    tr: Estimate = krylov_trace(op, max(6, num_hvps // 3), seed=seed, confidence=confidence)
    pairs = top_eigenpairs(op, 1, which="LA", num_steps=min(op.shape[0], max(10, num_hvps // 6)), seed=seed)
    gap = entropy_gap_estimate(op, num_hvps, policy=policy, seed=seed, confidence=confidence)
    top = float(pairs.values[0])
    r = float(pairs.residual_norms[0])
    return BlockRow(
        name, op.shape[0], "stochastic", tr.value, top, gap.value, (tr.ci_low, tr.ci_high), (top, top + r),
        (gap.ci_low, gap.ci_high), op.hvp_count - start,
    )


def block_report(
    model,
    loss_fn,
    data,
    *,
    blocks=None,
    operator: str = "hessian",
    policy: str = "abs",
    metric: str = "entropy_gap",
    max_exact: int = 2000,
    num_hvps: int = 150,
    seed: int = 0,
    confidence: float = 0.95,
    progress=False,
    **operator_kwargs,
) -> BlockReport:
    """Trace, top eigenvalue and entropy gap for every block, and their deviation.

    Args:
        blocks: ``None`` (every parameter tensor that requires grad) or a list of
            names / module prefixes / lists of those (one block each).
        operator: ``"hessian"`` or ``"ggn"`` (PSD; entropy policy then ``"ggn"``).
        policy: ``"abs"`` or ``"clip"`` for the Hessian.
        metric: block metric whose CV is the deviation (``"trace"``,
            ``"top_eigenvalue"`` or ``"entropy_gap"``).
        max_exact: blocks up to this size use the dense path.
        num_hvps: budget of the entropy-gap estimate of a stochastic block (the trace and
            the top eigenvalue use about ``num_hvps/3`` and ``num_hvps/6`` more).
        operator_kwargs: passed to the operator (``mode``, ``backend``, ``dtype``, ...).
    """
    if operator not in ("hessian", "ggn"):
        raise ValueError(f"unknown operator {operator!r}; choose 'hessian' or 'ggn'")
    if metric not in METRICS:
        raise ValueError(f"unknown block metric {metric!r}; choose one of {METRICS}")
    if operator == "ggn":
        policy = "ggn"
    elif policy not in ("abs", "clip"):
        raise ValueError(f"unknown policy {policy!r} for the Hessian; choose 'abs' or 'clip' (or operator='ggn')")
    if blocks is None:
        blocks = [n for n, p in model.named_parameters() if p.requires_grad]
    if not blocks:
        raise ValueError("no blocks to report")
    cls = GGNOperator if operator == "ggn" else HessianOperator
    rows = []
    with progress_bar(len(blocks), "blocks", progress) as advance:
        for i, block in enumerate(blocks):
            op = cls(model, loss_fn, data, params=block, **operator_kwargs)
            name = block if isinstance(block, str) else "+".join(map(str, block))
            if op.shape[0] <= max_exact:
                rows.append(_exact_row(op, name, policy))
            else:
                rows.append(_stochastic_row(op, name, policy, num_hvps, seed + i, confidence))
            advance(1)
    values = [getattr(r, metric) for r in rows]
    deviation = coefficient_of_variation(values) if len(values) >= 2 else math.nan
    return BlockReport(rows, operator, policy, metric, deviation)
