"""``python -m theorems``: check the statements (docs/statements.md) and print a verdict table.

    python -m theorems check [IDS...] [--effort quick|full] [--seed S] [--json PATH] [--md PATH]
    python -m theorems fuzz [IDS...] [--statement FILE.py:NAME] --budget 10m --workers N
                            [--cluster local:N|tcp://HOST:8786] --seed S --db PATH
    python -m theorems list
    python -m theorems verify REPORT.json [--statement FILE.py:NAME]  # re-certify every counterexample
    python -m theorems docs [--out docs/statements.md] [--report R.json | --run]  # statements reference
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from theorems import registry, report
from theorems.statement import Verdict, seeded_run

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
    ("seed-002", "Seed 002: steepest descent under norms (sign, Adam, Shampoo, Prodigy, norms by role)"),
    ("seed-003", "Seed 003: R_med of Adam vs SGD with momentum"),
    ("seed-004", "Seed 004: sharpness (label noise, sparse regression, SAM, Rényi, geodesic)"),
]


def _unchecked(results_ids: set[str]) -> list[tuple[str, str]]:
    return [(i, t) for i, t in PLANNED
            if not any(r == i or r.startswith(i + "/") or r.startswith(i + ":") for r in results_ids)]


COLOUR = {"holds": "green", "refuted": "red", "approximate": "yellow", "ill-posed": "magenta",
          "inconsistent": "bold red", "undecided": "yellow", "error": "bold red", "not run": "dim"}


def _select(ids: list[str], user_refs: list[str]):
    """Registry statements by id (all by default) plus the users' ``FILE.py:NAME`` statements."""
    stmts = registry.get(ids) if ids or not user_refs else []
    if user_refs:
        from theorems.campaign.loading import load_user_statements

        for ref in user_refs:
            stmts += load_user_statements(ref)
    return stmts


def cmd_check(args) -> int:
    console = Console(stderr=True)
    try:
        stmts = _select(args.ids, args.statement or [])
        for path in (args.json, args.md):
            if path:
                report.check_writable(Path(path))
    except (KeyError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc.args[0] if exc.args else exc))}")
        return 2
    results, interrupted = [], False
    t_all = time.perf_counter()
    with report.sigterm_as_interrupt(), seeded_run(args.seed):
        for s in stmts:
            try:
                with console.status(f"checking {s.id} ({args.effort})..."):
                    r = s.check(effort=args.effort)
            except KeyboardInterrupt:
                console.print(f"[yellow]interrupted at {s.id}: statements from here on are marked 'not run'[/]")
                interrupted = True
                break
            except Exception as exc:  # a failing checker is a row of the table, not the end of the run
                r = s.result(Verdict.ERROR, {"summary": f"{type(exc).__name__}: {exc}",
                                             "traceback": traceback.format_exc(limit=-4)})
            results.append(r)
            console.print(f"  {r.id:<28} {r.verdict.value:<12} {r.seconds:7.2f}s")
    results += [s.result(Verdict.NOT_RUN, {"summary": "not run: the check was interrupted before it started"})
                for s in stmts[len(results):]]
    unchecked = _unchecked({r.id for r in results}) if not args.ids and not args.statement else []
    table = Table(title=f"Verdicts (computed this run, seed {args.seed})")
    for col in ("statement", "verdict", "cases (non-trivial)", "tightest", "exact checks", "key evidence", "s"):
        table.add_column(col, overflow="fold")
    for r in results:
        cols = report.evidence_columns(r)
        table.add_row(escape(f"{r.id}\n{r.title}"), f"[{COLOUR[r.verdict.value]}]{r.verdict.value}[/]",
                      *(escape(c) for c in cols), escape(r.summary()), f"{r.seconds:.1f}")
    for i, t in unchecked:
        table.add_row(f"{i}\n{t}", "unchecked", "", "", "", "no checker yet", "")
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    console.print(f"total {time.perf_counter() - t_all:.1f}s")
    m = report.meta("python -m theorems " + " ".join(sys.argv[1:]), args.effort)
    m.update(seed=args.seed, interrupted=interrupted)
    written = report.write_reports(results, unchecked, m, json_path=args.json, md_path=args.md)
    for line in written:
        console.print(line)
    if interrupted:
        console.print("[yellow]interrupted: the report is marked interrupted; rerun to complete it[/]")
        return 130
    errors = [r.id for r in results if r.verdict is Verdict.ERROR]
    if errors:
        console.print(f"[red]{len(errors)} checker(s) failed:[/] {', '.join(errors)} (see the 'error' rows)")
        return 1
    return 0


