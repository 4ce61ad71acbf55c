"""The verdict machinery cannot be made to lie: each test here failed on the old machinery.

A hostile reviewer's reproductions -- a NaN side read as "holds", an overflowing true
violation read as "holds", an mpmath number rounded into a ball and "certified", a
1 %-wrong float library hiding behind "numerical artefacts", verify confirming an
equality case or an out-of-domain input -- each move the verdict where it belongs.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import strategies as st

from numerics.backends import Arb, InexactInputError, certified_sign
from theorems import registry
from theorems.__main__ import main
from theorems.inequality import Inequality
from theorems.statement import Verdict, seeded_run


def _x_le_x(**changes) -> Inequality:
    """x ≤ x + 1 on [0, 1]: true, with room to spare."""
    base = Inequality(
        id="test/x<=x+1", title="x ≤ x + 1", claim="x ≤ x + 1", reading="test",
        domain=st.floats(0, 1).map(lambda v: {"x": v}),
        lhs_float=lambda x: x["x"], rhs_float=lambda x: x["x"] + 1,
        lhs_exact=lambda x, B: B.num(x["x"]), rhs_exact=lambda x, B: B.num(x["x"]) + 1,
    )
    return replace(base, **changes)


# -- non-finite float sides ---------------------------------------------------------

def test_a_nan_float_side_is_never_holds():
    s = _x_le_x(rhs_float=lambda x: math.nan)
    r = s.check()
    assert r.verdict is Verdict.INCONSISTENT
    assert r.evidence["nonfinite_cases"] > 0


def test_an_overflowing_true_violation_is_refuted_not_holds():
    # lhs = 10^400 · x really exceeds rhs = 1 for x > 10^-400; float64 overflows to +inf
    s = Inequality(
        id="test/overflow", title="10^400·x ≤ 1", claim="false", reading="test",
        domain=st.floats(0.5, 1).map(lambda v: {"x": v}),
        lhs_float=lambda x: 1e308 * 1e92 * x["x"], rhs_float=lambda x: 1.0,
        lhs_exact=lambda x, B: B.num(10) ** 400 * B.num(x["x"]) if not isinstance(B, Arb)
        else B.num(10**400) * B.num(x["x"]),
        rhs_exact=lambda x, B: B.num(1),
    )
    r = s.check()
    assert r.verdict is Verdict.REFUTED
    assert r.counterexample.margin_upper < 0


def test_an_exactly_infinite_side_is_a_certified_refutation():
    """KL(u‖p) with a zero in p is exactly +inf (``B.inf()``): an identity against it is refuted, and
    the counterexample reads +inf, not flint's ``[+/- inf]``."""
    def reverse_kl(x, B):
        return B.inf() if 0 in x["p"] else B.sum([Fraction(1, 2) * B.log(Fraction(1, 2) / v) for v in x["p"]])

    s = Inequality(
        id="test/infinite-side", title="KL(u‖p) = 0", claim="false", reading="test", relation="==",
        domain=st.just({"p": [Fraction(0), Fraction(1)]}), prepare=lambda raw: raw,
        lhs_float=lambda x: 0.0, rhs_float=lambda x: math.inf,
        lhs_exact=lambda x, B: B.num(0), rhs_exact=reverse_kl,
    )
    r = s.check()
    assert r.verdict is Verdict.REFUTED, r.evidence
    cx = r.counterexample
    assert cx.rhs == "+inf" and cx.margin == "+inf" and cx.margin_upper == -math.inf


def test_a_float_overflow_in_an_exact_side_is_an_error_not_an_infinity():
    """1e100·1e300 overflows to a float inf; read as an exact +inf it would refute a true claim."""
    s = Inequality(
        id="test/overflow-exact", title="10^400 ≤ 10^500", claim="true", reading="test",
        domain=st.just({"x": Fraction(1)}), prepare=lambda raw: raw,
        lhs_float=lambda x: 1.0, rhs_float=lambda x: 2.0,  # a float violation would send it to certification
        lhs_exact=lambda x, B: np.float64(1e100) * 1e300 if isinstance(B, Arb) else B.num(10**400),
        rhs_exact=lambda x, B: B.num(10**500),
    )
    with pytest.raises(InexactInputError):
        s.certify({"x": Fraction(1)})


# -- exactness of the certified path ------------------------------------------------

def test_the_arb_backend_refuses_inexact_numbers():
    with Arb(64) as B:
        for bad in (0.1, mpmath.mpf(2), mpmath.log(2)):
            with pytest.raises(InexactInputError, match="exact"):
                B.num(bad)
        import flint

        assert B.num(Fraction(1, 10)).contains(flint.fmpq(1, 10))
        assert B.exact_float(0.1).is_exact()  # the float's binary value, on purpose


