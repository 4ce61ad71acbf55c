"""Figures of a results directory: metrics vs training step, spectral densities per checkpoint."""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from .report_records import ARCH_LABELS, ARCH_ORDER, OPT_LABELS, OPT_ORDER, _sorted_keys

#: (key, y-axis label with unit); the Hessian is that of the mean cross-entropy (nats) w.r.t. the parameters
FIGURE_METRICS = [
    ("test_accuracy", "test accuracy (%)"),
    ("train_loss", "training loss (mean cross-entropy, nats)"),
    ("trace", "tr H (nats / parameter²)"),
    ("top_eigenvalue", "λ_max(H) (nats / parameter²)"),
    ("entropy_gap", "entropy gap log n − H(p) (nats)"),
    ("deviation_trace", "CV of block traces |tr H_bb| (dimensionless)"),
    ("deviation_entropy_gap", "CV of block entropy gaps (dimensionless)"),
    ("sqrt_diag_trace", "Σ_j |H_jj|^½ (nats^½ / parameter)"),
]


def write_figures(records: list[dict], rows: list[dict], fig_dir: str) -> list[str]:
    """Metric vs training step per optimizer; spectral densities per checkpoint.

    Lines are seed means and bands ±1 sample SD (``ddof = 1``) over the k seeds of each
    optimizer (no band for one seed); the title says k.  Density panels are matched to the
    checkpoints by percentage, not by position.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(fig_dir, exist_ok=True)
    written = []
    archs = _sorted_keys({r["arch"] for r in rows}, ARCH_ORDER)
    opts = _sorted_keys({r["optimizer"] for r in rows}, OPT_ORDER)
    for key, ylabel in FIGURE_METRICS:
        if not any(r.get(key) == r.get(key) and r.get(key) is not None for r in rows):
            continue
        seeds_used = set()
        fig, axes = plt.subplots(1, len(archs), figsize=(5 * len(archs), 3.6), squeeze=False)
        for ax, a in zip(axes[0], archs):
            for o in opts:
                by_step = defaultdict(dict)  # {step: {seed: value}}: short runs repeat a step under two percentages
                for r in rows:
                    if r["arch"] == a and r["optimizer"] == o and r[key] == r[key]:
                        by_step[r["step"]][r["seed"]] = r[key]
                groups = {s: list(v.values()) for s, v in by_step.items()}
                if not groups:
                    continue
                steps = sorted(groups)
                mean = np.array([np.mean(groups[s]) for s in steps])
                sd = np.array([np.std(groups[s], ddof=1) if len(groups[s]) > 1 else 0.0 for s in steps])
                seeds_used |= {len(groups[s]) for s in steps}
                ax.plot(steps, mean, marker="o", ms=3, label=OPT_LABELS.get(o, o))
                ax.fill_between(steps, mean - sd, mean + sd, alpha=0.2)
            k = "/".join(str(x) for x in sorted(seeds_used)) or "?"
            ax.set_title(f"{ARCH_LABELS.get(a, a)}: mean ± SD over {k} seed(s)", fontsize=9)
            ax.set_xlabel("training step")
            ax.set_ylabel(ylabel, fontsize=8)
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
        for ax, p in zip(axes[0], percents):
            for r in recs:
                at = [m for m in r["metrics"] if m["percent"] == p]  # by percentage: robust to missing checkpoints
                if not at:
                    continue
                d = (at[0]["hessian"] or {}).get("density")
                if not d:
                    continue
                dens = np.maximum(np.array(d["density"], dtype=float), 1e-12)
                ax.plot(d["grid"], dens, lw=1, label=OPT_LABELS.get(r["optimizer"], r["optimizer"]))
            ax.set_yscale("log")
            ax.set_ylim(bottom=1e-8)
            step = next((m["step"] for r in recs for m in r["metrics"] if m["percent"] == p), None)
            ax.set_title(f"{p:g} % of steps" + (f" (step {step})" if step is not None else ""), fontsize=9)
            ax.set_xlabel("eigenvalue λ of H (nats / parameter²)", fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0][0].set_ylabel(f"{ARCH_LABELS.get(a, a)}: smoothed spectral density\n"
                              f"(1/n Σ N(λ; λ_i, σ²), seed {seed0})", fontsize=8)
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(fig_dir, f"density_{a}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
