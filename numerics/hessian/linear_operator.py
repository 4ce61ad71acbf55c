"""Symmetric linear operators on flat vectors: the interface and a dense matrix.

Interface in the style of curvlinops (Dangel et al.): ``op @ v`` / :meth:`matvec`
for ``v`` of shape ``(n,)``, ``op @ V`` / :meth:`matmat` for ``(n, k)``; ``shape``,
``dtype``, ``device``; ``hvp_count`` (products taken so far; a ``matmat`` with
``k`` columns counts ``k``); ``process_group`` (``None``, or the
``torch.distributed`` group a data-parallel operator reduces over).
"""

from __future__ import annotations

import math

import numpy as np
import torch

# ----------------------------------------------------------------------------
# Base class: the linear-operator interface
# ----------------------------------------------------------------------------


class CurvatureOperator:
    """Symmetric ``n x n`` operator on flat vectors; subclasses implement ``_matmat``."""

    def __init__(self, n: int, dtype: torch.dtype, device: torch.device) -> None:
        self._n = int(n)
        self._dtype = dtype
        self._device = torch.device(device)
        self.hvp_count = 0
        #: ``torch.distributed`` group the products are reduced over (``None``: one process).
        self.process_group = None
        #: ``(name, numel)`` of the parameter tensors in flat order (one entry for a matrix).
        self.block_sizes: list[tuple[str, int]] = [("all", self._n)]

    @property
    def shape(self) -> tuple[int, int]:
        return (self._n, self._n)

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def device(self) -> torch.device:
        return self._device

    #: ``True`` when the operator is positive semidefinite by construction.
    is_psd: bool = False

    def block_slices(self) -> dict[str, slice]:
        """Position of every parameter tensor in the flat vector."""
        out, start = {}, 0
        for name, size in self.block_sizes:
            out[name] = slice(start, start + size)
            start += size
        return out

    def _check(self, x, ndim: int) -> tuple[torch.Tensor, bool]:
        was_numpy = isinstance(x, np.ndarray)
        if was_numpy:
            x = torch.from_numpy(np.ascontiguousarray(x))
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"expected a torch.Tensor or numpy array, got {type(x).__name__}")
        if x.ndim != ndim or x.shape[0] != self._n:
            want = "(n,)" if ndim == 1 else "(n, k)"
            raise ValueError(f"expected shape {want} with n={self._n}, got {tuple(x.shape)}")
        if not torch.is_floating_point(x):
            raise TypeError(f"expected a floating-point vector, got dtype {x.dtype}")
        # One reduction instead of an elementwise isfinite pass: a sum is finite only if
        # every entry is (inf/NaN propagate); a finite sum that overflowed falls back.
        if not math.isfinite(float(x.sum())) and not bool(torch.isfinite(x).all()):
            raise ValueError("input vector contains NaN or inf")
        return x.to(device=self._device, dtype=self._dtype), was_numpy

    def matvec(self, v):
        """``A v`` for ``v`` of shape ``(n,)`` (torch or numpy; the result has the same type)."""
        x, was_numpy = self._check(v, 1)
        out = self._matvec(x)
        self.hvp_count += 1
        return out.cpu().numpy() if was_numpy else out

    def _matvec(self, x: torch.Tensor) -> torch.Tensor:
        return self._matmat(x[:, None])[:, 0]

    def matmat(self, V):
        """``A V`` for ``V`` of shape ``(n, k)``; counts ``k`` products."""
        X, was_numpy = self._check(V, 2)
        if X.shape[1] == 0:
            out = X.clone()
        else:
            out = self._matmat(X)
        self.hvp_count += X.shape[1]
        return out.cpu().numpy() if was_numpy else out

    def __matmul__(self, x):
        return self.matvec(x) if x.ndim == 1 else self.matmat(x)

    def _matmat(self, X: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self._n}, dtype={self._dtype}, device={self._device})"


class MatrixOperator(CurvatureOperator):
    """A dense symmetric matrix behind the operator interface.

    Args:
        matrix: ``(n, n)`` symmetric tensor or array (symmetrised as ``(A + Aᵀ)/2``
            after a check that it is symmetric to ``1e-8`` relative).
        psd: declare the matrix PSD (used by the ``"ggn"`` entropy policy).
    """

    def __init__(self, matrix, psd: bool = False) -> None:
        A = torch.as_tensor(matrix)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise ValueError(f"expected a non-empty square matrix, got shape {tuple(A.shape)}")
        if not torch.is_floating_point(A):
            A = A.to(torch.float64)
        if not bool(torch.isfinite(A).all()):
            raise ValueError("matrix contains NaN or inf")
        scale = float(A.abs().max()) or 1.0
        if float((A - A.T).abs().max()) > 1e-8 * scale:
            raise ValueError("matrix is not symmetric (|A − Aᵀ| > 1e-8 · max|A|)")
        super().__init__(A.shape[0], A.dtype, A.device)
        self.matrix = (A + A.T) / 2
        self.is_psd = bool(psd)

    def _matmat(self, X: torch.Tensor) -> torch.Tensor:
        return self.matrix @ X

    def astype(self, dtype: torch.dtype) -> MatrixOperator:
        """The same matrix (entries cast exactly when widening) computing in ``dtype``."""
        return MatrixOperator(self.matrix.to(dtype), psd=self.is_psd)