def _log2_statement():
    """log 2 ≤ L with L = log 2 rounded *up* at 50 digits: TRUE. The rhs is written (wrongly)
    as ``B.num(mpmath number)``; the float rhs is pessimistic by 2 ulps so the search finds a
    float 'violation' to certify."""
    with mpmath.workdps(50):
        L = mpmath.log(2) + mpmath.mpf(10) ** -45
    return Inequality(
        id="test/log2", title="log 2 ≤ L", claim="log 2 ≤ L (L slightly above log 2)", reading="test",
        domain=st.just({"x": 1.0}),
        lhs_float=lambda x: math.log(2), rhs_float=lambda x: math.nextafter(math.nextafter(float(L), 0), 0),
        lhs_exact=lambda x, B: B.log(B.num(2)), rhs_exact=lambda x, B: B.num(L),
        side_tol=1e-15,
    )


def test_an_mpmath_number_in_a_ball_is_an_error_not_a_refutation():
    s = _log2_statement()
    with pytest.raises(InexactInputError, match="exact inputs"):
        s.certify({"x": Fraction(1)})
    with pytest.raises(InexactInputError):
        s.check()


def test_user_statement_with_inexact_ball_is_an_error_row(tmp_path, capsys):
    f = tmp_path / "mine.py"
    f.write_text(
        "import math, mpmath\nfrom hypothesis import strategies as st\nfrom theorems import Inequality\n"
        "with mpmath.workdps(50):\n    L = mpmath.log(2) + mpmath.mpf(10) ** -45\n"
        "claim = Inequality(id='mine/log2', title='log 2 ≤ L', claim='true', reading='r',\n"
        "    domain=st.just({'x': 1.0}), lhs_float=lambda x: math.log(2),\n"
        "    rhs_float=lambda x: math.nextafter(math.nextafter(float(L), 0), 0),\n"
        "    lhs_exact=lambda x, B: B.log(B.num(2)), rhs_exact=lambda x, B: B.num(L), side_tol=1e-15)\n")
    j = tmp_path / "r.json"
    assert main(["check", "--statement", f"{f}:claim", "--json", str(j)]) == 1
    row = json.loads(j.read_text())["results"][0]
    assert row["verdict"] == "error" and "InexactInputError" in row["evidence"]["summary"]


def test_arb_and_independent_evaluation_must_agree_or_the_verdict_is_inconsistent():
    # an exact side that is right in mpmath but wrong in Arb (a backend-dependent bug)
    s = _x_le_x(rhs_exact=lambda x, B: (B.num(x["x"]) - 1) if isinstance(B, Arb) else B.num(x["x"]) + 1,
                rhs_float=lambda x: x["x"] - 1, side_tol=1e-6)
    r = s.check()
    assert r.verdict is Verdict.INCONSISTENT
    assert "disagree" in r.evidence["summary"]


def test_an_independent_formula_that_disagrees_blocks_the_refutation():
    s = _x_le_x(rhs_float=lambda x: x["x"] - 1, rhs_exact=lambda x, B: B.num(x["x"]) - 1,
                independent=lambda x: (mpmath.mpf(0), mpmath.mpf(1)))  # says rhs − lhs = 1 > 0
    assert s.check().verdict is Verdict.INCONSISTENT
    assert replace(s, independent=None).check().verdict is Verdict.REFUTED


# -- the float library against its exact twin -------------------------------------

@pytest.mark.parametrize("stmt_id", ["thm-3.2/supremum", "lemma-3.6"])
def test_a_one_percent_wrong_entropy_gap_moves_the_verdict_off_holds(stmt_id):
    s = registry.find(stmt_id)
    assert s.check().verdict is Verdict.HOLDS
    from numerics.entropy import entropy_gap
    from theorems.library_mutants import patched, scaled

    with patched(entropy_gap, scaled(entropy_gap, 1.01)):  # in every module that holds it
        r = s.check()
    assert r.verdict is not Verdict.HOLDS, r.evidence["summary"]


def test_holds_evidence_says_how_hard_the_row_was_stressed():
    r = registry.find("lemma-3.6").check()
    ev = r.evidence
    assert r.verdict is Verdict.HOLDS
    assert ev["nontrivial_cases"] > 0 and 0 < ev["max_lhs_over_rhs"] <= 1
    assert ev["exact_comparisons"] >= 3 and ev["max_float_exact_deviation"] != "inf"
    assert "non-trivial" in ev["summary"] and "exact comparisons" in ev["summary"]


