"""The cpu-smoke grid end to end: outputs, no recomputation, resume after a kill, CLI errors, data fallback.

One module-scoped run of half the ``cpu-smoke`` grid (both architectures, both
Hessian paths, SGD and tanh-Lion: 4 cells, one seed) feeds most tests; the whole
grid (8 cells) runs under ``-m slow``; the resume test reruns one cell in its own directory and compares it
with the uninterrupted run (bit for bit: on the CPU every source of randomness
is a function of the seed and the step).
"""

from __future__ import annotations

import csv
import glob
import json
import os
import pickle
import time

import numpy as np
import pytest
import torch

from gpu_experiments.__main__ import main
from gpu_experiments.persistence import load_training_state
from gpu_experiments.presets import load_preset
from gpu_experiments.report import write_report
from gpu_experiments.runner import load_preset_data, run_grid
from gpu_experiments.training import RunInterrupted

SMOKE_OPTIMIZERS = ["sgd", "tanh-lion"]  # a plain and a sign-momentum optimizer; the rest run under -m slow
SMOKE_CELLS = 2 * len(SMOKE_OPTIMIZERS)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    t0 = time.perf_counter()
    results = run_grid("cpu-smoke", out=str(out), seeds=[0], device="cpu", quiet=True, optimizers=SMOKE_OPTIMIZERS)
    return str(out), results, time.perf_counter() - t0


def _records(results):
    return {os.path.basename(os.path.dirname(p)): json.load(open(p))
            for p in glob.glob(os.path.join(results, "runs", "*", "record.json"))}


def _check_outputs(results, cells: int) -> None:
    recs = _records(results)
    assert len(recs) == cells and all(r["status"] == "complete" for r in recs.values())
    assert not glob.glob(os.path.join(results, "runs", "*", "state.pt"))  # finished runs keep no weights
    for r in recs.values():
        assert [m["percent"] for m in r["metrics"]] == [0, 1, 25, 50, 75, 100]
        assert r["checkpoint_steps"] == [0, 1, 6, 11, 16, 22]
    with open(os.path.join(results, "metrics.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == cells * 6
    assert {"test_accuracy", "trace", "entropy_gap", "deviation_trace", "top_eigenvalue"} <= set(rows[0])
    with open(os.path.join(results, "theory.csv")) as fh:
        assert len(list(csv.DictReader(fh))) > 0
    summary = json.load(open(os.path.join(results, "summary.json")))
    assert {"tables", "claims", "measure_ranking", "theory"} <= set(summary)
    json.load(open(os.path.join(results, "metrics.json")))
    report = open(os.path.join(results, "report.md")).read()
    assert "| Configuration | 0 % Steps | 1 % Steps | 25 % Steps | 50 % Steps | 75 % Steps | 100 % Steps |" in report
    assert "| MLP (SGD) |" in report and "| CNN (tanh-Lion) |" in report
    figures = glob.glob(os.path.join(results, "figures", "*.png"))
    assert len(figures) >= 6
    for f in figures:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_outputs_exist_and_parse(smoke):
    _check_outputs(smoke[1], SMOKE_CELLS)


@pytest.mark.slow
def test_whole_smoke_grid(tmp_path):
    _check_outputs(run_grid("cpu-smoke", out=str(tmp_path), seeds=[0], device="cpu", quiet=True), 8)


def test_smoke_exercises_both_hessian_paths(smoke):
    recs = _records(smoke[1])
    m = recs["mlp__sgd__seed0"]["metrics"][-1]["hessian"]
    c = recs["cnn__sgd__seed0"]["metrics"][-1]["hessian"]
    assert m["method"] == "exact" and "stochastic" in m and "eigenvalues" in m
    assert c["method"] == "stochastic" and c["exact_blocks"]["fc.weight"]["method"] == "exact"
    assert "block_spectra" in m and "deviation_entropy_gap" in m["blocks"]


def test_finished_cells_are_not_recomputed(smoke):
    out, results, first = smoke
    paths = glob.glob(os.path.join(results, "runs", "*", "record.json"))
    before = {p: os.stat(p).st_mtime_ns for p in paths}
    t0 = time.perf_counter()
    run_grid("cpu-smoke", out=out, seeds=[0], device="cpu", quiet=True, optimizers=SMOKE_OPTIMIZERS,
             write_outputs=False)
    assert {p: os.stat(p).st_mtime_ns for p in paths} == before
    sessions = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(results, "sessions", "*.json")))]
    assert sessions[-1]["computed"] == 0 and sessions[-1]["cached"] == SMOKE_CELLS
    assert time.perf_counter() - t0 < first


