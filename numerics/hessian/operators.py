"""Curvature matrices of a torch model as symmetric linear operators.

Every operator acts on *flat* parameter vectors of length ``n`` (the parameters
of the chosen block, concatenated in model order) and exposes a small
linear-operator interface in the style of curvlinops (Dangel et al., 2024,
"Convolutions and more as einsum"/``curvlinops``):

* ``op @ v`` / :meth:`matvec` for ``v`` of shape ``(n,)``, ``op @ V`` /
  :meth:`matmat` for ``V`` of shape ``(n, k)``;
* ``shape``, ``dtype``, ``device``;
* ``hvp_count`` -- the number of operator-vector products taken so far (a
  ``matmat`` with ``k`` columns counts ``k``).  Every estimator reports the
  products it used from this counter.

Operators:

* :class:`HessianOperator` -- ``H = ∇²_θ L(θ)`` for ``L = Σ_b w_b ℓ(f(X_b; θ), y_b)``.
* :class:`GGNOperator` -- the generalised Gauss-Newton matrix
  ``G = Σ_b w_b J_bᵀ (∇²_z ℓ) J_b`` (Schraudolph 2002), positive semidefinite
  whenever the loss is convex in the network output ``z`` (cross-entropy, MSE).
  It is the principled answer to Definition 3.1's PSD requirement.
* :class:`MatrixOperator` -- a dense symmetric matrix with the same interface
  (tests, benchmarks, and spectra that are already known).

Data: one ``(X, y)`` batch, or an iterable of such batches.  With several
batches the curvature is the size-weighted mean ``Σ_b (n_b / N) H_b``, which is
the Hessian of the full-data mean loss when ``loss_fn`` averages over its batch
(the ``reduction="mean"`` default of torch losses).  Iterables are materialised
once (a shuffling loader does not change the sum).

Model mode: ``mode="eval"`` (default) evaluates the model in eval mode, so batch
norm uses its frozen running statistics and dropout is off -- the curvature is
then a deterministic function of the parameters.  ``mode="train"`` uses batch
statistics (batch norm becomes a function of the whole batch); running
statistics are never updated (the operator works on copies of the buffers).
The model's own ``training`` flags are restored after every call.

HVP backends (``backend=``), measured on CIFAR ResNet-18 (batch 32, float32,
CPU, same process; ``reports/hessian/report.md`` has the side-by-side run):

* ``"double_backward"`` (default): the gradient graph is built once per batch
  with ``create_graph=True`` and kept; each product is one extra backward pass
  through it (Pearlmutter 1994; PyHessian's scheme).  ~1.3 s per HVP vs ~2.0 s
  for forward-over-reverse in our development run; peak RSS 1.1 GiB.  On the
  digits MLP it is ~20x faster than forward-over-reverse, whose per-call
  ``torch.func`` overhead dominates small models.  Costs the memory of the
  retained graph (``retain_graph=False`` rebuilds it per product).  The graph
  is built with respect to one *flat* leaf ``θ`` (the block's tensors are views
  of it), so a product is a single engine call flat vector -> flat vector: the
  split/cat between flat and per-tensor layouts are graph nodes, not a Python
  loop, and the mode/attention context (needed only for forward passes) is
  entered only while the graph is built.  Per product this is as fast as
  PyHessian's ``autograd.grad`` on lists of tensors or faster (report §4).
* ``"forward_over_reverse"``: ``torch.func.jvp(torch.func.grad(L))``, recomputed
  per product; no retained state.
* ``"linearize"``: ``torch.func.linearize(grad(L))`` traces the tangent map once
  and replays it: ~15 % cheaper per product than double backward on ResNet-18
  but ~7 s of tracing and ~3 GiB peak RSS (vs 1.1), and tracing fails on
  data-dependent control flow -- hence not the default.

Batching several probe vectors (``is_grads_batched``, i.e. ``vmap`` over the
double backward) was *slower* per vector than single products on ResNet-18
(~1.6 s per vector at 4 vectors) and no faster on the digits models, so the
Lanczos-based estimators use single products.
``matmat`` batches the columns with ``is_grads_batched`` / ``vmap`` where the
model's operators support it and falls back to a loop otherwise.

Attention: forward-mode AD and double backward need the math kernel of
``scaled_dot_product_attention`` (the fused CPU/CUDA kernels lack those
derivatives), so every forward runs under ``sdpa_kernel(SDPBackend.MATH)``
unless ``math_attention=False``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

try:  # the autograd engine entry point behind torch.autograd.grad (torch >= 2.3)
    from torch.autograd.graph import _engine_run_backward
except ImportError:  # pragma: no cover - older or future torch: the public wrapper
    _engine_run_backward = None


def _vjp(output: torch.Tensor, inputs: torch.Tensor, cotangent: torch.Tensor) -> torch.Tensor:
    """``∂⟨output, cotangent⟩/∂inputs`` through a retained graph (zeros where unreachable).

    Same engine call as ``torch.autograd.grad(output, inputs, cotangent,
    retain_graph=True)``, minus the wrapper's per-call argument normalisation
    (``_make_grads``: shape/dtype checks, ~40 µs, 10 % of an HVP on the digits
    MLP).  Those checks hold by construction here: the cotangent is created with
    the output's shape, dtype and device by the operator.
    """
    if _engine_run_backward is not None:
        (r,) = _engine_run_backward((output,), (cotangent,), True, False, (inputs,), True, accumulate_grad=False)
        return torch.zeros_like(inputs) if r is None else r
    return torch.autograd.grad(
        output, inputs, grad_outputs=cotangent, retain_graph=True, allow_unused=True, materialize_grads=True
    )[0]


BACKENDS = ("double_backward", "forward_over_reverse", "linearize")
MODES = ("eval", "train")

Batch = tuple[torch.Tensor, torch.Tensor]


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


# ----------------------------------------------------------------------------
# Shared machinery of model-based operators
# ----------------------------------------------------------------------------


def _resolve_params(model: nn.Module, params) -> list[tuple[str, nn.Parameter]]:
    """Named parameters of the block, in model order.

    ``params`` may be ``None`` (all parameters that require grad), a name, a
    module prefix (``"layer1"`` selects ``layer1.*``), or a sequence of names /
    prefixes / parameter tensors.
    """
    named = list(model.named_parameters())
    if not named:
        raise ValueError("model has no parameters")
    if params is None:
        chosen = [(n, p) for n, p in named if p.requires_grad]
        if not chosen:
            raise ValueError("no parameter of the model requires grad; nothing to differentiate")
        return chosen
    if isinstance(params, (str, torch.Tensor)):
        params = [params]
    if not isinstance(params, Iterable):
        raise TypeError(f"params must be None, a name, or a sequence of names/tensors; got {type(params).__name__}")
    wanted: set[str] = set()
    names = [n for n, _ in named]
    for item in params:
        if isinstance(item, str):
            hits = [n for n in names if n == item or n.startswith(item + ".")]
            if not hits:
                raise ValueError(
                    f"unknown parameter block {item!r}; parameter names are {names[:8]}"
                    + (" ..." if len(names) > 8 else "")
                )
            wanted.update(hits)
        elif isinstance(item, torch.Tensor):
            hits = [n for n, p in named if p is item]
            if not hits:
                raise ValueError("a tensor in params is not a parameter of the model")
            wanted.update(hits)
        else:
            raise TypeError(f"params entries must be names or tensors, got {type(item).__name__}")
    chosen = [(n, p) for n, p in named if n in wanted]
    frozen = [n for n, p in chosen if not p.requires_grad]
    if frozen:
        raise ValueError(f"parameters without grad (requires_grad=False) in the block: {frozen}")
    if not chosen:
        raise ValueError("empty parameter block")
    return chosen


def _as_batches(data) -> list[Batch]:
    """Normalise ``data`` to a list of ``(X, y)`` tensor pairs with matching batch sizes."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        batches = [tuple(data)]
    elif isinstance(data, Iterable) and not isinstance(data, torch.Tensor):
        batches = [tuple(b) if isinstance(b, (tuple, list)) else b for b in data]
    else:
        raise TypeError("data must be an (X, y) pair of tensors or an iterable of such pairs")
    if not batches:
        raise ValueError("data is empty: no batches")
    for i, b in enumerate(batches):
        if not (isinstance(b, tuple) and len(b) == 2 and all(isinstance(t, torch.Tensor) for t in b)):
            raise TypeError(f"batch {i} is not an (X, y) pair of tensors")
        X, y = b
        if X.ndim == 0 or y.ndim == 0:
            raise ValueError(f"batch {i}: X and y need a batch dimension, got shapes {tuple(X.shape)}, {tuple(y.shape)}")
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"batch {i}: mismatched data shapes, X has {X.shape[0]} samples and y has {y.shape[0]}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"batch {i} is empty")
        if torch.is_floating_point(X) and not bool(torch.isfinite(X).all()):
            raise ValueError(f"batch {i}: X contains NaN or inf")
    return batches


