"""The grid: every architecture x optimizer x seed of a preset, with a progress display.

Layout of a results directory ``<out>/<name>/`` (``name`` defaults to the preset's):

* ``grid.json`` -- the preset as run, device, data set, warnings;
* ``sessions/*.json`` -- one file per invocation: cells computed or found finished, wall time;
* ``runs/<arch>__<optimizer>__seed<k>/record.json`` -- one finished cell
  (``state.pt`` beside it while it runs; kept for inspection);
* ``cache/`` -- step-0 metrics shared by the optimizers of an (arch, seed);
* the report files written by :func:`gpu_experiments.report.write_report`.

A cell whose ``record.json`` says ``complete`` (with the same configuration
hash) is never recomputed; an unfinished one resumes from its ``state.pt``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import torch

from .data import DataError, Dataset, load_dataset
from .presets import load_preset
from .training import RunInterrupted, atomic_json, cell_name, resolve_device, run_cell


def load_preset_data(cfg: dict, data_dir=None) -> tuple[Dataset, list[str]]:
    """The preset's data set and the warnings to print and record.

    ``--data-dir`` that does not exist is an error for every preset.  A CIFAR-10
    preset without ``--data-dir`` falls back to ``data.fallback`` (the synthetic
    CIFAR-shaped set) when the preset names one, with a loud warning.
    """
    d = cfg["data"]
    notes: list[str] = []
    if data_dir is not None and not os.path.isdir(os.fspath(data_dir)):
        raise DataError(f"data directory does not exist: {data_dir}")
    name = d["dataset"]
    options = dict(d.get("options", {}))
    if name == "cifar10" and data_dir is None and d.get("fallback"):
        name = d["fallback"]
        options = dict(d.get("fallback_options", {}))
        notes.append(
            "NO CIFAR-10: --data-dir was not given, so this run uses the SYNTHETIC CIFAR-shaped data set "
            f"({name}). Its accuracies and Hessian metrics say nothing about CIFAR-10 or the paper's tables; "
            "it only shows that the pipeline runs at paper size. Rerun with --data-dir pointing at the "
            "python-format CIFAR-10 batches."
        )
    elif data_dir is not None and name != "cifar10":
        notes.append(f"--data-dir {data_dir} ignored: the preset's data set is {name}")
    data = load_dataset(name, data_dir=data_dir, image_size=d.get("image_size", 8), channels=d.get("channels", 1),
                        **options)
    return data, notes


def _progress_factory(quiet: bool):
    if quiet:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<36}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]:<16} loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def run_grid(
    preset: str,
    *,
    out: str = "results",
    seeds=(0,),
    device: str = "auto",
    data_dir=None,
    name: str | None = None,
    epochs: int | None = None,
    archs=None,
    optimizers=None,
    quiet: bool = False,
    stop_after_steps: int | None = None,
    write_outputs: bool = True,
) -> str:
    """Run (or resume) every cell of a preset's grid; returns the results directory.

    Args:
        preset: preset name or TOML path.
        out: parent directory of the results; the preset's results go to ``out/<name>``.
        seeds: run seeds (non-negative integers).
        device: ``"auto"``, ``"cpu"`` or ``"cuda[:k]"``.
        data_dir: CIFAR-10 directory (python-format batches).
        name: results sub-directory (default: the preset name; use another one with overrides).
        epochs, archs, optimizers: overrides (see :func:`gpu_experiments.presets.load_preset`).
        quiet: no progress display.
        stop_after_steps: test hook, stop the *first unfinished* cell after this many steps
            without saving (simulates a killed process); raises :class:`RunInterrupted`.
        write_outputs: write the report files at the end.
    """
    cfg = load_preset(preset, epochs=epochs, archs=archs, optimizers=optimizers)
    return run_config(cfg, out=out, seeds=seeds, device=device, data_dir=data_dir, name=name, quiet=quiet,
                      stop_after_steps=stop_after_steps, write_outputs=write_outputs)


def run_config(
    cfg: dict,
    *,
    out: str = "results",
    seeds=(0,),
    device: str = "auto",
    data_dir=None,
    name: str | None = None,
    quiet: bool = False,
    stop_after_steps: int | None = None,
    write_outputs: bool = True,
    data: tuple[Dataset, list[str]] | None = None,
) -> str:
    """:func:`run_grid` on an already loaded (and possibly derived) preset ``cfg``.

    ``data`` -- ``(dataset, warnings)`` from :func:`load_preset_data` -- skips loading it again.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("no seeds given")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"duplicate seeds in {seeds}")
    dev = resolve_device(device)
    data, notes = data if data is not None else load_preset_data(cfg, data_dir)
    for note in notes:
        print(f"WARNING: {note}", file=sys.stderr)
    threads = int(cfg.get("threads", 0))
    if dev.type == "cpu" and threads > 0:
        torch.set_num_threads(threads)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = bool(cfg["training"].get("tf32", False))
        torch.backends.cudnn.allow_tf32 = bool(cfg["training"].get("tf32", False))

    out_dir = os.path.join(out, name or cfg["name"])
    os.makedirs(out_dir, exist_ok=True)
    grid_path = os.path.join(out_dir, "grid.json")
    previous = {}
    if os.path.isfile(grid_path):
        with open(grid_path) as fh:
            previous = json.load(fh)
    cells = [(a, o, s) for a in cfg["grid"]["archs"] for o in cfg["grid"]["optimizers"] for s in seeds]
    grid = {
        "preset": cfg["name"],
        "preset_source": cfg.get("_source"),
        "config": {k: v for k, v in cfg.items() if not k.startswith("_")},
        "seeds": sorted(set(seeds) | set(previous.get("seeds", []))),
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(),
        "dataset": data.name,
        "dataset_description": data.description,
        "synthetic_data": data.synthetic,
        "warnings": sorted(set(notes) | set(previous.get("warnings", []))),
    }
    atomic_json(grid_path, grid)
    # one file per session, so that concurrent sessions on disjoint cells (e.g. one per architecture) never clash
    session_dir = os.path.join(out_dir, "sessions")
    os.makedirs(session_dir, exist_ok=True)
    session_path = os.path.join(session_dir, f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.json")
    session = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "cells": len(cells), "computed": 0, "cached": 0,
               "archs": cfg["grid"]["archs"], "optimizers": cfg["grid"]["optimizers"], "seeds": seeds,
               "device": str(dev)}
    atomic_json(session_path, session)

    t0 = time.perf_counter()
    progress = _progress_factory(quiet)
    failures = []
    stop_budget = stop_after_steps
    try:
        if progress is not None:
            progress.start()
        for arch, opt, seed in cells:
            task = None
            if progress is not None:
                task = progress.add_task(cell_name(arch, opt, seed), total=None, phase="start", loss="-")

            def on_progress(info, task=task):
                if progress is None:
                    return
                loss = info.get("loss")
                progress.update(task, completed=info["step"], total=info["total"], phase=info["phase"],
                                loss=f"{loss:.4f}" if loss is not None else "-")

            record_path = os.path.join(out_dir, "runs", cell_name(arch, opt, seed), "record.json")
            was_done = os.path.isfile(record_path)
            rec = run_cell(cfg, arch, opt, seed, data, dev, out_dir, on_progress=on_progress,
                           stop_after_steps=stop_budget)
            if rec.get("status") == "diverged":
                failures.append(rec.get("error"))
                warnings.warn(str(rec.get("error")), RuntimeWarning, stacklevel=1)
            if was_done:
                session["cached"] += 1
            else:
                session["computed"] += 1
    except RunInterrupted:
        session["interrupted"] = True
        raise
    finally:
        if progress is not None:
            progress.stop()
        session["wall_seconds"] = time.perf_counter() - t0
        session["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        session["failures"] = failures
        atomic_json(session_path, session)
    if write_outputs:
        from .report import write_report

        write_report(out_dir)
    return out_dir
