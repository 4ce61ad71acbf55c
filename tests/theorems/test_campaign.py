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

from theorems.campaign import fuzz_one, load_user_statements, parse_budget

ROOT = Path(__file__).resolve().parents[2]
MUTANT = "lemma-3.6~rhs x 0.99"


def test_parse_budget():
    assert parse_budget("90") == 90 and parse_budget("90s") == 90
    assert parse_budget("10m") == 600 and parse_budget("2h") == 7200
    for bad in ("", "ten", "-5s", "0"):
        with pytest.raises(ValueError, match="budget"):
            parse_budget(bad)


def test_counterexample_is_stored_and_replayed_first(tmp_path):
    first = fuzz_one(MUTANT, 30.0, seed=1, db_root=str(tmp_path))
    assert first["verdict"] == "refuted" and not first["replayed"]
    lines = (tmp_path / "counterexamples.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["id"] == MUTANT
    again = fuzz_one(MUTANT, 30.0, seed=2, db_root=str(tmp_path))
    assert again["replayed"] and again["counterexample"]["inputs"] == first["counterexample"]["inputs"]


def _fuzz_cmd(db, budget, *ids):
    return [sys.executable, "-m", "theorems", "fuzz", *ids, "--budget", budget, "--workers", "1",
            "--db", str(db), "--quiet"]


def test_sigint_then_resume_loses_nothing(tmp_path):
    db = tmp_path / "db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_fuzz_cmd(db, "300s", "lemma-3.6"), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state_file = db / "state" / "lemma-3.6.json"
    deadline = time.time() + 120
    while not state_file.exists() and time.time() < deadline:
        time.sleep(0.5)
    assert state_file.exists(), proc.stderr.read() if proc.poll() is not None else "no state written"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    report = json.loads((db / "campaign.json").read_text())
    assert report["meta"]["interrupted"] is True
    before = json.loads(state_file.read_text())["cases"]
    assert before > 0
    # resume: the counts continue from what the interrupted run saved
    done = subprocess.run(_fuzz_cmd(db, "3s", "lemma-3.6"), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    after = json.loads((db / "campaign.json").read_text())["results"][0]["cases"]
    assert after > before


def test_readme_user_statement_example_runs(tmp_path):
    claims = load_user_statements(str(ROOT / "examples" / "my_statement.py") + ":claims")
    assert [c.id for c in claims] == ["my/renyi-2<=shannon", "my/shannon<=H_half/2"]
    out = subprocess.run(
        [sys.executable, "-m", "theorems", "fuzz", "--statement", "examples/my_statement.py:claims",
         "--budget", "10s", "--workers", "1", "--db", str(tmp_path / "db"), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    results = {r["id"]: r for r in json.loads((tmp_path / "db" / "campaign.json").read_text())["results"]}
    assert results["my/renyi-2<=shannon"]["verdict"] == "no counterexample"
    assert results["my/shannon<=H_half/2"]["verdict"] == "refuted"


@pytest.mark.parametrize("ref, match", [("nope.py:x", "does not exist"), ("examples/my_statement.py:missing", "no attribute"),
                                         ("examples/my_statement.py", "FILE.py:NAME")])
def test_bad_user_statement_refs(ref, match, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ValueError, match=match):
        load_user_statements(ref)
