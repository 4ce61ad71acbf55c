"""Budgets, the live table, and the JSON/Markdown reports of a campaign."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from theorems.campaign.database import atomic_write_text
from theorems.report import strict_json


def parse_budget(text: str) -> float:
    """``'90'``, ``'90s'``, ``'10m'``, ``'2h'`` -> seconds (positive and finite)."""
    t = str(text).strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}
    try:
        v = float(t[:-1]) * mult[t[-1]] if t and t[-1] in mult else float(t)
    except ValueError:
        raise ValueError(f"budget must look like 90s, 10m or 2h, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"budget must be finite (a campaign has to end and write its reports), got {text!r}")
    if not v > 0:
        raise ValueError(f"budget must be positive, got {text!r}")
    return v


def _margin(v) -> str:
    if isinstance(v, float):
        return "inf" if v == math.inf else f"{v:.3e}"
    return str(v)


class Display:
    """Live table on stderr: cases, cases/s, best margin so far, verdict."""

    def __init__(self, refs, budget):
        from rich.console import Console
        from rich.live import Live

        self.rows = {r: None for r in refs}
        self.t0 = time.perf_counter()
        self.budget = budget
        self.live = Live(self._table(), console=Console(stderr=True), refresh_per_second=4, transient=False)
        self.live.start()

    def _table(self):
        from rich.table import Table

        t = Table(title=f"fuzz campaign: {time.perf_counter() - self.t0:.0f}s of {self.budget:.0f}s")
        for c in ("statement", "slices", "cases", "cases/s", "best rel. margin", "result"):
            t.add_column(c)
        for ref, row in self.rows.items():
            if row is None:
                t.add_row(ref, "", "", "", "", "not started")
                continue
            rate = row["cases"] / row["seconds"] if row.get("seconds") else 0.0
            cx = row.get("counterexample")
            result = (("replayed" if row.get("replayed") else "certified") + f" (size {cx.get('size', '?')})"
                      if cx else row["verdict"])
            t.add_row(row["id"], str(row.get("slices", "")), str(row["cases"]), f"{rate:.0f}",
                      _margin(row["best_relative_margin"]), result)
        return t

    def update(self, row):
        self.rows[row["ref"]] = row
        self.live.update(self._table())

    def close(self):
        self.live.update(self._table())
        self.live.stop()


def write_reports(results: list[dict], json_path: str | None, md_path: str | None, meta: dict) -> None:
    """JSON (every field) and Markdown (a table, then the certified counterexamples)."""
    if json_path:
        atomic_write_text(Path(json_path), json.dumps(strict_json({"meta": meta, "results": results}), indent=2,
                                                      default=str, allow_nan=False))
    if not md_path:
        return
    where = meta.get("cluster") or f"{meta['workers']} worker(s)"
    lines = [
        "# Fuzz campaign", "",
        f"`{meta['command']}` — budget {meta['budget_s']:.0f}s, {where}, seed {meta['seed']}, "
        f"db `{meta['db']}`{' (interrupted)' if meta.get('interrupted') else ''}.", "",
        "| statement | result | slices | cases | cases/s | best relative margin | time to counterexample (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rate = r["cases"] / r["seconds"] if r.get("seconds") else 0
        verdict = r["verdict"] + (" (replayed)" if r.get("replayed") else "")
        lines.append(f"| `{r['id']}` | {verdict} | {r.get('slices', '')} | {r['cases']} | {rate:.0f} | "
                     f"{_margin(r['best_relative_margin'])} | {r.get('time_to_counterexample_s') or ''} |")
    errors = [r for r in results if r.get("error")]
    if errors:
        lines += ["", "## Errors", ""] + [f"- `{r['id']}`: {r['error']}" for r in errors]
    not_run = [r for r in results if r["verdict"] == "not run"]
    if not_run:
        lines += ["", f"Not run (never started): {', '.join('`' + r['id'] + '`' for r in not_run)}."]
    lines += ["", "## Certified counterexamples", ""]
    for r in results:
        cx = r.get("counterexample")
        if cx and "inputs" in cx:
            lines += [f"### `{r['id']}`", "", f"- inputs (exact): `{json.dumps(cx['inputs'])[:1500]}`",
                      f"- margin rhs − lhs ∈ `{cx['margin']}`", f"- {cx['certificate']}", ""]
    atomic_write_text(Path(md_path), "\n".join(lines) + "\n")
