"""``python -m theorems``: check the statements (docs/statements.md) and print a verdict table.

    python -m theorems check [IDS...] [--effort quick|full] [--json PATH] [--md PATH]
    python -m theorems fuzz [IDS...] [--statement FILE.py:NAME] --budget 10m --workers N --seed S --db PATH
    python -m theorems list
    python -m theorems verify REPORT.json     # recompute every counterexample independently
    python -m theorems docs [--out docs/statements.md] [--report R.json | --run]  # statements reference
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
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
    ("seed-002", "Seed 002: steepest descent under norms (sign, Adam, Shampoo)"),
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
        table.add_row(escape(f"{r.id}\n{r.title}"), f"[{colour[r.verdict.value]}]{r.verdict.value}[/]",
                      escape(r.summary()), f"{r.seconds:.1f}")
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


def cmd_docs(args) -> int:
    from theorems import docs

    try:
        out = docs.write(Path(args.out), None if args.run else Path(args.report), run=args.run)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def cmd_fuzz(args) -> int:
    from theorems import campaign

    console = Console(stderr=True)
    try:
        budget = campaign.parse_budget(args.budget)
        pairs = campaign.resolve(args.ids, args.statement or [])
    except (KeyError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc.args[0] if exc.args else exc}")
        return 2
    if not pairs:
        console.print("[red]error:[/] no statements selected")
        return 2
    c = campaign.Campaign([r for r, _ in pairs], budget, args.workers, args.seed, args.db)
    results = c.run(live=not args.quiet)
    meta = report.meta("python -m theorems " + " ".join(sys.argv[1:]), "fuzz")
    meta.update(budget_s=budget, workers=args.workers, seed=args.seed, db=args.db, interrupted=c.interrupted)
    json_path = args.json or str(Path(args.db) / "campaign.json")
    md_path = args.md or str(Path(args.db) / "campaign.md")
    campaign.write_reports(results, json_path, md_path, meta)
    found = sum(1 for r in results if r.get("counterexample"))
    console.print(f"{len(results)} statement(s), {found} certified counterexample(s); reports: {json_path}, {md_path}"
                  + (" (interrupted: state saved, rerun with the same --db to resume)" if c.interrupted else ""))
    return 130 if c.interrupted else 0


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
    f = sub.add_parser("fuzz", help="adversarial, resumable search for counterexamples")
    f.add_argument("ids", nargs="*", help="statement ids, or mutant ids 'id~name' (default: all)")
    f.add_argument("--statement", action="append", help="a user statement FILE.py:NAME (repeatable)")
    f.add_argument("--budget", default="60s", help="wall-clock budget: 90s, 10m, 2h")
    f.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)))
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--db", default=".optinfo-campaign", help="campaign database directory (resumable)")
    f.add_argument("--json")
    f.add_argument("--md")
    f.add_argument("--quiet", action="store_true", help="no live table")
    f.set_defaults(func=cmd_fuzz)
    v = sub.add_parser("verify", help="recompute the counterexamples of a JSON report in mpmath")
    v.add_argument("report")
    v.set_defaults(func=cmd_verify)
    d = sub.add_parser("docs", help="write the statements reference generated from the registry")
    d.add_argument("--out", default="docs/statements.md")
    d.add_argument("--report", default="reports/theorems/verdicts.json", help="verdict report for the evidence lines")
    d.add_argument("--run", action="store_true", help="run the quick checks now instead of reading --report")
    d.set_defaults(func=cmd_docs)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
