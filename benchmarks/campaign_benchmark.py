"""Side by side on the near-miss mutants: the campaign vs plain Hypothesis vs HypoFuzz.

    python benchmarks/campaign_benchmark.py --budget 30 --workers 2 --seeds 0 1 2 --out reports/campaign

The mutants are :mod:`benchmarks.campaign_mutants` (false statements on the generic
``distributions``/``spectra`` domains). Every engine gets the same resources per seed:
``--workers`` processes for ``--budget`` wall-clock seconds.

* **campaign**: one ``Campaign`` over all mutants (the bandit shares the time);
* **plain**: ``@given(statement.domain)`` with Hypothesis's default settings, rerun with
  fresh seeds; each mutant gets ``budget × workers / #mutants`` seconds, the mutants
  spread over ``--workers`` processes;
* **hypofuzz**: ``hypothesis fuzz -n WORKERS`` on a generated pytest file with one
  test per mutant, stopped after ``--budget`` seconds (dev-only dependency).

A mutant is killed when a float violation certifies (``Inequality.certify``). Time to
kill: for campaign and plain the seconds of search spent on that mutant until its
counterexample certified (for the campaign, also the wall clock since its start); for
HypoFuzz the wall clock since the first test module was imported (it interleaves the
tests itself). The machine load (1-minute load average) is recorded around every run.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MUTANTS_REF = "benchmarks/campaign_mutants.py:mutants"


def _mutants():
    from benchmarks.campaign_mutants import mutants

    return mutants


# -- plain Hypothesis ---------------------------------------------------------------

def plain_one(i: int, budget_s: float, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    from theorems.statement import floatify

    stmt = _mutants()[i]
    t0 = time.perf_counter()
    c0 = time.process_time()
    cases = rnd = 0
    while time.perf_counter() - t0 < budget_s:
        found = {}

        def prop(raw):
            nonlocal cases
            if time.perf_counter() - t0 > budget_s:
                return
            cases += 1
            x = stmt.prepare(raw)
            margin, scale = stmt.float_margin(floatify(stmt.derive(dict(x))))
            if margin / scale < -stmt.rel_tol and stmt.certify(x) is not None:
                found.setdefault("t", time.perf_counter() - t0)  # the first one, not a shrunk one
                found.setdefault("cpu", time.process_time() - c0)
                raise AssertionError("certified violation")

        test = hseed(seed * 7919 + rnd)(settings(database=None, deadline=None,
                                                 suppress_health_check=list(HealthCheck))(given(stmt.domain)(prop)))
        rnd += 1
        try:
            test()
        except Exception:  # noqa: BLE001 - the violation (or a grouped report of it)
            pass
        if "t" in found:
            return {"killed": True, "ttk_s": found["t"], "cpu_ttk_s": found["cpu"], "cases": cases}
    return {"killed": False, "ttk_s": None, "cpu_ttk_s": None, "cases": cases}


def _plain_task(args):
    return args[0], plain_one(*args)


def run_plain(n: int, budget_s: float, workers: int, seed: int) -> dict:
    per = budget_s * workers / n
    with mp.get_context("fork").Pool(workers) as pool:
        out = dict(pool.map(_plain_task, [(i, per, seed) for i in range(n)], chunksize=1))
    return {"per_mutant_s": per, "rows": [out[i] for i in range(n)]}


# -- the campaign ------------------------------------------------------------------------

def run_campaign(n: int, budget_s: float, workers: int, seed: int) -> dict:
    from theorems.campaign import Campaign, spec_for

    specs = [spec_for(f"{MUTANTS_REF}#{i}") for i in range(n)]
    with tempfile.TemporaryDirectory() as db:
        c = Campaign(specs, budget_s, workers=workers, seed=seed, db_root=db)
        rows = c.run(live=False)
    return {"stats": c.stats, "rows": [
        {"killed": r["counterexample"] is not None, "ttk_s": r["time_to_counterexample_s"],
         "cpu_ttk_s": r["cpu_to_counterexample_s"],
         "ttk_wall_s": r["time_to_counterexample_wall_s"], "cases": r["cases"], "slices": r["slices"],
         "seconds": r["seconds"], "error": r["error"]} for r in rows]}


# -- HypoFuzz ------------------------------------------------------------------------------

_TEST_FILE = '''
import os, time
from hypothesis import given, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from benchmarks.campaign_mutants import mutants
from theorems.statement import floatify

LOG = {log!r}
with open(LOG, "a") as fh:
    fh.write(f"import {{time.time()}}\\n")
settings.register_profile("bench", database=DirectoryBasedExampleDatabase({db!r}), deadline=None)
settings.load_profile("bench")


def _make(i):
    m = mutants[i]

    @given(m.domain)
    def test(raw):
        x = m.prepare(raw)
        margin, scale = m.float_margin(floatify(m.derive(dict(x))))
        if margin / scale < -m.rel_tol and m.certify(x) is not None:
            with open(LOG, "a") as fh:
                fh.write(f"kill {{i}} {{time.time()}}\\n")
            raise AssertionError("certified violation")

    return test


for _i in range(len(mutants)):
    globals()[f"test_mutant_{{_i:02d}}"] = _make(_i)
'''


def run_hypofuzz(n: int, budget_s: float, workers: int, seed: int) -> dict:
    exe = shutil.which("hypothesis")
    if exe is None:
        return {"skipped": "hypofuzz not installed (pip install hypofuzz)"}
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log.txt")
        test = Path(tmp) / "test_fuzz_mutants.py"
        test.write_text(textwrap.dedent(_TEST_FILE.format(log=log, db=os.path.join(tmp, "db"))))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HYPOTHESIS_SEED": str(seed)}
        t_launch = time.time()
        proc = subprocess.Popen([exe, "fuzz", "-n", str(workers), "--no-dashboard", "--", str(test), "-p",
                                 "no:cacheprovider", "-q"], cwd=tmp, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        # the budget starts when the tests are imported (HypoFuzz collects them first)
        t_end = None
        while proc.poll() is None:
            time.sleep(0.2)
            if t_end is None and os.path.exists(log):
                t_end = time.time() + budget_s
            if t_end is not None and time.time() > t_end:
                break
            if time.time() - t_launch > budget_s + 60:
                break
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out = proc.stdout.read().decode(errors="replace")[-2000:]
        lines = Path(log).read_text().splitlines() if os.path.exists(log) else []
    imports = [float(l.split()[1]) for l in lines if l.startswith("import")]
    kills = {}
    if imports:
        t0 = min(imports)
        for l in lines:
            if l.startswith("kill"):
                _, i, t = l.split()
                kills.setdefault(int(i), float(t) - t0)
    rows = [{"killed": i in kills, "ttk_s": kills.get(i)} for i in range(n)]
    return {"rows": rows, "startup_s": (min(imports) - t_launch) if imports else None,
            "output_tail": None if imports else out}


ENGINES = {"campaign": run_campaign, "plain": run_plain, "hypofuzz": run_hypofuzz}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    ap.add_argument("--out", default="reports/campaign")
    a = ap.parse_args(argv)
    names = [m.id for m in _mutants()]
    n = len(names)
    runs = []
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for seed in a.seeds:
        for engine in a.engines:
            load_before = os.getloadavg()
            t0 = time.perf_counter()
            res = ENGINES[engine](n, a.budget, a.workers, seed)
            res.update(engine=engine, seed=seed, wall_s=round(time.perf_counter() - t0, 2),
                       load_before=load_before, load_after=os.getloadavg())
            runs.append(res)
            killed = sum(r["killed"] for r in res.get("rows", []))
            print(f"seed {seed} {engine:<9} killed {killed}/{n} in {res['wall_s']:.0f}s "
                  f"(load {load_before[0]:.1f} -> {res['load_after'][0]:.1f})", flush=True)
            (out / "benchmark.json").write_text(json.dumps(
                {"mutants": names, "budget_s": a.budget, "workers": a.workers, "seeds": a.seeds,
                 "cpu_count": os.cpu_count(), "python": platform.python_version(), "runs": runs},
                indent=1, default=str))
    write_markdown(json.loads((out / "benchmark.json").read_text()), out / "benchmark.md")


def _median(v):
    v = [x for x in v if x is not None]
    return float(np.median(v)) if v else math.inf


def write_markdown(doc: dict, path: Path):
    names, n = doc["mutants"], len(doc["mutants"])
    engines = [e for e in ENGINES if any(r["engine"] == e and "rows" in r for r in doc["runs"])]
    seeds = sorted({r["seed"] for r in doc["runs"]})
    loads = [r["load_before"][0] for r in doc["runs"]] + [r["load_after"][0] for r in doc["runs"]]
    lines = ["# Near-miss mutants on generic domains: campaign vs plain Hypothesis vs HypoFuzz", "",
             f"{n} mutants ({MUTANTS_REF}), {doc['workers']} worker processes × {doc['budget_s']:.0f} s wall "
             f"per engine and seed, seeds {seeds}, {doc['cpu_count']} CPU cores shared with other jobs "
             f"(1-min load average {min(loads):.1f}–{max(loads):.1f} during the runs). Plain Hypothesis gets "
             f"{doc['budget_s'] * doc['workers'] / n:.2f} s per mutant (the same total CPU time).", "",
             "Time to kill = search seconds spent on that mutant until its counterexample certified "
             "(HypoFuzz: wall clock since its tests were imported, as it interleaves them itself; "
             "campaign wall clock in brackets).", "",
             "CPU time to kill = CPU seconds of the process searching that mutant until then (not "
             "inflated by other jobs on the machine; not available for HypoFuzz).", "",
             "| engine | killed (per seed) | kill rate | median time to kill (s) | median CPU time to kill (s) |",
             "|---|---|---|---|---|"]
    per = {}
    for e in engines:
        rs = [r for r in doc["runs"] if r["engine"] == e and "rows" in r]
        kills = [sum(x["killed"] for x in r["rows"]) for r in rs]
        ttks = [x["ttk_s"] for r in rs for x in r["rows"] if x["killed"]]
        per[e] = rs
        extra = ""
        if e == "campaign":
            extra = f" [{_median([x.get('ttk_wall_s') for r in rs for x in r['rows'] if x['killed']]):.2f}]"
        cpu = _median([x.get("cpu_ttk_s") for r in rs for x in r["rows"] if x["killed"]])
        lines.append(f"| {e} | {', '.join(f'{k}/{n}' for k in kills)} | {sum(kills) / (n * len(rs)):.0%} | "
                     f"{_median(ttks):.3f}{extra} | {cpu:.3f} |" if math.isfinite(cpu) else
                     f"| {e} | {', '.join(f'{k}/{n}' for k in kills)} | {sum(kills) / (n * len(rs)):.0%} | "
                     f"{_median(ttks):.3f}{extra} | — |")
    lines += ["", "Per mutant: kills over seeds and median time to kill (s; `—` never killed).", "",
              "| mutant | " + " | ".join(engines) + " | plain / campaign (wall) | plain / campaign (CPU) |",
              "|---|" + "---|" * (len(engines) + 2)]
    ratios = []
    for i, name in enumerate(names):
        cells, med, cpu = [], {}, {}
        for e in engines:
            xs = [r["rows"][i] for r in per[e]]
            k = sum(x["killed"] for x in xs)
            med[e] = _median([x["ttk_s"] for x in xs if x["killed"]])
            cpu[e] = _median([x.get("cpu_ttk_s") for x in xs if x["killed"]])
            cells.append(f"{k}/{len(xs)}, {med[e]:.3f}" if k else f"0/{len(xs)}, —")
        ratio = ""
        if "plain" in med and "campaign" in med and math.isfinite(med["campaign"]):
            if math.isfinite(med["plain"]):
                ratio = f"{med['plain'] / max(med['campaign'], 1e-3):.1f}×"
                if med["plain"] >= 1.0:
                    ratios.append((name, med["plain"] / max(med["campaign"], 1e-3)))
            else:
                ratio = "plain never"
        cratio = ""
        if "plain" in cpu and "campaign" in cpu and math.isfinite(cpu["campaign"]):
            cratio = (f"{cpu['plain'] / max(cpu['campaign'], 1e-3):.1f}×" if math.isfinite(cpu["plain"])
                      else "plain never")
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {ratio} | {cratio} |")
    lines += ["", "Where plain Hypothesis needs ≥ 1 s (median): " + (
        ", ".join(f"`{nm}` {r:.0f}×" for nm, r in ratios) if ratios else "no such mutant") + "."]
    for r in doc["runs"]:
        if r["engine"] == "campaign" and r.get("stats"):
            s = r["stats"]
            lines.append(f"\nCampaign seed {r['seed']}: {s.get('slices')} slices of {s.get('slice_s', 0):.2f} s, "
                         f"largest overrun of a slice's deadline {s.get('max_overrun_s', 0):.3f} s.")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
