"""Curvature matrices of a torch model (Hessian, generalised Gauss-Newton) as linear operators.

See :mod:`numerics.hessian.operators` for the overview (data, modes, backends,
measured costs) and :mod:`numerics.hessian.distributed` for data-parallel products.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from . import distributed as dist_utils
from .linear_operator import CurvatureOperator

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
            raise ValueError(
                f"batch {i}: X and y need a batch dimension, got shapes {tuple(X.shape)}, {tuple(y.shape)}"
            )
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
        retain_graph: bool | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        math_attention: bool = True,
        distributed=False,
        shard: bool = False,
    ) -> None:
        group = dist_utils.resolve_group(distributed)
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
        self.process_group = group
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
        if shard:
            if group is None:
                raise ValueError("shard=True needs distributed=True (or a process group)")
            batches = batches[dist_utils.rank(group) :: dist_utils.world_size(group)]
        # one retained graph is cheap; a graph per batch of a whole data set is not (module docstring)
        self.retain_graph = (len(batches) == 1) if retain_graph is None else bool(retain_graph)
        self._batches = [(self._cast_input(X), y.to(device)) for X, y in batches]
        local = sum(X.shape[0] for X, _ in self._batches)
        (total,) = dist_utils.all_reduce_floats([local], group, device)
        if not total > 0:
            raise ValueError("data is empty on every rank: no samples")
        # weights n_b / N with N over all ranks: the all-reduced sum is the full-data mean curvature
        self._weights = [X.shape[0] / total for X, _ in self._batches]
        self.num_samples = int(total)
        self.local_samples = int(local)
        self._batched_ok = True  # flips to False when a model op lacks a batching rule
        self._state: list | None = None
        self._check_same_parameters()
        self.loss_value = self._check_loss()

    def _check_same_parameters(self) -> None:
        """Every rank must take the curvature at the same parameters (cheap fingerprint, all-reduced)."""
        if self.process_group is None:
            return
        flat = torch.cat([v.reshape(-1).double() for v in self._block_values.values()])
        ramp = torch.linspace(1.0, 2.0, flat.numel(), dtype=torch.float64, device=flat.device)
        fp = [float(flat.sum()), float((flat * ramp).sum()), float(self._n)]
        hi = dist_utils.all_reduce_floats(fp, self.process_group, self._device, "max")
        lo = dist_utils.all_reduce_floats(fp, self.process_group, self._device, "min")
        if hi != lo:
            raise ValueError(
                "the model parameters differ between ranks: broadcast them (e.g. wrap in DistributedDataParallel "
                "or call torch.distributed.broadcast on each parameter) before building a distributed operator"
            )

    def astype(self, dtype: torch.dtype) -> _ModelOperator:
        """The same operator (same parameters, buffers, data, block, ranks) computing in ``dtype``."""
        new = copy.copy(self)
        new._dtype = dtype
        new._block_values = {k: v.to(dtype) for k, v in self._block_values.items()}
        new._fixed = {k: v.to(dtype) if torch.is_floating_point(v) else v for k, v in self._fixed.items()}
        new._buffers = {k: v.to(dtype) if torch.is_floating_point(v) else v for k, v in self._buffers.items()}
        new._batches = [(X.to(dtype) if torch.is_floating_point(X) else X, y) for X, y in self._batches]
        new._state = None
        new.hvp_count = 0
        return new

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
        return dist_utils.all_reduce_floats([total], self.process_group, self._device)[0]

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

    def _batch_state(self, i: int):
        """Per-batch product state (retained graph), built on first use; dropped after use unless retained."""
        if self._state is None:
            self._state = [None] * len(self._batches)
        state = self._state[i]
        if state is None:
            with self._context():
                state = self._build_batch_state(i)
            if self.retain_graph:
                self._state[i] = state
        return state

    def _build_batch_state(self, i: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def _accumulate(self, product: Callable[[int], torch.Tensor], shape) -> torch.Tensor:
        """``Σ_b w_b product(b)`` over this rank's batches, all-reduced over the ranks.

        A single local batch with ``w = 1`` costs no extra O(n) pass.  A rank
        without batches contributes zeros.
        """
        total = None
        for i, w in enumerate(self._weights):
            out = product(i)
            if w == 1.0:
                total = out
            elif total is None:
                total = out.mul_(w)
            else:
                total.add_(out, alpha=w)
        if total is None:
            total = torch.zeros(shape, dtype=self._dtype, device=self._device)
        return dist_utils.all_reduce_sum(total, self.process_group)

    def _matvec(self, x: torch.Tensor) -> torch.Tensor:
        if self.backend != "double_backward":
            return self._matmat(x[:, None])[:, 0]
        # The retained graph is replayed backward only: no forward pass, so the
        # mode/attention context is needed only while the state is built.
        return self._accumulate(lambda i: self._flat_product(i, x), x.shape)

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
        return dist_utils.all_reduce_sum(total, self.process_group)

    def _matmat(self, X: torch.Tensor) -> torch.Tensor:
        k = X.shape[1]
        if self.backend == "double_backward":
            if k == 1:
                return self._accumulate(lambda i: self._flat_product(i, X[:, 0]), X.shape[:1])[:, None]
            rows = X.T.contiguous()
            return self._accumulate(lambda i: self._flat_batched(i, rows), rows.shape).T
        parts_batched = self._split(X)
        with self._context():
            if k == 1:
                return self._accumulate(
                    lambda i: self._flatten(self._product(i, [p[0] for p in parts_batched]), None), X.shape[:1]
                )[:, None]
            return self._accumulate(lambda i: self._batched_product(i, parts_batched, X), X.shape)

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
        retain_graph: keep each batch's gradient graph between products (double
            backward).  Default ``None``: retained for a single batch, rebuilt per
            product (one batch graph alive at a time) for several batches -- the
            memory of a data set's graphs would otherwise grow with the data set.
        distributed: ``False`` (default), ``True`` (the default ``torch.distributed``
            process group, which must be initialised) or a ``ProcessGroup``: every
            rank passes its own shard of batches (e.g. from a ``DistributedSampler``
            loader) and the operator is the curvature over the union of the shards,
            weighted by sample counts (:mod:`numerics.hessian.distributed`).
        shard: with ``distributed``, every rank passes the *same* full data and
            keeps batches ``rank, rank + world_size, ...`` of it.
        dtype: compute dtype (default: the parameters' dtype); the parameters,
            floating buffers and floating inputs are cast copies.
        device: compute device (default: the parameters' device).
        math_attention: force the math SDPA kernel (needed for second derivatives).

    Raises:
        ValueError: non-scalar or non-finite loss, parameters without grad,
            unknown block names, mismatched ``X``/``y`` batch sizes, empty data.
    """

    def _build_batch_state(self, i: int):
        X, y = self._batches[i]
        if self.backend == "double_backward":
            theta, values = self._flat_leaf()
            loss = self._loss(values, X, y)
            (grad,) = torch.autograd.grad(loss, theta, create_graph=True, allow_unused=True)
            # no graph left (loss at most linear in the block): the Hessian is zero
            return (theta, grad if grad is not None and grad.requires_grad else None)
        if self.backend == "linearize":
            from torch.func import grad, linearize

            def g_fn(values):
                return grad(lambda v: self._loss(v, X, y))(values)

            _, jvp_fn = linearize(g_fn, dict(self._block_values))
            return jvp_fn
        return None

    def _flat_product(self, i: int, x: torch.Tensor) -> torch.Tensor:
        theta, grad = self._batch_state(i)
        if grad is None:
            return torch.zeros_like(x)
        # ∇θ ⟨∇L(θ), x⟩ through the retained gradient graph (Pearlmutter 1994)
        return _vjp(grad, theta, x)

    def _flat_product_batched(self, i: int, X: torch.Tensor) -> torch.Tensor:
        theta, grad = self._batch_state(i)
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
        state = self._batch_state(i)
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

    def _build_batch_state(self, i: int):
        X, y = self._batches[i]
        theta, values = self._flat_leaf()
        out = self._outputs(values, X)
        u = torch.zeros_like(out, requires_grad=True)
        (jtu,) = torch.autograd.grad(out, theta, grad_outputs=u, create_graph=True, allow_unused=True)
        z = out.detach().requires_grad_(True)
        gz = torch.autograd.grad(self.loss_fn(z, y), z, create_graph=True)[0]
        # jtu is None when the output does not depend on the block: G = 0
        return (theta, out, u, jtu if jtu is not None and jtu.requires_grad else None, z, gz)

    def _flat_product(self, i: int, x: torch.Tensor) -> torch.Tensor:
        theta, out, u, jtu, z, gz = self._batch_state(i)
        if jtu is None:
            return torch.zeros_like(x)
        jv = _vjp(jtu, u, x)  # J x = ∂⟨Jᵀu, x⟩/∂u
        lam_jv = _vjp(gz, z, jv) if gz.requires_grad else torch.zeros_like(jv)  # Λ J x
        return _vjp(out, theta, lam_jv)  # Jᵀ Λ J x

    def _flat_product_batched(self, i: int, X: torch.Tensor) -> torch.Tensor:
        theta, out, u, jtu, z, gz = self._batch_state(i)
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
