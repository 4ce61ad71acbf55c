"""Exact path: the dense curvature matrix and its full spectrum.

For models up to ~10^4 parameters (and every block up to that size) the matrix
is assembled column by column from operator products, ``A = A I`` (``n``
products in chunks of ``chunk_size`` columns), symmetrised, and diagonalised
with LAPACK ``syevd`` (``numpy.linalg.eigh``) in float64.

The products themselves are taken in float64 whatever the model's dtype: a
model operator is re-built in float64 (:meth:`astype`: the same parameters,
buffers and data, cast exactly), so "exact" means float64-exact and not the
float32 rounding of a float32 model's double backward (relative errors
~1e-4 on small eigenvalues, enough to move a narrow bulk).

The memory needed -- the ``n x n`` matrix in the operator dtype, its float64
copy and the ``eigh`` workspace, about ``n² (itemsize + 3·8)`` bytes -- is
checked against the available memory *before* anything is allocated, and a
:class:`ExactTooLargeError` (a ``ValueError``) says how much was needed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.entropy import renyi_entropy
from numerics.spectrum import normalize_spectrum, spectral_entropy_gap

from .operators import CurvatureOperator
from .progress import progress_bar

#: default cap on the exact path: dense eigh of a 2·10^4 matrix (3.2 GB in float64) still fits a workstation.
DEFAULT_MAX_PARAMS = 20_000


class ExactTooLargeError(ValueError):
    """The dense matrix would not fit the size or memory limit."""


def available_memory_bytes(device: torch.device | str = "cpu") -> int:
    """Free memory on ``device``: ``MemAvailable`` of ``/proc/meminfo`` or the CUDA allocator's view."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - non-Linux
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))  # pragma: no cover