@contextlib.contextmanager
def _math_attention(enabled: bool):
    if not enabled:
        yield
        return
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # pragma: no cover - torch < 2.3
        yield
        return
    with sdpa_kernel([SDPBackend.MATH]):
        yield


class _ModelOperator(CurvatureOperator):
    """Model, loss, data, block and mode handling shared by the Hessian and the GGN."""

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        data,
        params=None,
        *,
        mode: str = "eval",
        backend: str = "double_backward",
        retain_graph: bool = True,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        math_attention: bool = True,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError("loss_fn must be callable as loss_fn(outputs, targets)")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
        block = _resolve_params(model, params)
        first = block[0][1]
        dtype = dtype or first.dtype
        if dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
            raise ValueError(f"dtype must be a floating dtype, got {dtype}")
        device = torch.device(device) if device is not None else first.device
        n = sum(p.numel() for _, p in block)
        super().__init__(n, dtype, device)
        self.model = model
        self.loss_fn = loss_fn
        self.mode = mode
        self.backend = backend
        self.retain_graph = bool(retain_graph)
        self.math_attention = bool(math_attention)
        self.block_names = [name for name, _ in block]
        self.block_sizes = [(name, p.numel()) for name, p in block]
        self._shapes = [p.shape for _, p in block]
        # Values at which the curvature is taken: detached copies in the operator's dtype/device.
        self._block_values = {n_: p.detach().to(device=device, dtype=dtype) for n_, p in block}
        self._fixed = {
            n_: p.detach().to(device=device, dtype=dtype if torch.is_floating_point(p) else p.dtype)
            for n_, p in model.named_parameters()
            if n_ not in self._block_values
        }
        self._buffers = {
            n_: b.detach().to(device=device, dtype=dtype if torch.is_floating_point(b) else b.dtype)
            for n_, b in model.named_buffers()
        }
        batches = _as_batches(data)
        self._batches = [(self._cast_input(X), y.to(device)) for X, y in batches]
        total = sum(X.shape[0] for X, _ in self._batches)
        self._weights = [X.shape[0] / total for X, _ in self._batches]
        self.num_samples = total
        self._batched_ok = True  # flips to False when a model op lacks a batching rule
        self._state: list | None = None
        self.loss_value = self._check_loss()

    # -- helpers ---------------------------------------------------------------
    def _cast_input(self, X: torch.Tensor) -> torch.Tensor:
        X = X.to(self._device)
        return X.to(self._dtype) if torch.is_floating_point(X) else X

    @contextlib.contextmanager
    def _context(self):
        flags = [(m, m.training) for m in self.model.modules()]
        self.model.train(self.mode == "train")
        try:
            with _math_attention(self.math_attention):
                yield
        finally:
            for m, flag in flags:
                m.training = flag

    def _buffers_for_call(self) -> dict[str, torch.Tensor]:
        # train-mode batch norm writes running statistics in place: give it copies
        if self.mode == "train":
            return {k: v.clone() for k, v in self._buffers.items()}
        return self._buffers

    def _outputs(self, block_values: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        tensors = {**self._fixed, **block_values, **self._buffers_for_call()}
        return functional_call(self.model, tensors, (X,))

    def _loss(self, block_values: dict[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(self._outputs(block_values, X), y)

    def _check_loss(self) -> float:
        total = 0.0
        with self._context(), torch.no_grad():
            for (X, y), w in zip(self._batches, self._weights):
                try:
                    out = self._outputs(self._block_values, X)
                except RuntimeError as exc:
                    raise ValueError(f"the model cannot be evaluated on the data: {exc}") from exc
                loss = self.loss_fn(out, y)
                if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
                    shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
                    raise ValueError(
                        f"loss_fn must return a scalar tensor, got shape {shape}; use reduction='mean' or 'sum'"
                    )
                if not bool(torch.isfinite(loss)):
                    raise ValueError(f"loss is not finite ({float(loss)}) at these parameters and data")
                total += w * float(loss)
        return total

    def _split(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Flat ``(n,)`` or ``(n, k)`` -> per-tensor views (batch dimension first for ``(n, k)``)."""
        sizes = [s for _, s in self.block_sizes]
        if x.ndim == 1:
            return [c.view(shape) for c, shape in zip(torch.split(x, sizes), self._shapes)]
        k = x.shape[1]
        return [c.T.reshape(k, *shape) for c, shape in zip(torch.split(x, sizes), self._shapes)]

    @staticmethod
    def _flatten(parts: Sequence[torch.Tensor], k: int | None) -> torch.Tensor:
        if k is None:
            return torch.cat([p.reshape(-1) for p in parts])
        return torch.cat([p.reshape(k, -1) for p in parts], dim=1).T

    def _leaves(self) -> list[torch.Tensor]:
        return [v.detach().requires_grad_(True) for v in self._block_values.values()]

    def _flat_leaf(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One flat leaf ``θ`` (n,) and the block's tensors as views of it.

        Differentiating with respect to the flat leaf puts the flat ↔ per-tensor
        conversions inside the autograd graph (one split/cat node each, in C++),
        so a product takes a flat vector and returns one with no Python loop
        over the parameter tensors.
        """
        theta = torch.cat([v.reshape(-1) for v in self._block_values.values()]).requires_grad_(True)
        return theta, dict(zip(self.block_names, self._split(theta)))

    def _ensure_state(self) -> list:
        if self._state is None:
            with self._context():
                self._state = self._build_state()
        return self._state

    def _build_state(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def _accumulate(self, product: Callable[[int], torch.Tensor]) -> torch.Tensor:
        """``Σ_b w_b product(b)``; a single batch (w = 1) costs no extra O(n) pass."""
        total = None
        for i, w in enumerate(self._weights):
            out = product(i)
            if w == 1.0:
                total = out
            elif total is None:
                total = out.mul_(w)
            else:
                total.add_(out, alpha=w)
        if not self.retain_graph:
            self._state = None
        return total

    def _matvec(self, x: torch.Tensor) -> torch.Tensor:
        if self.backend != "double_backward":
            return self._matmat(x[:, None])[:, 0]
        # The retained graph is replayed backward only: no forward pass, so the
        # mode/attention context is needed only while the state is built.
        self._ensure_state()
        return self._accumulate(lambda i: self._flat_product(i, x))

    def _flat_product(self, i: int, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _flat_product_batched(self, i: int, X: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self) -> torch.Tensor:
        """Flat gradient ``∇L`` of the (weighted) loss with respect to the block."""
        total = torch.zeros(self._n, dtype=self._dtype, device=self._device)
        with self._context():
            for (X, y), w in zip(self._batches, self._weights):
                leaves = self._leaves()
                loss = self._loss(dict(zip(self.block_names, leaves)), X, y)
                g = torch.autograd.grad(loss, leaves, allow_unused=True, materialize_grads=True)
                total += w * self._flatten(g, None)
        return total

    def _matmat(self, X: torch.Tensor) -> torch.Tensor:
        k = X.shape[1]
        if self.backend == "double_backward":
            self._ensure_state()
            if k == 1:
                return self._accumulate(lambda i: self._flat_product(i, X[:, 0]))[:, None]
            rows = X.T.contiguous()
            return self._accumulate(lambda i: self._flat_batched(i, rows)).T
        parts_batched = self._split(X)
        with self._context():
            if k == 1:
                return self._accumulate(
                    lambda i: self._flatten(self._product(i, [p[0] for p in parts_batched]), None)
                )[:, None]
            return self._accumulate(lambda i: self._batched_product(i, parts_batched, X))

    def _flat_batched(self, i: int, rows: torch.Tensor) -> torch.Tensor:
        """``(k, n)`` rows -> ``(k, n)`` products: one batched backward, else a loop."""
        if self._batched_ok:
            try:
                return self._flat_product_batched(i, rows)
            except (RuntimeError, NotImplementedError):
                # some operator of the model has no vmap/batched-grad rule: loop instead
                self._batched_ok = False
        return torch.stack([self._flat_product(i, r) for r in rows])

    def _batched_product(self, i: int, parts_batched: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        k = X.shape[1]
        if self._batched_ok:
            try:
                return self._flatten(self._product_batched(i, parts_batched), k)
            except (RuntimeError, NotImplementedError):
                # some operator of the model has no vmap/batched-grad rule: loop instead
                self._batched_ok = False
        cols = [self._flatten(self._product(i, [p[j] for p in parts_batched]), None) for j in range(k)]
        return torch.stack(cols, dim=1)

    def _product(self, i: int, v: list[torch.Tensor]) -> list[torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def _product_batched(self, i: int, V: list[torch.Tensor]) -> list[torch.Tensor]:  # pragma: no cover
        raise NotImplementedError


# ----------------------------------------------------------------------------
# Hessian
# ----------------------------------------------------------------------------


class HessianOperator(_ModelOperator):
    """Hessian of the loss with respect to a parameter block, as a linear operator.

    ``H = Σ_b w_b ∇²_θ ℓ(f(X_b; θ), y_b)`` with ``w_b = n_b / N``.

    Args:
        model: the network (never modified; the operator works on copies of its
            parameters and buffers, taken at construction).
        loss_fn: ``loss_fn(outputs, targets) -> scalar tensor``.
        data: an ``(X, y)`` batch or an iterable of batches.
        params: the block -- ``None`` (every parameter with ``requires_grad``),
            a parameter name, a module prefix such as ``"layer1"``, or a sequence
            of names / prefixes / parameter tensors.
        mode: ``"eval"`` (default: frozen batch-norm statistics, no dropout) or
            ``"train"`` (batch statistics; running statistics untouched).
        backend: ``"double_backward"`` (default, fastest measured),
            ``"forward_over_reverse"`` or ``"linearize"`` (module docstring).
        retain_graph: keep the gradient graph between products (double backward).
        dtype: compute dtype (default: the parameters' dtype); the parameters,
            floating buffers and floating inputs are cast copies.
        device: compute device (default: the parameters' device).
        math_attention: force the math SDPA kernel (needed for second derivatives).

    Raises:
        ValueError: non-scalar or non-finite loss, parameters without grad,
            unknown block names, mismatched ``X``/``y`` batch sizes, empty data.
    """

    def _build_state(self) -> list:
        state = []
        for X, y in self._batches:
            if self.backend == "double_backward":
                theta, values = self._flat_leaf()
                loss = self._loss(values, X, y)
                (grad,) = torch.autograd.grad(loss, theta, create_graph=True, allow_unused=True)
                # no graph left (loss at most linear in the block): the Hessian is zero
                state.append((theta, grad if grad is not None and grad.requires_grad else None))
            elif self.backend == "linearize":
                from torch.func import grad, linearize

                def g_fn(values, X=X, y=y):
                    return grad(lambda v: self._loss(v, X, y))(values)

                _, jvp_fn = linearize(g_fn, dict(self._block_values))
                state.append(jvp_fn)
            else:
                state.append(None)
        return state

    def _flat_product(self, i: int, x: torch.Tensor) -> torch.Tensor:
        theta, grad = self._state[i]
        if grad is None:
            return torch.zeros_like(x)
        # ∇θ ⟨∇L(θ), x⟩ through the retained gradient graph (Pearlmutter 1994)
        return _vjp(grad, theta, x)

    def _flat_product_batched(self, i: int, X: torch.Tensor) -> torch.Tensor:
        theta, grad = self._state[i]
        if grad is None:
            return torch.zeros_like(X)
        return torch.autograd.grad(
            grad, theta, grad_outputs=X, retain_graph=True, allow_unused=True, materialize_grads=True,
            is_grads_batched=True,
        )[0]

    def _product(self, i: int, v: list[torch.Tensor]) -> list[torch.Tensor]:
        X, y = self._batches[i]
        if self.backend == "forward_over_reverse":
            from torch.func import grad, jvp

            f = grad(lambda vals: self._loss(vals, X, y))
            tangents = dict(zip(self.block_names, v))
            _, out = jvp(f, (dict(self._block_values),), (tangents,))
            return [out[name] for name in self.block_names]
        state = self._ensure_state()[i]
        out = state(dict(zip(self.block_names, v)))  # linearize
        return [out[name] for name in self.block_names]

    def _product_batched(self, i: int, V: list[torch.Tensor]) -> list[torch.Tensor]:
        return [
            torch.stack(cols) for cols in zip(*[self._product(i, [p[j] for p in V]) for j in range(V[0].shape[0])])
        ]


# ----------------------------------------------------------------------------
# Generalised Gauss-Newton
# ----------------------------------------------------------------------------


class GGNOperator(_ModelOperator):
    """Generalised Gauss-Newton matrix ``G = Σ_b w_b J_bᵀ Λ_b J_b`` (Schraudolph 2002).

    ``J_b = ∂f(X_b; θ)/∂θ`` is the Jacobian of the network output and
    ``Λ_b = ∇²_z ℓ(z, y_b)`` the Hessian of the loss in the output ``z``.  For a
    loss convex in ``z`` (cross-entropy, squared error) ``Λ_b ⪰ 0`` and hence
    ``G ⪰ 0`` by construction: ``vᵀ G v = Σ_b w_b (J_b v)ᵀ Λ_b (J_b v) ≥ 0``.

    Products: ``J v`` by the double-vjp trick on a retained output graph
    (``J v = ∂/∂u ⟨Jᵀ u, v⟩``), ``Λ (J v)`` by double backward through the loss
    alone, ``Jᵀ w`` by one backward pass; ``backend="forward_over_reverse"``
    uses ``torch.func.jvp`` / ``vjp`` instead (``"linearize"`` is treated as it).

    Arguments and errors as for :class:`HessianOperator`.
    """

    is_psd = True

    def _build_state(self) -> list:
        state = []
        for X, y in self._batches:
            theta, values = self._flat_leaf()
            out = self._outputs(values, X)
            u = torch.zeros_like(out, requires_grad=True)
            (jtu,) = torch.autograd.grad(out, theta, grad_outputs=u, create_graph=True, allow_unused=True)
            z = out.detach().requires_grad_(True)
            gz = torch.autograd.grad(self.loss_fn(z, y), z, create_graph=True)[0]
            # jtu is None when the output does not depend on the block: G = 0
            state.append((theta, out, u, jtu if jtu is not None and jtu.requires_grad else None, z, gz))
        return state

    def _flat_product(self, i: int, x: torch.Tensor) -> torch.Tensor:
        theta, out, u, jtu, z, gz = self._state[i]
        if jtu is None:
            return torch.zeros_like(x)
        jv = _vjp(jtu, u, x)  # J x = ∂⟨Jᵀu, x⟩/∂u
        lam_jv = _vjp(gz, z, jv) if gz.requires_grad else torch.zeros_like(jv)  # Λ J x
        return _vjp(out, theta, lam_jv)  # Jᵀ Λ J x

    def _flat_product_batched(self, i: int, X: torch.Tensor) -> torch.Tensor:
        theta, out, u, jtu, z, gz = self._state[i]
        if jtu is None:
            return torch.zeros_like(X)

        def vjp_batched(output, inputs, cot):
            return torch.autograd.grad(
                output, inputs, grad_outputs=cot, retain_graph=True, allow_unused=True, materialize_grads=True,
                is_grads_batched=True,
            )[0]

        jv = vjp_batched(jtu, u, X)
        lam_jv = vjp_batched(gz, z, jv) if gz.requires_grad else torch.zeros_like(jv)
        return vjp_batched(out, theta, lam_jv)

    def _product(self, i: int, v: list[torch.Tensor]) -> list[torch.Tensor]:
        X, y = self._batches[i]
        # forward-over-reverse (the double-backward backend goes through _flat_product)
        from torch.func import grad, jvp, vjp

        def f(vals):
            return self._outputs(vals, X)

        tangents = dict(zip(self.block_names, v))
        z, jv = jvp(f, (dict(self._block_values),), (tangents,))
        _, lam_jv = jvp(grad(lambda zz: self.loss_fn(zz, y)), (z,), (jv,))
        _, vjp_fn = vjp(f, dict(self._block_values))
        out = vjp_fn(lam_jv)[0]
        return [out[name] for name in self.block_names]

    def _product_batched(self, i: int, V: list[torch.Tensor]) -> list[torch.Tensor]:
        return [
            torch.stack(cols) for cols in zip(*[self._product(i, [p[j] for p in V]) for j in range(V[0].shape[0])])
        ]
