"""Data-parallel Hessian products: 2 CPU processes (gloo) against one process on the full data."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from numerics.hessian import GGNOperator, HessianOperator

from .distributed_worker import estimates, problem, run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    mp.spawn(run, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


@pytest.fixture(scope="module")
def one_process():
    model, loss_fn, batches = problem()
    return estimates(HessianOperator(model, loss_fn, batches, retain_graph=True),
                     GGNOperator(model, loss_fn, batches, retain_graph=True))


def _close(a, b, rtol):
    a = a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    b = b.numpy() if isinstance(b, torch.Tensor) else np.asarray(b, dtype=np.float64)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(np.max(np.abs(b))))


def test_shards_are_uneven_and_cover_the_data(two_ranks):
    assert two_ranks[0]["local_samples"] == 48 and two_ranks[1]["local_samples"] == 42
    assert two_ranks[0]["num_samples"] == two_ranks[1]["num_samples"] == 90


def test_every_rank_returns_the_same_estimates(two_ranks):
    a, b = two_ranks
    for key in a:
        if key == "local_samples":
            continue
        assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key  # bitwise: same recurrence, same data


# Tolerances: the two-process sum adds the shards' partial sums in another order than
# one process does (float64 rounding, ~1e-16 relative per product); products and
# the dense matrix agree to 1e-12, and the Lanczos-based estimators, whose 30-60 step
# recurrences amplify rounding mildly, to 1e-9.
@pytest.mark.parametrize("key", ["matvec", "ggn_matvec", "gradient", "loss", "dense"])
def test_products_match_one_process(two_ranks, one_process, key):
    _close(two_ranks[0][key], one_process[key], 1e-12)


@pytest.mark.parametrize("key", ["hutchinson", "krylov_trace", "entropy_gap", "slq_trace", "top"])
def test_estimators_match_one_process(two_ranks, one_process, key):
    _close(two_ranks[0][key], one_process[key], 1e-9)


def test_unweighted_sum_would_be_caught(two_ranks, one_process):
    """Meta: averaging the two ranks' means (ignoring 48 vs 42 samples) differs beyond the tolerance."""
    model, loss_fn, batches = problem()
    v = torch.linspace(-1, 1, two_ranks[0]["matvec"].numel(), dtype=torch.float64)
    halves = [HessianOperator(model, loss_fn, batches[r::2], retain_graph=True) @ v for r in range(2)]
    wrong = (halves[0] + halves[1]) / 2
    assert float((wrong - one_process["matvec"]).abs().max()) > 1e-6 * float(one_process["matvec"].abs().max())


def test_distributed_needs_an_initialised_group():
    model, loss_fn, batches = problem()
    with pytest.raises(ValueError, match="init_process_group"):
        HessianOperator(model, loss_fn, batches, distributed=True)
    with pytest.raises(ValueError, match="shard=True needs distributed"):
        HessianOperator(model, loss_fn, batches, shard=True)
    with pytest.raises(TypeError, match="ProcessGroup"):
        HessianOperator(model, loss_fn, batches, distributed="gloo")


def test_graph_rebuilt_per_product_gives_the_same_operator():
    """Several batches: the default rebuilds one batch graph at a time; same products as retained graphs."""
    model, loss_fn, batches = problem()
    lean = HessianOperator(model, loss_fn, batches)
    assert not lean.retain_graph
    v = torch.linspace(-1, 1, lean.shape[0], dtype=torch.float64)
    ref = HessianOperator(model, loss_fn, batches, retain_graph=True) @ v
    np.testing.assert_allclose((lean @ v).numpy(), ref.numpy(), rtol=1e-13, atol=1e-15)
    assert lean._state is None or all(s is None for s in lean._state)