def test_changed_configuration_is_refused_without_touching_grid_json(smoke):
    out, results, _ = smoke
    grid_path = os.path.join(results, "grid.json")
    before = (open(grid_path).read(), os.stat(grid_path).st_mtime_ns)
    sessions = sorted(os.listdir(os.path.join(results, "sessions")))
    with pytest.raises(ValueError, match="different configuration"):
        run_grid("cpu-smoke", out=out, seeds=[0], device="cpu", quiet=True, epochs=2, optimizers=SMOKE_OPTIMIZERS,
                 write_outputs=False)
    assert (open(grid_path).read(), os.stat(grid_path).st_mtime_ns) == before
    assert sorted(os.listdir(os.path.join(results, "sessions"))) == sessions  # no session file either


def _strip_timing(obj):
    if isinstance(obj, dict):
        return {k: _strip_timing(v) for k, v in obj.items() if k not in ("seconds", "from_cache")}
    if isinstance(obj, list):
        return [_strip_timing(v) for v in obj]
    return obj


def test_resume_after_interruption_matches_uninterrupted_run(smoke, tmp_path):
    # a "kill" after 8 steps: nothing is saved at the kill, the last state is the 25 % checkpoint (step 6)
    with pytest.raises(RunInterrupted):
        run_grid("cpu-smoke", out=str(tmp_path), seeds=[0], device="cpu", quiet=True, archs=["mlp"],
                 optimizers=["sgd"], stop_after_steps=8, write_outputs=False)
    cell = tmp_path / "cpu-smoke" / "runs" / "mlp__sgd__seed0"
    assert (cell / "state.pt").is_file() and not (cell / "record.json").exists()
    saved = load_training_state(str(cell / "state.pt"))  # torch.load(weights_only=True) inside
    assert saved["state"]["step"] == 6 and [m["percent"] for m in saved["state"]["metrics"]] == [0, 1, 25]
    run_grid("cpu-smoke", out=str(tmp_path), seeds=[0], device="cpu", quiet=True, archs=["mlp"],
             optimizers=["sgd"], write_outputs=False)
    resumed = json.load(open(cell / "record.json"))
    assert resumed["resumed_from_step"] == 6
    reference = _records(smoke[1])["mlp__sgd__seed0"]
    assert _strip_timing(resumed["metrics"]) == _strip_timing(reference["metrics"])


