"""Data-parallel curvature products with ``torch.distributed``.

A model operator built with ``distributed=True`` (the default process group)
or ``distributed=<ProcessGroup>`` computes, on every rank, the curvature of the
loss over the *union* of the ranks' batches:

    A = Σ_r Σ_{b ∈ rank r} (n_b / N) A_b,     N = Σ_r Σ_{b ∈ rank r} n_b,

each rank multiplying by its own batches and the partial products being summed
with one ``all_reduce`` per product (the sample counts are all-reduced once, at
construction, so unequal shards are weighted correctly).  Every rank then holds
the same product; estimators run the same Lanczos recurrence on every rank and
draw the same random probes (a ``seed=None`` is drawn on rank 0 and broadcast,
see :func:`shared_seed`), so every rank returns the same estimate.  Progress
bars are drawn on rank 0 only.

This is the data-parallel scheme of distributed training (Li et al. 2020,
"PyTorch Distributed: experiences on accelerating data parallel training") applied
to Hessian-vector products; ``gloo`` serves CPUs and ``nccl`` GPUs (the product
lives on the operator's device, which must be the rank's GPU under NCCL).
"""

from __future__ import annotations

import torch


def resolve_group(distributed):
    """``False``/``None`` -> ``None`` (local); ``True`` -> the default group; a ``ProcessGroup`` as is."""
    if distributed is None or distributed is False:
        return None
    import torch.distributed as dist

    if distributed is not True and not (dist.is_available() and isinstance(distributed, dist.ProcessGroup)):
        raise TypeError(
            f"distributed must be a bool or a torch.distributed.ProcessGroup, got {type(distributed).__name__}"
        )
    if not dist.is_available() or not dist.is_initialized():
        raise ValueError(
            "distributed=True needs an initialised torch.distributed process group: call "
            "torch.distributed.init_process_group(...) first (torchrun sets the environment), "
            "or pass distributed=False"
        )
    return dist.group.WORLD if distributed is True else distributed


def world_size(group) -> int:
    if group is None:
        return 1
    import torch.distributed as dist

    return dist.get_world_size(group)


def rank(group) -> int:
    if group is None:
        return 0
    import torch.distributed as dist

    return dist.get_rank(group)


def is_main_process() -> bool:
    """``True`` unless ``torch.distributed`` is initialised and this is not global rank 0."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def all_reduce_sum(tensor: torch.Tensor, group) -> torch.Tensor:
    """In-place sum over the group (no-op without one)."""
    if group is not None:
        import torch.distributed as dist

        dist.all_reduce(tensor, op=dist.ReduceOp.SUM, group=group)
    return tensor


def all_reduce_floats(values, group, device, op: str = "sum") -> list[float]:
    """Sum (or min/max) a few Python floats over the group, in float64."""
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    if group is not None:
        import torch.distributed as dist

        dist.all_reduce(t, op={"sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}[op],
                        group=group)
    return t.tolist()


def shared_seed(group, device) -> int:
    """A fresh 63-bit seed drawn on the group's first rank and broadcast to all."""
    seed = int(torch.randint(0, 2**62, (1,)).item())
    if group is None:
        return seed
    import torch.distributed as dist

    t = torch.tensor([seed], dtype=torch.int64, device=device)
    dist.broadcast(t, src=dist.get_global_rank(group, 0), group=group)
    return int(t.item())
