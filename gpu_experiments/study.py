"""The tanh-Lion study: does replacing Lion's sign by a tanh improve Lion?

A study preset is an ordinary preset (grid, models, recipes, Hessian settings)
with a ``[study]`` table.  The study runs in three phases, each an ordinary
results directory under ``<out>/<name>/`` (resumable, finished runs never
recomputed):

1. ``tune/`` -- every grid optimizer label at every learning rate of its grid
   (``study.lr_grid.<label>``, the same number of points for every label) on the
   *tuning* seeds, without Hessian metrics, trained on a part of the training
   split and scored on the rest (``study.validation_fraction``, stratified,
   fixed): the chosen rate maximises the mean final *validation* accuracy over
   the tuning seeds (a diverged run counts as 0 %).  Neither the test set nor
   the evaluation seeds enter the selection.
2. ``main/`` -- every label at its chosen rate on the evaluation seeds, with the
   Hessian metrics at the preset's checkpoints and a learning curve
   (``training.eval_every_steps``); its standard report (``main/report.md``)
   holds the Hessian tables and the measure-ranking table (which sharpness measure ranks the
   optimizers by test accuracy).
3. ``ablation/`` -- ``study.ablation.label`` at its chosen rate with
   ``study.ablation.key`` (the tanh temperature) over ``study.ablation.values``,
   on the evaluation seeds, without Hessian metrics.

Statistics (:func:`analyse`), per architecture, each other label against the
baseline (``study.baseline``, Lion) on the same evaluation seeds: a seed fixes
the initialisation and the data order (:mod:`gpu_experiments.training`), so the
runs are *paired* by seed.  Differences are taken in test images (integers:
accuracies are multiples of 100/#test), so that float round-off never makes
equal differences look like a spread.  Reported: mean ± std of the final test
accuracy, the mean paired difference, the paired t-test p-value, the Wilcoxon
signed-rank p-value (exact; note that with 5 pairs its smallest two-sided value
is 0.0625) and Holm's step-down adjustment of the t-test p-values over all
labels compared with the baseline on one architecture (Adam and SGD included,
which makes the tanh-Lion verdicts more conservative).  Degenerate cases:
all-zero differences give p = 1; identical non-zero differences have no
t-statistic and count as p = 1 too (inconclusive) -- both stay in Holm's
family.  Verdict: ``yes`` when the mean difference is positive and the
Holm-adjusted p < ``study.alpha``; ``no (worse)`` when it is negative with
adjusted p < α; otherwise ``inconclusive``.  A diverged run is reported
(count per label) and its seed is left out of that label's paired test.  Time
to target: the first step (and training seconds) at which the learning curve
reaches ``study.target_fraction`` of the baseline's mean final accuracy;
never for a diverged run.

Command line::

    python -m gpu_experiments study --preset lion-study --seeds 0 1 2 3 4 --tune-seeds 100 101
    python -m gpu_experiments study --preset lion-study --archs vit ...   # one architecture per process
    python -m gpu_experiments study-report results/lion-study
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections import defaultdict

import numpy as np
import torch

from .data import Dataset
from .persistence import atomic_json, sanitize
from .presets import SCHEDULE_KEYS, base_optimizer, check_label, load_preset
from .report import ARCH_LABELS, ARCH_ORDER, _fmt, _sorted_keys, load_records, write_report
from .runner import load_preset_data, portable_path, run_config

PHASES = ("tune", "main", "ablation")
HESSIAN_SUMMARY = ("entropy_gap", "trace", "top_eigenvalue", "sqrt_diag_trace", "r_med_nonzero", "sam_ascent")


# ----------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------


def study_config(cfg: dict) -> dict:
    """The preset's ``[study]`` table, validated against its grid."""
    st = cfg.get("study")
    if not isinstance(st, dict):
        raise ValueError(f"preset {cfg['name']!r} has no [study] table: not a study preset")
    labels = cfg["grid"]["optimizers"]
    baseline = st.get("baseline")
    if baseline not in labels:
        raise ValueError(f"study.baseline {baseline!r} is not a grid optimizer {labels}")
    grid = st.get("lr_grid", {})
    sizes = set()
    for label in labels:
        lrs = grid.get(label)
        if not isinstance(lrs, list) or not lrs or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                                       or v <= 0 for v in lrs):
            raise ValueError(f"study.lr_grid.{label} must be a non-empty list of positive learning rates")
        sizes.add(len(lrs))
    if len(sizes) > 1:
        raise ValueError("study.lr_grid: every optimizer needs the same number of learning rates (same budget)")
    ab = st.get("ablation", {})
    if ab:
        if ab.get("label") not in labels:
            raise ValueError(f"study.ablation.label {ab.get('label')!r} is not a grid optimizer {labels}")
        if not isinstance(ab.get("key"), str) or ab["key"] in SCHEDULE_KEYS or ab["key"] in ("optimizer", "note"):
            raise ValueError(f"study.ablation.key must name an optimizer option, got {ab.get('key')!r}")
        values = ab.get("values")
        if (not isinstance(values, list) or not values
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values)
                or len({f"{v:g}" for v in values}) != len(values)):
            raise ValueError(f"study.ablation.values must be a non-empty list of distinct numbers, got {values!r}")
    for key, default, lo, hi in (("alpha", 0.05, 0, 1), ("target_fraction", 0.95, 0, 1),
                                 ("validation_fraction", 0.2, 0, 1)):
        v = st.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v <= hi or (key == "alpha" and v >= 1):
            raise ValueError(f"study.{key} must be a number in (0, 1), got {v!r}")
    if 100 not in cfg["training"].get("checkpoints", [100]):
        raise ValueError("a study preset needs the 100 % checkpoint (the final accuracy) in training.checkpoints")
    return st


