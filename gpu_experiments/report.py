"""Report of a results directory: tables, figures, theory cross-check and the paper's claims.

:func:`write_report` reads every ``runs/*/record.json`` of a results directory
and writes, next to them:

* ``metrics.csv`` / ``metrics.json`` -- one row per (architecture, optimizer,
  seed, checkpoint) with every scalar metric;
* ``theory.csv`` -- one row per measured spectrum with the Theorem 3.2, Lemma
  3.5/3.6 and Theorem 3.7 cross-check;
* ``summary.json`` -- the aggregated tables (mean, std over seeds), the theory
  summary and the claim verdicts;
* ``report.md`` -- all of it in Markdown, tables in the paper's layout (rows
  architecture x optimizer, columns % of training steps, mean ± std over seeds);
* ``figures/*.png`` -- metric vs training step per optimizer, spectral densities
  per checkpoint.

Every verdict is computed from the numbers in the records each time the report
is written; nothing is asserted.  Comparisons between two optimizers use the
difference of their seed means and its standard error
``SE = sqrt(s₁²/k₁ + s₂²/k₂)``: a difference is *resolved* when it exceeds
``2 SE`` (with one seed only the sign is available and the verdict says so).
"""

from __future__ import annotations

import csv
import glob
import json
import math
import os
from collections import defaultdict

import numpy as np

ARCH_LABELS = {"resnet18": "ResNet18", "vit": "ViT", "mlp": "MLP", "cnn": "CNN"}
OPT_LABELS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "lion": "Lion", "tanh-lion": "tanh-Lion"}
ARCH_ORDER = ["resnet18", "vit", "mlp", "cnn"]
OPT_ORDER = ["sgd", "adam", "adamw", "lion", "tanh-lion"]

#: (key, title, definition, smaller_is_better) of the tables; the first five follow the paper's order
TABLES = [
    ("test_accuracy", "Test accuracy (%)", "accuracy on the held-out test split, eval mode", False),
    ("frac_positive_trace", "Fraction of blocks with positive curvature (our reading of the paper's table 2)",
     "fraction of parameter tensors b with tr H_bb > 0 (values are multiples of 1/#blocks, as in the paper; "
     "the paper does not define its table, this is the suite's reading)", None),
    ("trace", "Sharpness: trace of the Hessian", "tr H of the mean cross-entropy on the fixed evaluation set", True),
    ("entropy_gap", "Entropy gap", "log n − H(p), p = |λ| / Σ|λ| over the Hessian spectrum (policy in the header)",
     True),
    ("deviation_trace", "Deviation among blocks (CV of block traces)",
     "coefficient of variation (population) of |tr H_bb| across parameter tensors b", True),
    ("deviation_entropy_gap", "Deviation among blocks (CV of block entropy gaps)",
     "coefficient of variation of the per-tensor entropy gaps (block spectra on)", True),
    ("top_eigenvalue", "Top Hessian eigenvalue", "λ_max(H) (Lanczos; exact on the dense path)", True),
    ("sqrt_diag_trace", "tr(diag(H)^{1/2})", "Σ_j |H_jj|^{1/2} (Adam's implicit regulariser, seed 004)", True),
    ("train_loss", "Training loss", "mean cross-entropy on the training split, eval mode", True),
    ("renyi_2.0", "Rényi entropy H_2 of the normalised spectrum", "−log Σ p_i²", False),
    ("r_med", "R_med (seed 003)", "max_i |H_ii| / median_i |H_ii| over all parameters (numerics.rmed; "
     "reconstructed definition, see its docstring)", True),
    ("r_med_nonzero", "R_med without structural zeros", "as R_med, coordinates with H_ii = 0 (exact path) or a zero "
     "Hessian row (stochastic path) -- parameters the loss does not depend on -- left out", True),
    ("r_med_adam", "R_med of the Adam-preconditioned curvature", "max/median of |H_ii| / (sqrt(v̂_i) + ε) "
     "without structural zeros, Adam runs only", True),
    ("sam_ascent", "SAM sharpness (ρ = 0.05, projected-gradient ascent)", "max_{‖ε‖≤ρ} L(θ+ε) − L(θ) on the "
     "evaluation set (lower bound from the ascent)", True),
]
#: measures ranked against the final accuracy
RANKING_MEASURES = ["trace", "top_eigenvalue", "entropy_gap", "deviation_trace", "deviation_entropy_gap",
                    "sqrt_diag_trace", "renyi_2.0", "renyi_0.5", "r_med", "r_med_nonzero",
                    "r_med_nonzero_block_median", "sam_first_order", "sam_ascent"]


# ----------------------------------------------------------------------------
# loading and flattening
# ----------------------------------------------------------------------------


def _num(x):
    """JSON value -> float (``"inf"`` strings and ``None`` handled)."""
    if x is None:
        return math.nan
    if isinstance(x, str):
        return float(x)
    return float(x)


def load_records(results_dir: str) -> list[dict]:
    """Every finished record under ``results_dir/runs``."""
    if not os.path.isdir(results_dir):
        raise ValueError(f"results directory does not exist: {results_dir}")
    paths = sorted(glob.glob(os.path.join(results_dir, "runs", "*", "record.json")))
    records = []
    for p in paths:
        with open(p) as fh:
            try:
                records.append(json.load(fh))
            except json.JSONDecodeError as exc:
                raise ValueError(f"malformed record {p}: {exc}") from exc
    if not records:
        raise ValueError(f"no finished runs in {results_dir}/runs (run `python -m gpu_experiments run` first)")
    return records


def load_sessions(results_dir: str) -> list[dict]:
    """The session files of a results directory (one per ``run`` invocation), oldest first."""
    out = []
    for p in sorted(glob.glob(os.path.join(results_dir, "sessions", "*.json"))):
        with open(p) as fh:
            out.append(json.load(fh))
    return out


