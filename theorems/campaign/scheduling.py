"""The campaign client: a bandit over statements hands out time slices to workers.

Each statement is an arm. Every statement gets one slice first (in the given
order); after that a free worker gets a slice of the statement drawn with weight

    w = 0.1 + progress + closeness,

where ``progress`` is an exponential average of whether the statement's best
relative margin improved in its recent slices (as HypoFuzz allocates by recent
discoveries) and ``closeness = 1 / (1 + 20·max(best margin, 0))`` favours statements
whose bound is nearly reached. A second concurrent slice of a statement weighs
less. A statement's slices start at 0.5 s and double up to the campaign's slice
length. A refuted statement, or one that raised, gets no more slices: its time goes
to the others at once. Slices are short (``budget/30`` clamped to 0.5–5 s, never
past the budget), so a round never overruns the budget by more than one
evaluation plus one certification.

The client alone writes ``--db`` (state after every slice, counterexamples when
they certify), which is what makes a resume (same ``--db``) continue the counts
and replay stored counterexamples first.
"""

from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass, field

import numpy as np

from theorems.campaign.database import CampaignDB
from theorems.campaign.executors import DaskExecutor, InlineExecutor, LocalExecutor, max_workers
from theorems.campaign.loading import Spec
from theorems.inequality import Inequality
from theorems.statement import inputs_from_strings

STATE_KEYS = ("cases", "seconds", "cpu_seconds", "slices", "best_relative_margin", "best_raw", "best_input",
              "artefacts", "invalid", "nonfinite", "rel_tol", "time_to_counterexample_s", "cpu_to_counterexample_s")


@dataclass
class Arm:
    spec: Spec
    stmt: object
    row: dict
    progress: float = 0.0
    inflight: int = 0
    started: bool = False
    finished: bool = False

    @property
    def ref(self):
        return self.spec.ref


def slice_seconds(budget_s: float) -> float:
    return min(max(0.5, budget_s / 30.0), 5.0)