def validation_split(data: Dataset, fraction: float, seed: int = 2024) -> Dataset:
    """The tuning data: the training split divided, per class, into train and validation parts.

    A fixed permutation (``seed``) per class puts ``round(fraction · count)`` images of the
    class into the validation part, which plays the role of the test set in the tuning runs.
    """
    g = torch.Generator().manual_seed(seed)
    val = []
    for c in torch.unique(data.y_train):
        idx = torch.nonzero(data.y_train == c).flatten()
        idx = idx[torch.randperm(idx.numel(), generator=g)]
        val.append(idx[: int(round(fraction * idx.numel()))])
    val_idx = torch.sort(torch.cat(val)).values
    mask = torch.ones(data.y_train.numel(), dtype=torch.bool)
    mask[val_idx] = False
    if not val_idx.numel() or not mask.any():
        raise ValueError(f"validation_fraction {fraction} leaves an empty train or validation part")
    return Dataset(name=f"{data.name}-tuning-split", x_train=data.x_train[mask], y_train=data.y_train[mask],
                   x_test=data.x_train[val_idx], y_test=data.y_train[val_idx], num_classes=data.num_classes,
                   description=f"{data.description}; TUNING split: {int(mask.sum())} train / {val_idx.numel()} "
                               "validation images of the training split (test accuracy = validation accuracy)",
                   synthetic=data.synthetic)


def ablation_label(st: dict, value) -> str:
    ab = st["ablation"]
    return f"{ab['label']}@{ab['key']}={value:g}"


def _variant(cfg: dict, arch: str, label: str, new_label: str, **changes) -> None:
    """Add ``new_label`` to ``cfg``'s recipes of ``arch``: ``label``'s recipe with ``changes``."""
    recipe = copy.deepcopy(cfg["recipes"][arch][label])
    recipe["optimizer"] = base_optimizer(label, recipe)
    recipe.update(changes)
    cfg["recipes"][arch][new_label] = recipe


