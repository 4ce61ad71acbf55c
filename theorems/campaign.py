"""Fuzz campaigns: long, adversarial, resumable, parallel searches for counterexamples.

``python -m theorems fuzz [IDS...] --budget 10m --workers N --seed S --db PATH --json OUT --md OUT``

For each selected statement a worker alternates, until its share of the budget
is spent:

1. a Hypothesis round over the statement's (structure-aware) domain with
   ``target()`` on the negative margin, its failing examples stored in the
   campaign database under the statement's id;
2. a Nelder-Mead run (scipy) started from the best witness so far, in
   log-coordinates of its numeric inputs, pushing the margin down.

A float violation is certified in Arb before it counts (else it is counted as a
numerical artefact); a certified one is shrunk, simplified, appended to
``DB/counterexamples.jsonl`` and ends that statement's search. Progress and
totals go to ``DB/state.json`` after every round, so an interrupted campaign
(Ctrl-C) loses nothing: a restart with the same ``--db`` replays the stored
counterexamples first (re-certifying them) and adds to the stored counts.
"""

from __future__ import annotations

import importlib.util
import json
import math
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from theorems.statement import (
    Counterexample,
    Inequality,
    Statement,
    _fmt,
    exactify,
    floatify,
    inputs_from_strings,
    inputs_to_strings,
)

ROUND_EXAMPLES = 100  # Hypothesis examples per round: short rounds keep Ctrl-C responsive


# ----------------------------------------------------------------------------
# Resolving statements (paper ids, mutant ids "id~name", user files "FILE.py:NAME")
# ----------------------------------------------------------------------------

def load_user_statements(ref: str) -> list[Statement]:
    """``path/to/file.py:NAME``: NAME is a Statement or a list of them."""
    path, sep, name = ref.rpartition(":")
    if not sep or not path:
        raise ValueError(f"--statement expects FILE.py:NAME, got {ref!r}")
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"statement file {path!r} does not exist")
    spec = importlib.util.spec_from_file_location(f"user_statement_{abs(hash(str(p.resolve())))}", p)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, name):
        raise ValueError(f"{path} has no attribute {name!r}")
    obj = getattr(mod, name)
    objs = obj if isinstance(obj, (list, tuple)) else [obj]
    if not all(isinstance(o, Statement) for o in objs):
        raise ValueError(f"{path}:{name} is not a theorems.Statement (or a list of them)")
    return list(objs)


def resolve(refs: list[str], user_refs: list[str]) -> list[tuple[str, Statement]]:
    """``(ref, statement)`` pairs; ``ref`` is what a worker process uses to load the statement again."""
    from theorems import registry

    if refs:
        out = [(r, registry.find(r)) for r in refs]
    else:  # default: every paper statement, unless only user statements were asked for
        out = [] if user_refs else [(s.id, s) for s in registry.all_statements()]
    for u in user_refs:
        out += [(f"{u}#{i}", s) for i, s in enumerate(load_user_statements(u))]
    return out


def _load(ref: str) -> Statement:
    if "#" in ref:
        u, _, i = ref.rpartition("#")
        return load_user_statements(u)[int(i)]
    from theorems import registry

    return registry.find(ref)


# ----------------------------------------------------------------------------
# The campaign database
# ----------------------------------------------------------------------------

@dataclass
class CampaignDB:
    root: Path

    def __post_init__(self):
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "hypothesis").mkdir(exist_ok=True)

    @property
    def hypothesis(self):
        from hypothesis.database import DirectoryBasedExampleDatabase

        return DirectoryBasedExampleDatabase(str(self.root / "hypothesis"))

    def counterexamples(self) -> dict[str, dict]:
        path = self.root / "counterexamples.jsonl"
        out: dict[str, dict] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    out.setdefault(rec["id"], rec["counterexample"])
        return out

    def add_counterexample(self, stmt_id: str, cx: Counterexample) -> None:
        with open(self.root / "counterexamples.jsonl", "a") as fh:
            fh.write(json.dumps({"id": stmt_id, "counterexample": cx.__dict__}) + "\n")

    def state_path(self, stmt_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stmt_id)
        return self.root / "state" / f"{safe}.json"

    def load_state(self, stmt_id: str) -> dict:
        p = self.state_path(stmt_id)
        return json.loads(p.read_text()) if p.exists() else {}

    def save_state(self, stmt_id: str, state: dict) -> None:
        p = self.state_path(stmt_id)
        p.parent.mkdir(exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, default=str))
        os.replace(tmp, p)  # atomic: an interrupt never leaves half a file