# -- verify ---------------------------------------------------------------------------

def _report(tmp_path, stmt_id, inputs) -> str:
    doc = {"meta": {}, "results": [{"id": stmt_id, "verdict": "refuted", "counterexample": {"inputs": inputs}}]}
    p = tmp_path / "forged.json"
    p.write_text(json.dumps(doc))
    return str(p)


def test_verify_rejects_an_equality_case(tmp_path, capsys):
    # Thm 3.2 at n = 2 is an identity: gap = B(2, κ); the margin is exactly 0
    assert main(["verify", _report(tmp_path, "thm-3.2", {"eigenvalues": ["3", "1"]})]) == 1
    out = capsys.readouterr().out
    assert "REJECTED" in out and "contains 0" in out


def test_verify_rejects_an_input_outside_the_domain(tmp_path, capsys):
    assert main(["verify", _report(tmp_path, "thm-3.2/simple", {"kappa": "1/2"})]) == 1
    out = capsys.readouterr().out
    assert "REJECTED" in out and "outside the domain" in out


def test_verify_confirms_a_real_counterexample_and_names_unknown_statements(tmp_path, capsys):
    assert main(["verify", _report(tmp_path, "thm-3.2", {"eigenvalues": ["2", "2", "1", "1"]})]) == 0
    assert "violation certified" in capsys.readouterr().out
    assert main(["verify", _report(tmp_path, "no/such", {"x": "1"})]) == 1
    assert "unknown statement" in capsys.readouterr().out


def test_verify_works_for_user_statements(tmp_path, capsys):
    example = "examples/my_statement.py:claims"
    j = tmp_path / "mine.json"
    assert main(["check", "--statement", example, "--json", str(j)]) == 0
    doc = json.loads(j.read_text())
    assert any(r["verdict"] == "refuted" for r in doc["results"])
    assert main(["verify", str(j)]) == 1  # without the file the statement is unknown
    assert main(["verify", str(j), "--statement", example]) == 0
    assert "violation certified" in capsys.readouterr().out


def test_every_registry_inequality_declares_its_domain():
    missing = [s.id for s in registry.all_statements() if isinstance(s, Inequality) and s.domain_check is None]
    assert not missing


# -- bounded and reproducible -------------------------------------------------------

def test_certification_is_time_capped():
    def slow(B):  # a formula whose cost grows with the precision and never resolves
        time.sleep(B.prec / 640)
        return B.num(0) * B.num(1)

    t = time.perf_counter()
    sign, ball = certified_sign(slow, seconds=0.5)
    assert sign == 0 and time.perf_counter() - t < 1.5


def test_a_check_stops_certifying_at_its_time_cap():
    def slow_rhs(x, B):
        time.sleep(0.1)
        return B.num(x["x"])  # rhs == lhs exactly: the sign never resolves

    s = _x_le_x(domain=st.floats(0.5, 1).map(lambda v: {"x": v}), rhs_float=lambda x: x["x"] * (1 - 1e-4),
                rhs_exact=slow_rhs, side_tol=1e-3, certify_seconds=0.15, check_seconds=0.3, exact_samples=3)
    t = time.perf_counter()
    r = s.check()
    assert r.verdict is Verdict.UNDECIDED, r.evidence["summary"]
    assert "time cap" in r.evidence["summary"]
    assert time.perf_counter() - t < 30


def _strip_timings(o):
    if isinstance(o, dict):
        return {k: _strip_timings(v) for k, v in o.items() if "seconds" not in k and k != "generated"}
    if isinstance(o, list):
        return [_strip_timings(v) for v in o]
    return o


def test_same_seed_same_report(tmp_path):
    ids = ["lemma-3.6", "lemma-3.5/misreading"]  # a holds row and a refuted one (counterexample included)
    docs = []
    for k in range(2):
        j = tmp_path / f"r{k}.json"
        assert main(["check", *ids, "--seed", "7", "--json", str(j)]) == 0
        docs.append(_strip_timings(json.loads(j.read_text())))
    assert docs[0] == docs[1]
    with seeded_run(7):
        again = registry.find("lemma-3.6").check()
    assert _strip_timings(again.to_json()) == docs[0]["results"][0]


# -- safe reports -------------------------------------------------------------------