def dense_memory_bytes(n: int, dtype: torch.dtype) -> int:
    """Bytes the exact path allocates for an ``n``-parameter operator (matrix, float64 copy, eigh workspace)."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    return int(n) * int(n) * (itemsize + 3 * 8)


def check_exact_feasible(
    n: int, dtype: torch.dtype, device, *, max_params: int | None = DEFAULT_MAX_PARAMS,
    memory_limit_bytes: int | None = None,
) -> None:
    """Raise :class:`ExactTooLargeError` unless the dense path fits; never allocates."""
    if max_params is not None and n > max_params:
        raise ExactTooLargeError(
            f"exact spectrum of {n} parameters exceeds max_params={max_params}; restrict to a parameter "
            "block or use the stochastic estimators (numerics.hessian.lanczos)"
        )
    need = dense_memory_bytes(n, dtype)
    have = memory_limit_bytes if memory_limit_bytes is not None else available_memory_bytes(device)
    if need > have:
        raise ExactTooLargeError(
            f"exact spectrum of {n} parameters needs about {need / 2**30:.2f} GiB but only "
            f"{have / 2**30:.2f} GiB is available; restrict to a block or use the stochastic estimators"
        )


def dense_matrix(
    op: CurvatureOperator,
    *,
    chunk_size: int = 64,
    max_params: int | None = DEFAULT_MAX_PARAMS,
    memory_limit_bytes: int | None = None,
    progress=False,
    dtype: torch.dtype | None = torch.float64,
) -> torch.Tensor:
    """Assemble the dense symmetric matrix of ``op`` (``n`` products, symmetrised).

    Args:
        op: any :class:`~numerics.hessian.operators.CurvatureOperator`.
        chunk_size: columns per batched product.
        max_params: refuse operators larger than this (``None``: memory check only).
        memory_limit_bytes: override the available-memory figure (tests).
        progress: show a progress bar (``True`` or a ``rich.progress.Progress``).
        dtype: compute dtype of the products (default float64, via ``op.astype``;
            an operator without ``astype`` computes in its own dtype and the result
            is cast); ``None``: the operator's dtype.

    Returns:
        ``(n, n)`` tensor in ``dtype`` on ``op.device``, ``(A + Aᵀ)/2``.  The ``n``
        products are counted on ``op.hvp_count``.
    """
    n = op.shape[0]
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    dtype = dtype or op.dtype
    check_exact_feasible(n, dtype, op.device, max_params=max_params, memory_limit_bytes=memory_limit_bytes)
    work = op.astype(dtype) if op.dtype != dtype and hasattr(op, "astype") else op
    A = torch.empty((n, n), dtype=dtype, device=op.device)
    with progress_bar(n, "dense curvature matrix", progress) as advance:
        for start in range(0, n, chunk_size):
            stop = min(n, start + chunk_size)
            E = torch.zeros((n, stop - start), dtype=work.dtype, device=op.device)
            E[torch.arange(start, stop), torch.arange(stop - start)] = 1
            A[:, start:stop] = work.matmat(E).to(dtype)
            advance(stop - start)
    if work is not op:
        op.hvp_count += n
    return (A + A.T) / 2


def eigenvalues_of(matrix) -> np.ndarray:
    """Ascending float64 eigenvalues of a symmetric matrix (``numpy.linalg.eigvalsh``)."""
    A = matrix.detach().cpu().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    A = A.astype(np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"expected a square matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("matrix contains NaN or inf")
    return np.linalg.eigvalsh((A + A.T) / 2)


def full_spectrum(op: CurvatureOperator, **kwargs) -> np.ndarray:
    """All eigenvalues of ``op`` (ascending, float64) via :func:`dense_matrix` + ``eigh``."""
    return eigenvalues_of(dense_matrix(op, **kwargs))


@dataclass(frozen=True)
class SpectralSummary:
    """Exact spectral metrics of one spectrum under one negative-eigenvalue policy.

    Attributes:
        n: number of eigenvalues.
        policy: ``"abs"``, ``"clip"`` or ``"error"`` (PSD input, e.g. the GGN).
        trace: ``Σ λ_i`` (signed).
        trace_policy: ``T = Σ v_i`` with ``v = |λ|`` or ``max(λ, 0)``.
        top_eigenvalue: ``max λ``; ``min_eigenvalue``: ``min λ``.
        entropy_gap: ``log n − H(p)``, ``p = v / T`` (``numerics.spectrum``).
        renyi: ``{α: H_α(p)}`` for the requested orders (``numerics.entropy``).
        condition_number: ``max v / min v`` (``inf`` with a zero).
        sqrt_diag_trace: ``Σ_i sqrt(policy(A_ii))`` when the diagonal was given.
    """

    n: int
    policy: str
    trace: float
    trace_policy: float
    top_eigenvalue: float
    min_eigenvalue: float
    entropy_gap: float
    condition_number: float
    renyi: dict = field(default_factory=dict)
    sqrt_diag_trace: float | None = None


def _policy_values(x: np.ndarray, policy: str) -> np.ndarray:
    if policy == "abs":
        return np.abs(x)
    if policy in ("clip", "error"):
        return np.maximum(x, 0.0)
    raise ValueError(f"unknown negative-eigenvalue policy {policy!r}")


def spectral_summary(
    eigenvalues, policy: str = "abs", alphas=(0.5, 2.0), diagonal=None, tol: float | None = None
) -> SpectralSummary:
    """Exact metrics of a spectrum; the entropies come from :mod:`numerics.spectrum`.

    Args:
        eigenvalues: the full spectrum.
        policy: ``"abs"``, ``"clip"``, or ``"error"`` (negatives beyond
            ``tol · max|λ|`` raise; default tol ``n · 8 · eps`` for ``eigh`` round-off).
        alphas: Rényi orders to report.
        diagonal: optional matrix diagonal for ``Σ sqrt(policy(A_ii))``.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    if tol is None:
        tol = lam.size * 8 * np.finfo(np.float64).eps
    p, kappa = normalize_spectrum(lam, policy, tol=tol)
    v = _policy_values(lam, policy)
    sqrt_diag = None
    if diagonal is not None:
        d = np.asarray(diagonal, dtype=np.float64)
        sqrt_diag = float(np.sum(np.sqrt(_policy_values(d, "abs" if policy == "abs" else "clip"))))
    return SpectralSummary(
        n=lam.size,
        policy=policy,
        trace=math.fsum(lam),
        trace_policy=math.fsum(v),
        top_eigenvalue=float(lam.max()),
        min_eigenvalue=float(lam.min()),
        entropy_gap=spectral_entropy_gap(lam, policy, tol=tol),
        condition_number=kappa,
        renyi={float(a): renyi_entropy(p, a) for a in alphas},
        sqrt_diag_trace=sqrt_diag,
    )