# ----------------------------------------------------------------------------
# Local optimisation from the best witness
# ----------------------------------------------------------------------------

def _flatten(x: dict):
    """Numeric leaves of an exact input -> (vector of log|v|, rebuild function); zeros and ints stay fixed."""
    slots = []
    for k, v in x.items():
        if isinstance(v, list) and v and all(isinstance(e, Fraction) for e in v):
            slots += [(k, i) for i, e in enumerate(v) if e != 0]
        elif isinstance(v, Fraction) and v != 0:
            slots.append((k, None))
    vals = [float(x[k][i]) if i is not None else float(x[k]) for k, i in slots]
    signs = np.sign(vals)
    theta0 = np.log(np.abs(vals)) if slots else np.zeros(0)

    def rebuild(theta):
        y = {k: (list(v) if isinstance(v, list) else v) for k, v in x.items()}
        for (k, i), t, s in zip(slots, theta, signs):
            val = Fraction(float(s * math.exp(min(max(t, -700.0), 700.0))))
            if i is None:
                y[k] = val
            else:
                y[k][i] = val
        return y

    return theta0, rebuild


def local_push(stmt: Inequality, x: dict, max_evals: int = 400) -> tuple[float, dict] | None:
    """Nelder-Mead on the relative margin from ``x``; returns (best margin, exact input)."""
    from scipy.optimize import minimize

    theta0, rebuild = _flatten(x)
    if theta0.size == 0 or theta0.size > 200:
        return None

    def objective(theta):
        try:
            y = stmt.canonical(rebuild(theta))
            margin, scale = stmt.float_margin(floatify(stmt.derive(dict(y))))
        except (ValueError, ZeroDivisionError, OverflowError, FloatingPointError):
            return math.inf
        r = margin / scale
        return r if math.isfinite(r) else math.inf

    with np.errstate(all="ignore"):
        res = minimize(objective, theta0, method="Nelder-Mead",
                       options={"maxfev": max_evals, "xatol": 1e-12, "fatol": 1e-16, "adaptive": True})
    if not math.isfinite(res.fun):
        return None
    return float(res.fun), stmt.canonical(rebuild(res.x))


# ----------------------------------------------------------------------------
# One statement's search (runs in a worker)
# ----------------------------------------------------------------------------

