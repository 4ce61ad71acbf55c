"""``torchrun`` support: process group, per-rank device, and the collectives the training loop needs.

Launched as ``torchrun --nproc_per_node=N -m gpu_experiments run ...``, every
process sees ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` in its environment
(PyTorch's ``torch.distributed.run``).  :func:`init_from_env` then starts the
default process group -- NCCL when the device is a GPU, gloo on the CPU -- and
returns a :class:`DistContext`.  Two ways to use the ranks (``--parallel``):

* ``data`` (default): every cell is trained by all ranks together with
  :class:`torch.nn.parallel.DistributedDataParallel`.  Each step's global batch
  (``training.batch_size`` images, drawn exactly as in a single process) is split
  into ``WORLD_SIZE`` equal shards; DDP averages the gradients, which equals the
  single-process mean-loss gradient up to the summation order of floats.  Batch
  norm layers become :class:`torch.nn.SyncBatchNorm` on GPUs so that their
  statistics are those of the global batch.
* ``cells``: every rank trains whole cells on its own (no gradient exchange); the
  per-cell lock (:class:`gpu_experiments.persistence.CellLock`) hands each cell to
  exactly one rank.

Without ``torchrun`` (``WORLD_SIZE`` unset or 1) the context is a single process
and every collective is the identity.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch

PARALLEL_MODES = ("data", "cells")

#: Collectives wait for the slowest rank, e.g. for rank 0's Hessian metrics when the
#: data-parallel operator is not used; the default (30 min for NCCL) is too short at paper size.
PROCESS_GROUP_TIMEOUT = datetime.timedelta(hours=12)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the job.

    Attributes:
        rank, world_size, local_rank: from the ``torchrun`` environment (0, 1, 0 without it).
        parallel: ``"data"`` or ``"cells"`` (see the module docstring).
        owns_group: this code started the process group (and must destroy it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    parallel: str = "data"
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        """Several processes in a process group."""
        return self.world_size > 1

    @property
    def data_parallel(self) -> bool:
        """Cells are trained by all ranks together (DDP)."""
        return self.enabled and self.parallel == "data"

    @property
    def is_writer(self) -> bool:
        """This process writes the shared files (grid, records, checkpoints, report)."""
        return self.rank == 0 or not self.data_parallel

    # -- collectives (identity without a group) ---------------------------------

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()

    def broadcast(self, obj, src: int = 0):
        """``obj`` of rank ``src`` on every rank (pickled; small objects only)."""
        if not self.data_parallel:
            return obj
        box = [obj if self.rank == src else None]
        torch.distributed.broadcast_object_list(box, src=src)
        return box[0]

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """Mean over the ranks of a tensor (a copy)."""
        if not self.data_parallel:
            return value
        out = value.detach().clone()
        torch.distributed.all_reduce(out, op=torch.distributed.ReduceOp.SUM)
        return out / self.world_size

    def any(self, flag: bool, device) -> bool:
        """True on every rank if it is true on one (e.g. one rank saw Ctrl-C)."""
        if not self.data_parallel:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item() > 0)


def env_world() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the ``torchrun`` environment."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
            int(os.environ.get("LOCAL_RANK", 0)))


def resolve_device(device: str, local_rank: int | None = None) -> torch.device:
    """``"auto"`` -> this process's GPU (``cuda:LOCAL_RANK`` under ``torchrun``) when CUDA is there, else CPU.

    ``"cuda"`` without an index under ``torchrun`` also means the local rank's GPU; ``"cuda"``
    without a GPU is an error.
    """
    if local_rank is None:
        local_rank = env_world()[2]
    if device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        device = "cuda"
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {device!r}: {exc}") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:k]', got {device!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' requested but torch.cuda.is_available() is False; "
                             "use --device cpu or auto")
        if dev.index is None:
            count = torch.cuda.device_count()
            if local_rank >= count:
                raise ValueError(f"local rank {local_rank} has no GPU ({count} visible); "
                                 f"use --nproc_per_node <= {count}")
            dev = torch.device("cuda", local_rank)
    return dev


def init_from_env(device: torch.device, parallel: str = "data") -> DistContext:
    """Start the default process group when launched by ``torchrun`` with ``WORLD_SIZE > 1``."""
    if parallel not in PARALLEL_MODES:
        raise ValueError(f"unknown parallel mode {parallel!r}; choose one of {PARALLEL_MODES}")
    rank, world, local = env_world()
    if world <= 1:
        return DistContext(parallel=parallel)
    owns = False
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group(backend, timeout=PROCESS_GROUP_TIMEOUT)
        owns = True
    return DistContext(rank=torch.distributed.get_rank(), world_size=torch.distributed.get_world_size(),
                       local_rank=local, parallel=parallel, owns_group=owns)


def shutdown(ctx: DistContext) -> None:
    if ctx.owns_group and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
