"""Fault tolerance of campaigns: raising statements, the database lock, torn and corrupt files,
orphaned workers, interrupted reports, argument validation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from theorems.campaign import CampaignDB, DatabaseLocked, atomic_write_text, fuzz_one

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "PYTHONPATH": str(ROOT)}

FAULTY = '''
import math
from fractions import Fraction
from hypothesis import strategies as st
from theorems import Inequality

def _boom(x):
    raise ValueError("side exploded")

def _boom_exact(x, B):
    raise RuntimeError("exact side exploded")

base = dict(claim="c", reading="r", domain=st.floats(0.5, 2.0).map(lambda v: {"v": v}))
good = Inequality(id="good/false", title="v <= 0.9 v (false)", lhs_float=lambda x: x["v"],
                  rhs_float=lambda x: 0.9 * x["v"], lhs_exact=lambda x, B: B.num(x["v"]),
                  rhs_exact=lambda x, B: B.num(Fraction(9, 10)) * B.num(x["v"]), **base)
raises = Inequality(id="bad/side-raises", title="raises", lhs_float=_boom, rhs_float=lambda x: 1.0,
                    lhs_exact=lambda x, B: B.num(0), rhs_exact=lambda x, B: B.num(1), **base)
certify_raises = Inequality(id="bad/certify-raises", title="exact side raises", lhs_float=lambda x: x["v"],
                            rhs_float=lambda x: 0.9 * x["v"], lhs_exact=_boom_exact,
                            rhs_exact=lambda x, B: B.num(1), **base)
claims = [raises, good, certify_raises]

from numerics.entropy import renyi_entropy, renyi_entropy_mp
from numerics.strategies import distributions

def _renyi_pair(a, b):
    # true: Rényi entropies decrease in the order
    return Inequality(id=f"true/H{b}<=H{a}", title="t", claim="c", reading="r",
                      domain=distributions(2, 20).map(lambda p: {"p": p}),
                      lhs_float=lambda x: renyi_entropy(x["p"], b), rhs_float=lambda x: renyi_entropy(x["p"], a),
                      lhs_exact=lambda x, B: renyi_entropy_mp(x["p"], Fraction(b), backend=B),
                      rhs_exact=lambda x, B: renyi_entropy_mp(x["p"], Fraction(a), backend=B))

true_ones = [_renyi_pair(a, b) for a, b in [(2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]]
'''


@pytest.fixture
def faulty(tmp_path):
    p = tmp_path / "faulty.py"
    p.write_text(textwrap.dedent(FAULTY))
    return p


def _cmd(db, *args, budget="3s", workers="1"):
    return [sys.executable, "-m", "theorems", "fuzz", *args, "--budget", budget, "--workers", workers,
            "--db", str(db), "--quiet"]


def test_raising_statements_are_error_rows_and_the_campaign_goes_on(tmp_path, faulty):
    out = subprocess.run(_cmd(tmp_path / "db", "--statement", f"{faulty}:claims", workers="2"),
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {r["id"]: r for r in json.loads((tmp_path / "db" / "campaign.json").read_text())["results"]}
    assert rows["bad/side-raises"]["verdict"] == "error"
    assert "side exploded" in rows["bad/side-raises"]["error"]
    assert rows["bad/certify-raises"]["verdict"] == "error"
    assert "exact side exploded" in rows["bad/certify-raises"]["error"]
    assert rows["good/false"]["verdict"] == "refuted"
    md = (tmp_path / "db" / "campaign.md").read_text()
    assert "## Errors" in md and "side exploded" in md


def test_second_campaign_on_the_same_db_is_refused(tmp_path):
    db = CampaignDB(tmp_path / "db")
    db.lock()
    try:
        with pytest.raises(DatabaseLocked, match=f"pid {os.getpid()}.*different --db"):
            CampaignDB(tmp_path / "db").lock()
        out = subprocess.run(_cmd(tmp_path / "db", "--statement", "examples/my_statement.py:claims"),
                             cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
        assert out.returncode == 2 and "another campaign" in out.stderr
    finally:
        db.unlock()
    CampaignDB(tmp_path / "db").lock()  # released: the next campaign may start


def test_atomic_writes_use_unique_temporary_files(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_write_text(target, "old")
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write_text(target, "a")
    atomic_write_text(target, "b")
    assert len(set(seen)) == 2 and all(s.endswith(".tmp") for s in seen)
    assert target.read_text() == "b"

    # a failed write leaves the old file and no temporary behind
    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        atomic_write_text(target, "c")
    assert target.read_text() == "b" and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_torn_last_line_is_skipped_with_a_warning_and_not_glued_to_the_next(tmp_path):
    db = CampaignDB(tmp_path)
    db.add_counterexample("a", {"inputs": {"v": "1"}})
    with open(db.counterexamples_path, "a") as fh:
        fh.write('{"id": "b", "counterexample": {"inp')  # a crash mid-append
    with pytest.warns(UserWarning, match="line 2 is not a complete record"):
        assert set(db.counterexamples()) == {"a"}
    db.add_counterexample("c", {"inputs": {"v": "2"}})
    with pytest.warns(UserWarning):
        assert set(db.counterexamples()) == {"a", "c"}


def test_corrupt_state_file_starts_that_statement_afresh(tmp_path):
    ref, sid = str(ROOT / "examples" / "my_statement.py") + ":claims#0", "my/renyi-2<=shannon"
    db = CampaignDB(tmp_path)
    db.state_path(sid).parent.mkdir(parents=True, exist_ok=True)
    db.state_path(sid).write_text('{"cases": 12, "best_rel')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        row = fuzz_one(ref, 0.6, seed=0, db_root=str(tmp_path))
    assert any("corrupt state file" in str(x.message) for x in w)
    assert row["verdict"] == "no counterexample" and row["cases"] > 0
    assert json.loads(db.state_path(sid).read_text())["cases"] == row["cases"]  # rewritten whole


def test_interrupted_report_says_not_run_for_statements_never_started(tmp_path, faulty):
    db = tmp_path / "db"
    proc = subprocess.Popen(_cmd(db, "--statement", f"{faulty}:true_ones", budget="300s"), cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = db / "state" / "true_H3__H2.json"
    deadline = time.time() + 60
    while not first.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    rows = json.loads((db / "campaign.json").read_text())["results"]
    verdicts = [r["verdict"] for r in rows]
    assert verdicts[0] == "no counterexample" and verdicts[-1] == "not run", verdicts
    assert "Not run (never started)" in (db / "campaign.md").read_text()


def test_workers_exit_when_the_parent_dies(tmp_path, faulty):
    psutil = pytest.importorskip("psutil")
    proc = subprocess.Popen(_cmd(tmp_path / "db", "--statement", f"{faulty}:true_ones", budget="300s", workers="2"),
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        children = []
        while time.time() < deadline:
            children = [c for c in psutil.Process(proc.pid).children(recursive=True)
                        if "python" in c.name().lower()]
            if len(children) >= 2 and (tmp_path / "db" / "state").exists():
                break
            time.sleep(0.2)
        assert len(children) >= 2
    finally:
        proc.kill()  # SIGKILL: no handler runs in the parent
        proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [c.pid for c in alive]


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--workers", "-3"], "--workers must be at least 1"),
    (["--budget", "inf"], "budget must be finite"),
    (["--statement", "examples/my_statement.py:nope"], "defines: claims"),
    (["--cluster", "local:x"], "local:N needs an integer"),
    (["--cluster", "local:0"], "local:N needs 1 <= N"),
])
def test_bad_arguments_are_refused_with_a_message(tmp_path, args, message, capsys, monkeypatch):
    from theorems.__main__ import main

    monkeypatch.chdir(ROOT)
    assert main(["fuzz", "--db", str(tmp_path / "db"), "--quiet", "--budget", "1s",
                 "--statement", "examples/my_statement.py:claims", *args]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_too_many_workers_are_capped(tmp_path, capsys, monkeypatch):
    from theorems.__main__ import main

    monkeypatch.chdir(ROOT)
    assert main(["fuzz", "--statement", "examples/my_statement.py:claims", "--budget", "1s", "--workers", "100000",
                 "--db", str(tmp_path / "db"), "--quiet"]) == 0
    assert "capped" in capsys.readouterr().err
    meta = json.loads((tmp_path / "db" / "campaign.json").read_text())["meta"]
    assert 1 <= meta["workers"] <= 4 * (os.cpu_count() or 1)
