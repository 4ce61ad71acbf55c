"""Data-parallel training with 2 CPU processes (gloo): the same results as one process, and resume.

The two ranks are forked from the test process and given the environment that
``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``), then run the command-line entry point -- the code path of
``torchrun --nproc_per_node=2 -m gpu_experiments run ...`` without the launcher's
start-up cost.  ``test_torchrun_launcher`` (slow) runs the real launcher.

Tolerance: the DDP gradient is the mean over two 32-image shards of per-shard
mean gradients, the single-process one the mean over 64 images: the same number
up to float32 summation order (relative 1e-7 per step).  Over the 22 steps of the
``cpu-smoke`` MLP this stays below 2e-7 relative in every metric (measured:
1.1e-7 at most for SGD; Lion, whose update is a sign, is bit-identical), so
``rtol = 1e-5`` leaves a 50x margin and would still catch a wrong shard (a
duplicated or dropped half-batch changes the metrics at the 1e-2 level).
"""

from __future__ import annotations

import glob
import json
import multiprocessing
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from gpu_experiments.distributed import DistContext, resolve_device
from gpu_experiments.runner import run_grid

RTOL = 1e-5
CELLS = ["sgd", "lion"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, world: int, port: int, argv: list[str], queue) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                       "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    from gpu_experiments.__main__ import main

    try:
        queue.put((rank, main(argv)))
    except BaseException as exc:  # report, so that the test fails with the reason instead of hanging
        queue.put((rank, repr(exc)))


def run_ranks(argv: list[str], world: int = 2, timeout: float = 600.0, attempts: int = 3) -> list:
    """The exit status of ``main(argv)`` on each of ``world`` forked ranks.

    A rank that raises ends the attempt at once (the others would wait in a collective until the
    process-group timeout). A rendezvous port taken between choosing it and rank 0's bind (another
    process on the machine, e.g. a Dask cluster in a parallel test worker) is retried on a new port.
    """
    ctx = multiprocessing.get_context("fork")
    for _ in range(attempts):
        queue = ctx.Queue()
        port = _free_port()
        procs = [ctx.Process(target=_rank_main, args=(r, world, port, argv, queue)) for r in range(world)]
        for p in procs:
            p.start()
        results = {}
        try:
            for _ in procs:
                try:
                    rank, rc = queue.get(timeout=timeout)  # generous: a loaded shared machine is 10x slower
                except Exception as exc:  # queue.Empty
                    raise AssertionError(f"ranks did not finish within {timeout} s: {results}") from exc
                results[rank] = rc
                if isinstance(rc, str):  # an exception's repr
                    break
        finally:
            for p in procs:
                p.join(5)
                if p.is_alive():
                    p.kill()
        errors = [rc for rc in results.values() if isinstance(rc, str)]
        if not any("address already in use" in e.lower() or "eaddrinuse" in e.lower() for e in errors):
            assert not errors, f"a rank raised: {errors}"
            return [results[r] for r in range(world)]
    raise AssertionError(f"no free rendezvous port in {attempts} attempts: {errors}")


def _records(results: str) -> dict:
    return {os.path.basename(os.path.dirname(p)): json.load(open(p))
            for p in glob.glob(os.path.join(results, "runs", "*", "record.json"))}


def _numbers(rec: dict) -> dict:
    """The compared metrics of a record: accuracy, losses and Hessian metrics at every checkpoint."""
    out = {}
    for m in rec["metrics"]:
        for k in ("test_accuracy", "test_loss", "train_loss", "train_loss_running"):
            if m[k] is not None:
                out[(m["percent"], k)] = m[k]
        for k in ("trace", "top_eigenvalue", "entropy_gap", "sqrt_diag_trace"):
            out[(m["percent"], k)] = m["hessian"][k]["value"]
    return out


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """cpu-smoke with two evaluation batches of 16, so that 2 ranks share the Hessian products."""
    import gpu_experiments

    src = os.path.join(os.path.dirname(gpu_experiments.__file__), "presets", "cpu_smoke.toml")
    text = open(src).read()
    assert "eval_batch_size = 32" in text and 'name = "cpu-smoke"' in text
    path = tmp_path_factory.mktemp("preset") / "ddp_smoke.toml"
    path.write_text(text.replace("eval_batch_size = 32", "eval_batch_size = 16")
                    .replace('name = "cpu-smoke"', 'name = "ddp-smoke"'))
    return str(path)


