"""The tanh-Lion study (issue 8): does replacing Lion's sign by a tanh improve Lion?

A study preset is an ordinary preset (grid, models, recipes, Hessian settings)
with a ``[study]`` table.  The study runs in three phases, each an ordinary
results directory under ``<out>/<name>/`` (resumable, finished runs never
recomputed):

1. ``tune/`` -- every grid optimizer label at every learning rate of its grid
   (``study.lr_grid.<label>``, the same number of points for every label) on the
   *tuning* seeds, without Hessian metrics.  The chosen rate maximises the mean
   final test accuracy over the tuning seeds (a diverged run counts as 0 %).
   The tuning seeds are disjoint from the evaluation seeds, so the selection
   does not see the runs it is judged on.
2. ``main/`` -- every label at its chosen rate on the evaluation seeds, with the
   Hessian metrics at the preset's checkpoints and a learning curve
   (``training.eval_every_steps``); its standard report (``main/report.md``)
   holds the Hessian tables and the measure-ranking table of issue 9.
3. ``ablation/`` -- ``study.ablation.label`` at its chosen rate with
   ``study.ablation.key`` (the tanh temperature) over ``study.ablation.values``,
   on the evaluation seeds, without Hessian metrics.

Statistics (:func:`analyse`), per architecture, each variant against the
baseline (``study.baseline``, Lion) on the same evaluation seeds: a seed fixes
the initialisation and the data order (:mod:`gpu_experiments.training`), so the
runs are *paired* by seed.  Reported: mean ± std of the final test accuracy, the
mean paired difference, the paired t-test p-value and the Wilcoxon signed-rank
p-value (exact for small samples), and Holm's step-down adjustment of the
t-test p-values over the variants of one architecture.  Verdict: ``yes`` when the
mean difference is positive and the Holm-adjusted p < ``study.alpha``; ``no
(worse)`` when it is negative with adjusted p < α; otherwise ``not
significant``.  Time to target: the first step (and training seconds) at which
the learning curve reaches ``study.target_fraction`` of the baseline's mean final
accuracy.

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

from .presets import base_optimizer, check_label, load_preset
from .report import ARCH_LABELS, ARCH_ORDER, _fmt, _sorted_keys, load_records, write_report
from .runner import load_preset_data, run_config
from .training import atomic_json, sanitize

PHASES = ("tune", "main", "ablation")
HESSIAN_SUMMARY = ("entropy_gap", "trace", "top_eigenvalue", "sqrt_diag_trace", "r_med", "sam_ascent")


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
        if not isinstance(ab.get("key"), str) or not ab.get("values"):
            raise ValueError("study.ablation needs a key (recipe option) and a non-empty list of values")
    alpha = st.get("alpha", 0.05)
    if not 0 < alpha < 1:
        raise ValueError(f"study.alpha must lie in (0, 1), got {alpha!r}")
    frac = st.get("target_fraction", 0.95)
    if not 0 < frac <= 1:
        raise ValueError(f"study.target_fraction must lie in (0, 1], got {frac!r}")
    return st


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
    elif phase == "ablation":
        ab = st["ablation"]
        out["hessian"]["enabled"] = False
        new = []
        for value in ab["values"]:
            name = check_label(f"{ab['label']}@{ab['key']}={value:g}")
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
    if record.get("status") != "complete" or not record["metrics"]:
        return 0.0  # a diverged run: as bad as it gets for the selection
    return float(record["metrics"][-1]["test_accuracy"])


def choose_learning_rates(tune_dir: str, cfg: dict, arch: str) -> dict:
    """``{label: {"lr", "grid": {lr: mean accuracy}, "edge"}}`` from the tuning runs of one architecture."""
    st = study_config(cfg)
    records = [r for r in load_records(tune_dir) if r["arch"] == arch]
    out = {}
    for label in cfg["grid"]["optimizers"]:
        grid = {}
        for lr in st["lr_grid"][label]:
            accs = [_final_accuracy(r) for r in records if r["optimizer"] == f"{label}@lr={lr:g}"]
            if accs:
                grid[lr] = float(np.mean(accs))
        if not grid:
            raise ValueError(f"no tuning runs of {arch}/{label} in {tune_dir}")
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
    data = load_preset_data(cfg, data_dir)
    for arch in cfg["grid"]["archs"]:
        common = dict(out=study_dir, device=device, quiet=quiet, data=data, write_outputs=False)
        if "tune" in phases:
            run_config(phase_config(cfg, "tune", arch), seeds=tune_seeds, name="tune", **common)
        if not {"main", "ablation"} & set(phases):
            continue
        chosen = choose_learning_rates(os.path.join(study_dir, "tune"), cfg, arch)
        atomic_json(os.path.join(study_dir, f"chosen_lr__{arch}.json"), chosen)
        lrs = {k: v["lr"] for k, v in chosen.items()}
        if "main" in phases:
            run_config(phase_config(cfg, "main", arch, lrs), seeds=seeds, name="main", **common)
        if "ablation" in phases and st.get("ablation"):
            run_config(phase_config(cfg, "ablation", arch, lrs), seeds=seeds, name="ablation", **common)
    atomic_json(os.path.join(study_dir, "study.json"), {"preset": cfg["name"], "study": st,
                                                        "preset_source": cfg.get("_source")})
    return study_dir


# ----------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control; NaNs pass through)."""
    idx = [i for i, p in enumerate(pvalues) if p == p]
    order = sorted(idx, key=lambda i: pvalues[i])
    adjusted = list(pvalues)
    running = 0.0
    m = len(order)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def paired_comparison(variant: dict, baseline: dict) -> dict:
    """Paired statistics of ``{seed: accuracy}`` maps on their common seeds."""
    from scipy.stats import ttest_rel, wilcoxon

    seeds = sorted(set(variant) & set(baseline))
    a = np.array([variant[s] for s in seeds], dtype=np.float64)
    b = np.array([baseline[s] for s in seeds], dtype=np.float64)
    d = a - b
    out = {"seeds": seeds, "n": len(seeds), "mean_difference": float(d.mean()) if d.size else math.nan,
           "sd_difference": float(d.std(ddof=1)) if d.size > 1 else math.nan, "t_p": math.nan, "wilcoxon_p": math.nan}
    if d.size >= 2 and np.any(d != d[0]):
        out["t_p"] = float(ttest_rel(a, b).pvalue)
    elif d.size >= 2 and d[0] != 0:  # identical non-zero differences: the t statistic is infinite
        out["t_p"] = 0.0
    if d.size >= 1 and np.any(d != 0):
        out["wilcoxon_p"] = float(wilcoxon(a, b, zero_method="zsplit").pvalue)
    return out