def phase_config(cfg: dict, phase: str, arch: str, chosen_lr: dict | None = None) -> dict:
    """The derived preset of one phase for one architecture (labels ``<label>@lr=<lr>`` etc.)."""
    st = study_config(cfg)
    out = copy.deepcopy({k: v for k, v in cfg.items() if k != "study"})
    out["grid"]["archs"] = [arch]
    out["recipes"] = {arch: copy.deepcopy(cfg["recipes"][arch])}
    labels = list(cfg["grid"]["optimizers"])
    if phase == "tune":
        out["hessian"]["enabled"] = False
        new = []
        for label in labels:
            for lr in st["lr_grid"][label]:
                name = check_label(f"{label}@lr={lr:g}")
                _variant(out, arch, label, name, lr=lr)
                new.append(name)
        out["grid"]["optimizers"] = new
    elif phase == "main":
        for label in labels:
            out["recipes"][arch][label]["lr"] = chosen_lr[label]
        out["report"] = {"rates_tuned": True, "rates_note": "by the study's tune phase: mean validation accuracy "
                         "of tuning seeds disjoint from these, 80/20 split of the training set"}
    elif phase == "ablation":
        ab = st["ablation"]
        out["hessian"]["enabled"] = False
        new = []
        for value in ab["values"]:
            name = check_label(ablation_label(st, value))
            _variant(out, arch, ab["label"], name, lr=chosen_lr[ab["label"]], **{ab["key"]: value})
            new.append(name)
        out["grid"]["optimizers"] = new
    else:
        raise ValueError(f"unknown phase {phase!r}; choose one of {PHASES}")
    return out


# ----------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------


def _final_accuracy(record: dict) -> float:
    """Final accuracy for the learning-rate selection: a diverged run counts as 0 %."""
    if record.get("status") != "complete" or not record["metrics"]:
        return 0.0
    return float(record["metrics"][-1]["test_accuracy"])


def choose_learning_rates(tune_dir: str, cfg: dict, arch: str, tune_seeds) -> dict:
    """``{label: {"lr", "grid": {lr: mean validation accuracy}, "edge"}}`` from the tuning runs of one architecture.

    Every (label, rate) must have a finished run for every tuning seed (and only those seeds count).
    """
    st = study_config(cfg)
    if not os.path.isdir(os.path.join(tune_dir, "runs")):
        raise ValueError(f"no tuning runs in {tune_dir}: run the tune phase first (--phases tune)")
    tune_seeds = sorted(tune_seeds)
    records = [r for r in load_records(tune_dir) if r["arch"] == arch and r["seed"] in tune_seeds]
    out = {}
    for label in cfg["grid"]["optimizers"]:
        grid = {}
        for lr in st["lr_grid"][label]:
            runs = {r["seed"]: r for r in records if r["optimizer"] == f"{label}@lr={lr:g}"}
            if sorted(runs) != tune_seeds:
                raise ValueError(f"incomplete tuning of {arch}/{label} at lr {lr:g}: seeds {sorted(runs)} of "
                                 f"{tune_seeds} in {tune_dir}; run the tune phase (it resumes)")
            grid[lr] = float(np.mean([_final_accuracy(r) for r in runs.values()]))
        best = max(grid, key=lambda lr: (grid[lr], -lr))  # ties: the smaller rate
        lrs = st["lr_grid"][label]
        out[label] = {"lr": best, "grid": grid, "edge": best in (min(lrs), max(lrs))}
    return out


