"""Every statement's quick check, with its verdict computed now.

A ``refuted`` verdict must come with a counterexample that ``verify`` re-certifies
from its exact inputs alone (empirical refutations are reruns of their seeded
experiment); a ``holds`` verdict must show the cases it tried. The expected verdict
is the statement's own ``expected`` attribute where it declares one, else
``EXPECTED`` below: the verdicts our evidence gave when each checker was written.
A change means a checker or a numerics routine changed behaviour, and is a failure
to investigate, not to paper over.
"""

from __future__ import annotations

import pytest

from theorems import registry
from theorems.statement import Verdict
from theorems.verify import verify_report

EXPECTED = {
    "thm-3.2": "refuted",
    "thm-3.2/supremum": "holds",
    "thm-3.2/dimension-free": "holds",
    "thm-3.2/simple": "holds",
    "thm-3.3/linear-gaussian": "holds",
    "thm-3.3/logistic": "approximate",
    "thm-3.4/kl-formula": "holds",
    "thm-3.4/bound": "holds",
    "thm-3.4/log-det-identity": "holds",
    "thm-4.2": "holds",
    "thm-4.3": "holds",
    "cor-4.4": "holds",
    "cor-4.4/equality": "holds",
    "prop-4.5": "holds",
    "prop-4.5/inverse": "holds",
    "sec-4.1/sufficiency": "holds",
    "sec-4.1/uniqueness": "refuted",
    "sec-4.1/uniqueness-bijection": "holds",
    "sec-4.1/max-entropy": "holds",
    "seed-002/sign-descent-linf": "holds",
    "seed-002/adam-no-momentum-sign": "holds",
    "seed-002/shampoo-spectral": "holds",
    "def-3.1/range": "holds",
    "def-3.1/monotone": "holds",
    "def-3.1/von-neumann-limit": "holds",
    "def-3.1/spectral-form": "holds",
    "def-3.1/gap-is-kl": "holds",
    "def-3.1/gap-nonneg": "holds",
    "lemma-3.5": "holds",
    "lemma-3.5/identity": "holds",
    "lemma-3.5/gap-bound": "holds",
    "lemma-3.5/misreading": "refuted",
    "thm-3.7": "approximate",
    "thm-3.7/limit": "holds",
    "lemma-3.6": "holds",
    "lemma-3.6/pinsker": "holds",
}

STATEMENTS = registry.all_statements()


@pytest.mark.parametrize("stmt", STATEMENTS, ids=lambda s: s.id)
def test_statement_quick_check(stmt):
    r = stmt.check(effort="quick")
    assert r.id == stmt.id and isinstance(r.verdict, Verdict)
    if r.verdict is Verdict.REFUTED:
        assert r.counterexample is not None, "refuted without a certified counterexample"
        lines = list(verify_report({"results": [r.to_json()]}))
        assert lines and all(ok for _, ok in lines), lines
    if r.verdict is Verdict.HOLDS and "cases" in r.evidence:
        assert r.evidence["cases"] > 0
    expected = stmt.expected or EXPECTED.get(stmt.id)
    if expected is not None:
        assert r.verdict.value == expected, r.evidence


def test_every_statement_has_an_expected_verdict():
    missing = [s.id for s in STATEMENTS if not (s.expected or s.id in EXPECTED)]
    assert not missing
