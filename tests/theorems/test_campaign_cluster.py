"""Campaigns on a Dask ``distributed`` cluster (a LocalCluster of 2 processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theorems.campaign import Campaign, load_user_statements, spec_for
from theorems.statement import inputs_from_strings

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = str(ROOT / "benchmarks" / "campaign_mutants.py") + ":mutants"
PICK = (0, 5, 16)  # lemma-3.6 x0.99, renyi2<=shannon x0.999, kantorovich x0.999
TRUE = str(ROOT / "examples" / "my_statement.py") + ":claims#0"


def test_cluster_run_finds_what_a_local_run_finds_and_resumes(tmp_path):
    specs = [spec_for(f"{MUTANTS}#{i}") for i in PICK] + [spec_for(TRUE)]
    local = Campaign(specs, 2.0, workers=0, seed=0, db_root=str(tmp_path / "local")).run()
    cluster_db = tmp_path / "cluster"
    c = Campaign(specs, 3.0, seed=0, db_root=str(cluster_db), cluster="local:2")
    remote = c.run()
    assert c.stats["executor"] == "dask" and c.stats["workers"] == 2
    assert [r["verdict"] for r in remote] == [r["verdict"] for r in local] == ["refuted"] * 3 + ["no counterexample"]
    # the client wrote every counterexample the workers sent back, and each one re-certifies here
    stored = [json.loads(line) for line in (cluster_db / "counterexamples.jsonl").read_text().splitlines()]
    assert sorted(s["id"] for s in stored) == sorted(r["id"] for r in remote[:3])
    mutants = {m.id: m for m in load_user_statements(MUTANTS)}
    for rec in stored:
        assert mutants[rec["id"]].certify(inputs_from_strings(rec["counterexample"]["inputs"])) is not None
    assert remote[3]["cases"] > 0 and (cluster_db / "state").is_dir()
    # resume on an existing scheduler (its address, as for a deployed cluster): stored counterexamples
    # are replayed, the survivor's counts continue
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        c2 = Campaign(specs, 1.5, seed=1, db_root=str(cluster_db), cluster=lc.scheduler_address)
        again = c2.run()
    assert c2.stats["scheduler"] == lc.scheduler_address
    assert [r["replayed"] for r in again] == [True, True, True, False]
    assert again[3]["cases"] > remote[3]["cases"]
