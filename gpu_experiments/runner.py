"""The grid: every architecture x optimizer x seed of a preset, with a progress display.

Layout of a results directory ``<out>/<name>/`` (``name`` defaults to the preset's):

* ``grid.json`` -- the preset as run, device, data set, warnings;
* ``sessions/*.json`` -- one file per invocation: cells computed or found finished, wall time;
* ``runs/<arch>__<optimizer>__seed<k>/record.json`` -- one finished cell
  (``state.pt`` beside it while it runs; kept for inspection);
* ``locks/<cell>.lock`` -- per-cell locks (:class:`~gpu_experiments.persistence.CellLock`):
  several processes (``torchrun --parallel cells`` ranks, or shards started by hand)
  may share one directory; a cell held by another process is skipped;
* ``cache/`` -- step-0 metrics shared by the optimizers of an (arch, seed);
* the report files written by :func:`gpu_experiments.report.write_report`.

A cell whose ``record.json`` says ``complete`` (with the same configuration
hash) is never recomputed; an unfinished one resumes from its ``state.pt``.
Every finished record is checked against the requested configuration *before*
anything is written, so a refused invocation (e.g. ``--epochs 2`` into a
directory of 1-epoch runs) leaves ``grid.json`` as it was.

Paths stored in ``grid.json`` are relative to the working directory when they lie
under it (a preset shipped with the package is stored by name), so committed
results carry no machine paths.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import torch

from .data import DataError, Dataset, load_dataset
from .distributed import DistContext, resolve_device
from .persistence import CellLock, atomic_json, read_json
from .presets import load_preset
from .training import RunInterrupted, cell_hash, cell_name, finished_record, run_cell


def portable_path(path: str | None) -> str | None:
    """``path`` relative to the working directory; a preset shipped with the package as ``gpu_experiments/presets/...``.

    Results are committed and shared, so they must not carry absolute paths of one machine.
    """
    if not path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    ap = os.path.abspath(path)
    if ap.startswith(os.path.join(here, "presets") + os.sep):
        return os.path.join("gpu_experiments", "presets", os.path.basename(ap))
    return os.path.relpath(ap)  # relative to the working directory (with ".." when outside it)


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
    dist: DistContext | None = None,
) -> str:
    """Run (or resume) every cell of a preset's grid; returns the results directory.

    Args:
        preset: preset name or TOML path.
        out: parent directory of the results; the preset's results go to ``out/<name>``.
        seeds: run seeds (non-negative integers).
        device: ``"auto"``, ``"cpu"`` or ``"cuda[:k]"`` (``auto``/``cuda`` under ``torchrun``:
            the local rank's GPU).
        data_dir: CIFAR-10 directory (python-format batches).
        name: results sub-directory (default: the preset name; use another one with overrides).
        epochs, archs, optimizers: overrides (see :func:`gpu_experiments.presets.load_preset`).
        quiet: no progress display.
        stop_after_steps: test hook, stop the *first unfinished* cell after this many steps
            without saving (simulates a killed process); raises :class:`RunInterrupted`.
        write_outputs: write the report files at the end.
        dist: the ``torchrun`` context (default: a single process).
    """
    cfg = load_preset(preset, epochs=epochs, archs=archs, optimizers=optimizers)
    return run_config(cfg, out=out, seeds=seeds, device=device, data_dir=data_dir, name=name, quiet=quiet,
                      stop_after_steps=stop_after_steps, write_outputs=write_outputs, dist=dist)


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
    dist: DistContext | None = None,
) -> str:
    """:func:`run_grid` on an already loaded (and possibly derived) preset ``cfg``.

    ``data`` -- ``(dataset, warnings)`` from :func:`load_preset_data` -- skips loading it again.
    A ``KeyboardInterrupt`` (Ctrl-C) marks the session file ``interrupted`` and propagates.
    """
    dist = dist or DistContext()
    seeds = list(seeds)
    if not seeds:
        raise ValueError("no seeds given")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"duplicate seeds in {seeds}")
    dev = device if isinstance(device, torch.device) else resolve_device(device, dist.local_rank)
    data, notes = data if data is not None else load_preset_data(cfg, data_dir)
    if dist.rank == 0:
        for note in notes:
            print(f"WARNING: {note}", file=sys.stderr)
    threads = int(cfg.get("threads", 0))
    if dev.type == "cpu" and threads > 0:
        torch.set_num_threads(threads)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = bool(cfg["training"].get("tf32", False))
        torch.backends.cudnn.allow_tf32 = bool(cfg["training"].get("tf32", False))

    batch = cfg["training"]["batch_size"]
    if dist.data_parallel and batch % dist.world_size:
        raise ValueError(f"batch_size {batch} is not divisible by the {dist.world_size} data-parallel ranks; "
                         f"use --nproc_per_node dividing it, or --parallel cells")
    out_dir = os.path.join(out, name or cfg["name"])
    cells = [(a, o, s) for a in cfg["grid"]["archs"] for o in cfg["grid"]["optimizers"] for s in seeds]
    # refuse a conflicting configuration before writing anything (grid.json included)
    for arch, opt, seed in cells:
        finished_record(os.path.join(out_dir, "runs", cell_name(arch, opt, seed), "record.json"),
                        cell_hash(cfg, arch, opt, seed, data))
    grid_path = os.path.join(out_dir, "grid.json")
    session_path = None
    session = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "cells": len(cells), "computed": 0, "cached": 0,
               "busy": 0, "archs": cfg["grid"]["archs"], "optimizers": cfg["grid"]["optimizers"], "seeds": seeds,
               "device": str(dev), "world_size": dist.world_size, "parallel": dist.parallel if dist.enabled else None}
    if dist.is_writer:
        os.makedirs(os.path.join(out_dir, "locks"), exist_ok=True)
        previous = read_json(grid_path, "grid file", "delete it (it is rewritten from the preset)") \
            if os.path.isfile(grid_path) else {}
        grid = {
            "preset": cfg["name"],
            "preset_source": portable_path(cfg.get("_source")),
            "config": {k: v for k, v in cfg.items() if not k.startswith("_")},
            "seeds": sorted(set(seeds) | set(previous.get("seeds", []))),
            "device": str(dev),
            "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "torch_threads": torch.get_num_threads(),
            "world_size": dist.world_size,
            "dataset": data.name,
            "dataset_description": data.description,
            "synthetic_data": data.synthetic,
            "warnings": sorted(set(notes) | set(previous.get("warnings", []))),
        }
        atomic_json(grid_path, grid)
        # one file per session, so that concurrent sessions on disjoint cells (e.g. one per architecture) never clash
        session_dir = os.path.join(out_dir, "sessions")
        os.makedirs(session_dir, exist_ok=True)
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}.{time.time_ns() // 1000 % 1_000_000:06d}"  # two sessions a second
        session_path = os.path.join(session_dir, f"{stamp}-{os.getpid()}.json")
        atomic_json(session_path, session)
    dist.barrier()

    t0 = time.perf_counter()
    progress = _progress_factory(quiet or dist.rank != 0)
    failures = []
    stop_budget = stop_after_steps
    try:
        if progress is not None:
            progress.start()
        for arch, opt, seed in cells:
            cname = cell_name(arch, opt, seed)
            record_path = os.path.join(out_dir, "runs", cname, "record.json")
            lock = CellLock(os.path.join(out_dir, "locks", f"{cname}.lock"))
            got = lock.acquire() if dist.is_writer else None
            got = dist.broadcast(got)  # under data parallelism rank 0 locks for the group
            if not got:
                session["busy"] += 1  # another process trains it
                continue
            try:
                task = None
                if progress is not None:
                    task = progress.add_task(cname, total=None, phase="start", loss="-")

                def on_progress(info, task=task):
                    if progress is None:
                        return
                    loss = info.get("loss")
                    progress.update(task, completed=info["step"], total=info["total"], phase=info["phase"],
                                    loss=f"{loss:.4f}" if loss is not None else "-")

                was_done = os.path.isfile(record_path)
                rec = run_cell(cfg, arch, opt, seed, data, dev, out_dir, on_progress=on_progress,
                               stop_after_steps=stop_budget, dist=dist)
            finally:
                lock.release()
            if rec.get("status") == "diverged":
                failures.append(rec.get("error"))
                if dist.rank == 0:
                    warnings.warn(str(rec.get("error")), RuntimeWarning, stacklevel=1)
            if was_done:
                session["cached"] += 1
            else:
                session["computed"] += 1
    except (RunInterrupted, KeyboardInterrupt):
        session["interrupted"] = True
        raise
    finally:
        if progress is not None:
            progress.stop()
        session["wall_seconds"] = time.perf_counter() - t0
        session["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        session["failures"] = failures
        if session_path is not None:
            atomic_json(session_path, session)
    dist.barrier()  # every rank's cells are done before the report reads them
    if write_outputs and dist.rank == 0:
        from .report import write_report

        write_report(out_dir)
    return out_dir