@pytest.fixture(scope="module")
def single(tmp_path_factory, preset):
    out = tmp_path_factory.mktemp("single")
    results = run_grid(preset, out=str(out), seeds=[0], device="cpu", quiet=True, archs=["mlp"],
                       optimizers=CELLS, write_outputs=False)
    return _records(results)


@pytest.fixture(scope="module")
def single_smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("single_smoke")
    results = run_grid("cpu-smoke", out=str(out), seeds=[0], device="cpu", quiet=True, archs=["mlp"],
                       optimizers=["sgd"], write_outputs=False)
    return _records(results)


def test_ddp_run_matches_single_process_and_resumes(single, preset, tmp_path):
    """Training with DDP and the Hessian metrics with data-parallel products (2 evaluation batches, 2 ranks)."""
    args = ["run", "--preset", preset, "--archs", "mlp", "--optimizers", *CELLS, "--device", "cpu",
            "--out", str(tmp_path), "--quiet", "--no-report"]
    # a kill after 8 steps of the first cell (nothing saved at the kill; the 25 % state at step 6 is on disk)
    assert run_ranks(args + ["--stop-after-steps", "8"]) == [130, 130]
    cell = tmp_path / "ddp-smoke" / "runs" / "mlp__sgd__seed0"
    assert (cell / "state.pt").is_file() and not (cell / "record.json").exists()
    assert run_ranks(args) == [0, 0]  # the same command resumes
    ddp = _records(str(tmp_path / "ddp-smoke"))
    assert sorted(ddp) == sorted(single)
    assert ddp["mlp__sgd__seed0"]["resumed_from_step"] == 6
    worst = 0.0
    for name, rec in ddp.items():
        assert rec["world_size"] == 2 and rec["status"] == "complete"
        assert all(m["hessian"]["parallel"]["hessian"].startswith("data-parallel products")
                   for m in rec["metrics"] if not m.get("from_cache"))
        a, b = _numbers(rec), _numbers(single[name])
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=RTOL, abs=1e-12), (name, key)
            worst = max(worst, abs(a[key] - b[key]) / max(abs(b[key]), 1e-12))
    assert worst < RTOL
    print(f"DDP (2 ranks) vs single process: max relative difference {worst:.2e}")
    # rank 0 alone wrote the results; no stray temporary files or second session
    assert not glob.glob(str(tmp_path / "**" / "*.tmp"), recursive=True)
    sessions = [json.load(open(p)) for p in glob.glob(str(tmp_path / "ddp-smoke" / "sessions" / "*.json"))]
    assert len(sessions) == 2 and all(s["world_size"] == 2 for s in sessions)


def test_a_wrong_shard_is_detected(single_smoke, tmp_path, monkeypatch):
    """Meta-test of the tolerance: ranks that all train on the same half of the batch differ.

    (cpu-smoke has one evaluation batch: this run also takes the rank-0 path of the Hessian metrics.)
    """
    import gpu_experiments.training as training

    # every rank takes the first half (half of the images never seen); inherited by the forked ranks
    monkeypatch.setattr(training, "_slice_rows", lambda x, dist: x[: x.shape[0] // 2])
    args = ["run", "--preset", "cpu-smoke", "--archs", "mlp", "--optimizers", "sgd", "--device", "cpu",
            "--out", str(tmp_path), "--quiet", "--no-report"]
    assert run_ranks(args) == [0, 0]
    rec = _records(str(tmp_path / "cpu-smoke"))["mlp__sgd__seed0"]
    assert rec["metrics"][-1]["hessian"]["parallel"]["hessian"].startswith("rank 0")
    a = _numbers(rec)
    b = _numbers(single_smoke["mlp__sgd__seed0"])
    rel = max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-12) for k in a)
    assert rel > 100 * RTOL


