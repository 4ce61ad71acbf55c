"""Every statement's quick check, with its verdict computed now.

A ``refuted`` verdict must come with a counterexample that ``verify`` re-certifies
from its exact inputs alone (empirical refutations are reruns of their seeded
experiment); a ``holds`` verdict must show the cases it tried. The expected verdict
is the statement's own ``expected`` attribute, declared next to its claim: the
verdict our evidence gave when the checker was written. A change means a
checker or a numerics routine changed behaviour, and is a failure to
investigate, not to paper over.
"""

from __future__ import annotations

import pytest

from tests.theorems.quick_checks import quick_check
from theorems import registry
from theorems.statement import Verdict
from theorems.verify import verify_report

STATEMENTS = registry.all_statements()


@pytest.mark.parametrize("stmt", STATEMENTS, ids=lambda s: s.id)
def test_statement_quick_check(stmt):
    r = quick_check(stmt)
    assert r.id == stmt.id and isinstance(r.verdict, Verdict)
    if r.verdict is Verdict.REFUTED:
        # an empirical refutation is its seeded experiment's statistics (no Arb certificate)
        assert r.counterexample is not None or getattr(stmt, "empirical", False), "refuted without a certificate"
        assert r.counterexample is not None or "summary" in r.evidence
        lines = list(verify_report({"results": [r.to_json()]}))
        assert lines and all(ok for _, ok in lines), lines
    if r.verdict is Verdict.HOLDS and "cases" in r.evidence:
        assert r.evidence["cases"] > 0
    assert r.verdict.value == stmt.expected, r.evidence


def test_every_statement_has_an_expected_verdict():
    missing = [s.id for s in STATEMENTS if not s.expected]
    assert not missing
