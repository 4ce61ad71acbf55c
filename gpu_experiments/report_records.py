"""Records of a results directory, flattened: one row per (architecture, optimizer, seed, checkpoint).

:func:`load_records` reads ``runs/*/record.json`` (a malformed file is named in
the error), :func:`flatten` turns them into rows of scalar metrics,
:func:`aggregate` gives ``(mean, SD, k)`` over seeds; :data:`TABLES` and
:data:`RANKING_MEASURES` say which metrics the report shows and ranks.
"""

from __future__ import annotations

import glob
import math
import os
from collections import defaultdict

import numpy as np

from .persistence import read_json

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
    records = [read_json(p, "run record", "delete it (and rerun the cell) or restore it") for p in paths]
    if not records:
        raise ValueError(f"no finished runs in {results_dir}/runs (run `python -m gpu_experiments run` first)")
    return records


def load_sessions(results_dir: str) -> list[dict]:
    """The session files of a results directory (one per ``run`` invocation), oldest first."""
    return [read_json(p, "session file", "delete it (it only feeds the wall-time line)")
            for p in sorted(glob.glob(os.path.join(results_dir, "sessions", "*.json")))]


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
    """``{(arch, optimizer, percent): (mean, SD, k)}`` of a metric over seeds (NaNs dropped).

    SD is the sample standard deviation (``ddof = 1``); 0 for a single seed.
    """
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


def label_of(name: str, labels: dict) -> str:
    """Display label of an architecture/optimizer name; unknown names (study labels) as they are."""
    return labels.get(name, name)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.3e}"
    return f"{x:.4g}"