def fuzz_one(ref: str, budget_s: float, seed: int, db_root: str, stop=None, events=None) -> dict:
    stmt = _load(ref)
    db = CampaignDB(Path(db_root))
    t0 = time.perf_counter()
    prev = db.load_state(stmt.id)
    out = {
        "id": stmt.id, "title": stmt.title, "ref": ref,
        "cases": int(prev.get("cases", 0)), "seconds": float(prev.get("seconds", 0.0)),
        "best_relative_margin": float(prev.get("best_relative_margin", math.inf)),
        "best_input": prev.get("best_input"), "artefacts": int(prev.get("artefacts", 0)),
        "optimiser_improvements": int(prev.get("optimiser_improvements", 0)),
        "counterexample": None, "replayed": False, "time_to_counterexample_s": prev.get("time_to_counterexample_s"),
        "verdict": "no counterexample",
    }

    def emit():
        if events is not None:
            events.put(dict(out))

    rel_tol = stmt.rel_tol if isinstance(stmt, Inequality) else 0.0

    def save():
        db.save_state(stmt.id, {**{k: out[k] for k in (
            "cases", "seconds", "best_relative_margin", "best_input", "artefacts",
            "optimiser_improvements", "time_to_counterexample_s")}, "rel_tol": rel_tol})

    if not isinstance(stmt, Inequality):
        # statements with a bespoke check (rates, limits, existence) run their full check once
        r = stmt.check(effort="full" if budget_s >= 60 else "quick")
        out.update(verdict=r.verdict.value, seconds=out["seconds"] + r.seconds,
                   counterexample=r.counterexample.__dict__ if r.counterexample else None,
                   note="bespoke check (not a search); its own evidence is in `python -m theorems check`")
        emit()
        return out

    known = db.counterexamples().get(stmt.id)
    if known is not None:
        cx = stmt.certify(inputs_from_strings(known["inputs"]))
        if cx is not None:
            out.update(counterexample=cx.__dict__, replayed=True, verdict="refuted")
            emit()
            return out

    state = stmt.new_search_state()
    state["min_rel_margin"] = out["best_relative_margin"]
    rel_tol = float(prev.get("rel_tol", stmt.rel_tol))
    rng = np.random.default_rng(seed)
    rounds = 0
    while time.perf_counter() - t0 < budget_s and not (stop is not None and stop.is_set()):
        cases_before = state["cases"]
        # no shrinking while hunting: the first violation is certified at once, shrunk afterwards
        x = stmt.search(state, max_examples=ROUND_EXAMPLES, database=db.hypothesis,
                        seed=int(rng.integers(2**31)), shrink=False, rel_tol=rel_tol)
        candidate = x
        if candidate is None and state["argmin"] is not None:
            pushed = local_push(stmt, state["argmin"])
            if pushed is not None:
                state["cases"] += 1
                margin, y = pushed
                if margin < state["min_rel_margin"]:
                    state["min_rel_margin"], state["argmin"] = margin, y
                    out["optimiser_improvements"] += 1
                if margin < -rel_tol:
                    candidate = exactify(floatify(y))
        if candidate is not None:
            cx = stmt.certify_found(candidate, state)
            if cx is None:
                # a float-only violation: ignore margins this small from now on (stored, so resumes agree)
                state["artefacts"] += 1
                margin, scale = stmt.float_margin(floatify(stmt.derive(dict(candidate))))
                rel_tol = max(rel_tol * 10, 2 * abs(margin / scale))
            else:
                # time to the first certified counterexample, before shrinking and simplifying it
                out["time_to_counterexample_s"] = round(out["seconds"] + time.perf_counter() - t0, 3)
                # now shrink: Hypothesis replays the stored failure from the database and shrinks it
                shrunk = stmt.search(state, max_examples=ROUND_EXAMPLES, database=db.hypothesis,
                                     shrink=True, rel_tol=rel_tol)
                smaller = stmt.certify(shrunk) if shrunk is not None else None
                if smaller is not None and smaller.size <= cx.size:
                    cx = smaller
                r = stmt.finish(state, cx, t0)
                out["counterexample"] = r.counterexample.__dict__
                out["verdict"] = "refuted"
                db.add_counterexample(stmt.id, r.counterexample)
        rounds += 1
        out["cases"] += state["cases"] - cases_before
        out["best_relative_margin"] = state["min_rel_margin"]
        out["best_input"] = inputs_to_strings(state["argmin"]) if state["argmin"] is not None else None
        out["artefacts"] = int(prev.get("artefacts", 0)) + state["artefacts"]
        out["seconds"] = float(prev.get("seconds", 0.0)) + time.perf_counter() - t0
        save()
        emit()
        if out["counterexample"] is not None:
            break
    return out


def _worker_init():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us to stop


def _run_task(args):
    ref, budget, seed, db_root, stop, events = args
    return fuzz_one(ref, budget, seed, db_root, stop, events)


# ----------------------------------------------------------------------------
# The campaign
# ----------------------------------------------------------------------------