def test_interrupted_check_marks_not_run_and_keeps_a_complete_report(tmp_path, monkeypatch):
    j, m = tmp_path / "v.json", tmp_path / "v.md"
    assert main(["check", "lemma-3.6", "--json", str(j), "--md", str(m)]) == 0
    complete = j.read_text()
    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(registry.find("thm-3.2/simple"), "check", interrupt)
    assert main(["check", "lemma-3.6", "thm-3.2/simple", "--json", str(j), "--md", str(m)]) == 130
    assert j.read_text() == complete  # the complete report is kept
    partial = json.loads((tmp_path / "v.partial.json").read_text())
    assert partial["meta"]["interrupted"] is True
    assert [r["verdict"] for r in partial["results"]] == ["holds", "not run"]
    assert "interrupted" in (tmp_path / "v.partial.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_output_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    called = []
    monkeypatch.setattr(registry.find("lemma-3.6"), "check", lambda *a, **k: called.append(1))
    assert main(["check", "lemma-3.6", "--json", str(tmp_path)]) == 2  # a directory
    assert "cannot write" in capsys.readouterr().err
    assert not called


# -- verdicts that depend on their numbers ------------------------------------------

def test_supremum_rhs_is_the_max_over_every_split_not_a_float_choice():
    # κ just below the tie κ* of G(4, 1, κ) = G(4, 2, κ): float picks m = 1, the true max is m = 2
    from theorems.thm_3_2 import two_valued_gap_exact

    class _MPB:
        num = staticmethod(lambda v: mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v)
        log = staticmethod(mpmath.log)

    with mpmath.workdps(60):
        tie = mpmath.findroot(lambda k: two_valued_gap_exact(4, 1, k, _MPB) - two_valued_gap_exact(4, 2, k, _MPB),
                              2.275)
        k = Fraction(mpmath.nstr(tie - mpmath.mpf(10) ** -40, 55))
    assert registry.find("thm-3.2/supremum").certify({"eigenvalues": [k, k, Fraction(1), Fraction(1)]}) is None


def test_logistic_rates_must_match_theory_not_only_decay(monkeypatch):
    from theorems import logistic_laplace

    def slow_decay(d, Ns, seeds, nodes):  # every error ~ N^-0.1: decreasing, but not at the theory's rates
        rng = np.random.default_rng(0)
        E = {q: 0.3 * np.asarray(Ns, float)[None, :] ** -0.1 * np.exp(0.01 * rng.standard_normal((len(seeds), len(Ns))))
             for q in logistic_laplace.QUANTITIES}
        E["quad_err"] = np.full((len(seeds), len(Ns)), 1e-12)
        return E

    monkeypatch.setattr(logistic_laplace, "logistic_study", slow_decay)
    r = registry.find("thm-3.3/logistic").check()
    assert r.verdict is Verdict.REFUTED
    assert r.evidence["rates_consistent_with_theory"] is False


def test_pac_bayes_headline_is_the_measured_slack_and_holds_rests_on_the_proof():
    r = registry.find("thm-3.4/bound").check()
    assert r.verdict is Verdict.HOLDS
    assert r.evidence["summary"].startswith("slack bound − E_Q[L]")
    assert "Maurer" in r.evidence["proof"]
    assert all(c["min"] <= c["median"] for c in r.evidence["measured_slack"].values())


def test_uniqueness_has_two_readings_with_their_own_verdicts():
    literal, bijection = registry.find("sec-4.1/uniqueness"), registry.find("sec-4.1/uniqueness-bijection")
    assert "T = X" in literal.reading and "sec-4.1/uniqueness-bijection" in literal.reading
    assert bijection.check().verdict is Verdict.HOLDS
    assert all(m.check().verdict is Verdict.REFUTED for m in bijection.mutants())


def test_library_mutation_sweep_moves_a_statement_off_holds():
    from theorems.library_mutants import float_functions, sweep

    assert "numerics.entropy.entropy_gap" in float_functions()
    doc = sweep(1.01, ["lemma-3.6/pinsker"], progress=lambda s: None)
    runs = {r["function"]: r["verdict"] for r in doc["rows"]}
    assert "numerics.entropy.entropy_gap" in runs
    assert all(v != "holds" for v in runs.values()), runs


# -- a hostile review's attacks -----------------------------------------------------

def _on(lo, hi):
    return st.floats(lo, hi).map(lambda v: {"a": v})


def test_a_float_entering_a_ball_by_an_operator_is_an_error():
    s = _x_le_x(relation="==", rhs_float=lambda x: x["x"],
                rhs_exact=lambda x, B: B.num(x["x"]) * 10 * 0.1)  # meant 1/10, got the float's binary value
    with pytest.raises(InexactInputError, match="rounded"):
        s.certify({"x": Fraction(3)})


def test_a_violation_below_the_float_tolerance_is_still_refuted():
    s = Inequality(id="t/tiny-violation", title="a(1 + 1e-12) ≤ a", claim="false", reading="t",
                   domain=_on(1, 2), lhs_float=lambda x: x["a"] * (1 + 1e-12), rhs_float=lambda x: x["a"],
                   lhs_exact=lambda x, B: B.num(x["a"]) * (1 + B.num(Fraction(1, 10**12))),
                   rhs_exact=lambda x, B: B.num(x["a"]))
    assert s.check().verdict is Verdict.REFUTED


def test_a_violation_between_tiny_sides_is_refuted_and_all_trivial_is_not_holds():
    tiny = Inequality(id="t/tiny-sides", title="e^-a ≤ e^-a/2", claim="false", reading="t",
                      domain=_on(60, 70), lhs_float=lambda x: math.exp(-x["a"]),
                      rhs_float=lambda x: math.exp(-x["a"]) / 2,
                      lhs_exact=lambda x, B: B.exp(-B.num(x["a"])), rhs_exact=lambda x, B: B.exp(-B.num(x["a"])) / 2)
    assert tiny.check().verdict is Verdict.REFUTED
    zero = replace(tiny, id="t/zero", lhs_float=lambda x: 0.0, rhs_float=lambda x: 0.0,
                   lhs_exact=lambda x, B: B.num(0), rhs_exact=lambda x, B: B.num(0))
    r = zero.check()
    assert r.verdict is Verdict.UNDECIDED and "vacuous" in r.evidence["summary"]


def test_an_exact_side_that_cannot_be_resolved_is_undecided_not_an_artefact():
    big = 10**800

    def cancel(v, B):
        return (v + B.num(big)) - B.num(big)  # a ball far wider than the value at any precision

    s = Inequality(id="t/wide", title="a(1 + 1e-8) ≤ a", claim="false", reading="t", domain=_on(1, 2),
                   lhs_float=lambda x: x["a"] * (1 + 1e-8), rhs_float=lambda x: x["a"],
                   lhs_exact=lambda x, B: cancel(B.num(x["a"]) * (1 + B.num(Fraction(1, 10**8))), B),
                   rhs_exact=lambda x, B: cancel(B.num(x["a"]), B), certify_seconds=5)
    assert s.check().verdict is Verdict.UNDECIDED


def test_no_simplified_witness_outside_the_domain_without_a_domain_predicate():
    s = Inequality(id="t/simpler", title="a ≤ 3/10", claim="false", reading="t", domain=_on(0.31, 0.4),
                   lhs_float=lambda x: x["a"], rhs_float=lambda x: 0.3,
                   lhs_exact=lambda x, B: B.num(x["a"]), rhs_exact=lambda x, B: B.num(Fraction(3, 10)))
    r = s.check()
    assert r.verdict is Verdict.REFUTED
    assert Fraction(0.31) <= Fraction(r.counterexample.inputs["a"]) <= Fraction(0.4)


def test_construction_names_the_missing_or_invalid_fields():
    with pytest.raises(ValueError, match="domain") as e:
        Inequality(id="t/none", lhs_float=abs, rhs_float=abs, lhs_exact=max, rhs_exact=max)
    assert "t/none" in str(e.value)
    with pytest.raises(ValueError, match="quiet"):
        _x_le_x(quiet=1e3)
    with pytest.raises(ValueError, match="id"):
        _x_le_x(id="")


def test_markdown_marker_not_a_word_in_the_path_tells_complete_from_partial(tmp_path, monkeypatch):
    d = tmp_path / "interrupted_runs"
    j, m = d / "v.json", d / "v.md"
    assert main(["check", "lemma-3.6", "--json", str(j), "--md", str(m)]) == 0
    complete = m.read_text()

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(registry.find("lemma-3.6"), "check", interrupt)
    assert main(["check", "lemma-3.6", "--json", str(j), "--md", str(m)]) == 130
    assert m.read_text() == complete and (d / "v.partial.md").exists()


@pytest.mark.parametrize("doc", [
    {"results": "nope"}, {"results": ["x"]},
    {"results": [{"id": "thm-3.2", "verdict": "refuted", "counterexample": {"inputs": None}}]},
    {"results": [{"id": "thm-3.2", "verdict": "refuted", "counterexample": {"inputs": {"eigenvalues": [2.0, 1.0]}}}]},
    {"results": [{"id": "thm-3.2", "verdict": "refuted", "counterexample": {"inputs": {"wrong": ["1"]}}}]},
])
def test_verify_rejects_malformed_reports_cleanly(tmp_path, capsys, doc):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    assert main(["verify", str(p)]) in (1, 2)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "REJECTED" in captured.out or "error" in captured.err
