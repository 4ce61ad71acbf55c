"""Fuzz campaigns: long, adversarial, resumable, parallel searches for counterexamples.

``python -m theorems fuzz [IDS...] [--statement FILE.py:NAME] --budget 10m --workers N
[--cluster local:N | --cluster tcp://HOST:8786] --seed S --db PATH --json OUT --md OUT``

* :mod:`.scheduling` -- the client: a bandit hands short time slices to workers, by
  recent progress of each statement's best margin; refuted statements stop at once;
* :mod:`.search` -- one slice: a Hypothesis run over the statement's domain, structured
  variants of each draw and a Nelder–Mead push projected onto the domain
  (:mod:`.structure`); violations are certified with ``Inequality.certify``;
* :mod:`.executors` -- slices run inline, in local processes or on Dask ``distributed``;
* :mod:`.database` -- state and counterexamples (atomic writes, a lock, torn-line tolerant);
* :mod:`.reporting` -- budgets, live table, JSON/Markdown reports.

An interrupted campaign (Ctrl-C or SIGTERM) writes its reports; a restart with the
same ``--db`` replays the stored counterexamples first and continues the counts.
"""

from __future__ import annotations

from theorems.campaign.database import CampaignDB, DatabaseLocked, atomic_write_text
from theorems.campaign.executors import max_workers
from theorems.campaign.loading import Spec, load_user_statements, resolve, spec_for
from theorems.campaign.reporting import parse_budget, write_reports
from theorems.campaign.scheduling import Campaign
from theorems.campaign.search import run_slice

__all__ = ["Campaign", "CampaignDB", "DatabaseLocked", "Spec", "atomic_write_text", "fuzz_one",
           "load_user_statements", "max_workers", "parse_budget", "resolve", "run_slice", "spec_for",
           "write_reports"]


def fuzz_one(ref: str, budget_s: float, seed: int, db_root: str, stmt=None, workers: int = 0) -> dict:
    """Fuzz one statement (a paper id, ``FILE.py:NAME#i``, or ``stmt`` itself) in this process.

    Returns its report row (``verdict``, ``cases``, ``counterexample``, ``time_to_counterexample_s``...).
    """
    if stmt is None:
        stmt = spec_for(ref).load()
    spec = spec_for(ref, stmt)
    c = Campaign([spec], budget_s, workers=workers, seed=seed, db_root=db_root, statements={ref: stmt})
    return c.run(live=False)[0]