def _session_span(sessions: list[dict]) -> float | None:
    import datetime as _dt

    fmt = "%Y-%m-%d %H:%M:%S"
    try:
        starts = [_dt.datetime.strptime(s["started"], fmt) for s in sessions if "finished" in s]
        ends = [_dt.datetime.strptime(s["finished"], fmt) for s in sessions if "finished" in s]
    except (KeyError, ValueError):
        return None
    if not starts:
        return None
    return (max(ends) - min(starts)).total_seconds()


def _value(d, key):
    v = d.get(key)
    if isinstance(v, dict):
        return _num(v.get("value"))
    return _num(v)


def flatten(records: list[dict]) -> list[dict]:
    """One row per (arch, optimizer, seed, checkpoint) with every scalar metric."""
    rows = []
    for r in records:
        for m in r["metrics"]:
            h = m["hessian"] or {}  # None: a run without Hessian metrics (hessian.enabled = false)
            if not h:
                rows.append({"arch": r["arch"], "optimizer": r["optimizer"], "seed": r["seed"], "step": m["step"],
                             "percent": m["percent"], "status": r.get("status", "complete"),
                             "test_accuracy": _num(m["test_accuracy"]), "test_loss": _num(m["test_loss"]),
                             "train_loss": _num(m["train_loss"]), "lr": _num(m.get("lr"))})
                continue
            b = h.get("blocks", {})
            sam = h.get("sam", {})
            row = {
                "arch": r["arch"], "optimizer": r["optimizer"], "seed": r["seed"], "step": m["step"],
                "percent": m["percent"], "status": r.get("status", "complete"),
                "test_accuracy": _num(m["test_accuracy"]), "test_loss": _num(m["test_loss"]),
                "train_loss": _num(m["train_loss"]), "train_accuracy": _num(m.get("train_accuracy")),
                "train_loss_running": _num(m.get("train_loss_running")), "lr": _num(m.get("lr")),
                "hessian_method": h["method"], "n": h["n"], "policy": h["policy"], "hessian_mode": h["mode"],
                "trace": _value(h, "trace"),
                "trace_ci_low": _num(h["trace"]["ci_low"]), "trace_ci_high": _num(h["trace"]["ci_high"]),
                "trace_sq": _value(h, "trace_sq"),
                "top_eigenvalue": _value(h, "top_eigenvalue"),
                "entropy_gap": _value(h, "entropy_gap"),
                "entropy_gap_ci_low": _num(h["entropy_gap"]["ci_low"]),
                "entropy_gap_ci_high": _num(h["entropy_gap"]["ci_high"]),
                "renyi_0.5": _value(h.get("renyi", {}), "0.5"), "renyi_2.0": _value(h.get("renyi", {}), "2.0"),
                "sqrt_diag_trace": _value(h, "sqrt_diag_trace"),
                "tv_uniform": _num(h.get("tv_uniform")), "kappa": _num(h.get("kappa")),
                "kappa_low": _num(h.get("kappa_low")), "spectrum_cv2": _num(h.get("spectrum_cv2")),
                "trace_policy": _num(h.get("trace_policy")),
                "num_blocks": b.get("num_blocks"),
                "frac_positive_trace": _num(b.get("frac_positive_trace")),
                "deviation_trace": _num(b.get("deviation_trace")),
                "deviation_mean_curvature": _num(b.get("deviation_mean_curvature")),
                "deviation_entropy_gap": _num(b.get("deviation_entropy_gap")),
                "deviation_top_eigenvalue": _num(b.get("deviation_top_eigenvalue")),
                "block_trace_entropy_gap": _num(b.get("block_trace_entropy_gap")),
                "block_trace_cv2_half": _num(b.get("block_trace_cv2_half")),
                "r_med": _value(h, "r_med"),
                "r_med_block_median": _num(h.get("r_med", {}).get("block_median")),
                "r_med_nonzero": _value(h, "r_med_nonzero"),
                "r_med_nonzero_block_median": _num(h.get("r_med_nonzero", {}).get("block_median")),
                "r_med_adam": _value(h, "r_med_adam"),
                "sam_first_order": _num(sam.get("first_order")),
                "sam_second_order": _num(sam.get("second_order")),
                "sam_ascent": _num(sam.get("ascent")),
                "hessian_seconds": _num(h.get("seconds")),
            }
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------
# aggregation
# ----------------------------------------------------------------------------


def _sorted_keys(keys, order):
    return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))


def aggregate(rows: list[dict], key: str) -> dict:
    """``{(arch, optimizer, percent): (mean, std, count)}`` of a metric over seeds (NaNs dropped)."""
    groups = defaultdict(list)
    for r in rows:
        v = r.get(key)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            groups[(r["arch"], r["optimizer"], r["percent"])].append(float(v))
    out = {}
    for k, vals in groups.items():
        a = np.array(vals)
        with np.errstate(invalid="ignore"):  # R_med = ∞ in every seed: mean ∞, std NaN
            out[k] = (float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0, int(a.size))
    return out


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.3e}"
    return f"{x:.4g}"


def paper_table(rows: list[dict], key: str, percents: list) -> str:
    """Markdown table in the paper's layout: rows 'Arch (Optimizer)', columns '% Steps', mean ± std."""
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


# ----------------------------------------------------------------------------
# theory cross-check
# ----------------------------------------------------------------------------


def supremum_gap_fast(n: int, kappa: float) -> float:
    """``G*(n, κ) = max_{1≤m≤n−1} G(n, m, κ)`` in O(1) (``theorems.thm_3_2.supremum_gap`` scans all m).

    With ``s = 1 + (m/n)(κ − 1)``, ``G = c(1 − 1/s) − log s`` where ``c = κ log κ/(κ − 1)``, and
    ``dG/ds = (c − s)/s²``: G is unimodal in s, hence in m (s increases with m), with its
    continuous maximum at ``m* = n (c − 1)/(κ − 1)``; the integer maximum is at ``⌊m*⌋`` or ``⌈m*⌉``
    (clipped to ``[1, n − 1]``).  The tests compare it with the full scan.
    """
    from theorems.thm_3_2 import c_of_kappa, two_valued_gap

    if n < 2 or kappa == 1:
        return 0.0
    c = float(c_of_kappa(kappa))
    m_star = n * (c - 1) / (kappa - 1)
    candidates = {min(max(int(math.floor(m_star)), 1), n - 1), min(max(int(math.ceil(m_star)), 1), n - 1)}
    return float(max(two_valued_gap(n, m, kappa) for m in candidates))