@dataclass
class Campaign:
    refs: list[str]
    budget_s: float
    workers: int = 1
    seed: int = 0
    db_root: str = ".optinfo-campaign"
    results: dict = field(default_factory=dict)
    interrupted: bool = False

    def run(self, live: bool = True) -> list[dict]:
        n = len(self.refs)
        per = self.budget_s * max(1, self.workers) / max(n, 1)
        per = min(per, self.budget_s)
        # rounds are short, so the last one may overrun its slice a little: stay inside the budget
        tasks_seeds = [self.seed * 1_000_003 + i for i in range(n)]
        ctx = mp.get_context("fork")
        manager = ctx.Manager()
        stop, events = manager.Event(), manager.Queue()
        args = [(r, per, s, self.db_root, stop, events) for r, s in zip(self.refs, tasks_seeds)]
        display = _Display(self.refs, self.budget_s) if live else None
        pool = ctx.Pool(max(1, self.workers), initializer=_worker_init)
        try:
            async_res = pool.map_async(_run_task, args, chunksize=1)
            while not async_res.ready():
                self._drain(events, display)
                async_res.wait(0.25)
            self._drain(events, display)
            for r in async_res.get():
                self.results[r["ref"]] = r
        except KeyboardInterrupt:
            self.interrupted = True
            stop.set()
            try:
                async_res.wait(30)  # workers finish their round and save their state
                if async_res.ready():
                    for r in async_res.get():
                        self.results[r["ref"]] = r
            except KeyboardInterrupt:
                pass
            self._drain(events, display)
        finally:
            pool.terminate()
            pool.join()
            if display:
                display.close()
            manager.shutdown()
        order = {r: i for i, r in enumerate(self.refs)}
        return sorted(self.results.values(), key=lambda r: order.get(r["ref"], 1 << 30))

    def _drain(self, events, display):
        while True:
            try:
                ev = events.get_nowait()
            except Exception:  # queue.Empty through the manager proxy
                return
            self.results[ev["ref"]] = ev
            if display:
                display.update(ev)


class _Display:
    """Live table: cases/s, best margin so far, counterexamples found."""

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
        for c in ("statement", "cases", "cases/s", "best rel. margin", "counterexample"):
            t.add_column(c)
        for ref, ev in self.rows.items():
            if ev is None:
                t.add_row(ref, "", "", "", "")
                continue
            rate = ev["cases"] / ev["seconds"] if ev.get("seconds") else 0.0
            cx = ev.get("counterexample")
            t.add_row(ev["id"], str(ev["cases"]), f"{rate:.0f}", _fmt(ev["best_relative_margin"]),
                      ("replayed" if ev.get("replayed") else "certified") + f" (size {cx['size']})" if cx else "-")
        return t

    def update(self, ev):
        self.rows[ev["ref"]] = ev
        self.live.update(self._table())

    def close(self):
        self.live.update(self._table())
        self.live.stop()


def parse_budget(text: str) -> float:
    """``'90'``, ``'90s'``, ``'10m'``, ``'2h'`` -> seconds."""
    t = text.strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}
    try:
        if t and t[-1] in mult:
            v = float(t[:-1]) * mult[t[-1]]
        else:
            v = float(t)
    except ValueError:
        raise ValueError(f"budget must look like 90s, 10m or 2h, got {text!r}") from None
    if not v > 0:
        raise ValueError(f"budget must be positive, got {text!r}")
    return v


def write_reports(results: list[dict], json_path: str | None, md_path: str | None, meta: dict) -> None:
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    if md_path:
        lines = [
            "# Fuzz campaign", "",
            f"`{meta['command']}` — budget {meta['budget_s']:.0f}s, {meta['workers']} worker(s), seed {meta['seed']}, "
            f"db `{meta['db']}`{' (interrupted)' if meta.get('interrupted') else ''}.", "",
            "| statement | result | cases | cases/s | best relative margin | time to counterexample (s) |",
            "|---|---|---|---|---|---|",
        ]
        for r in results:
            rate = r["cases"] / r["seconds"] if r.get("seconds") else 0
            lines.append(f"| `{r['id']}` | {r['verdict']}{' (replayed)' if r.get('replayed') else ''} | {r['cases']} | "
                         f"{rate:.0f} | {_fmt(r['best_relative_margin']) if isinstance(r['best_relative_margin'], float) else r['best_relative_margin']} | "
                         f"{r.get('time_to_counterexample_s') or ''} |")
        lines += ["", "## Certified counterexamples", ""]
        for r in results:
            cx = r.get("counterexample")
            if cx:
                lines += [f"### `{r['id']}`", "", f"- inputs (exact): `{json.dumps(cx['inputs'])[:1500]}`",
                          f"- margin rhs − lhs ∈ `{cx['margin']}`", f"- {cx['certificate']}", ""]
        Path(md_path).parent.mkdir(parents=True, exist_ok=True)
        Path(md_path).write_text("\n".join(lines))