def test_cells_mode_shards_cells_across_ranks(tmp_path):
    args = ["run", "--preset", "cpu-smoke", "--archs", "mlp", "--optimizers", "sgd", "adam", "--device", "cpu",
            "--out", str(tmp_path), "--quiet", "--no-report", "--parallel", "cells"]
    assert run_ranks(args) == [0, 0]
    recs = _records(str(tmp_path / "cpu-smoke"))
    assert sorted(recs) == ["mlp__adam__seed0", "mlp__sgd__seed0"]
    sessions = [json.load(open(p)) for p in glob.glob(str(tmp_path / "cpu-smoke" / "sessions" / "*.json"))]
    # each cell was computed exactly once; the other rank found it locked or finished
    assert sum(s["computed"] for s in sessions) == 2
    assert all(r["world_size"] == 1 for r in recs.values())


def test_device_auto_and_context_defaults(monkeypatch):
    assert resolve_device("cpu", 1) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert resolve_device("auto", 3) == torch.device("cuda", 3)  # the local rank's GPU, not cuda:0
    assert resolve_device("cuda", 2) == torch.device("cuda", 2)
    assert resolve_device("cuda:1", 3) == torch.device("cuda", 1)  # an explicit index wins
    with pytest.raises(ValueError, match="local rank 5 has no GPU"):
        resolve_device("auto", 5)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto", 3) == torch.device("cpu")
    with pytest.raises(ValueError, match="is_available"):
        resolve_device("cuda", 0)
    ctx = DistContext()
    assert not ctx.enabled and ctx.is_writer and ctx.broadcast(3) == 3
    assert ctx.mean(torch.tensor(2.0)) == 2.0


def test_batch_not_divisible_by_ranks_is_refused(tmp_path):
    args = ["run", "--preset", "cpu-smoke", "--archs", "mlp", "--optimizers", "sgd", "--device", "cpu",
            "--out", str(tmp_path), "--quiet", "--no-report"]
    assert run_ranks(args, world=3) == [2, 2, 2]  # batch 64 over 3 ranks


@pytest.mark.slow
def test_torchrun_launcher(single, preset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
           "gpu_experiments", "run", "--preset", preset, "--archs", "mlp", "--optimizers", *CELLS,
           "--device", "auto", "--out", str(tmp_path), "--quiet", "--no-report"]
    subprocess.run(cmd, check=True, env=env, timeout=300)
    ddp = _records(str(tmp_path / "ddp-smoke"))
    for name, rec in ddp.items():
        a, b = _numbers(rec), _numbers(single[name])
        np.testing.assert_allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(a)], rtol=RTOL, atol=1e-12)


def test_run_ranks_ends_at_a_raising_rank_and_retries_a_taken_port(tmp_path, monkeypatch):
    """Meta-test of the launcher: a rank that raises ends the attempt at once (the other rank would
    block for 600 s; waiting for it would end in "did not finish" after 60 s), and a port reported in
    use is retried on a new one."""
    import time

    import gpu_experiments.__main__ as entry

    taken = tmp_path / "port-taken-once"

    def fake_main(argv):  # inherited by the forked ranks
        rank0 = os.environ["RANK"] == "0"
        if argv == ["broken"]:
            if not rank0:
                time.sleep(600)
            raise RuntimeError("broken rank")
        if rank0 and not taken.exists():
            taken.write_text(os.environ["MASTER_PORT"])
            raise RuntimeError("The server socket has failed to bind: address already in use")
        return 0

    monkeypatch.setattr(entry, "main", fake_main)
    with pytest.raises(AssertionError, match="a rank raised.*broken rank"):
        run_ranks(["broken"], timeout=60)
    assert run_ranks(["port"], timeout=60) == [0, 0] and taken.exists()