def _bounds(n: int, kappa: float) -> dict:
    """Thm 3.2's paper bound B(n, κ), the exact supremum G*(n, κ) and the dimension-free bound at κ."""
    from theorems.thm_3_2 import dimension_free_bound, paper_bound

    supremum_gap = supremum_gap_fast

    if not kappa >= 1:
        return {"paper_bound": math.nan, "supremum_gap": math.nan, "dimension_free_bound": math.nan}
    if math.isinf(kappa):  # limits κ → ∞: B and G* tend to log n, the dimension-free bound diverges
        return {"paper_bound": math.log(n), "supremum_gap": math.log(n), "dimension_free_bound": math.inf}
    return {
        "paper_bound": float(paper_bound(n, kappa)),
        "supremum_gap": float(supremum_gap(n, kappa)),
        "dimension_free_bound": float(dimension_free_bound(kappa)),
    }


def kappa_needed(n: int, gap: float, bound: str = "paper") -> float:
    """Smallest κ at which the bound reaches ``gap`` (every bound of Thm 3.2 increases with κ).

    ``inf`` when the bound never reaches it (the paper bound and G* stay below log n).
    """
    from theorems.thm_3_2 import dimension_free_bound, paper_bound

    f = {"paper": lambda k: float(paper_bound(n, k)), "supremum": lambda k: supremum_gap_fast(n, k),
         "dimension_free": lambda k: float(dimension_free_bound(k))}[bound]
    if not gap > 0:
        return 1.0
    lo, hi = 0.0, 700.0  # log κ
    if f(math.exp(hi)) < gap:
        return math.inf
    for _ in range(50):  # 700 / 2^50: far below any reported digit
        mid = (lo + hi) / 2
        if f(math.exp(mid)) >= gap:
            hi = mid
        else:
            lo = mid
    return math.exp(hi)


def _check_status(lhs: float, rhs: float, exact: bool, rhs_is_lower: bool) -> str:
    """Verdict of ``lhs <= rhs`` for one spectrum.

    ``rhs_is_lower``: the right side was evaluated at a lower bound of κ, so it is a lower
    bound of the true right side: ``lhs <= rhs`` then implies the inequality, the converse says nothing.
    """
    if any(isinstance(x, float) and math.isnan(x) for x in (lhs, rhs)):
        return "n/a"
    ok = lhs <= rhs * (1 + 1e-9) + 1e-12
    if ok:
        return "holds" if exact else ("holds (implied)" if rhs_is_lower else "holds (estimate)")
    if rhs_is_lower:
        return "undetermined"
    return "violated" if exact else "violated (estimate)"


def _spectra_of(h: dict) -> list[tuple[str, dict]]:
    """``(label, {method, n, gap, kappa, tv, cv2})`` of every spectrum measured at one checkpoint.

    Exact spectra contribute twice: whole (κ = ∞ when singular) and restricted to their
    numerical range (positive definite, finite κ), labelled ``... range``.
    """
    out = []
    if not h:
        return out
    spectra = [("full", h)] + [(f"block {name}", bm) for name, bm in h.get("exact_blocks", {}).items()]
    for label, s in spectra:
        exact = s.get("method") == "exact"
        out.append((label, {"method": s.get("method"), "n": int(s["n"]), "gap": _value(s, "entropy_gap"),
                            "kappa": _num(s.get("kappa")) if exact else _num(s.get("kappa_low")),
                            "tv": _num(s.get("tv_uniform")), "cv2": _num(s.get("spectrum_cv2"))}))
        rg = s.get("range")
        if exact and rg and rg.get("rank", 0) >= 2:
            out.append((f"{label} range", {"method": "exact", "n": int(rg["rank"]), "gap": _num(rg["entropy_gap"]),
                                           "kappa": _num(rg["kappa"]), "tv": _num(rg["tv_uniform"]),
                                           "cv2": _num(rg["spectrum_cv2"])}))
    return out


def theory_rows(records: list[dict]) -> list[dict]:
    """The cross-check of every measured spectrum: full Hessian (exact or stochastic), exact blocks, ranges."""
    out = []
    for r in records:
        for m in r["metrics"]:
            for label, s in _spectra_of(m["hessian"] or {}):
                exact = s["method"] == "exact"
                n, gap, kappa, tv = s["n"], s["gap"], s["kappa"], s["tv"]
                row = {"arch": r["arch"], "optimizer": r["optimizer"], "seed": r["seed"], "percent": m["percent"],
                       "spectrum": label, "method": s["method"], "n": n, "entropy_gap": gap,
                       "kappa": kappa, "kappa_is_lower_bound": not exact, "tv_uniform": tv}
                row.update(_bounds(n, kappa) if not math.isnan(kappa) else _bounds(n, math.nan))
                lower = not exact
                row["thm32_paper"] = _check_status(gap, row["paper_bound"], exact, lower)
                row["thm32_supremum"] = _check_status(gap, row["supremum_gap"], exact, lower)
                row["thm32_dimension_free"] = _check_status(gap, row["dimension_free_bound"], exact, lower)
                row["kappa_needed_paper"] = kappa_needed(n, gap, "paper") if gap == gap else math.nan
                row["kappa_needed_supremum"] = kappa_needed(n, gap, "supremum") if gap == gap else math.nan
                row["kappa_threshold_n"] = _threshold(n)
                lemma35 = tv * math.log(kappa) if kappa >= 1 and tv == tv else math.nan
                row["lemma35_rhs"] = lemma35
                row["lemma35"] = _check_status(gap, lemma35, exact, lower)
                lemma36 = math.log1p(n * tv) if tv == tv else math.nan
                row["lemma36_rhs"] = lemma36
                row["lemma36"] = _check_status(gap, lemma36, exact, False)
                row["pinsker_lhs"] = 2 * tv * tv if tv == tv else math.nan
                row["pinsker"] = _check_status(row["pinsker_lhs"], gap, exact, False)
                cv2 = s["cv2"]
                row["spectrum_cv2_half"] = cv2 / 2
                row["thm37_ratio_gap_to_cv2_half"] = gap / (cv2 / 2) if cv2 > 0 else math.nan
                out.append(row)
    return out


