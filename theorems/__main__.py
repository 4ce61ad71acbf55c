"""``python -m theorems``: check the statements of THEOREMS.md and print a verdict table.

    python -m theorems check [IDS...] [--effort quick|full] [--json PATH] [--md PATH]
    python -m theorems list
    python -m theorems verify REPORT.json     # recompute every counterexample independently
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from theorems import registry, report

PLANNED = [
    ("def-3.1", "Def 3.1: α-order matrix entropy properties"),
    ("thm-3.2", "Thm 3.2: entropy gap ≤ B(n, κ)"),
    ("thm-3.3", "Thm 3.3: Laplace posterior"),
    ("thm-3.4", "Thm 3.4: PAC-Bayes with the Laplace posterior"),
    ("lemma-3.5", "Lemma 3.5: KL(p‖u) + KL(u‖p) ≤ TV·log(p_max/p_min)"),
    ("lemma-3.6", "Lemma 3.6: entropy gap ≤ log(1 + n·TV)"),
    ("thm-3.7", "Thm 3.7: entropy gap → CV²/2"),
    ("thm-4.2", "Thm 4.2: Bayes classifier is sign(μx)"),
    ("thm-4.3", "Thm 4.3: every classifier errs ≥ Φ(−|μ|/σ)"),
    ("cor-4.4", "Cor 4.4: P_e* ≤ ½, equality iff μ = 0"),
    ("prop-4.5", "Prop 4.5: Fano bound"),
    ("sec-4.1", "Sec 4.1: tanh sufficiency, uniqueness, max-entropy"),
]


def _unchecked(results_ids: set[str]) -> list[tuple[str, str]]:
    return [(i, t) for i, t in PLANNED if not any(r == i or r.startswith(i + "/") or r.startswith(i + ":") for r in results_ids)]


def cmd_check(args) -> int:
    console = Console(stderr=True)
    try:
        stmts = registry.get(args.ids)
    except KeyError as exc:
        console.print(f"[red]error:[/] {exc.args[0]}")
        return 2
    results = []
    t_all = time.perf_counter()
    for s in stmts:
        with console.status(f"checking {s.id} ({args.effort})..."):
            try:
                r = s.check(effort=args.effort)
            except KeyboardInterrupt:
                console.print(f"[yellow]interrupted at {s.id}; writing the verdicts computed so far[/]")
                break
        results.append(r)
        console.print(f"  {r.id:<28} {r.verdict.value:<12} {r.seconds:7.2f}s")
    unchecked = _unchecked({r.id for r in results}) if not args.ids else []
    table = Table(title="Verdicts (computed this run)")
    for col in ("statement", "verdict", "key evidence", "s"):
        table.add_column(col, overflow="fold")
    colour = {"holds": "green", "refuted": "red", "approximate": "yellow", "ill-posed": "magenta"}
    for r in results:
        table.add_row(f"{r.id}\n{r.title}", f"[{colour[r.verdict.value]}]{r.verdict.value}[/]", r.summary(), f"{r.seconds:.1f}")
    for i, t in unchecked:
        table.add_row(f"{i}\n{t}", "unchecked", "no checker yet", "")
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    console.print(f"total {time.perf_counter() - t_all:.1f}s")
    m = report.meta("python -m theorems " + " ".join(sys.argv[1:]), args.effort)
    if args.json:
        report.to_json(results, unchecked, Path(args.json), m)
    if args.md:
        report.to_markdown(results, unchecked, Path(args.md), m)
    return 0


def cmd_list(args) -> int:
    for s in registry.all_statements():
        print(f"{s.id:<28} {s.title}")
    return 0


def cmd_verify(args) -> int:
    from theorems.verify import verify_report

    try:
        doc = json.loads(Path(args.report).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read report {args.report}: {exc}", file=sys.stderr)
        return 2
    ok = True
    for line, good in verify_report(doc):
        print(line)
        ok &= good
    return 0 if ok else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m theorems", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="check statements and print the verdict table")
    c.add_argument("ids", nargs="*", help="statement ids (default: all)")
    c.add_argument("--effort", choices=["quick", "full"], default="quick")
    c.add_argument("--json", help="write the JSON report here")
    c.add_argument("--md", help="write the Markdown report here")
    c.set_defaults(func=cmd_check)
    sub.add_parser("list", help="list statement ids").set_defaults(func=cmd_list)
    v = sub.add_parser("verify", help="recompute the counterexamples of a JSON report in mpmath")
    v.add_argument("report")
    v.set_defaults(func=cmd_verify)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
