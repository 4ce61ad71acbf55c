"""Verdict tables (terminal, Markdown) and the JSON report, written atomically.

A report is written to a unique temporary file next to its destination and moved
into place with ``os.replace``, so a reader sees the old report or the new one,
never half of one. An interrupted run's report says so (``meta.interrupted``), lists
the statements it did not reach as "not run", and never replaces a complete report:
it goes to ``<name>.partial<suffix>`` beside it instead.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import tempfile
import time
from pathlib import Path

from theorems.statement import Result

#: first line of a Markdown report: what tells a complete report from a partial one
_MD_MARKER = "<!-- optinfo-verdicts interrupted={interrupted} -->"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a unique temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_writable(path: Path) -> None:
    """Fail before any work if ``path`` cannot be written (missing permission, a directory, ...)."""
    path = Path(path)
    if path.is_dir():
        raise OSError(f"cannot write the report {path}: it is a directory")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OSError(f"cannot write the report {path}: {exc.strerror or exc}") from None


def _is_complete_report(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text()) if path.suffix == ".json" else None
    except (OSError, ValueError):
        return False
    if doc is None:  # Markdown: its first line says
        try:
            with path.open(encoding="utf-8") as fh:
                first = fh.readline()
        except OSError:
            return False
        return first.strip() == _MD_MARKER.format(interrupted="false")
    return not doc.get("meta", {}).get("interrupted", False)


def destination(path: Path, interrupted: bool) -> Path:
    """Where a report goes: beside an existing complete report if this one is partial."""
    path = Path(path)
    if interrupted and path.exists() and _is_complete_report(path):
        return path.with_name(f"{path.stem}.partial{path.suffix}")
    return path


def write_reports(results: list[Result], unchecked: list[tuple[str, str]], meta: dict, *,
                  json_path=None, md_path=None) -> list[str]:
    """Write the JSON and/or Markdown report; returns lines saying where they went."""
    lines = []
    interrupted = bool(meta.get("interrupted"))
    for path, writer in ((json_path, to_json), (md_path, to_markdown)):
        if not path:
            continue
        dest = destination(Path(path), interrupted)
        writer(results, unchecked, dest, meta)
        note = " (partial: the complete report there was kept)" if dest != Path(path) else ""
        lines.append(f"wrote {dest}{note}")
    return lines


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM behaves like Ctrl-C (the report of what was done is written, exit 130)."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def evidence_columns(r: Result) -> tuple[str, str, str]:
    """``(cases (non-trivial), tightest, exact checks)`` for the verdict table: how hard a row was stressed."""
    ev = r.evidence
    cases = ""
    if "cases" in ev:
        cases = f"{ev['cases']}" + (f" ({ev['nontrivial_cases']})" if "nontrivial_cases" in ev else "")
    if "max_lhs_over_rhs" in ev:
        tight = f"lhs/rhs ≤ {ev['max_lhs_over_rhs']:.6g}"
    elif "smallest_nontrivial_relative_margin" in ev:
        tight = f"margin ≥ {ev['smallest_nontrivial_relative_margin']}"
    else:
        tight = ""
    if ev.get("near_equality_hits"):
        tight += f"; {ev['near_equality_hits']} near-equal"
    exact = ""
    if "exact_comparisons" in ev:
        exact = f"{ev['exact_comparisons']} (dev ≤ {ev['max_float_exact_deviation']})"
    return cases, tight, exact


def strict_json(obj):
    """``obj`` with every non-finite float spelled ``"inf"``, ``"-inf"`` or ``"nan"``: strict JSON
    has no infinities (Python would write ``-Infinity``, which other parsers reject)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    return obj


def to_json(results: list[Result], unchecked: list[tuple[str, str]], path: Path, meta: dict) -> None:
    doc = {
        "meta": meta,
        "results": [r.to_json() for r in results],
        "unchecked": [{"id": i, "title": t, "verdict": "unchecked"} for i, t in unchecked],
    }
    atomic_write_text(path, json.dumps(strict_json(doc), indent=2, default=str, allow_nan=False))


def to_markdown(results: list[Result], unchecked: list[tuple[str, str]], path: Path, meta: dict) -> None:
    lines = [
        _MD_MARKER.format(interrupted=str(bool(meta.get("interrupted"))).lower()),
        "# Verdicts",
        "",
        f"Generated {meta['generated']} by `{meta['command']}` (effort: {meta['effort']}, "
        f"seed: {meta.get('seed', 0)}).",
        "",
    ]
    if meta.get("interrupted"):
        lines += ["**This run was interrupted**: statements marked *not run* were never checked.", ""]
    lines += [
        "*cases (non-trivial)*: inputs searched, and those that are not trivially tight (n = 1, both sides 0). "
        "*tightest*: the largest lhs/rhs (or smallest relative margin) over non-trivial cases, and the number of "
        "near-equality hits. *exact checks*: float sides compared with their exact (Arb) twins, and the largest "
        "relative deviation found.",
        "",
        "| statement | verdict | cases (non-trivial) | tightest | exact checks | key evidence | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cases, tight, exact = evidence_columns(r)
        lines.append(f"| `{r.id}` {r.title} | **{r.verdict.value}** | {cases} | {tight} | {exact} | "
                     f"{r.summary()} | {r.seconds:.2f} |")
    for i, t in unchecked:
        lines.append(f"| `{i}` {t} | unchecked | | | | no checker yet | |")
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
                f"- margin rhs − lhs ∈ `{c.margin}` (independent mpmath value: `{c.margin_mp60[:40]}`)",
                f"- {c.certificate}",
                "",
            ]
        ev = {k: v for k, v in r.evidence.items() if k != "summary"}
        lines += ["*Evidence.*", "", "```json", json.dumps(ev, indent=1, default=str)[:6000], "```", ""]
    atomic_write_text(path, "\n".join(lines))


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