@dataclass
class Campaign:
    """Run statements (given by :class:`Spec`) for ``budget_s`` wall-clock seconds.

    ``workers=0`` runs slices in this process; ``cluster`` (``local:N`` or a scheduler
    address) runs them on Dask.
    """

    specs: list[Spec]
    budget_s: float
    workers: int = 1
    seed: int = 0
    db_root: str = ".optinfo-campaign"
    cluster: str | None = None
    statements: dict = field(default_factory=dict)  # ref -> Statement (already loaded by the caller)
    interrupted: bool = False
    stats: dict = field(default_factory=dict)

    def __post_init__(self):
        if not math.isfinite(self.budget_s) or self.budget_s <= 0:
            raise ValueError(f"budget must be a positive finite number of seconds, got {self.budget_s}")
        if self.cluster is None and not 0 <= self.workers <= max_workers():
            raise ValueError(f"--workers must be between 1 and {max_workers()}, got {self.workers}")

    # -- setup ------------------------------------------------------------------
    def _arms(self, db: CampaignDB) -> list[Arm]:
        arms = []
        stored = db.counterexamples()
        for spec in self.specs:
            stmt = self.statements.get(spec.ref) or spec.load()
            prev = db.load_state(stmt.id)
            row = {"id": stmt.id, "title": getattr(stmt, "title", ""), "ref": spec.ref, "verdict": "not run",
                   "cases": 0, "seconds": 0.0, "cpu_seconds": 0.0, "slices": 0, "best_relative_margin": math.inf,
                   "best_raw": None, "best_input": None, "artefacts": 0, "invalid": 0, "nonfinite": 0,
                   "rel_tol": getattr(stmt, "rel_tol", None), "time_to_counterexample_s": None,
                   "cpu_to_counterexample_s": None,
                   "time_to_counterexample_wall_s": None, "counterexample": None, "replayed": False,
                   "error": None, "max_overrun_s": 0.0}
            for k in STATE_KEYS:
                if k in prev and prev[k] is not None:
                    row[k] = prev[k]
            if isinstance(row["best_relative_margin"], str):
                row["best_relative_margin"] = float(row["best_relative_margin"])
            arm = Arm(spec, stmt, row)
            known = stored.get(stmt.id)
            if known is not None and isinstance(stmt, Inequality):
                try:
                    cx = stmt.certify(inputs_from_strings(known["inputs"]))
                except Exception as exc:  # noqa: BLE001
                    cx = None
                    row["error"] = f"re-certifying the stored counterexample raised {type(exc).__name__}: {exc}"
                if cx is not None:
                    row.update(counterexample=cx.__dict__, replayed=True, verdict="refuted")
                    arm.started = arm.finished = True
            arms.append(arm)
        return arms

    def _executor(self, arms):
        if self.cluster:
            return DaskExecutor(self.cluster)
        if self.workers == 0:
            return InlineExecutor()
        return LocalExecutor(min(self.workers, max(1, len(arms))), [a.spec for a in arms])

    # -- scheduling -----------------------------------------------------------------
    def _choose(self, arms: list[Arm], rng) -> Arm | None:
        live = [a for a in arms if not a.finished]
        if not live:
            return None
        fresh = [a for a in live if not a.started]
        if fresh:
            return fresh[0]
        w = np.array([(0.1 + a.progress + 1.0 / (1.0 + 20.0 * max(a.row["best_relative_margin"], 0.0)))
                      * (0.25 ** a.inflight) for a in live])
        return live[int(rng.choice(len(live), p=w / w.sum()))]

    def _absorb(self, arm: Arm, r: dict, started_at: float, db: CampaignDB, display):
        row = arm.row
        arm.inflight -= 1
        before = row["best_relative_margin"]
        row["cases"] += r["cases"]
        row["slices"] += 1
        for k in ("artefacts", "invalid", "nonfinite"):
            row[k] += r.get(k, 0)
        # search time only (loading is not the slice's); a bespoke check runs once, whole, not as a slice
        overrun = 0.0 if r.get("bespoke") else max(0.0, r["seconds"] - r["slice_s"])
        row["max_overrun_s"] = max(row["max_overrun_s"], overrun)
        self.stats["max_overrun_s"] = max(self.stats.get("max_overrun_s", 0.0), overrun)
        self.stats["slices"] = self.stats.get("slices", 0) + 1
        if r.get("rel_tol") is not None and (row["rel_tol"] is None or r["rel_tol"] > row["rel_tol"]):
            row["rel_tol"] = r["rel_tol"]
        if r["best_relative_margin"] < before:
            row["best_relative_margin"] = r["best_relative_margin"]
            row["best_raw"], row["best_input"] = r["best_raw"], r["best_input"]
            gain = 1.0 if not math.isfinite(before) else min(1.0, 0.5 + (before - r["best_relative_margin"])
                                                             / (abs(before) + 1e-12))
        else:
            gain = 0.0
        arm.progress = 0.5 * arm.progress + 0.5 * gain
        if r.get("bespoke"):
            b = r["bespoke"]
            row.update(verdict=b["verdict"], counterexample=b["counterexample"], note=b["summary"])
            arm.finished = True
        if r.get("error"):
            row.update(verdict="error", error=r["error"])
            arm.finished = True
        if r.get("counterexample") and row["counterexample"] is None:
            row["time_to_counterexample_s"] = round(row["seconds"] + r["time_to_counterexample_in_slice_s"], 3)
            row["time_to_counterexample_wall_s"] = round(started_at - self._t0
                                                         + r["time_to_counterexample_in_slice_s"], 3)
            if r.get("cpu_to_counterexample_in_slice_s") is not None:
                row["cpu_to_counterexample_s"] = round(row["cpu_seconds"] + r["cpu_to_counterexample_in_slice_s"], 3)
            row.update(counterexample=r["counterexample"], verdict="refuted")
            db.add_counterexample(row["id"], r["counterexample"])
            arm.finished = True
        row["seconds"] += r["seconds"]
        row["cpu_seconds"] += r.get("cpu_s", 0.0)
        if row["verdict"] == "not run":
            row["verdict"] = "no counterexample"
        db.save_state(row["id"], {k: row[k] for k in STATE_KEYS})
        if display:
            display.update(row)

    # -- the loop ---------------------------------------------------------------------
    def run(self, live: bool = False) -> list[dict]:
        db = CampaignDB(self.db_root)
        db.lock()
        old_term = None
        try:
            try:
                old_term = signal.signal(signal.SIGTERM, _sigterm)
            except ValueError:  # not the main thread
                old_term = None
            return self._run(db, live)
        finally:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
            db.unlock()

    def _run(self, db: CampaignDB, live: bool) -> list[dict]:
        self._t0 = time.perf_counter()
        arms = self._arms(db)
        rng = np.random.default_rng(self.seed)
        display = None
        if live:
            from theorems.campaign.reporting import Display

            display = Display([a.ref for a in arms], self.budget_s)
            for a in arms:
                if a.finished:
                    display.update(a.row)
        executor = None
        pending: dict = {}
        slice_s = slice_seconds(self.budget_s)
        by_ref = {a.ref: a for a in arms}
        try:
            executor = self._executor(arms)
            if hasattr(executor, "warm"):
                executor.warm([a.spec for a in arms if not a.finished])
            self._t0 = time.perf_counter()  # the budget starts once workers exist (a cluster takes seconds)
            self.stats.update(executor=executor.name, workers=executor.workers, slice_s=slice_s)
            if isinstance(executor, DaskExecutor):
                self.stats["scheduler"] = executor.address
            n_slots = executor.workers
            while True:
                left = self.budget_s - (time.perf_counter() - self._t0)
                while left > 0.05 and len(pending) < n_slots:
                    arm = self._choose(arms, rng)
                    if arm is None:
                        break
                    arm.started = True
                    arm.inflight += 1
                    row = arm.row
                    seed = (self.seed * 1_000_003 + hash(arm.ref) % 1_000_003 + 7919 * row["slices"]
                            + 104729 * arm.inflight) % 2**31
                    t_sub = time.perf_counter()
                    # a statement's first slices are short (0.5 s, doubling): quick kills, quick feedback
                    this = min(slice_s, 0.5 * 2 ** row["slices"], left)
                    fut = executor.submit(arm.spec, this, seed, row["best_relative_margin"],
                                          row["best_raw"], row["rel_tol"], row["slices"])
                    pending[fut] = (arm.ref, t_sub)
                    left = self.budget_s - (time.perf_counter() - self._t0)
                if not pending:
                    break
                for fut in executor.wait(set(pending), 0.25):
                    ref, t_sub = pending.pop(fut)
                    arm = by_ref[ref]
                    try:
                        r = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a worker died: the statement's row says so
                        arm.inflight -= 1
                        arm.row.update(verdict="error", error=f"worker failed: {type(exc).__name__}: {exc}")
                        arm.finished = True
                        continue
                    self._absorb(arm, r, t_sub, db, display)
        except KeyboardInterrupt:
            self.interrupted = True
            # in-flight slices end at their own deadline; collect what comes back quickly
            t_stop = time.perf_counter() + slice_s + 5.0
            try:
                while pending and time.perf_counter() < t_stop and executor is not None:
                    for fut in executor.wait(set(pending), 0.25):
                        ref, t_sub = pending.pop(fut)
                        try:
                            self._absorb(by_ref[ref], fut.result(), t_sub, db, display)
                        except Exception:  # noqa: BLE001
                            pass
            except KeyboardInterrupt:
                pass
        finally:
            if executor is not None:
                executor.shutdown()
            if display:
                display.close()
        self.stats["wall_s"] = round(time.perf_counter() - self._t0, 3)
        rows = []
        for a in arms:
            r = dict(a.row)
            if r["verdict"] == "not run" and not a.started:
                r["note"] = "never started (campaign interrupted or budget spent first)"
            rows.append(r)
        return rows


def _sigterm(signum, frame):
    raise KeyboardInterrupt  # SIGTERM behaves like Ctrl-C: stop, save, write reports