def test_cli_bad_inputs(tmp_path, capsys):
    assert main(["run", "--preset", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    assert main(["run", "--preset", "cpu-smoke", "--archs", "resnet50", "--out", str(tmp_path)]) == 2
    assert "unknown architecture" in capsys.readouterr().err
    assert main(["run", "--preset", "cpu-smoke", "--optimizers", "rmsprop", "--out", str(tmp_path)]) == 2
    assert "unknown optimizer" in capsys.readouterr().err
    assert main(["run", "--preset", "cpu-smoke", "--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "data directory does not exist" in capsys.readouterr().err
    assert main(["run", "--preset", "paper", "--data-dir", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "no CIFAR-10 batches" in capsys.readouterr().err
    assert main(["run", "--preset", "cpu-smoke", "--seeds", "-1", "--out", str(tmp_path)]) == 2
    assert "non-negative" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "cpu-smoke" / "runs").exists()


def test_cli_report(smoke, capsys):
    assert main(["report", smoke[1], "--no-figures"]) == 0
    assert "report.md" in capsys.readouterr().out


def test_paper_preset_data_fallback_and_cifar_dir(tmp_path):
    cfg = load_preset("paper")
    cfg["data"]["fallback_options"] = {"num_train": 100, "num_test": 20}
    data, notes = load_preset_data(cfg, None)
    assert data.synthetic and data.x_train.shape == (100, 3, 32, 32)
    assert any("SYNTHETIC" in n and "NO CIFAR-10" in n for n in notes)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(tmp_path / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), b"labels": [1] * 10}, fh)
    data, notes = load_preset_data(cfg, tmp_path)
    assert data.name == "cifar10" and not data.synthetic and not notes


def test_report_carries_the_synthetic_warning(smoke, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(smoke[1], dst)
    grid = json.load(open(dst / "grid.json"))
    grid["warnings"] = ["NO CIFAR-10: synthetic data"]
    json.dump(grid, open(dst / "grid.json", "w"))
    write_report(str(dst), figures=False)
    assert "> **WARNING**" in (dst / "report.md").read_text()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_smoke_on_cuda(tmp_path):
    results = run_grid("cpu-smoke", out=str(tmp_path), seeds=[0], device="cuda", quiet=True, optimizers=["sgd"])
    assert all(r["device"].startswith("cuda") for r in _records(results).values())


def test_ctrl_c_marks_session_and_exits_130_without_traceback(tmp_path, capsys, monkeypatch):
    import gpu_experiments.runner as runner

    real = runner.run_cell

    def run_cell_then_ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C inside a cell, between two saved states

    monkeypatch.setattr(runner, "run_cell", run_cell_then_ctrl_c)
    rc = main(["run", "--preset", "cpu-smoke", "--archs", "mlp", "--optimizers", "sgd", "--out", str(tmp_path),
               "--quiet", "--no-report"])
    err = capsys.readouterr().err
    assert rc == 130 and "state saved; rerun to resume" in err and "Traceback" not in err
    (session,) = [json.load(open(p)) for p in glob.glob(str(tmp_path / "cpu-smoke" / "sessions" / "*.json"))]
    assert session["interrupted"] is True and session["computed"] == 0
    monkeypatch.setattr(runner, "run_cell", real)
    assert main(["run", "--preset", "cpu-smoke", "--archs", "mlp", "--optimizers", "sgd", "--out", str(tmp_path),
                 "--quiet", "--no-report"]) == 0  # the same command resumes (here: runs) the cell
    sessions = [json.load(open(p)) for p in glob.glob(str(tmp_path / "cpu-smoke" / "sessions" / "*.json"))]
    assert sorted(s.get("interrupted", False) for s in sessions) == [False, True]


def test_corrupt_record_and_state_are_named_in_cli_errors(tmp_path, capsys):
    args = ["run", "--preset", "cpu-smoke", "--archs", "mlp", "--optimizers", "sgd", "--out", str(tmp_path),
            "--quiet", "--no-report"]
    cell = tmp_path / "cpu-smoke" / "runs" / "mlp__sgd__seed0"
    cell.mkdir(parents=True)
    (cell / "record.json").write_text('{"status": ')
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"malformed run record {cell / 'record.json'}" in err and "delete it" in err and "Traceback" not in err
    assert not (tmp_path / "cpu-smoke" / "grid.json").exists()  # refused before anything was written
    (cell / "record.json").unlink()
    (cell / "state.pt").write_bytes(b"\x80\x04not a checkpoint")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"unreadable training state {cell / 'state.pt'}" in err and "restart this cell from step 0" in err


def test_second_process_skips_a_locked_cell(tmp_path):
    from gpu_experiments.persistence import CellLock

    locks = tmp_path / "cpu-smoke" / "locks"
    locks.mkdir(parents=True)
    held = CellLock(str(locks / "mlp__sgd__seed0.lock"))
    # as if another process were training this cell (flock conflicts between open files, even in one process)
    assert held.acquire()
    try:
        run_grid("cpu-smoke", out=str(tmp_path), seeds=[0], device="cpu", quiet=True, archs=["mlp"],
                 optimizers=["sgd", "adam"], write_outputs=False)
    finally:
        held.release()
    runs = sorted(os.listdir(tmp_path / "cpu-smoke" / "runs"))
    assert runs == ["mlp__adam__seed0"]  # the locked cell was left to its owner
    (session,) = [json.load(open(p)) for p in glob.glob(str(tmp_path / "cpu-smoke" / "sessions" / "*.json"))]
    assert session["busy"] == 1 and session["computed"] == 1
