"""A PyHessian-style entry point: ``hessian(model, criterion, data=... or dataloader=...)``.

PyHessian (Yao, Gholami, Keutzer & Mahoney 2020, "PyHessian: neural networks through
the lens of the Hessian") exposes ``hessian(model, criterion, data=None,
dataloader=None, cuda=True)`` with ``.eigenvalues()``, ``.trace()`` and
``.density()``.  This class has the same constructor and return formats, so a
PyHessian script switches by changing its import::

    # from pyhessian import hessian
    from numerics.hessian import hessian
    hessian_comp = hessian(model, criterion, data=(inputs, targets), cuda=False)
    top_eigenvalues, top_eigenvectors = hessian_comp.eigenvalues(top_n=2)
    trace = np.mean(hessian_comp.trace())
    eigen_list, weight_list = hessian_comp.density()

What changes underneath (all from this package): top eigenvalues by Lanczos with
full re-orthogonalisation instead of power iteration with deflation (one Krylov
space for all ``top_n``, residual bounds in ``.eigenpairs()``); the trace by
Krylov-deflated Hutchinson (:func:`~numerics.hessian.trace.krylov_trace`), whose
per-sample values are returned so that their mean is the estimate; the density by
SLQ with re-orthogonalisation (as PyHessian).  Additions: :meth:`entropy_gap`
(deflated SLQ, interval with quadrature, deflation and probe terms),
:meth:`trace_estimate` (with its interval), ``distributed=`` (data-parallel
products over ``torch.distributed``) and ``ggn=True`` (the Gauss-Newton matrix).
``tol`` arguments are accepted for compatibility; budgets are fixed by ``maxIter``/``iter``.
"""

from __future__ import annotations

import numpy as np
import torch

from .entropy_gap import entropy_gap_estimate
from .estimate import Estimate
from .krylov import Eigenpairs, top_eigenpairs
from .lanczos import slq
from .model_operators import GGNOperator, HessianOperator
from .trace import krylov_trace


class Hessian:
    """Curvature of ``criterion(model(X), y)`` over one batch (``data``) or a loader (``dataloader``).

    Args:
        model, criterion: the network and ``loss(outputs, targets) -> scalar``.
        data: one ``(inputs, targets)`` batch; or ``dataloader``: an iterable of batches
            (exactly one of the two, as in PyHessian).
        cuda: compute on ``"cuda"`` (PyHessian's default is ``True``; here ``False``).
        seed: seed of every random probe (same results on every call and every rank).
        ggn: use the generalised Gauss-Newton matrix instead of the Hessian.
        **operator_kwargs: passed to :class:`HessianOperator` (``params``, ``mode``,
            ``dtype``, ``distributed``, ``shard``, ``backend``...).
    """

    def __init__(self, model, criterion, data=None, dataloader=None, cuda: bool = False, *, seed: int = 0,
                 ggn: bool = False, **operator_kwargs) -> None:
        if (data is None) == (dataloader is None):
            raise ValueError("pass exactly one of data=(inputs, targets) or dataloader=...")
        if cuda and "device" not in operator_kwargs:
            operator_kwargs["device"] = "cuda"
        cls = GGNOperator if ggn else HessianOperator
        self.op = cls(model, criterion, data if data is not None else dataloader, **operator_kwargs)
        self.model = model
        self.seed = int(seed)
        self._shapes = [(name, shape) for (name, _), shape in zip(self.op.block_sizes, self.op._shapes)]

    def _as_param_list(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [c.view(shape) for c, (_, shape) in zip(torch.split(x, [s for _, s in self.op.block_sizes]),
                                                       self._shapes)]

    def eigenpairs(self, top_n: int = 1, num_steps: int | None = None) -> Eigenpairs:
        """Top ``top_n`` algebraic eigenpairs with residual bounds (:func:`~numerics.hessian.krylov.top_eigenpairs`)."""
        return top_eigenpairs(self.op, top_n, which="LA", num_steps=num_steps, seed=self.seed)

    def eigenvalues(self, maxIter: int = 100, tol: float = 1e-3, top_n: int = 1):
        """``(eigenvalues, eigenvectors)``: lists, eigenvectors as lists of parameter-shaped tensors (PyHessian format).

        Lanczos steps: ``min(n, max(2·top_n + 20, 3·top_n), maxIter·top_n)``.
        """
        n = self.op.shape[0]
        steps = min(n, max(2 * top_n + 20, 3 * top_n), max(top_n, maxIter * top_n))
        pairs = self.eigenpairs(top_n, steps)
        vecs = [self._as_param_list(pairs.vectors[:, i]) for i in range(pairs.vectors.shape[1])]
        return [float(v) for v in pairs.values], vecs

    def trace_estimate(self, num_hvps: int = 100, confidence: float = 0.95) -> Estimate:
        """``tr H`` by Krylov-deflated Hutchinson, with its interval."""
        return krylov_trace(self.op, num_hvps, seed=self.seed, confidence=confidence)

    def trace(self, maxIter: int = 100, tol: float = 1e-3) -> list[float]:
        """Per-sample trace values whose mean is the estimate from ``maxIter`` products (``np.mean`` them)."""
        est = self.trace_estimate(maxIter)
        samples = est.details["residual_samples"]
        exact = est.details["exact_part"]
        return [float(exact + s) for s in samples] if samples.size else [float(exact)]

    def density(self, iter: int = 100, n_v: int = 1):  # noqa: A002 - PyHessian's argument name
        """``(eigen_list_full, weight_list_full)``: per probe, Ritz values and Gauss weights summing to 1."""
        res = slq(self.op, n_v, iter, seed=self.seed)
        nodes = [list(map(float, t)) for t in res.nodes]
        weights = [list(map(float, w / np.sum(w))) for w in res.weights]
        return nodes, weights

    def entropy_gap(self, num_hvps: int = 300, policy: str = "abs", **kwargs) -> Estimate:
        """Entropy gap ``log n − H(p)`` of the normalised ``policy(spectrum)`` (:mod:`numerics.hessian.entropy_gap`)."""
        return entropy_gap_estimate(self.op, num_hvps, policy=policy, seed=self.seed, **kwargs)


#: PyHessian's (lower-case) class name.
hessian = Hessian
