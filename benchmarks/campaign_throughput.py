"""Cases per second: the campaign's search of one statement vs a plain ``@given`` loop, side by side.

    python benchmarks/campaign_throughput.py --seconds 15 --repeats 3 --out reports/campaign/throughput.json
    python benchmarks/campaign_throughput.py --table reports/campaign/throughput_before.json \
        reports/campaign/throughput_after.json --md reports/campaign/throughput.md

Both engines evaluate the same true statement (``H_2(p) ≤ H(p)`` on the generic
``distributions(1, 50)`` domain, so neither stops early) for the same wall time, one
process each, alternating engine order across repeats; a "case" is one evaluation of
the float margin. The machine load (``os.getloadavg``) is recorded before each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from theorems.statement import floatify  # noqa: E402

STATEMENT = "examples/my_statement.py:renyi2_below_shannon"


def _statement():
    from theorems.campaign import load_user_statements

    return load_user_statements(str(ROOT / STATEMENT))[0]


def plain(seconds: float, seed: int) -> dict:
    """``@given`` with default settings, rerun with fresh seeds until the time is spent."""
    stmt = _statement()
    cases = 0
    t0 = time.perf_counter()
    rnd = 0
    while time.perf_counter() - t0 < seconds:
        def prop(raw):
            nonlocal cases
            cases += 1
            x = stmt.prepare(raw)
            stmt.float_margin(floatify(stmt.derive(dict(x))))

        test = hseed(seed * 7919 + rnd)(settings(database=None, deadline=None,
                                                 suppress_health_check=list(HealthCheck))(given(stmt.domain)(prop)))
        rnd += 1
        test()
    dt = time.perf_counter() - t0
    return {"cases": cases, "seconds": dt, "cases_per_s": cases / dt}


def campaign(seconds: float, seed: int) -> dict:
    from theorems.campaign import fuzz_one

    with tempfile.TemporaryDirectory() as db:
        t0 = time.perf_counter()
        r = fuzz_one(str(ROOT / STATEMENT) + "#0", seconds, seed, db)
        dt = time.perf_counter() - t0
    return {"cases": r["cases"], "seconds": dt, "cases_per_s": r["cases"] / dt}


def write_table(paths, md: str) -> None:
    """Cases/s of both engines per run file (each measured side by side), with the ratio and the load."""
    import numpy as np

    lines = ["# Campaign search vs plain `@given`: cases per second on one domain", "",
             f"Statement `{STATEMENT}` (true, generic `distributions(1, 50)` domain); both engines run the "
             "same wall time in one process each, alternating, in one run per file. A case is one float "
             "margin evaluation. Load = 1-minute load average of the shared 2-core machine.", "",
             "| run | plain cases/s | campaign cases/s | campaign / plain (per repeat) | load |",
             "|---|---|---|---|---|"]
    for path in paths:
        d = json.loads(Path(path).read_text())
        rows = d["rows"]
        by = {e: [r["cases_per_s"] for r in rows if r["engine"] == e] for e in ("plain", "campaign")}
        reps = sorted({r["repeat"] for r in rows})
        ratios = [next(r["cases_per_s"] for r in rows if r["engine"] == "campaign" and r["repeat"] == k)
                  / next(r["cases_per_s"] for r in rows if r["engine"] == "plain" and r["repeat"] == k) for k in reps]
        loads = [r["load_before"][0] for r in rows]
        lines.append(f"| {d.get('label') or Path(path).stem} | {', '.join(f'{v:.0f}' for v in by['plain'])} | "
                     f"{', '.join(f'{v:.0f}' for v in by['campaign'])} | "
                     f"{', '.join(f'{v:.2f}' for v in ratios)} (median {float(np.median(ratios)):.2f}) | "
                     f"{min(loads):.1f}–{max(loads):.1f} |")
    Path(md).write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", nargs="+", help="only write the Markdown table of these run files")
    ap.add_argument("--md", default="reports/campaign/throughput.md")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="reports/campaign/throughput.json")
    ap.add_argument("--label", default="")
    a = ap.parse_args(argv)
    if a.table:
        write_table(a.table, a.md)
        return
    rows = []
    for rep in range(a.repeats):
        order = (("plain", plain), ("campaign", campaign))
        for name, fn in (order if rep % 2 == 0 else order[::-1]):
            load = os.getloadavg()
            r = fn(a.seconds, rep)
            r.update(engine=name, repeat=rep, load_before=load)
            rows.append(r)
            print(f"{name:<9} repeat {rep}: {r['cases']:7d} cases in {r['seconds']:.1f}s = "
                  f"{r['cases_per_s']:8.1f}/s (load {load[0]:.1f})", flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"label": a.label, "statement": STATEMENT, "seconds": a.seconds,
                               "cpu_count": os.cpu_count(), "python": platform.python_version(),
                               "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
