"""The statement framework itself: exact inputs, certification, artefacts, reports."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

from hypothesis import strategies as st

from theorems.__main__ import main
from theorems.inequality import Inequality
from theorems.statement import Verdict, exactify, floatify, inputs_from_strings, inputs_to_strings


def test_exact_inputs_round_trip():
    raw = {"p": [0.1, 0.9], "n": 3, "k": 2.5}
    x = exactify(raw)
    assert x["p"][0] == Fraction(0.1) and x["n"] == 3
    assert inputs_from_strings(inputs_to_strings(x)) == x
    assert floatify(x)["p"].tolist() == [0.1, 0.9]


def _float_noise_statement():
    """lhs = a + b and rhs = c with c = a + b exactly; float rounding makes lhs > rhs for 0.1 + 0.2 vs 0.3."""
    return Inequality(
        id="test/artefact",
        title="a + b ≤ a + b, evaluated sloppily in float",
        claim="x ≤ x",
        reading="test",
        domain=st.just({"a": 0.1, "b": 0.2}),
        lhs_float=lambda x: (x["a"] + x["b"]) * (1 + 1e-9),  # a float-only 'violation'
        rhs_float=lambda x: x["a"] + x["b"],
        lhs_exact=lambda x, B: B.num(x["a"]) + B.num(x["b"]),
        rhs_exact=lambda x, B: B.num(x["a"]) + B.num(x["b"]),
    )


def test_float_only_violation_within_the_stated_side_tolerance_is_an_artefact():
    r = replace(_float_noise_statement(), side_tol=1e-8).check()  # the float sides are stated good to 1e-8
    assert r.verdict is Verdict.HOLDS
    assert r.counterexample is None
    assert r.evidence["numerical_artefacts"] >= 1


def test_float_side_beyond_its_tolerance_is_a_finding_not_an_artefact():
    r = _float_noise_statement().check()  # default side_tol 1e-10 < the 1e-9 the float lhs is off by
    assert r.verdict is Verdict.INCONSISTENT
    assert r.counterexample is None
    assert "disagree" in r.evidence["summary"]


def test_true_violation_is_certified_and_simplified():
    s = Inequality(
        id="test/false",
        title="x² ≤ x on [0, 2]",
        claim="x² ≤ x",
        reading="test",
        domain=st.floats(0, 2).map(lambda v: {"x": v}),
        lhs_float=lambda x: x["x"] ** 2,
        rhs_float=lambda x: x["x"],
        lhs_exact=lambda x, B: B.num(x["x"]) ** 2,
        rhs_exact=lambda x, B: B.num(x["x"]),
    )
    r = s.check()
    assert r.verdict is Verdict.REFUTED
    cx = r.counterexample
    x = Fraction(cx.inputs["x"])
    assert x > 1 and x * x > x  # the stored exact input really violates the claim
    assert x.denominator <= 10  # and was simplified to a small rational
    assert cx.margin_upper < 0


def test_cli_writes_reports(tmp_path):
    j, m = tmp_path / "v.json", tmp_path / "v.md"
    assert main(["check", "lemma-3.6", "--json", str(j), "--md", str(m)]) == 0
    doc = json.loads(j.read_text())
    assert doc["results"][0]["id"] == "lemma-3.6"
    assert {"id", "verdict", "claim", "reading", "evidence"} <= set(doc["results"][0])
    assert "lemma-3.6" in m.read_text()
    assert main(["verify", str(j)]) == 0


def test_cli_rejects_unknown_ids_and_bad_reports(tmp_path, capsys):
    assert main(["check", "no-such-statement"]) == 2
    assert "unknown statement" in capsys.readouterr().err
    assert main(["verify", str(tmp_path / "missing.json")]) == 2