_THRESHOLDS: dict = {}


def _threshold(n: int) -> float:
    """κ_n of ``theorems.thm_3_2.threshold_kappa`` (above it the paper's bound is the supremum), cached;
    NaN for n > 5000 (the scan over m is then too slow to repeat and κ_n is far above measured κ)."""
    if n > 5000:
        return math.nan
    if n not in _THRESHOLDS:
        from theorems.thm_3_2 import threshold_kappa

        t = threshold_kappa(n)
        _THRESHOLDS[n] = math.nan if t is None else float(t)
    return _THRESHOLDS[n]


def _kind(t: dict) -> str:
    """``full``, ``block`` or ``block range`` / ``full range``."""
    parts = t["spectrum"].split(" ")
    return parts[0] + (" range" if parts[-1] == "range" else "")


def theory_summary(trows: list[dict]) -> dict:
    """Counts of each verdict per check and spectrum kind, and the extreme margins."""
    checks = ["thm32_paper", "thm32_supremum", "thm32_dimension_free", "lemma35", "lemma36", "pinsker"]
    summary = {}
    for kind in sorted({(_kind(t), t["method"]) for t in trows}):
        sel = [t for t in trows if (_kind(t), t["method"]) == kind]
        entry = {"spectra": len(sel)}
        for c in checks:
            counts = defaultdict(int)
            for t in sel:
                counts[t[c]] += 1
            entry[c] = dict(counts)
        ratios = np.array([t["thm37_ratio_gap_to_cv2_half"] for t in sel], dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        if ratios.size:
            entry["thm37_ratio_range"] = [float(ratios.min()), float(np.median(ratios)), float(ratios.max())]
        excess = [t["entropy_gap"] - t["paper_bound"] for t in sel if t["method"] == "exact"
                  and np.isfinite(t["paper_bound"])]
        if excess:
            entry["max_gap_minus_paper_bound_exact"] = float(max(excess))
        summary[f"{kind[0]}/{kind[1]}"] = entry
    return summary


# ----------------------------------------------------------------------------
# claims
# ----------------------------------------------------------------------------


def _final_values(rows, key, percent) -> dict:
    """``{(arch, opt): np.array over seeds}`` at one checkpoint."""
    out = defaultdict(list)
    for r in rows:
        if r["percent"] == percent:
            v = r.get(key)
            if v is not None and v == v:
                out[(r["arch"], r["optimizer"])].append(float(v))
    return {k: np.array(v) for k, v in out.items()}


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    """Difference of means ``mean(a) − mean(b)`` with its standard error and resolution."""
    d = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return {"diff": d, "se": math.nan, "resolved": None}
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return {"diff": d, "se": se, "resolved": bool(abs(d) > 2 * se) if se > 0 else d != 0}


def _pair_verdict(rows, metric, arch, opts, percent) -> dict:
    """Is the metric smaller for the more accurate optimizer of the pair, on one architecture?"""
    acc = _final_values(rows, "test_accuracy", percent)
    val = _final_values(rows, metric, percent)
    o1, o2 = opts
    if (arch, o1) not in acc or (arch, o2) not in acc or (arch, o1) not in val or (arch, o2) not in val:
        return {"verdict": "n/a", "reason": "missing runs or metric"}
    better, worse = (o1, o2) if acc[(arch, o1)].mean() >= acc[(arch, o2)].mean() else (o2, o1)
    ca = compare(acc[(arch, better)], acc[(arch, worse)])
    cm = compare(val[(arch, better)], val[(arch, worse)])
    out = {
        "better": better, "worse": worse,
        "accuracy": {better: float(acc[(arch, better)].mean()), worse: float(acc[(arch, worse)].mean()),
                     "diff": ca["diff"], "se": ca["se"]},
        metric: {better: float(val[(arch, better)].mean()), worse: float(val[(arch, worse)].mean()),
                 "diff": cm["diff"], "se": cm["se"]},
    }
    if ca["resolved"] is False:
        out["verdict"] = "inconclusive"
        out["reason"] = "the accuracies are within 2 SE: no better optimizer"
    elif cm["resolved"] is None:
        out["verdict"] = "supported (1 seed)" if cm["diff"] < 0 else "contradicted (1 seed)"
        out["reason"] = "one seed: sign only"
    elif not cm["resolved"]:
        out["verdict"] = "inconclusive"
        out["reason"] = f"{metric} difference within 2 SE"
    else:
        out["verdict"] = "supported" if cm["diff"] < 0 else "contradicted"
        out["reason"] = f"{metric} of the better optimizer is {'smaller' if cm['diff'] < 0 else 'larger'} beyond 2 SE"
    return out


def _spearman(x, y) -> tuple[float, float]:
    """Spearman ``(ρ, two-sided p)``; NaNs for fewer than 3 points or a constant input."""
    from scipy.stats import spearmanr

    if len(x) < 3 or np.all(np.asarray(x) == x[0]) or np.all(np.asarray(y) == y[0]):
        return math.nan, math.nan
    res = spearmanr(x, y)
    return float(res.statistic), float(res.pvalue)


def _all_optimizer_view(rows, metric, arch, percent) -> dict:
    acc = _final_values(rows, "test_accuracy", percent)
    val = _final_values(rows, metric, percent)
    opts = [o for (a, o) in acc if a == arch and (a, o) in val]
    if len(opts) < 2:
        return {}
    accs = {o: float(acc[(arch, o)].mean()) for o in opts}
    vals = {o: float(val[(arch, o)].mean()) for o in opts}
    best = max(opts, key=accs.get)
    return {"best_by_accuracy": best, "smallest_metric": min(opts, key=vals.get),
            "best_has_smallest": min(opts, key=vals.get) == best,
            "spearman_accuracy_vs_metric": _spearman([accs[o] for o in opts], [vals[o] for o in opts])[0],
            "accuracy": accs, metric: vals}


def _overall(verdicts: list[str]) -> str:
    v = [x for x in verdicts if x != "n/a"]
    if not v:
        return "n/a"
    note = " (1 seed: signs only)" if any("1 seed" in x for x in v) else ""
    if any(x.startswith("contradicted") for x in v):
        return "not supported" + note
    if all(x.startswith("supported") for x in v):
        return "supported" + note
    return "inconclusive"


def evaluate_claims(rows: list[dict], percent=100) -> dict:
    """The paper's qualitative claims, computed from the final checkpoint."""
    archs = _sorted_keys({r["arch"] for r in rows}, ARCH_ORDER)
    opts_present = {r["optimizer"] for r in rows}
    pair = ("sgd", "adam") if {"sgd", "adam"} <= opts_present else None
    claims = {}
    # premise: SGD better on ResNet, Adam better on ViT
    prem = {}
    acc = _final_values(rows, "test_accuracy", percent)
    for a in archs:
        if pair and (a, "sgd") in acc and (a, "adam") in acc:
            c = compare(acc[(a, "sgd")], acc[(a, "adam")])
            prem[a] = {"sgd": float(acc[(a, "sgd")].mean()), "adam": float(acc[(a, "adam")].mean()), **c,
                       "better": "sgd" if c["diff"] > 0 else "adam"}
    expected = {"resnet18": "sgd", "vit": "adam"}
    pv = []
    for a, p in prem.items():
        if a in expected:
            if p["resolved"] is False:
                pv.append("inconclusive")
            else:
                pv.append(("supported" if p["better"] == expected[a] else "contradicted")
                          + (" (1 seed)" if p["resolved"] is None else ""))
    for a, p in prem.items():
        if a in expected:
            p["expected_better"] = expected[a]
            p["verdict"] = ("inconclusive" if p["resolved"] is False else
                            ("supported" if p["better"] == expected[a] else "contradicted"))
    claims["premise: SGD beats Adam on ResNet, Adam beats SGD on ViT (final test accuracy)"] = {
        "verdict": _overall(pv), "per_arch": prem}

    for metric, text in (("entropy_gap", "the better optimizer per architecture has the smaller entropy gap"),
                         ("deviation_trace", "the better optimizer per architecture has the smaller deviation "
                                             "among blocks (CV of block traces)"),
                         ("deviation_entropy_gap", "the better optimizer per architecture has the smaller deviation "
                                                   "among blocks (CV of block entropy gaps)")):
        if not any(r.get(metric) == r.get(metric) and r.get(metric) is not None for r in rows):
            continue
        per_arch = {}
        for a in archs:
            entry = {"all_optimizers": _all_optimizer_view(rows, metric, a, percent)}
            if pair:
                entry["sgd_vs_adam"] = _pair_verdict(rows, metric, a, pair, percent)
            per_arch[a] = entry
        verdicts = [e["sgd_vs_adam"]["verdict"] for e in per_arch.values() if "sgd_vs_adam" in e]
        claims[text] = {"verdict": _overall(verdicts), "metric": metric, "per_arch": per_arch}

    # sharpness alone does not explain the ranking
    per_arch = {}
    fails = []
    for a in archs:
        entry = {"all_optimizers": _all_optimizer_view(rows, "trace", a, percent)}
        if pair:
            pv_ = _pair_verdict(rows, "trace", a, pair, percent)
            entry["sgd_vs_adam"] = pv_
            fails.append(pv_["verdict"])
        per_arch[a] = entry
    # "smaller trace = better" contradicted somewhere -> sharpness alone does not explain -> claim supported
    if not fails or all(f == "n/a" for f in fails):
        verdict = "n/a"
    elif any(f.startswith("contradicted") for f in fails):
        verdict = "supported" + (" (1 seed: signs only)" if any("1 seed" in f for f in fails if
                                                                f.startswith("contradicted")) else "")
    elif all(f.startswith("supported") for f in fails):
        verdict = "not supported (smaller trace goes with the better optimizer on every architecture)"
    else:
        verdict = "inconclusive"
    claims["sharpness (trace) alone does not explain the ranking"] = {
        "verdict": verdict, "metric": "trace", "per_arch": per_arch,
        "rule": "supported when, on some architecture, the better optimizer has the larger trace beyond 2 SE"}
    return claims


def spearman_exact_p(x, y) -> float:
    """Two-sided exact permutation p-value of Spearman's ρ for few points (all ``k!`` orderings, k ≤ 8).

    scipy's t-approximation is meaningless for k ≈ 4-6 (it gives p = 0 at ρ = ±1, where the
    exact value is 2/k!).
    """
    import itertools

    from scipy.stats import rankdata, spearmanr

    k = len(x)
    if k > 8:
        raise ValueError(f"exact Spearman p-value enumerates k! orderings; k = {k} is too many")
    rho = _spearman(x, y)[0]
    if rho != rho:
        return math.nan  # a constant input has no ρ
    ry = rankdata(y)
    hits = 0
    for perm in itertools.permutations(rankdata(x)):
        r = spearmanr(perm, ry).statistic
        hits += abs(r) >= abs(rho) - 1e-12
    return hits / math.factorial(k)


def measure_ranking(rows: list[dict], percent=100) -> dict:
    """How well each measure ranks the runs, and the optimizers, of an architecture by final accuracy.

    Per architecture (and ``"all"``) and measure: Spearman ρ between the measure and
    the test accuracy over all runs (``rho``, two-sided ``p``, ``runs``), and over the
    optimizers' seed means (``rho_optimizers``, exact permutation ``p_optimizers``,
    ``optimizers``; 3 to 8 optimizers) -- the ranking of the optimizers themselves.  A measure that ranks like accuracy with smaller values
    better has ρ near −1; ``best`` names the measure with the largest ``|rho_optimizers|``
    (ties: larger ``|rho|`` over runs; a list, as exact ties remain with few optimizers).
    """
    out = {}
    archs = _sorted_keys({r["arch"] for r in rows}, ARCH_ORDER)
    final = [r for r in rows if r["percent"] == percent]
    for a in archs + ["all"]:
        sel = [r for r in final if a == "all" or r["arch"] == a]
        out[a] = {}
        for key in RANKING_MEASURES:
            # non-finite values (R_med = ∞ with a zero median) carry no ranking information
            ok = [r for r in sel if r.get(key) is not None and math.isfinite(r[key])]
            if len(ok) < 3:
                continue
            rho, p = _spearman([r["test_accuracy"] for r in ok], [r[key] for r in ok])
            entry = {"rho": rho, "p": p, "runs": len(ok)}
            if a != "all":
                means = defaultdict(list)
                for r in sel:
                    means[r["optimizer"]].append((r["test_accuracy"], r.get(key)))
                # an optimizer counts only when every seed has a finite value (same seeds on both sides)
                means = {o: vs for o, vs in means.items()
                         if all(v is not None and math.isfinite(v) for _, v in vs)}
                if len(means) >= 3:
                    acc = [float(np.mean([v[0] for v in vs])) for vs in means.values()]
                    val = [float(np.mean([v[1] for v in vs])) for vs in means.values()]
                    entry["rho_optimizers"] = _spearman(acc, val)[0]
                    entry["p_optimizers"] = spearman_exact_p(acc, val) if len(means) <= 8 else math.nan
                    entry["optimizers"] = len(means)
            out[a][key] = entry
        scored = [(abs(e.get("rho_optimizers", math.nan)), abs(e["rho"]), k) for k, e in out[a].items()
                  if e.get("rho_optimizers") == e.get("rho_optimizers") and "rho_optimizers" in e]
        if scored:
            top = max(sc[:2] for sc in scored)
            out[a]["best"] = sorted(k for *sc, k in scored if tuple(sc) == top)
    return out


def optimizer_measure_table(rows: list[dict], percent=100) -> list[str]:
    """Markdown: rows architecture x optimizer (seed means at ``percent``), columns accuracy and every measure."""
    agg = {key: aggregate(rows, key) for key in ["test_accuracy", *RANKING_MEASURES]}
    keys = [k for k in RANKING_MEASURES if any(kk[2] == percent for kk in agg[k])]
    cells = sorted({(a, o) for (a, o, p) in agg["test_accuracy"] if p == percent},
                   key=lambda c: (ARCH_ORDER.index(c[0]) if c[0] in ARCH_ORDER else 9,
                                  OPT_ORDER.index(c[1]) if c[1] in OPT_ORDER else 9, c[1]))
    L = ["| run | accuracy (%) | " + " | ".join(keys) + " |", "|---|---:|" + "---:|" * len(keys)]
    for a, o in cells:
        vals = [_fmt(agg[k].get((a, o, percent), (math.nan,))[0]) for k in keys]
        acc = agg["test_accuracy"][(a, o, percent)]
        L.append(f"| {ARCH_LABELS.get(a, a)} ({OPT_LABELS.get(o, o)}) | {acc[0]:.2f} ± {acc[1]:.2f} | "
                 + " | ".join(vals) + " |")
    return L


# ----------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------


FIGURE_METRICS = ["test_accuracy", "train_loss", "trace", "top_eigenvalue", "entropy_gap", "deviation_trace",
                  "deviation_entropy_gap", "sqrt_diag_trace"]


def write_figures(records: list[dict], rows: list[dict], fig_dir: str) -> list[str]:
    """Metric vs training step per optimizer (mean ± std over seeds); spectral densities per checkpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(fig_dir, exist_ok=True)
    written = []
    archs = _sorted_keys({r["arch"] for r in rows}, ARCH_ORDER)
    opts = _sorted_keys({r["optimizer"] for r in rows}, OPT_ORDER)
    for key in FIGURE_METRICS:
        if not any(r.get(key) == r.get(key) and r.get(key) is not None for r in rows):
            continue
        fig, axes = plt.subplots(1, len(archs), figsize=(5 * len(archs), 3.6), squeeze=False)
        for ax, a in zip(axes[0], archs):
            for o in opts:
                groups = defaultdict(list)
                for r in rows:
                    if r["arch"] == a and r["optimizer"] == o and r[key] == r[key]:
                        groups[r["step"]].append(r[key])
                if not groups:
                    continue
                steps = sorted(groups)
                mean = np.array([np.mean(groups[s]) for s in steps])
                std = np.array([np.std(groups[s]) for s in steps])
                ax.plot(steps, mean, marker="o", ms=3, label=OPT_LABELS.get(o, o))
                ax.fill_between(steps, mean - std, mean + std, alpha=0.2)
            ax.set_title(f"{ARCH_LABELS.get(a, a)}: {key}")
            ax.set_xlabel("training step")
            if key in ("trace", "top_eigenvalue", "train_loss", "sqrt_diag_trace"):
                vals = [r[key] for r in rows if r["arch"] == a and r[key] == r[key]]
                if vals and min(vals) > 0:
                    ax.set_yscale("log")
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(fig_dir, f"metric_{key}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    # spectral densities: one figure per architecture, one panel per checkpoint, first seed of each optimizer
    for a in archs:
        recs = [r for r in records if r["arch"] == a]
        if not recs:
            continue
        seed0 = min(r["seed"] for r in recs)
        recs = sorted([r for r in recs if r["seed"] == seed0], key=lambda r: OPT_ORDER.index(r["optimizer"])
                      if r["optimizer"] in OPT_ORDER else 99)
        percents = recs[0]["checkpoint_percents"]
        fig, axes = plt.subplots(1, len(percents), figsize=(3.3 * len(percents), 3.2), squeeze=False)
        for ax, (i, p) in zip(axes[0], enumerate(percents)):
            for r in recs:
                if i >= len(r["metrics"]):
                    continue
                d = (r["metrics"][i]["hessian"] or {}).get("density")
                if not d:
                    continue
                dens = np.maximum(np.array(d["density"], dtype=float), 1e-12)
                ax.plot(d["grid"], dens, lw=1, label=OPT_LABELS.get(r["optimizer"], r["optimizer"]))
            ax.set_yscale("log")
            ax.set_ylim(bottom=1e-8)
            ax.set_title(f"{p:g} % steps", fontsize=9)
            ax.set_xlabel("eigenvalue", fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0][0].set_ylabel(f"{ARCH_LABELS.get(a, a)} spectral density (seed {seed0})", fontsize=8)
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(fig_dir, f"density_{a}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


# ----------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------


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


def _claims_markdown(claims: dict) -> list[str]:
    lines = []
    for text, c in claims.items():
        lines.append(f"- **{text}**: **{c['verdict']}**")
        metric = c.get("metric")
        for a, e in c.get("per_arch", {}).items():
            label = ARCH_LABELS.get(a, a)
            if metric is None:
                if "diff" in e:
                    se = "" if e["se"] != e["se"] else f" (SE {_fmt(e['se'])})"
                    lines.append(f"  - {label}: SGD {_fmt(e['sgd'])} % vs Adam {_fmt(e['adam'])} %, "
                                 f"difference {_fmt(e['diff'])}{se}"
                                 + (f" -> {e['verdict']}" if "verdict" in e else " (no expectation stated)"))
                continue
            pv = e.get("sgd_vs_adam")
            if pv and pv.get("verdict") != "n/a":
                b, w = pv["better"], pv["worse"]
                m = pv[metric]
                se = "" if m["se"] != m["se"] else f", SE {_fmt(m['se'])}"
                lines.append(
                    f"  - {label}, SGD vs Adam: better = {OPT_LABELS[b]} ({_fmt(pv['accuracy'][b])} % vs "
                    f"{_fmt(pv['accuracy'][w])} %); {metric}: {OPT_LABELS[b]} {_fmt(m[b])} vs {OPT_LABELS[w]} "
                    f"{_fmt(m[w])} (difference {_fmt(m['diff'])}{se}) -> {pv['verdict']} ({pv['reason']})")
            ao = e.get("all_optimizers")
            if ao:
                lines.append(
                    f"  - {label}, all optimizers: best = {OPT_LABELS.get(ao['best_by_accuracy'])}, smallest "
                    f"{metric} = {OPT_LABELS.get(ao['smallest_metric'])}; Spearman(accuracy, {metric}) over "
                    f"optimizer means = {_fmt(ao['spearman_accuracy_vs_metric'])}")
    return lines


def write_report(results_dir: str, *, figures: bool = True) -> dict:
    """Write every output file of a results directory (see the module docstring); returns the summary.

    Args:
        results_dir: a directory written by :func:`gpu_experiments.runner.run_grid`.
        figures: also draw the figures (matplotlib; the slowest part).
    """
    records = load_records(results_dir)
    grid_path = os.path.join(results_dir, "grid.json")
    grid = {}
    if os.path.isfile(grid_path):
        with open(grid_path) as fh:
            grid = json.load(fh)
    rows = flatten(records)
    trows = theory_rows(records)
    percents = sorted({r["percent"] for r in rows})
    claims = evaluate_claims(rows)
    ranking = measure_ranking(rows)
    tsummary = theory_summary(trows)

    from .training import sanitize

    _write_csv(os.path.join(results_dir, "metrics.csv"), rows)
    _write_csv(os.path.join(results_dir, "theory.csv"), trows)
    with open(os.path.join(results_dir, "metrics.json"), "w") as fh:
        json.dump(sanitize({"rows": rows}), fh, indent=1)
    tables = {}
    for key, title, _, _ in TABLES:
        agg = aggregate(rows, key)
        if agg:
            tables[key] = [{"arch": a, "optimizer": o, "percent": p, "mean": m, "std": s, "seeds": k}
                           for (a, o, p), (m, s, k) in sorted(agg.items())]
    summary = {"preset": grid.get("preset"), "device": grid.get("device"), "dataset": grid.get("dataset"),
               "synthetic_data": grid.get("synthetic_data", any(r.get("synthetic_data") for r in records)),
               "warnings": grid.get("warnings", []), "tables": tables, "claims": claims,
               "measure_ranking": ranking, "theory": tsummary}
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
    L.append("## Tables (paper layout: mean ± std over seeds)")
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
    L.append("Final checkpoint (100 % of steps). A difference counts when it exceeds 2 standard errors of the "
             "difference of seed means.")
    L.append("")
    L.extend(_claims_markdown(claims))
    L.append("")
    L.append("### Which measure ranks the optimizers like the final accuracy? (100 % steps)")
    L.append("")
    L.append("Seed means per architecture x optimizer:")
    L.append("")
    L.extend(optimizer_measure_table(rows))
    L.append("")
    L.append("Spearman ρ with the final accuracy: over the optimizers' seed means (ranking the optimizers), "
             "and over all runs (two-sided p in brackets). ρ < 0: smaller values go with higher accuracy.")
    L.append("")
    cols = [a for a in ranking]
    L.append("| measure | " + " | ".join(f"{ARCH_LABELS.get(a, a)}: optimizers | {ARCH_LABELS.get(a, a)}: runs"
                                          if a != "all" else "pooled runs (confounded by architecture)"
                                          for a in cols) + " |")
    L.append("|---|" + "---|" * sum(2 if a != "all" else 1 for a in cols))
    for key in RANKING_MEASURES:
        if not any(key in ranking[a] for a in cols):
            continue
        cells = []
        for a in cols:
            e = ranking[a].get(key)
            if a != "all":
                cells.append(f"{_fmt(e['rho_optimizers'])} [p={_fmt(e['p_optimizers'])}] (k={e['optimizers']})"
                             if e and "rho_optimizers" in e else "–")
            cells.append(f"{_fmt(e['rho'])} [p={_fmt(e['p'])}] (n={e['runs']})" if e else "–")
        L.append(f"| {key} | " + " | ".join(cells) + " |")
    L.append("")
    best = {a: ranking[a]["best"] for a in cols if "best" in ranking[a]}
    if best:
        L.append("Best-ranking measure (largest |ρ| over optimizer means; p over optimizers is the exact "
                 "permutation value, at least 2/k! (more with ties)): "
                 + "; ".join(f"{ARCH_LABELS.get(a, a)}: " + ", ".join(f"`{k}`" for k in ks)
                             + f" (ρ = {_fmt(ranking[a][ks[0]]['rho_optimizers'])})" for a, ks in best.items()) + ".")
        L.append("")
    L.append("## Theory cross-check on the measured spectra")
    L.append("")
    L.append("Per spectrum (`theory.csv` has every row): Thm 3.2's paper bound B(n,κ), the exact supremum "
             "G*(n,κ) = max_m G(n,m,κ) and the dimension-free bound c−1−log c (`theorems.thm_3_2`) against the "
             "measured entropy gap; Lemma 3.5 (gap ≤ TV·log κ), Lemma 3.6 (gap ≤ log(1+n·TV)), Pinsker "
             "(2TV² ≤ gap); Thm 3.7 (gap ≈ CV²/2 of the |eigenvalues|). On stochastic spectra κ is not "
             "estimable, so the bounds are evaluated at the lower bound κ_low = n·max|λ|/Σ|λ| ≤ κ: "
             "`holds (implied)` means the inequality follows at the true κ, `undetermined` that it needs "
             "κ ≥ κ_needed (reported).")
    L.append("")
    L.append("| spectra | n | checks (counts per verdict) | gap / (CV²/2): min, median, max |")
    L.append("|---|---:|---|---|")
    for kind, e in tsummary.items():
        ns = sorted({t["n"] for t in trows if f"{_kind(t)}/{t['method']}" == kind})
        checks = "; ".join(f"{c}: " + ", ".join(f"{k} {v}" for k, v in sorted(e[c].items()))
                           for c in ("thm32_paper", "thm32_supremum", "thm32_dimension_free", "lemma35", "lemma36",
                                     "pinsker"))
        rr = e.get("thm37_ratio_range")
        L.append(f"| {kind} ({e['spectra']}) | {ns[0] if len(ns) == 1 else f'{ns[0]}–{ns[-1]}'} | {checks} | "
                 f"{', '.join(_fmt(x) for x in rr) if rr else '–'} |")
    L.append("")
    final_t = [t for t in trows if t["percent"] == max(percents)]
    if final_t:
        L.append("Final checkpoint, mean over seeds:")
        L.append("")
        L.append("| run | spectrum | n | gap | κ (exact) / κ_low | B(n,κ) paper | G*(n,κ) | c−1−log c | "
                 "κ needed (paper) | TV | TV·log κ | log(1+nTV) | CV²/2 |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        groups = defaultdict(list)
        for t in final_t:
            groups[(t["arch"], t["optimizer"], t["spectrum"], t["method"])].append(t)
        for (a, o, sp, meth), ts in sorted(groups.items(), key=lambda kv: (
                ARCH_ORDER.index(kv[0][0]) if kv[0][0] in ARCH_ORDER else 9,
                OPT_ORDER.index(kv[0][1]) if kv[0][1] in OPT_ORDER else 9, kv[0][2])):
            def mean(key):
                v = np.array([t[key] for t in ts], dtype=float)
                return float(np.mean(v)) if v.size else math.nan
            kap = "κ=" if meth == "exact" else "κ_low="
            L.append(f"| {ARCH_LABELS.get(a, a)} ({OPT_LABELS.get(o, o)}) | {sp} ({meth}) | {ts[0]['n']} | "
                     f"{_fmt(mean('entropy_gap'))} | {kap}{_fmt(mean('kappa'))} | {_fmt(mean('paper_bound'))} | "
                     f"{_fmt(mean('supremum_gap'))} | {_fmt(mean('dimension_free_bound'))} | "
                     f"{_fmt(mean('kappa_needed_paper'))} | {_fmt(mean('tv_uniform'))} | "
                     f"{_fmt(mean('lemma35_rhs'))} | {_fmt(mean('lemma36_rhs'))} | {_fmt(mean('spectrum_cv2_half'))} |")
        L.append("")
    L.append("Per-block view of Thm 3.7 (blocks = parameter tensors, X_b = |tr H_bb|): entropy gap of "
             "p_b = X_b/ΣX vs CV(X)²/2, final checkpoint, mean over seeds:")
    L.append("")
    L.append("| run | blocks | gap of block traces | CV²/2 | ratio |")
    L.append("|---|---:|---:|---:|---:|")
    bg = aggregate(rows, "block_trace_entropy_gap")
    bc = aggregate(rows, "block_trace_cv2_half")
    nb = aggregate(rows, "num_blocks")
    for k in sorted(bg, key=lambda k: (ARCH_ORDER.index(k[0]) if k[0] in ARCH_ORDER else 9,
                                       OPT_ORDER.index(k[1]) if k[1] in OPT_ORDER else 9, k[2])):
        if k[2] != max(percents) or k not in bc:
            continue
        g, c = bg[k][0], bc[k][0]
        L.append(f"| {ARCH_LABELS.get(k[0], k[0])} ({OPT_LABELS.get(k[1], k[1])}) | {nb[k][0]:.0f} | {_fmt(g)} | "
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