def verdict(mean_difference: float, adjusted_p: float, alpha: float) -> str:
    if not (adjusted_p == adjusted_p) or adjusted_p >= alpha:
        return "not significant"
    return "yes" if mean_difference > 0 else "no (worse)"


def time_to_target(record: dict, target: float) -> tuple[float, float]:
    """``(step, training seconds)`` when the learning curve first reaches ``target`` (inf if never)."""
    for point in record.get("curve", []):
        if point["test_accuracy"] >= target:
            return float(point["step"]), float(point["train_seconds"])
    return math.inf, math.inf


def _by(records, arch, label) -> dict:
    return {r["seed"]: r for r in records if r["arch"] == arch and r["optimizer"] == label}


def analyse(study_dir: str, cfg: dict) -> dict:
    """Every number of the study report, from the records on disk."""
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
        base = _by(main, arch, baseline)
        base_acc = {s: _final_accuracy(r) for s, r in base.items()}
        target = st.get("target_fraction", 0.95) * float(np.mean(list(base_acc.values()))) if base_acc else math.nan
        rows = []
        for label in cfg["grid"]["optimizers"]:
            runs = _by(main, arch, label)
            if not runs:
                continue
            acc = {s: _final_accuracy(r) for s, r in runs.items()}
            vals = np.array(list(acc.values()))
            ttt = [time_to_target(r, target) for r in runs.values()]
            steps = np.array([t[0] for t in ttt])
            secs = np.array([t[1] for t in ttt])
            row = {"label": label, "lr": chosen.get(label, {}).get("lr"), "lr_at_grid_edge":
                   chosen.get(label, {}).get("edge"), "lr_grid": chosen.get(label, {}).get("grid"),
                   "seeds": len(vals), "accuracy_mean": float(vals.mean()),
                   "accuracy_std": float(vals.std(ddof=1)) if vals.size > 1 else 0.0,
                   "diverged": sum(r.get("status") != "complete" for r in runs.values()),
                   "target_reached": int(np.isfinite(steps).sum()),
                   "median_steps_to_target": float(np.median(steps)),
                   "median_seconds_to_target": float(np.median(secs))}
            hess = {}
            for key in HESSIAN_SUMMARY:
                for r in runs.values():
                    for m in r["metrics"]:
                        h = m.get("hessian") or {}
                        v = h.get(key)
                        if key == "sam_ascent":
                            v = (h.get("sam") or {}).get("ascent")
                        elif isinstance(v, dict):
                            v = v.get("value")
                        if v is not None:
                            hess.setdefault(key, defaultdict(list))[m["percent"]].append(float(v))
            row["hessian"] = {k: {p: [float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0]
                                  for p, v in sorted(per.items())} for k, per in hess.items()}
            if label != baseline:
                row["paired"] = paired_comparison(acc, base_acc)
            rows.append(row)
        compared = [r for r in rows if "paired" in r]
        for r, p in zip(compared, holm([r["paired"]["t_p"] for r in compared])):
            r["paired"]["holm_p"] = p
            r["verdict"] = verdict(r["paired"]["mean_difference"], p, alpha)
        ab_rows = []
        for label in sorted({r["optimizer"] for r in ablation if r["arch"] == arch},
                            key=lambda s: float(s.rsplit("=", 1)[1])):
            acc = {s: _final_accuracy(r) for s, r in _by(ablation, arch, label).items()}
            vals = np.array(list(acc.values()))
            ab_rows.append({"label": label, "value": float(label.rsplit("=", 1)[1]), "seeds": len(vals),
                            "accuracy_mean": float(vals.mean()),
                            "accuracy_std": float(vals.std(ddof=1)) if vals.size > 1 else 0.0,
                            "paired": paired_comparison(acc, base_acc)})
        for r, p in zip(ab_rows, holm([r["paired"]["t_p"] for r in ab_rows])):
            r["paired"]["holm_p"] = p
            r["verdict"] = verdict(r["paired"]["mean_difference"], p, alpha)
        result["archs"][arch] = {"target_accuracy": target, "rows": rows, "ablation": ab_rows}
    return result