def run_study(preset: str, *, out: str = "results", seeds=(0, 1, 2, 3, 4), tune_seeds=(100, 101),
              device: str = "auto", data_dir=None, name: str | None = None, archs=None, phases=PHASES,
              quiet: bool = False) -> str:
    """Run (or resume) the phases of a study preset; returns the study directory."""
    cfg = load_preset(preset, archs=archs)
    st = study_config(cfg)
    if set(seeds) & set(tune_seeds):
        raise ValueError(f"tuning seeds {sorted(tune_seeds)} overlap the evaluation seeds {sorted(seeds)}")
    for ph in phases:
        if ph not in PHASES:
            raise ValueError(f"unknown phase {ph!r}; choose from {PHASES}")
    study_dir = os.path.join(out, name or cfg["name"])
    os.makedirs(study_dir, exist_ok=True)
    # written first, so that an interrupted study can be reported on
    atomic_json(os.path.join(study_dir, "study.json"), {"preset": cfg["name"], "study": st,
                                                        "preset_source": portable_path(cfg.get("_source")),
                                                        "tune_seeds": sorted(tune_seeds), "seeds": sorted(seeds)})
    data, notes = load_preset_data(cfg, data_dir)
    tuning_data = (validation_split(data, float(st.get("validation_fraction", 0.2))), notes)
    for arch in cfg["grid"]["archs"]:
        common = dict(out=study_dir, device=device, quiet=quiet, write_outputs=False)
        if "tune" in phases:
            run_config(phase_config(cfg, "tune", arch), seeds=tune_seeds, name="tune", data=tuning_data, **common)
        if not {"main", "ablation"} & set(phases):
            continue
        chosen = choose_learning_rates(os.path.join(study_dir, "tune"), cfg, arch, tune_seeds)
        lrs = {k: v["lr"] for k, v in chosen.items()}
        if "main" in phases:
            run_config(phase_config(cfg, "main", arch, lrs), seeds=seeds, name="main", data=(data, notes), **common)
        if "ablation" in phases and st.get("ablation"):
            run_config(phase_config(cfg, "ablation", arch, lrs), seeds=seeds, name="ablation", data=(data, notes),
                       **common)
        atomic_json(os.path.join(study_dir, f"chosen_lr__{arch}.json"), chosen)  # after the runs it describes
    return study_dir


# ----------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control).

    A NaN (an undefined test) counts as p = 1: it stays in the family, so it still makes the others stricter.
    """
    ps = [1.0 if p != p else float(p) for p in pvalues]
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    adjusted = [1.0] * len(ps)
    running = 0.0
    m = len(ps)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        adjusted[i] = running
    return adjusted


def paired_comparison(variant: dict, baseline: dict, num_test: int | None = None) -> dict:
    """Paired statistics of ``{seed: accuracy in %}`` maps on their common seeds.

    With ``num_test`` (the test-set size) the differences are rounded to whole test images
    first (accuracies are multiples of ``100/num_test``), and reported back in %.
    """
    from scipy.stats import ttest_1samp, wilcoxon

    seeds = sorted(set(variant) & set(baseline))
    d = np.array([variant[s] - baseline[s] for s in seeds], dtype=np.float64)
    if num_test:
        d = np.round(d * num_test / 100.0) * 100.0 / num_test
    out = {"seeds": seeds, "n": len(seeds), "mean_difference": float(d.mean()) if d.size else math.nan,
           "sd_difference": float(d.std(ddof=1)) if d.size > 1 else math.nan, "t_p": math.nan, "wilcoxon_p": math.nan}
    if d.size >= 2 and np.all(d == 0):
        out["t_p"] = out["wilcoxon_p"] = 1.0
    elif d.size >= 2 and np.all(d == d[0]):
        out["degenerate"] = "identical non-zero differences: no t statistic (counted as p = 1)"
        out["wilcoxon_p"] = float(wilcoxon(d, zero_method="zsplit").pvalue)
    elif d.size >= 2:
        out["t_p"] = float(ttest_1samp(d, 0.0).pvalue)
        out["wilcoxon_p"] = float(wilcoxon(d, zero_method="zsplit").pvalue)
    return out


def verdict(mean_difference: float, adjusted_p: float, alpha: float) -> str:
    """``yes`` / ``no (worse)`` when the Holm-adjusted t-test decides at α, else ``inconclusive``."""
    if not (adjusted_p == adjusted_p) or adjusted_p >= alpha:
        return "inconclusive"
    return "yes" if mean_difference > 0 else "no (worse)"


def time_to_target(record: dict, target: float) -> tuple[float, float]:
    """``(step, training seconds)`` when the learning curve first reaches ``target`` (inf if never or diverged)."""
    if record.get("status", "complete") != "complete":
        return math.inf, math.inf
    for point in record.get("curve", []):
        if point["test_accuracy"] >= target:
            return float(point["step"]), float(point["train_seconds"])
    return math.inf, math.inf


def _by(records, arch, label) -> dict:
    return {r["seed"]: r for r in records if r["arch"] == arch and r["optimizer"] == label}


def _complete(runs: dict) -> dict:
    return {s: r for s, r in runs.items() if r.get("status") == "complete"}


def _accuracies(runs: dict) -> dict:
    return {s: float(r["metrics"][-1]["test_accuracy"]) for s, r in _complete(runs).items()}


def _accuracy_row(runs: dict) -> tuple[dict, dict]:
    """``({seed: accuracy} of the complete runs, summary fields)`` of one label's runs."""
    acc = _accuracies(runs)
    vals = np.array(list(acc.values()))
    return acc, {"seeds": len(runs), "complete": len(vals), "diverged": len(runs) - len(vals),
                 "accuracy_mean": float(vals.mean()) if vals.size else math.nan,
                 "accuracy_std": float(vals.std(ddof=1)) if vals.size > 1 else 0.0}


