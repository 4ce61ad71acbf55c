"""Worker of the 2-process data-parallel test (a module, so ``torch.multiprocessing.spawn`` can import it)."""

from __future__ import annotations

import os

import torch
from torch import nn

from numerics.hessian import (
    GGNOperator,
    HessianOperator,
    dense_matrix,
    entropy_gap_estimate,
    hutchinson_trace,
    krylov_trace,
    slq,
    top_eigenpairs,
)

#: uneven batch sizes, so shards of different sizes test the n_b / N weighting
BATCH_SIZES = (20, 15, 10, 15, 10, 12, 8)


def problem():
    """A tanh MLP (6 -> 8 -> 3, 83 parameters, float64) and 90 samples in 7 batches."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    N = sum(BATCH_SIZES)
    X = torch.randn(N, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (N,), generator=g)
    batches = list(zip(torch.split(X, BATCH_SIZES), torch.split(y, BATCH_SIZES)))
    return model, nn.CrossEntropyLoss(), batches


def estimates(op: HessianOperator, ggn: GGNOperator) -> dict:
    v = torch.linspace(-1, 1, op.shape[0], dtype=torch.float64)
    gap = entropy_gap_estimate(op, 60, seed=1)
    return {
        "matvec": op @ v,
        "ggn_matvec": ggn @ v,
        "gradient": op.gradient(),
        "loss": op.loss_value,
        "num_samples": op.num_samples,
        "dense": dense_matrix(op),
        "hutchinson": hutchinson_trace(op, 10, seed=3).value,
        "krylov_trace": krylov_trace(op, 30, seed=2).value,
        "entropy_gap": (gap.value, gap.ci_low, gap.ci_high),
        "slq_trace": slq(op, 3, 10, seed=5).trace(lambda x: x).value,
        "top": top_eigenpairs(op, 2, seed=4).values,
        # seed=None: drawn on rank 0 and broadcast, so the ranks still agree
        "unseeded": hutchinson_trace(op, 4).value,
    }


def run(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    import torch.distributed as dist

    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        model, loss_fn, batches = problem()
        # retained graphs: the data set is tiny, and it keeps the test fast
        op = HessianOperator(model, loss_fn, batches, distributed=True, shard=True, retain_graph=True)
        ggn = GGNOperator(model, loss_fn, batches, distributed=True, shard=True, retain_graph=True)
        out = estimates(op, ggn)
        out["local_samples"] = op.local_samples
        torch.save(out, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()