def _p(x) -> str:
    return "–" if x is None or x != x else (f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}")


def write_study_report(study_dir: str, preset: str | None = None, *, figures: bool = True) -> dict:
    """Analyse a study directory and write ``study.md`` / ``study.json`` (and ``main/report.md``)."""
    meta_path = os.path.join(study_dir, "study.json")
    if preset is None:
        if not os.path.isfile(meta_path):
            raise ValueError(f"{study_dir} is not a study directory (no study.json); pass --preset")
        with open(meta_path) as fh:
            meta = json.load(fh)
        preset = meta["preset"] if not meta.get("preset_source") or not os.path.isfile(meta["preset_source"]) else meta["preset_source"]
    cfg = load_preset(preset)
    st = study_config(cfg)
    res = analyse(study_dir, cfg)
    write_report(os.path.join(study_dir, "main"), figures=figures)
    atomic_json(os.path.join(study_dir, "study_results.json"), res)
    L = [f"# tanh-Lion study: {cfg['name']}", ""]
    L.append(f"{cfg.get('description', '')}")
    L.append("")
    L.append(f"Baseline: `{res['baseline']}`. Learning rate per optimizer label chosen on tuning seeds (disjoint "
             f"from the evaluation seeds) from a grid of {len(next(iter(st['lr_grid'].values())))} rates, same "
             f"for every label. Paired by seed (same initialisation and data order); p-values: paired t-test and "
             f"Wilcoxon signed-rank; Holm-adjusted over the variants of an architecture; verdict at "
             f"α = {res['alpha']} on the Holm-adjusted t-test. Hessian metrics and the measure-ranking table: "
             f"[main/report.md](main/report.md).")
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
            L.append(f"| {r['label']} | {r['lr']:g}{edge} ({grid}) | {r['accuracy_mean']:.2f} ± "
                     f"{r['accuracy_std']:.2f} (n={r['seeds']}) | "
                     + (f"{pr['mean_difference']:+.2f} ± {pr['sd_difference']:.2f}" if pr else "–")
                     + f" | {_p(pr.get('t_p'))} | {_p(pr.get('wilcoxon_p'))} | {_p(pr.get('holm_p'))} | "
                     f"{r.get('verdict', 'baseline')} | {r['target_reached']}/{r['seeds']} | "
                     f"{_fmt(r['median_steps_to_target'])} ({_fmt(r['median_seconds_to_target'])}) |")
        L.append("")
        percents = sorted({int(p) for r in a["rows"] for per in r["hessian"].values() for p in per})
        if percents:
            L.append("Hessian metrics (mean ± std over seeds) at the checkpoints "
                     + ", ".join(f"{p} %" for p in percents) + ":")
            L.append("")
            L.append("| optimizer | " + " | ".join(HESSIAN_SUMMARY) + " |")
            L.append("|---|" + "---|" * len(HESSIAN_SUMMARY))
            for r in a["rows"]:
                cells = []
                for key in HESSIAN_SUMMARY:
                    per = r["hessian"].get(key, {})
                    cells.append(" → ".join(f"{_fmt(per[p][0])}" for p in sorted(per, key=float)) or "–")
                L.append(f"| {r['label']} | " + " | ".join(cells) + " |")
            L.append("")
        if a["ablation"]:
            ab = st["ablation"]
            L.append(f"Ablation: `{ab['label']}` at its tuned lr, `{ab['key']}` varied; paired against the "
                     f"baseline at its own tuned lr:")
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