def _num_test(records) -> int | None:
    sizes = {r.get("num_test") for r in records}
    return sizes.pop() if len(sizes) == 1 else None


def _hessian_summary(runs: dict) -> dict:
    hess: dict = {}
    for key in HESSIAN_SUMMARY:
        for r in runs.values():
            for m in r["metrics"]:
                h = m.get("hessian") or {}
                v = (h.get("sam") or {}).get("ascent") if key == "sam_ascent" else h.get(key)
                if isinstance(v, dict):
                    v = v.get("value")
                if v is not None:
                    hess.setdefault(key, defaultdict(list))[m["percent"]].append(float(v))
    return {k: {p: [float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0]
                for p, v in sorted(per.items())} for k, per in hess.items()}


def _adjust(rows: list[dict], alpha: float) -> None:
    for r, p in zip(rows, holm([r["paired"]["t_p"] for r in rows])):
        r["paired"]["holm_p"] = p
        r["verdict"] = verdict(r["paired"]["mean_difference"], p, alpha)


def analyse(study_dir: str, cfg: dict) -> dict:
    """Every number of the study report, from the records on disk (diverged runs counted, not averaged)."""
    st = study_config(cfg)
    alpha = float(st.get("alpha", 0.05))
    baseline = st["baseline"]
    main = load_records(os.path.join(study_dir, "main"))
    ablation_dir = os.path.join(study_dir, "ablation")
    ablation = load_records(ablation_dir) if os.path.isdir(os.path.join(ablation_dir, "runs")) else []
    archs = _sorted_keys({r["arch"] for r in main}, ARCH_ORDER)
    result: dict = {"alpha": alpha, "baseline": baseline, "archs": {}}
    for arch in archs:
        chosen_path = os.path.join(study_dir, f"chosen_lr__{arch}.json")
        chosen = json.load(open(chosen_path)) if os.path.isfile(chosen_path) else {}
        num_test = _num_test([r for r in main if r["arch"] == arch])
        base_acc = _accuracies(_by(main, arch, baseline))
        target = st.get("target_fraction", 0.95) * float(np.mean(list(base_acc.values()))) if base_acc else math.nan
        rows = []
        for label in cfg["grid"]["optimizers"]:
            runs = _by(main, arch, label)
            if not runs:
                continue
            acc, summary = _accuracy_row(runs)
            lrs = {float(r["recipe"]["lr"]) for r in runs.values()}
            if len(lrs) != 1:
                raise ValueError(f"{arch}/{label}: the main runs used different learning rates {sorted(lrs)}")
            ttt = [time_to_target(r, target) for r in runs.values()]
            steps = np.array([t[0] for t in ttt])
            secs = np.array([t[1] for t in ttt])
            row = {"label": label, "lr": lrs.pop(), "lr_at_grid_edge": chosen.get(label, {}).get("edge"),
                   "lr_grid": chosen.get(label, {}).get("grid"), **summary,
                   "target_reached": int(np.isfinite(steps).sum()),
                   "median_steps_to_target": float(np.median(steps)),
                   "median_seconds_to_target": float(np.median(secs)),
                   "hessian": _hessian_summary(_complete(runs))}
            if label != baseline:
                row["paired"] = paired_comparison(acc, base_acc, num_test)
            rows.append(row)
        _adjust([r for r in rows if "paired" in r], alpha)
        ab_rows = []
        if st.get("ablation"):
            for value in st["ablation"]["values"]:
                runs = _by(ablation, arch, ablation_label(st, value))
                if not runs:
                    continue
                acc, summary = _accuracy_row(runs)
                ab_rows.append({"label": ablation_label(st, value), "value": float(value), **summary,
                                "paired": paired_comparison(acc, base_acc, num_test)})
            _adjust(ab_rows, alpha)
        result["archs"][arch] = {"target_accuracy": target, "num_test": num_test, "rows": rows,
                                 "ablation": ab_rows}
    return result


