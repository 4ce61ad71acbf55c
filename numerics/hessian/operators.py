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

Data: one ``(X, y)`` batch, or an iterable of such batches (a ``DataLoader``
over a whole data set).  With several batches the curvature is the size-weighted
mean ``Σ_b (n_b / N) H_b``, which is the Hessian of the full-data mean loss when
``loss_fn`` averages over its batch (the ``reduction="mean"`` default of torch
losses).  Iterables are materialised once (a shuffling loader does not change
the sum); with several batches the gradient graph of one batch at a time is
alive (``retain_graph=None`` default), so a product costs one forward and two
backward passes per batch, as in PyHessian's ``dataloader_hv_product``.

Data-parallel: ``distributed=True`` (or a ``ProcessGroup``) sums the products of
every rank's shard of batches with one ``all_reduce`` per product, weighted by
the all-reduced sample counts (:mod:`numerics.hessian.distributed`).

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
double backward): on ResNet-18 it was *slower* per vector than single products
(~1.6 s per vector at 4 vectors); on the digits models (report §5, one run under
load 3-13 on 2 cores) ``matmat`` with 16 columns cost 0.54-0.89x the time per vector
of single products and with 4 columns 0.81-2.4x (noisy) -- so the Lanczos-based
estimators, which need one product at a time anyway, use single products, and
Hutchinson-type probes go through ``matmat`` (``batch_size``).
``matmat`` batches the columns with ``is_grads_batched`` / ``vmap`` where the
model's operators support it and falls back to a loop otherwise.

Attention: forward-mode AD and double backward need the math kernel of
``scaled_dot_product_attention`` (the fused CPU/CUDA kernels lack those
derivatives), so every forward runs under ``sdpa_kernel(SDPBackend.MATH)``
unless ``math_attention=False``.
"""


from .linear_operator import CurvatureOperator, MatrixOperator  # noqa: I001
from .model_operators import (
    BACKENDS,
    MODES,
    Batch,
    GGNOperator,
    HessianOperator,
)
from .model_operators import _as_batches, _math_attention, _ModelOperator, _resolve_params, _vjp  # noqa: F401

__all__ = ["BACKENDS", "MODES", "Batch", "CurvatureOperator", "GGNOperator", "HessianOperator", "MatrixOperator"]
