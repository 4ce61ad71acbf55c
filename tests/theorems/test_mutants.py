"""Mutation meta-tests: each statement's quick check must kill (refute) every mutant.

A mutant is the statement with its constant off by 1 %, the inequality
flipped, or a term dropped / a factor of 2 (see each module's ``mutants()``).

Killing all ~120 mutants takes several minutes, a third of the whole suite, so the
default run kills a sample: one mutant per statement, chosen by a seeded, stable
rotation (``OPTINFO_MUTANT_SAMPLE=<int>``, default 0; CI can pass its build number
so that successive runs cover every mutant). ``pytest -m slow`` kills all of them.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.theorems.quick_checks import mutants_of, quick_check
from theorems import registry
from theorems.statement import Verdict

STATEMENTS = registry.all_statements()
ALL = [(s, m) for s in STATEMENTS for m in mutants_of(s)]


def sample_mutants(statements, seed: int) -> list:
    """One ``(statement, mutant)`` per statement that has mutants: index ``(h(id) + seed) mod k``.

    ``h`` is a hash of the statement id that does not change between processes (unlike ``hash``),
    so a given seed always picks the same mutants and successive seeds rotate through all of them.
    """
    out = []
    for s in statements:
        ms = mutants_of(s)
        if ms:
            h = int.from_bytes(hashlib.sha256(s.id.encode()).digest()[:4], "big")
            out.append((s, ms[(h + seed) % len(ms)]))
    return out


def _sample_seed() -> int:
    raw = os.environ.get("OPTINFO_MUTANT_SAMPLE", "0")
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"OPTINFO_MUTANT_SAMPLE must be an integer, got {raw!r}") from None


SAMPLE = sample_mutants(STATEMENTS, _sample_seed())


def _kill(mutant) -> None:
    r = quick_check(mutant)
    assert r.verdict is Verdict.REFUTED, f"mutant {mutant.id} survived: {r.evidence}"
    assert r.counterexample is not None


@pytest.mark.parametrize("stmt, mutant", SAMPLE, ids=[m.id for _, m in SAMPLE])
def test_mutant_is_killed(stmt, mutant):
    _kill(mutant)


@pytest.mark.slow
@pytest.mark.parametrize("stmt, mutant", ALL, ids=[m.id for _, m in ALL])
def test_every_mutant_is_killed(stmt, mutant):
    _kill(mutant)


def test_sample_takes_one_mutant_per_statement_and_rotates_through_all():
    with_mutants = [s for s in STATEMENTS if s.mutants()]
    assert [s.id for s, _ in SAMPLE] == [s.id for s in with_mutants]
    longest = max(len(s.mutants()) for s in with_mutants)
    seen = {m.id for seed in range(longest) for _, m in sample_mutants(STATEMENTS, seed)}
    assert seen == {m.id for _, m in ALL}


def test_each_statement_has_three_mutants():
    few = {s.id: len(s.mutants()) for s in STATEMENTS if len(s.mutants()) < 3}
    # statements with fewer than three meaningful mutants say why in their module
    assert all(getattr(s, "few_mutants_reason", None) for s in STATEMENTS if s.id in few), few
