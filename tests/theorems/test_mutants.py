"""Mutation meta-tests: each statement's quick check must kill (refute) every mutant.

A mutant is the statement with its constant off by 1 %, the inequality
flipped, or a term dropped / a factor of 2 (see each module's ``mutants()``).
"""

from __future__ import annotations

import pytest

from theorems import registry
from theorems.statement import Verdict

CASES = [(s, m) for s in registry.all_statements() for m in s.mutants()]


@pytest.mark.parametrize("stmt, mutant", CASES, ids=[m.id for _, m in CASES])
def test_mutant_is_killed(stmt, mutant):
    r = mutant.check(effort="quick")
    assert r.verdict is Verdict.REFUTED, f"mutant {mutant.id} survived: {r.evidence}"
    assert r.counterexample is not None


def test_each_statement_has_three_mutants():
    few = {s.id: len(s.mutants()) for s in registry.all_statements() if len(s.mutants()) < 3}
    # statements with fewer than three meaningful mutants say why in their module
    assert all(getattr(s, "few_mutants_reason", None) for s in registry.all_statements() if s.id in few), few