def _p(x) -> str:
    return "–" if x is None or x != x else (f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}")


def write_study_report(study_dir: str, preset: str | None = None, *, figures: bool = True) -> dict:
    """Analyse a study directory and write ``study.md`` / ``study_results.json`` (and ``main/report.md``)."""
    meta_path = os.path.join(study_dir, "study.json")
    if not os.path.isdir(study_dir):
        raise ValueError(f"study directory does not exist: {study_dir}")
    if preset is None:
        if not os.path.isfile(meta_path):
            raise ValueError(f"{study_dir} is not a study directory (no study.json); pass --preset")
        with open(meta_path) as fh:
            meta = json.load(fh)
        source = meta.get("preset_source")
        preset = source if source and os.path.isfile(source) else meta["preset"]
    cfg = load_preset(preset)
    st = study_config(cfg)
    res = analyse(study_dir, cfg)
    write_report(os.path.join(study_dir, "main"), figures=figures)
    atomic_json(os.path.join(study_dir, "study_results.json"), res)
    L = [f"# tanh-Lion study: {cfg['name']}", ""]
    L.append(f"{cfg.get('description', '')}")
    L.append("")
    L.append(f"Baseline: `{res['baseline']}`. Learning rate per optimizer label chosen from a grid of "
             f"{len(next(iter(st['lr_grid'].values())))} rates (the same number for every label) by the mean "
             f"*validation* accuracy of tuning runs (seeds disjoint from the evaluation seeds, trained on "
             f"{1 - st.get('validation_fraction', 0.2):.0%} of the training split, scored on the rest; the test set "
             f"is not used); **(edge)** marks a choice at the end of its grid. Paired by seed (same initialisation "
             f"and data order), differences in whole test images; p-values: paired t-test and exact Wilcoxon "
             f"signed-rank (its smallest two-sided value with 5 pairs is 0.0625); Holm-adjusted over all labels "
             f"compared with the baseline on an architecture; verdict at α = {res['alpha']} on the Holm-adjusted "
             f"t-test, *inconclusive* otherwise. The t-test assumes normal paired differences, which 5 pairs cannot "
             f"check; no exact test (Wilcoxon, sign-flip) can go below 0.0625 with 5 pairs, so every yes/no here "
             f"rests on that assumption (the exact Wilcoxon p beside it shows how far). Effect: Δ = mean ± SD of "
             f"the paired differences. Diverged runs are counted and left out of the tests. Hessian metrics and the "
             f"measure-ranking table: [main/report.md](main/report.md).")
    L.append("")
    for arch, a in res["archs"].items():
        lab = ARCH_LABELS.get(arch, arch)
        L.append(f"## {lab}")
        L.append("")
        L.append(f"Time to target: first step whose test accuracy reaches {st.get('target_fraction', 0.95):g} × "
                 f"the baseline's mean final accuracy = {_fmt(a['target_accuracy'])} %.")
        L.append("")
        L.append("| optimizer | lr (grid: mean tuning accuracy) | final accuracy (%) | Δ vs baseline | t-test p | "
                 "Wilcoxon p | Holm p | improves Lion? | reached target | median steps (s) to target |")
        L.append("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
        for r in a["rows"]:
            grid = ", ".join(f"{float(lr):g}: {acc:.1f}" for lr, acc in (r["lr_grid"] or {}).items())
            edge = " **(edge)**" if r.get("lr_at_grid_edge") else ""
            pr = r.get("paired", {})
            div = f", {r['diverged']} diverged" if r["diverged"] else ""
            L.append(f"| {r['label']} | {r['lr']:g}{edge} ({grid}) | {r['accuracy_mean']:.2f} ± "
                     f"{r['accuracy_std']:.2f} (n={r['complete']}{div}) | "
                     + (f"{pr['mean_difference']:+.2f} ± {pr['sd_difference']:.2f}" if pr else "–")
                     + f" | {_p(pr.get('t_p'))} | {_p(pr.get('wilcoxon_p'))} | {_p(pr.get('holm_p'))} | "
                     f"{r.get('verdict', 'baseline')} | {r['target_reached']}/{r['seeds']} | "
                     f"{_fmt(r['median_steps_to_target'])} ({_fmt(r['median_seconds_to_target'])}) |")
        L.append("")
        percents = sorted({int(p) for r in a["rows"] for per in r["hessian"].values() for p in per})
        if percents:
            L.append("Hessian metrics, mean ± SD over the seeds (sample SD), at the checkpoints "
                     + ", ".join(f"{p} %" for p in percents) + " (→ separates the checkpoints):")
            L.append("")
            L.append("R_med (structural zeros, i.e. zero Hessian rows, left out) is the plug-in max/median of the "
                     "probe-estimated diagonal (biased upward "
                     "by the probe noise of the largest entries; intervals in the records).")
            L.append("")
            L.append("| optimizer | " + " | ".join(HESSIAN_SUMMARY) + " |")
            L.append("|---|" + "---|" * len(HESSIAN_SUMMARY))
            for r in a["rows"]:
                cells = []
                for key in HESSIAN_SUMMARY:
                    per = r["hessian"].get(key, {})
                    cells.append(" → ".join(f"{_fmt(per[p][0])} ± {_fmt(per[p][1])}" for p in sorted(per, key=float))
                                 or "–")
                L.append(f"| {r['label']} | " + " | ".join(cells) + " |")
            L.append("")
        if a["ablation"]:
            ab = st["ablation"]
            L.append(f"Ablation: `{ab['label']}` at the learning rate tuned for its default `{ab['key']}` "
                     f"(so large changes of `{ab['key']}` also mistune the rate), `{ab['key']}` varied; paired "
                     f"against the baseline at its own tuned rate:")
            L.append("")
            L.append(f"| {ab['key']} | final accuracy (%) | Δ vs baseline | t-test p | Wilcoxon p | Holm p | "
                     "improves Lion? |")
            L.append("|---:|---:|---:|---:|---:|---:|---|")
            for r in a["ablation"]:
                pr = r["paired"]
                L.append(f"| {r['value']:g} | {r['accuracy_mean']:.2f} ± {r['accuracy_std']:.2f} | "
                         f"{pr['mean_difference']:+.2f} ± {pr['sd_difference']:.2f} | {_p(pr['t_p'])} | "
                         f"{_p(pr['wilcoxon_p'])} | {_p(pr['holm_p'])} | {r['verdict']} |")
            L.append("")
    with open(os.path.join(study_dir, "study.md"), "w") as fh:
        fh.write("\n".join(L))
    return sanitize(res)
