"""Verdict tables (terminal, Markdown) and the JSON report."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from theorems.statement import Result


def to_json(results: list[Result], unchecked: list[tuple[str, str]], path: Path, meta: dict) -> None:
    doc = {
        "meta": meta,
        "results": [r.to_json() for r in results],
        "unchecked": [{"id": i, "title": t, "verdict": "unchecked"} for i, t in unchecked],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str))


def to_markdown(results: list[Result], unchecked: list[tuple[str, str]], path: Path, meta: dict) -> None:
    lines = [
        "# Verdicts",
        "",
        f"Generated {meta['generated']} by `{meta['command']}` (effort: {meta['effort']}).",
        "",
        "| statement | verdict | key evidence | time (s) |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| `{r.id}` {r.title} | **{r.verdict.value}** | {r.summary()} | {r.seconds:.2f} |")
    for i, t in unchecked:
        lines.append(f"| `{i}` {t} | unchecked | no checker yet | |")
    lines += ["", "## Details", ""]
    for r in results:
        lines += [f"### `{r.id}`: {r.title}", "", f"*Claim.* {r.claim}", "", f"*Reading.* {r.reading}", "",
                  f"*Verdict.* **{r.verdict.value}**", ""]
        if r.counterexample is not None:
            c = r.counterexample
            lines += [
                "*Certified counterexample.*",
                "",
                f"- inputs (exact): `{json.dumps(c.inputs)[:2000]}`",
                f"- lhs ∈ `{c.lhs}`, rhs ∈ `{c.rhs}`",
                f"- margin rhs − lhs ∈ `{c.margin}` (mpmath, 60 digits: `{c.margin_mp60[:40]}`)",
                f"- {c.certificate}",
                "",
            ]
        ev = {k: v for k, v in r.evidence.items() if k != "summary"}
        lines += ["*Evidence.*", "", "```json", json.dumps(ev, indent=1, default=str)[:6000], "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def meta(command: str, effort: str) -> dict:
    import hypothesis
    import mpmath
    import numpy

    return {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": command,
        "effort": effort,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mpmath": mpmath.__version__,
        "hypothesis": hypothesis.__version__,
    }
