"""Campaigns: budgets, resumption after an interrupt, replay of stored counterexamples, user statements."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theorems.campaign import Campaign, fuzz_one, load_user_statements, parse_budget, spec_for

ROOT = Path(__file__).resolve().parents[2]
MUTANT = str(ROOT / "examples" / "my_statement.py") + ":claims#1"  # false: H(p) ≤ H_½(p)/2
TRUE = ("--statement", "examples/my_statement.py:renyi2_below_shannon")  # a user file: no registry import
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def test_parse_budget():
    assert parse_budget("90") == 90 and parse_budget("90s") == 90
    assert parse_budget("10m") == 600 and parse_budget("2h") == 7200
    for bad in ("", "ten", "-5s", "0", "inf", "infs", "nan"):
        with pytest.raises(ValueError, match="budget"):
            parse_budget(bad)


def test_counterexample_is_stored_and_replayed_first(tmp_path):
    first = fuzz_one(MUTANT, 30.0, seed=1, db_root=str(tmp_path))
    assert first["verdict"] == "refuted" and not first["replayed"]
    assert first["time_to_counterexample_s"] is not None and first["time_to_counterexample_s"] <= first["seconds"]
    lines = (tmp_path / "counterexamples.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["id"] == "my/shannon<=H_half/2"
    again = fuzz_one(MUTANT, 30.0, seed=2, db_root=str(tmp_path))
    assert again["replayed"] and again["counterexample"]["inputs"] == first["counterexample"]["inputs"]
    assert again["cases"] == first["cases"]  # nothing searched: the stored one re-certified


def test_a_refuted_statement_releases_its_time(tmp_path):
    """The bandit gives a killed statement no more slices: the survivor gets the rest of the budget."""
    easy = spec_for(MUTANT)
    true = spec_for(str(ROOT / "examples" / "my_statement.py") + ":claims#0")
    c = Campaign([easy, true], 3.0, workers=0, seed=0, db_root=str(tmp_path))
    rows = {r["id"]: r for r in c.run()}
    killed = rows["my/shannon<=H_half/2"]
    assert killed["verdict"] == "refuted"
    survivor = rows["my/renyi-2<=shannon"]
    assert survivor["verdict"] == "no counterexample"
    # the whole budget was used, and the survivor got all of it after the kill
    assert survivor["slices"] > killed["slices"] and survivor["seconds"] > killed["seconds"]
    assert survivor["seconds"] + killed["seconds"] >= 0.8 * 3.0


def _fuzz_cmd(db, budget, *args):
    return [sys.executable, "-m", "theorems", "fuzz", *args, "--budget", budget, "--workers", "1",
            "--db", str(db), "--quiet"]


def _wait_for(path: Path, proc, seconds=60):
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert path.exists(), proc.communicate()[1] if proc.poll() is not None else f"{path} never written"


@pytest.mark.parametrize("sig", [signal.SIGINT])  # SIGTERM: test_campaign_faults (not-run rows)
def test_interrupt_then_resume_loses_nothing(tmp_path, sig):
    """Ctrl-C: reports written, exit 130; a resume continues the counts."""
    db = tmp_path / "db"
    proc = subprocess.Popen(_fuzz_cmd(db, "300s", *TRUE), cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state_file = db / "state" / "my_renyi-2__shannon.json"
    _wait_for(state_file, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    report = json.loads((db / "campaign.json").read_text())
    assert report["meta"]["interrupted"] is True
    before = json.loads(state_file.read_text())["cases"]
    assert before > 0
    done = subprocess.run(_fuzz_cmd(db, "1s", *TRUE), cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    after = json.loads((db / "campaign.json").read_text())["results"][0]["cases"]
    assert after > before


def test_readme_user_statement_example_runs(tmp_path):
    claims = load_user_statements(str(ROOT / "examples" / "my_statement.py") + ":claims")
    assert [c.id for c in claims] == ["my/renyi-2<=shannon", "my/shannon<=H_half/2"]
    out = subprocess.run(
        [sys.executable, "-m", "theorems", "fuzz", "--statement", "examples/my_statement.py:claims",
         "--budget", "2s", "--workers", "1", "--db", str(tmp_path / "db"), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=ENV,
    )
    assert out.returncode == 0, out.stderr
    results = {r["id"]: r for r in json.loads((tmp_path / "db" / "campaign.json").read_text())["results"]}
    assert results["my/renyi-2<=shannon"]["verdict"] == "no counterexample"
    assert results["my/shannon<=H_half/2"]["verdict"] == "refuted"


@pytest.mark.parametrize("ref, match", [
    ("nope.py:x", "does not exist"),
    ("examples/my_statement.py:missing", "no attribute 'missing'; statements .* claims, renyi2_below_shannon"),
    ("examples/my_statement.py", "FILE.py:NAME"),
])
def test_bad_user_statement_refs(ref, match, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ValueError, match=match):
        load_user_statements(ref)
