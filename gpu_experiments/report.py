"""Report of a results directory: tables, figures, theory cross-check and the paper's claims.

:func:`write_report` reads every ``runs/*/record.json`` of a results directory
and writes, next to them:

* ``metrics.csv`` / ``metrics.json`` -- one row per (architecture, optimizer,
  seed, checkpoint) with every scalar metric (:mod:`.report_records`);
* ``theory.csv`` -- one row per measured spectrum with the Theorem 3.2, Lemma
  3.5/3.6, Pinsker and Theorem 3.7 cross-check (:mod:`.report_theory`);
* ``summary.json`` -- the aggregated tables (mean, SD, k over seeds), the theory
  summary, the claims with every test (:mod:`.report_claims`) and the measure ranking;
* ``report.md`` -- all of it in Markdown, tables in the paper's layout (rows
  architecture x optimizer, columns % of training steps, mean ± SD over seeds);
* ``figures/*.png`` -- metric vs training step per optimizer, spectral densities
  per checkpoint (:mod:`.report_figures`).

Every verdict is computed from the numbers in the records each time the report
is written; nothing is asserted.  Claims are decided by exact permutation tests
with Holm's correction (:mod:`.report_statistics`); what the data cannot decide
is reported as inconclusive.  Unless the preset says its learning rates were
tuned on a validation split (``[report] rates_tuned = true``, set by the study's
main phase), the claims section says that the claims are not meant as findings.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import defaultdict

import numpy as np

from .persistence import read_json, sanitize
from .report_claims import evaluate_claims, measure_ranking
from .report_figures import write_figures
from .report_records import (  # noqa: F401 -- re-exported: other modules import these names from here
    ARCH_LABELS,
    ARCH_ORDER,
    OPT_LABELS,
    OPT_ORDER,
    RANKING_MEASURES,
    TABLES,
    _fmt,
    _num,
    _session_span,
    _sorted_keys,
    aggregate,
    flatten,
    label_of,
    load_records,
    load_sessions,
)
from .report_statistics import ALPHA, compare_groups, holm, spearman_exact_p  # noqa: F401
from .report_theory import (  # noqa: F401
    CHECKS,
    VACUOUS,
    _kind,
    bounds,
    check_status,
    kappa_needed,
    supremum_gap_fast,
    theory_rows,
    theory_summary,
)

_check_status = check_status  # former name


def _p(x) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}"


def _signed(x) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:+.3g}"


def paper_table(rows: list[dict], key: str, percents: list) -> str:
    """Markdown table in the paper's layout: rows 'Arch (Optimizer)', columns '% Steps'.

    Cells are ``mean ± SD`` over seeds (sample SD) when a cell has more than one seed, the
    single value otherwise; the caller's heading says which.
    """
    agg = aggregate(rows, key)
    if not agg:
        return ""
    archs = _sorted_keys({k[0] for k in agg}, ARCH_ORDER)
    opts = _sorted_keys({k[1] for k in agg}, OPT_ORDER)
    head = "| Configuration | " + " | ".join(f"{p:g} % Steps" for p in percents) + " |"
    lines = [head, "|---|" + "---|" * len(percents)]
    for a in archs:
        for o in opts:
            cells = []
            for p in percents:
                if (a, o, p) in agg:
                    mean, std, k = agg[(a, o, p)]
                    cells.append(f"{_fmt(mean)} ± {_fmt(std)}" if k > 1 else _fmt(mean))
                else:
                    cells.append("–")
            if any(c != "–" for c in cells):
                lines.append(f"| {ARCH_LABELS.get(a, a)} ({OPT_LABELS.get(o, o)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_csv(path: str, rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0].keys())
    for r in rows[1:]:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in keys})


def optimizer_measure_table(rows: list[dict], percent=100) -> list[str]:
    """Markdown: rows architecture x optimizer (seed means at ``percent``), columns accuracy and every measure."""
    agg = {key: aggregate(rows, key) for key in ["test_accuracy", *RANKING_MEASURES]}
    keys = [k for k in RANKING_MEASURES if any(kk[2] == percent for kk in agg[k])]
    cells = sorted({(a, o) for (a, o, p) in agg["test_accuracy"] if p == percent},
                   key=lambda c: (ARCH_ORDER.index(c[0]) if c[0] in ARCH_ORDER else 9,
                                  OPT_ORDER.index(c[1]) if c[1] in OPT_ORDER else 9, c[1]))
    L = ["| run | accuracy (%), mean ± SD | " + " | ".join(keys) + " |",
         "|---|---:|" + "---:|" * len(keys)]
    for a, o in cells:
        vals = [_fmt(agg[k].get((a, o, percent), (math.nan,))[0]) for k in keys]
        acc = agg["test_accuracy"][(a, o, percent)]
        L.append(f"| {label_of(a, ARCH_LABELS)} ({label_of(o, OPT_LABELS)}) | {acc[0]:.2f} ± {acc[1]:.2f} | "
                 + " | ".join(vals) + " |")
    return L


def _test_line(t: dict, alpha: float, family: int) -> str:
    """One test: what, test, effect size, exact p (with its floor), reference t-test p, Holm p, decision."""
    unit = f" {t['unit']}" if t.get("unit") else ""
    if "tau" in t:  # rank view
        return (f"{t['test']}: τ = {_signed(t['tau'])} (Spearman ρ = {_signed(t['rho'])}, exact p {_p(t['p_rho'])}), "
                f"exact p = {_p(t['p'])}, Holm p = {_p(t['p_holm'])} over {family} tests"
                f" -> {'significant' if t['decided'] else 'not significant'} at α = {alpha:g}")
    sd = f" ± {_fmt(t['sd'])} (SD of differences)" if t["sd"] == t["sd"] and t["test"].startswith("paired") else (
        f" (pooled SD {_fmt(t['sd'])})" if t["sd"] == t["sd"] else "")
    return (f"{t['test']}: mean difference {_signed(t['diff'])}{unit}{sd}, {t['effect_name']} = "
            f"{_fmt(t['effect'])}; exact p = {_p(t['p'])} (smallest attainable {_p(t['p_min'])}; "
            f"{t['t_name']} p = {_p(t['p_t'])}, for reference); Holm p = {_p(t['p_holm'])} over {family} tests"
            f" -> {'significant' if t['decided'] else 'not significant'} at α = {alpha:g}")


def claims_markdown(result: dict) -> list[str]:
    """The claims section: a verdict per claim and architecture, and every test behind it."""
    tests = result["tests"]
    alpha, family = result["alpha"], result["family"]
    L = []
    for text, c in result["claims"].items():
        L.append(f"- **{text}**: **{c['verdict']}**")
        for a, e in c.get("per_arch", {}).items():
            L.append(f"  - {label_of(a, ARCH_LABELS)}: **{e['verdict']}** ({e['reason']})")
            for tid in e["tests"]:
                t = tests[tid]
                if "tau" in t:
                    best = t["best_by_accuracy"]
                    best_s = (label_of(best[0], OPT_LABELS) if len(best) == 1
                              else "tie between " + ", ".join(label_of(o, OPT_LABELS) for o in best))
                    L.append(f"    - all {t['k']} optimizers (most accurate: {best_s}): {_test_line(t, alpha, family)}")
                else:
                    L.append(f"    - {t['what'].split(': ', 1)[1]}: {_test_line(t, alpha, family)}")
    return L


def ranking_markdown(ranking: dict, alpha: float = ALPHA) -> list[str]:
    """The measure-ranking table (signed Kendall τ beside Spearman ρ) and the best measure per architecture."""
    cols = list(ranking)
    L = ["Kendall τ and Spearman ρ between each measure and the final accuracy, **signed** (τ < 0: smaller "
         "values go with higher accuracy, the direction the sharpness hypotheses predict): over the optimizers' "
         "seed means (ranking the optimizers; exact permutation p over all k! orderings) and over all runs "
         "(p exact up to 8 runs, else asymptotic).", ""]
    L.append("| measure | " + " | ".join(
        f"{label_of(a, ARCH_LABELS)}: optimizers τ / ρ [p_τ] | {label_of(a, ARCH_LABELS)}: runs τ / ρ [p_τ]"
        if a != "all" else "pooled runs τ / ρ [p_τ] (confounded by architecture)" for a in cols) + " |")
    L.append("|---|" + "---|" * sum(2 if a != "all" else 1 for a in cols))
    for key in RANKING_MEASURES:
        if not any(key in ranking[a] for a in cols):
            continue
        cells = []
        for a in cols:
            e = ranking[a].get(key)
            if a != "all":
                cells.append(f"{_signed(e['tau_optimizers'])} / {_signed(e['rho_optimizers'])} "
                             f"[{_p(e['p_tau_optimizers'])}] (k={e['optimizers']})"
                             if e and "tau_optimizers" in e else "–")
            cells.append(f"{_signed(e['tau'])} / {_signed(e['rho'])} [{_p(e['p_tau'])}] (n={e['runs']})"
                         if e else "–")
        L.append(f"| {key} | " + " | ".join(cells) + " |")
    L.append("")
    for a in cols:
        b = ranking[a].get("best")
        if b is None:
            continue
        name = label_of(a, ARCH_LABELS)
        if not b["measures"]:
            L.append(f"- {name}: {b['note']}; no measure ranks the optimizers in the predicted direction.")
            continue
        L.append(f"- {name}: most negative τ over optimizer means: " + ", ".join(f"`{m}`" for m in b["measures"])
                 + f" (τ = {_signed(b['tau'])}, ρ = {_signed(b['rho'])}, exact p = {_p(b['p'])}, Holm p = "
                 f"{_p(b['p_holm'])} over {b['family']} measures) -> "
                 + ("significant" if b["significant"] else f"not significant at α = {alpha:g}: no measure is "
                    "shown to rank the optimizers"))
    return L


def theory_markdown(trows: list[dict], tsummary: dict, percents: list) -> list[str]:
    L = ["Per spectrum (`theory.csv` has every row): Thm 3.2's paper bound B(n,κ), the exact supremum "
         "G*(n,κ) = max_m G(n,m,κ) and the dimension-free bound c−1−log c against the measured entropy gap; "
         "Lemma 3.5 (gap ≤ TV·log κ), Lemma 3.6 (gap ≤ log(1+n·TV)), Pinsker (2TV² ≤ gap); Thm 3.7 (gap ≈ CV²/2 "
         "of the |eigenvalues|, judged within 5 %). Exact spectra of real networks are singular (κ = ∞): there "
         "B = G* = log n and Lemma 3.5's right side is ∞, so these checks are **vacuous** (labelled so); the "
         "`range` rows (the non-zero part of an exact spectrum, finite κ) are the real checks. On stochastic "
         "spectra κ is not estimable, so the bounds are evaluated at the lower bound κ_low = n·max|λ|/Σ|λ| ≤ κ: "
         "`holds (implied)` means the inequality follows at the true κ, `undetermined` that it needs "
         "κ ≥ κ_needed (reported).", ""]
    L.append("Verdicts over all measured spectra:")
    L.append("")
    for c in CHECKS:
        L.append(f"- {c}: **{tsummary['verdicts'].get(c, 'n/a')}**")
    L.append("")
    L.append("| spectra | n | checks (counts per verdict) | gap / (CV²/2): min, median, max |")
    L.append("|---|---:|---|---|")
    for kind, e in tsummary["kinds"].items():
        ns = sorted({t["n"] for t in trows if f"{_kind(t)}/{t['method']}" == kind})
        checks = "; ".join(f"{c}: " + ", ".join(f"{k} {v}" for k, v in sorted(e[c].items())) for c in CHECKS)
        rr = e.get("thm37_ratio_range")
        L.append(f"| {kind} ({e['spectra']}) | {ns[0] if len(ns) == 1 else f'{ns[0]}–{ns[-1]}'} | {checks} | "
                 f"{', '.join(_fmt(x) for x in rr) if rr else '–'} |")
    L.append("")
    final_t = [t for t in trows if t["percent"] == max(percents)]
    if final_t:
        L.append("Final checkpoint, mean over seeds:")
        L.append("")
        L.append("| run | spectrum | n | gap | κ (exact) / κ_low | B(n,κ) paper | G*(n,κ) | c−1−log c | "
                 "κ needed (paper) | TV | TV·log κ | log(1+nTV) | CV²/2 | Thm 3.7 |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        groups = defaultdict(list)
        for t in final_t:
            groups[(t["arch"], t["optimizer"], t["spectrum"], t["method"])].append(t)
        for (a, o, sp, meth), ts in sorted(groups.items(), key=lambda kv: (
                ARCH_ORDER.index(kv[0][0]) if kv[0][0] in ARCH_ORDER else 9,
                OPT_ORDER.index(kv[0][1]) if kv[0][1] in OPT_ORDER else 9, kv[0][1], kv[0][2])):
            def mean(key, ts=ts):
                v = np.array([t[key] for t in ts], dtype=float)
                return float(np.mean(v)) if v.size else math.nan
            kap = "κ=" if meth == "exact" else "κ_low="
            vac = " (vacuous)" if all(t["thm32_paper"] == VACUOUS for t in ts) else ""
            t37 = sorted({t["thm37"] for t in ts})
            L.append(f"| {label_of(a, ARCH_LABELS)} ({label_of(o, OPT_LABELS)}) | {sp} ({meth}) | {ts[0]['n']} | "
                     f"{_fmt(mean('entropy_gap'))} | {kap}{_fmt(mean('kappa'))} | {_fmt(mean('paper_bound'))}{vac} | "
                     f"{_fmt(mean('supremum_gap'))} | {_fmt(mean('dimension_free_bound'))} | "
                     f"{_fmt(mean('kappa_needed_paper'))} | {_fmt(mean('tv_uniform'))} | "
                     f"{_fmt(mean('lemma35_rhs'))} | {_fmt(mean('lemma36_rhs'))} | {_fmt(mean('spectrum_cv2_half'))} | "
                     f"{', '.join(t37)} |")
        L.append("")
    return L


def write_report(results_dir: str, *, figures: bool = True) -> dict:
    """Write every output file of a results directory (see the module docstring); returns the summary.

    Args:
        results_dir: a directory written by :func:`gpu_experiments.runner.run_grid`.
        figures: also draw the figures (matplotlib; the slowest part).
    """
    records = load_records(results_dir)
    grid_path = os.path.join(results_dir, "grid.json")
    grid = read_json(grid_path, "grid file", "delete it or restore it") if os.path.isfile(grid_path) else {}
    config = grid.get("config", {})
    rates_tuned = bool(config.get("report", {}).get("rates_tuned", False))
    rates_note = config.get("report", {}).get("rates_note", "")
    rows = flatten(records)
    trows = theory_rows(records)
    percents = sorted({r["percent"] for r in rows})
    claims = evaluate_claims(rows, max(percents))
    ranking = measure_ranking(rows, max(percents))
    tsummary = theory_summary(trows)

    _write_csv(os.path.join(results_dir, "metrics.csv"), rows)
    _write_csv(os.path.join(results_dir, "theory.csv"), trows)
    with open(os.path.join(results_dir, "metrics.json"), "w") as fh:
        json.dump(sanitize({"rows": rows}), fh, indent=1)
    tables = {}
    for key, _title, _, _ in TABLES:
        agg = aggregate(rows, key)
        if agg:
            tables[key] = [{"arch": a, "optimizer": o, "percent": p, "mean": m, "sd": s, "seeds": k}
                           for (a, o, p), (m, s, k) in sorted(agg.items())]
    summary = {"preset": grid.get("preset"), "device": grid.get("device"), "dataset": grid.get("dataset"),
               "synthetic_data": grid.get("synthetic_data", any(r.get("synthetic_data") for r in records)),
               "warnings": grid.get("warnings", []), "tables": tables, "claims": claims,
               "measure_ranking": ranking, "theory": tsummary, "rates_tuned": rates_tuned}
    with open(os.path.join(results_dir, "summary.json"), "w") as fh:
        json.dump(sanitize(summary), fh, indent=1)
    figures = write_figures(records, rows, os.path.join(results_dir, "figures")) if figures else []

    # ---- Markdown
    seeds = sorted({r["seed"] for r in records})
    L = []
    L.append(f"# Experiment report: {grid.get('preset', os.path.basename(results_dir))}")
    L.append("")
    if summary["synthetic_data"] or grid.get("warnings"):
        L.append("> **WARNING**")
        for w in grid.get("warnings", []) or ["these runs use SYNTHETIC data"]:
            L.append(f"> **{w}**")
        L.append("")
    sessions = load_sessions(results_dir)
    wall = sum(s.get("wall_seconds", 0.0) for s in sessions)
    span = _session_span(sessions)
    L.append(f"- data: {records[0].get('dataset_description')}")
    L.append(f"- device: {grid.get('device', records[0].get('device'))} ({grid.get('device_name', '')}), "
             f"torch {records[0].get('torch')}, CPU threads {grid.get('torch_threads', '?')}")
    L.append(f"- grid: {len(records)} finished runs; seeds {seeds}; steps per run "
             f"{sorted({r['total_steps'] for r in records})}")
    per_arch = defaultdict(set)
    for r in records:
        per_arch[r["arch"]].add((r["num_parameters"], r["num_parameter_tensors"]))
    for a, s in sorted(per_arch.items()):
        for npar, nt in s:
            L.append(f"- {ARCH_LABELS.get(a, a)}: {npar:,} parameters in {nt} tensors (blocks); options "
                     f"{next(r['model_options'] for r in records if r['arch'] == a)}")
    train_s = sum(r.get("train_seconds", 0.0) for r in records)
    hess_s = sum(r.get("hessian_seconds", 0.0) for r in records)
    L.append(f"- wall time: {wall:.0f} s summed over {len(sessions)} session(s)"
             + (f", {span:.0f} s from the first start to the last finish" if span else "")
             + f"; summed over runs: training {train_s:.0f} s, checkpoint metrics {hess_s:.0f} s")
    diverged = [r for r in records if r.get("status") == "diverged"]
    if diverged:
        L.append(f"- **diverged runs**: {[r.get('error') for r in diverged]}")
    measured = [m["hessian"] for r in records for m in r["metrics"] if m["hessian"]]
    if measured:
        h0 = measured[0]
        methods = sorted({h["method"] for h in measured})
        L.append(f"- Hessian: {h0['operator']} of the mean cross-entropy on a fixed evaluation set (same for all "
                 f"runs), mode `{h0['mode']}`, negative-eigenvalue policy `{h0['policy']}`, dtype {h0['dtype']}; "
                 f"path(s): {', '.join(methods)}")
    else:
        L.append("- Hessian: not measured (hessian.enabled = false)")
    L.append("")
    ks = sorted({k for key, *_ in TABLES for (_, _, _), (_, _, k) in aggregate(rows, key).items()})
    kdesc = "/".join(str(k) for k in ks) if ks else "?"
    L.append(f"## Tables (paper layout: mean ± SD over {kdesc} seeds; SD = sample standard deviation; "
             "a single seed prints its value)")
    L.append("")
    for key, title, definition, _ in TABLES:
        t = paper_table(rows, key, percents)
        if t:
            L.append(f"### {title}")
            L.append("")
            L.append(f"_{definition}_")
            L.append("")
            L.append(t)
            L.append("")
    L.append("## The paper's claims, computed")
    L.append("")
    if rates_tuned:
        L.append(f"Learning rates: tuned on a validation split{(' (' + rates_note + ')') if rates_note else ''}.")
    else:
        L.append("> **These claims are not meant as findings.** The learning rates of this preset were not tuned "
                 "(they are fixed per optimizer in the preset, e.g. Lion far below its tuned rate), so a "
                 "difference between optimizers may reflect the rates rather than the optimizers. The section "
                 "exercises the analysis; for findings use a preset whose rates are tuned on a validation split "
                 "(the tanh-Lion study does this).")
    L.append("")
    L.append(f"Final checkpoint ({max(percents):g} % of steps). Each comparison of SGD and Adam is paired by seed "
             "(same initialisation and data order) and tested with the exact sign-flip permutation test; each "
             "view over all optimizers with Kendall's τ over the optimizer means (exact permutation p). All "
             f"{claims['family']} p-values of this section are Holm-adjusted together; a part of a claim is decided "
             f"only when its adjusted p < α = {claims['alpha']:g}, otherwise it is **inconclusive** (so is every "
             "tie: no better optimizer). With k paired seeds no exact p can be below 2/2^k "
             "(0.25 for 3 seeds, 0.0625 for 5): such grids cannot decide any claim.")
    L.append("")
    L.extend(claims_markdown(claims))
    L.append("")
    L.append(f"### Which measure ranks the optimizers like the final accuracy? ({max(percents):g} % steps)")
    L.append("")
    L.append("Seed means per architecture x optimizer:")
    L.append("")
    L.extend(optimizer_measure_table(rows, max(percents)))
    L.append("")
    L.extend(ranking_markdown(ranking))
    L.append("")
    L.append("## Theory cross-check on the measured spectra")
    L.append("")
    L.extend(theory_markdown(trows, tsummary, percents))
    L.append("Per-block view of Thm 3.7 (blocks = parameter tensors, X_b = |tr H_bb|): entropy gap of "
             "p_b = X_b/ΣX vs CV(X)²/2, final checkpoint, mean over seeds:")
    L.append("")
    L.append("| run | blocks | gap of block traces | CV²/2 | ratio |")
    L.append("|---|---:|---:|---:|---:|")
    bg = aggregate(rows, "block_trace_entropy_gap")
    bc = aggregate(rows, "block_trace_cv2_half")
    nb = aggregate(rows, "num_blocks")
    for k in sorted(bg, key=lambda k: (ARCH_ORDER.index(k[0]) if k[0] in ARCH_ORDER else 9,
                                       OPT_ORDER.index(k[1]) if k[1] in OPT_ORDER else 9, k[1], k[2])):
        if k[2] != max(percents) or k not in bc:
            continue
        g, c = bg[k][0], bc[k][0]
        L.append(f"| {label_of(k[0], ARCH_LABELS)} ({label_of(k[1], OPT_LABELS)}) | {nb[k][0]:.0f} | {_fmt(g)} | "
                 f"{_fmt(c)} | {_fmt(g / c if c else math.nan)} |")
    L.append("")
    L.append("## Files")
    L.append("")
    L.append("`metrics.csv`/`metrics.json` (every metric of every checkpoint), `theory.csv` (every cross-check "
             "row), `summary.json` (tables, claims, ranking, theory summary), `runs/*/record.json` (raw records, "
             "including spectral densities and per-block traces), `figures/`:")
    L.append("")
    for f in figures:
        rel = os.path.relpath(f, results_dir)
        L.append(f"- [{rel}]({rel})")
    L.append("")
    with open(os.path.join(results_dir, "report.md"), "w") as fh:
        fh.write("\n".join(L))
    return summary