def cmd_list(args) -> int:
    for s in registry.all_statements():
        print(f"{s.id:<28} {s.title}")
    return 0


def cmd_verify(args) -> int:
    from theorems.verify import verify_report

    try:
        doc = json.loads(Path(args.report).read_text())
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            raise ValueError("not a verdict report (no 'results' list)")
        user = _select([], args.statement or []) if args.statement else []
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot verify {args.report}: {exc}", file=sys.stderr)
        return 2
    ok, n = True, 0
    for line, good in verify_report(doc, user):
        print(line)
        ok &= good
        n += 1
    if n == 0:
        print(f"{args.report}: no refuted result with a counterexample to verify")
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
        if args.cluster is None and not 1 <= args.workers:
            raise ValueError(f"--workers must be at least 1, got {args.workers}")
        workers = args.workers
        if args.cluster is None and workers > campaign.max_workers():
            console.print(f"[yellow]note:[/] --workers {workers} capped at {campaign.max_workers()} "
                          f"(4 per CPU core)")
            workers = campaign.max_workers()
        specs = [campaign.spec_for(r) for r, _ in pairs]
    except (KeyError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {exc.args[0] if exc.args else exc}")
        return 2
    if not pairs:
        console.print("[red]error:[/] no statements selected")
        return 2
    c = campaign.Campaign(specs, budget, workers, args.seed, args.db, cluster=args.cluster,
                          statements={r: s for r, s in pairs})
    try:
        results = c.run(live=not args.quiet)
    except campaign.DatabaseLocked as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except ValueError as exc:  # e.g. an unreachable --cluster scheduler
        console.print(f"[red]error:[/] {exc}")
        return 2
    meta = report.meta("python -m theorems " + " ".join(sys.argv[1:]), "fuzz")
    meta.update(budget_s=budget, workers=c.stats.get("workers", workers), seed=args.seed, db=args.db,
                interrupted=c.interrupted, cluster=args.cluster, scheduling=c.stats)
    json_path = args.json or str(Path(args.db) / "campaign.json")
    md_path = args.md or str(Path(args.db) / "campaign.md")
    campaign.write_reports(results, json_path, md_path, meta)
    found = sum(1 for r in results if r.get("counterexample"))
    errors = sum(1 for r in results if r["verdict"] == "error")
    console.print(f"{len(results)} statement(s), {found} certified counterexample(s)"
                  + (f", {errors} error(s)" if errors else "") + f"; reports: {json_path}, {md_path}"
                  + (" (interrupted: state saved, rerun with the same --db to resume)" if c.interrupted else ""))
    return 130 if c.interrupted else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m theorems", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="check statements and print the verdict table")
    c.add_argument("ids", nargs="*", help="statement ids (default: all)")
    c.add_argument("--effort", choices=["quick", "full"], default="quick")
    c.add_argument("--json", help="write the JSON report here")
    c.add_argument("--md", help="write the Markdown report here")
    c.add_argument("--seed", type=int, default=0, help="seed of every search and experiment (reports are "
                   "identical for the same seed, apart from timings)")
    c.add_argument("--statement", action="append", help="also check a user statement FILE.py:NAME (repeatable)")
    c.set_defaults(func=cmd_check)
    sub.add_parser("list", help="list statement ids").set_defaults(func=cmd_list)
    f = sub.add_parser("fuzz", help="adversarial, resumable search for counterexamples")
    f.add_argument("ids", nargs="*", help="statement ids, or mutant ids 'id~name' (default: all)")
    f.add_argument("--statement", action="append", help="a user statement FILE.py:NAME (repeatable)")
    f.add_argument("--budget", default="60s", help="wall-clock budget: 90s, 10m, 2h")
    f.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)),
                   help="local worker processes (default: one per CPU core; at most 4 per core)")
    f.add_argument("--cluster", help="run on Dask: local:N (a LocalCluster of N processes) or a scheduler "
                   "address tcp://HOST:8786; the client stays the only writer of --db")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--db", default=".optinfo-campaign", help="campaign database directory (resumable)")
    f.add_argument("--json")
    f.add_argument("--md")
    f.add_argument("--quiet", action="store_true", help="no live table")
    f.set_defaults(func=cmd_fuzz)
    v = sub.add_parser("verify", help="re-certify the counterexamples of a JSON report from their exact inputs alone")
    v.add_argument("report")
    v.add_argument("--statement", action="append",
                   help="the user statements FILE.py:NAME the report's counterexamples belong to (repeatable)")
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
