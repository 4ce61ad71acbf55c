"""The statements reference (``python -m theorems docs``) is generated from the registry and kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theorems import docs, registry
from theorems.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def statements():
    return registry.all_statements()


def _report(stmts, verdict_of=lambda s: docs.expected_verdict(s)) -> dict[str, dict]:
    return {s.id: {"id": s.id, "verdict": verdict_of(s), "evidence": {"summary": f"evidence of {s.id}"}}
            for s in stmts}


def test_every_statement_is_documented_with_claim_and_expected_verdict(statements):
    text = docs.render(statements, _report(statements), "a test report")
    for s in statements:
        assert f"### {s.id}\n" in text
        assert " ".join(s.claim.split()).replace("|", "\\|") in text
        assert f"evidence: evidence of {s.id}" in text
        assert f"Expected verdict: **{docs.expected_verdict(s)}**" in text
    assert "investigate" not in text and "⚠" not in text


def test_a_verdict_that_differs_from_the_expected_one_is_flagged(statements):
    """Meta-test: a report whose verdict disagrees with the declared one must show up in the reference."""
    s0 = statements[0]
    flipped = _report(statements, lambda s: "refuted" if s is s0 and docs.expected_verdict(s) != "refuted" else
                      docs.expected_verdict(s) if s is not s0 else "holds")
    text = docs.render(statements, flipped)
    assert text.count("investigate") == 1 and text.count("⚠") == 1


def test_bad_reports_are_named(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        docs.load_report(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        docs.load_report(tmp_path / "bad.json")
    (tmp_path / "empty.json").write_text(json.dumps({"meta": {}}))
    with pytest.raises(ValueError, match="no 'results' list"):
        docs.load_report(tmp_path / "empty.json")
    assert main(["docs", "--out", str(tmp_path / "out.md"), "--report", str(tmp_path / "missing.json")]) == 2


def test_committed_reference_is_current(tmp_path):
    """docs/statements.md is what ``python -m theorems docs`` writes now; if not, rerun that command."""
    out = docs.write(tmp_path / "statements.md", ROOT / docs.DEFAULT_REPORT)
    committed = (ROOT / docs.DEFAULT_OUT).read_text()
    assert committed == out.read_text(), \
        "docs/statements.md is stale: run `python -m theorems docs`"
