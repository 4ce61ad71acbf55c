"""Tests of the ``theorems/seed_002`` package: verdicts, mutants and their certificates, float/mpmath twins,
exact helpers, degenerate cases and bad input."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import exact_linalg as xl
from numerics import steepest_descent as sd
from tests.theorems.quick_checks import mutants_of, quick_check
from theorems import seed_002 as s2
from theorems.seed_002 import adam as ad
from theorems.seed_002 import sign as sg
from theorems.seed_002 import spectral as ss
from theorems.seed_002.search import _SearchStatement
from theorems.statement import Verdict

EPS = np.finfo(float).eps
F = Fraction
ALL = {s.id: s for s in s2.STATEMENTS}
# the three search statements (explicit degenerate cases + Hypothesis, their own certificates); the
# Inequality statements (norms by role, step size, Prodigy) are tested at the end of this file
STATEMENTS = {s.id: s for s in s2.STATEMENTS if isinstance(s, _SearchStatement)}
MUTANTS = [(s, m) for s in STATEMENTS.values() for m in mutants_of(s)]


def _f(x) -> float:
    return float(x) if x != "n/a" else math.nan


# ----------------------------------------------------------------------------
# Verdicts and the evidence behind them
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results():
    return {i: quick_check(s) for i, s in STATEMENTS.items()}


def test_ids_and_three_statements():
    assert list(STATEMENTS) == [
        "seed-002/sign-descent-linf", "seed-002/adam-no-momentum-sign", "seed-002/shampoo-spectral"
    ]


@pytest.mark.parametrize("sid", list(STATEMENTS))
def test_statement_holds_without_artefacts(results, sid):
    r = results[sid]
    assert r.verdict is Verdict.HOLDS, r.evidence
    assert r.counterexample is None
    assert r.evidence["cases"] >= 20 and r.evidence["explicit_degenerate_cases"] >= 7
    assert r.evidence["numerical_artefacts"] == 0, r.evidence["artefacts"]
    assert r.evidence["exact_identities_verified"] == r.evidence["cases"]
    conds = r.evidence["accuracy_conditions"]  # the tolerances shown are verdict conditions, all met
    assert conds and all(v.split(": ")[1].startswith("ok") for v in conds.values()), conds
    assert r.seconds < 30  # quick check budget (~10 s on an idle 2-core machine)


def test_sign_descent_evidence(results):
    ev = results["seed-002/sign-descent-linf"].evidence
    # HiGHS works on g/max|g| with tolerances ~1e-7: coordinates below that may get either sign, costing
    # at most 2·Σ_small|g_i| ≤ 2n·1e-7·max|g| ≤ 2.4e-6·‖g‖₁ (n ≤ 12); typically it is ~1e-10 or less
    assert _f(ev["lp_value_max_rel_error"]) < 3e-6
    assert ev["lp_sign_mismatches_on_clear_coordinates"] == 0
    # all g_i ≠ 0: the δ-optimal set has extent ≤ 2δΣ|w_i|/|g_i| (gap identity) → a single point as δ → 0;
    # slack 1e-3 for HiGHS's ~1e-7 tolerances against δ = 1e-3
    assert _f(ev["delta_optimal_width/bound_all_nonzero_max"]) <= 1 + 1e-3
    assert _f(ev["delta_optimal_width_per_zero_entry_min"]) >= 2 - 1e-6  # a zero entry frees a whole [−1, 1]
    assert ev["second_maximisers_exhibited"] > 0 and ev["gap_identity_checks"] == 2 * ev["cases"]


def test_adam_evidence(results):
    ev = results["seed-002/adam-no-momentum-sign"].evidence
    assert ev["float_adam_vs_exact_max_ulps"] <= 4  # √(fl(g²)) = |g|, then one add and one divide
    lo, hi = (float(v) for v in ev["limit_rate_fitted_slope"].split(" ")[0].split(".."))
    assert 0.99 <= lo <= hi <= 1.01  # error = ε/(g_min + ε) ~ ε: slope 1 in log-log
    assert ev["zero_entries_seen"] > 0 and ev["eps_zero_cases"] > 0
    assert "1e+30" in ev["float_underflow_note"]


def test_spectral_evidence(results):
    ev = results["seed-002/shampoo-spectral"].evidence
    assert _f(ev["certified_enclosure_max_rel_width"]) < 1e-9
    assert ev["mp50_nuclear_inside_enclosure"] == ev["cases"]
    assert _f(ev["mp50_svd_nuclear_rel_error_bound"]) < 1e-30
    assert _f(ev["shampoo_mp50_max_‖M−UVᵀ‖_F"]) < 1e-30
    assert _f(ev["damped_shampoo_mp50_max_err_vs_Udiag(σ/√(σ²+ε))Vᵀ"]) < 1e-30
    assert ev["exact_svd_cases_shampoo_equals_UVᵀ"] > 0 and ev["rank_deficient_null_pairs_exhibited"] > 0
    assert _f(ev["quadratic_growth_min_ratio"]) >= 1 - 1e-6  # gap ≥ σ_min/2·‖D − UVᵀ‖_F² (proof in the module)
    assert _f(ev["dual_bfgs_max_rel_gap_above_nuclear"]) > -1e-12  # an upper bound never undercuts ‖G‖_*
    assert _f(ev["pga_max_rel_gap_below_nuclear"]) > -1e-12  # a feasible point never beats ‖G‖_*
    # repeated σ leave U, V undetermined but not UVᵀ: its float error stays ~κ·ε_mach (times a size factor)
    assert _f(ev["float_polar_vs_exact_max_err/(κ·ε_mach)_repeated_sigma"]) < 100  # observed ≤ 3
    assert _f(ev["float_polar_vs_exact_max_err/(κ·ε_mach)"]) < 100


# ----------------------------------------------------------------------------
# Mutants: refuted with a certificate that independent recomputation confirms
# ----------------------------------------------------------------------------


def test_at_least_three_mutants_each():
    assert all(len(s.mutants()) >= 3 for s in s2.STATEMENTS)
    assert all(m.mutants() == [] for _, m in MUTANTS)


@pytest.mark.parametrize("stmt, mutant", MUTANTS, ids=[m.id for _, m in MUTANTS])
def test_mutant_refuted_and_verified(stmt, mutant):
    r = quick_check(mutant)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None, r.evidence
    cx = asdict(r.counterexample)
    assert cx["margin_upper"] < 0
    ok, line = mutant.verify_counterexample(cx)
    assert ok, line
    # the same certificate must not refute the true statement
    ok_true, line_true = stmt.verify_counterexample(cx)
    assert not ok_true, line_true


@pytest.mark.parametrize("stmt, mutant", MUTANTS, ids=[m.id for _, m in MUTANTS])
def test_search_alone_refutes_mutant(stmt, mutant):
    """Without the hand-picked degenerate cases, the Hypothesis draws still find each mutant's flaw."""
    r = replace(mutant, explicit_cases=False, shrink=False).check(effort="quick")
    assert r.verdict is Verdict.REFUTED, r.evidence
    assert mutant.verify_counterexample(asdict(r.counterexample))[0]


def test_tampered_certificates_are_rejected():
    by_id = {m.id: m for _, m in MUTANTS}
    m = by_id["seed-002/sign-descent-linf~value ‖g‖₂"]
    cx = asdict(quick_check(m).counterexample)
    cx["inputs"]["witness"] = ["2"] + cx["inputs"]["witness"][1:]  # infeasible witness
    assert not m.verify_counterexample(cx)[0]
    m = by_id["seed-002/shampoo-spectral~value x 1.01"]
    cx = asdict(quick_check(m).counterexample)
    cx["inputs"]["A"] = [["0"] * len(row) for row in cx["inputs"]["A"]]  # singular: no factorisation
    assert not m.verify_counterexample(cx)[0]
    cx = asdict(quick_check(m).counterexample)
    cx["inputs"]["D_witness"] = [
        ["2" if i == j else "0" for j in range(len(r))] for i, r in enumerate(cx["inputs"]["D_witness"])
    ]
    assert not m.verify_counterexample(cx)[0]  # ‖D‖₂ = 2: not strictly feasible
    m = by_id["seed-002/adam-no-momentum-sign~limit g/‖g‖∞"]
    cx = asdict(quick_check(m).counterexample)
    cx["inputs"]["eps0"] = "0"
    assert not m.verify_counterexample(cx)[0]


# ----------------------------------------------------------------------------
# Float functions vs their mpmath twins (each comparison has a meta-test that it can fail)
# ----------------------------------------------------------------------------


safe_vectors = sg.gradient_vectors(1, 8, -150, 150, kinds=("plain", "zeros", "logmag", "equal")).map(
    lambda g: np.array([0.0 if v == 0 else math.copysign(min(max(abs(float(v)), 1e-150), 1e150), float(v)) for v in g])
)


def _check_adam(g, eps, b1, b2, step):
    uf = sd.adam_update(g, eps, b1, b2, step)
    um = sd.adam_update_mp(g, eps, b1, b2, step)
    # ≤ 10 roundings plus 1 − β^t, whose relative error is ε_mach/(1 − β^t) ≤ 1e3·ε_mach for β ≤ 0.999
    tol = 2e4 * EPS
    for a, b in zip(uf, um):
        assert abs(a - float(b)) <= tol * abs(float(b)), (a, b)


@given(safe_vectors, st.floats(1e-200, 10), st.sampled_from([0.0, 0.5, 0.9, 0.999]),
       st.sampled_from([0.0, 0.9, 0.999]), st.integers(1, 20))
def test_adam_update_matches_mp(g, eps, b1, b2, step):
    _check_adam(g, eps, b1, b2, step)


def test_adam_agreement_check_can_fail(monkeypatch):
    real = sd.adam_update
    monkeypatch.setattr(sd, "adam_update", lambda *a, **k: real(*a, **k) * (1 + 1e-6))
    with pytest.raises(AssertionError):
        _check_adam(np.array([1.0, -2.0, 3.0]), 1e-8, 0.9, 0.999, 3)


def test_adam_zero_betas_is_g_over_abs_g_plus_eps():
    g = np.array([3.0, -0.5, 0.0, 1e-150])
    np.testing.assert_array_equal(sd.adam_update(g, 1e-8), g / (np.abs(g) + 1e-8))
    np.testing.assert_array_equal(sd.adam_update(np.array([2.0, -7.0]), 0.0), [1.0, -1.0])  # ε = 0: sign exactly
    assert ad.adam_update_exact([Fraction(3), F(-1, 2), F(0)], F(1, 10)) == [F(30, 31), F(-5, 6), F(0)]


@st.composite
def well_conditioned_full_rank(draw):
    c = draw(ss.gradient_matrices(4))
    Gf = np.array([[float(v) for v in row] for row in c.G])
    s = np.linalg.svd(Gf, compute_uv=False)
    if s[0] == 0 or s[-1] / s[0] < 1e-3 or xl._rank(c.G) < min(Gf.shape):
        return np.array([[1.0, 2.0], [-3.0, 0.5]])
    return Gf


def _check_polar(G):
    s = np.linalg.svd(G, compute_uv=False)
    kappa = s[0] / s[-1]
    Pm = sd.polar_factor_mp(G)
    err = np.max(np.abs(sd.polar_factor(G) - np.array(Pm.tolist(), dtype=float)))
    # the polar factor's condition number is ≤ 1/σ_min relative to ‖G‖₂: error ~ κ·ε_mach (×size)
    assert err <= 50 * G.size * kappa * EPS, (err, kappa)


def _check_nuclear(G):
    # singular values are perfectly conditioned: |σ̂_i − σ_i| ≤ c·ε_mach·‖G‖₂
    s = np.linalg.svd(G, compute_uv=False)
    assert abs(sd.nuclear_norm(G) - float(sd.nuclear_norm_mp(G))) <= 20 * G.size * EPS * s[0] * len(s)


def _check_shampoo(G, eps):
    s = np.linalg.svd(G, compute_uv=False)
    kappa = s[0] / s[-1]
    Mm = np.array(sd.shampoo_update_mp(G, Fraction(eps), Fraction(1, 4)).tolist(), dtype=float)
    err = np.max(np.abs(sd.shampoo_update(G, eps) - Mm))
    # Gram matrices square the condition number: error ~ κ²·ε_mach (×size)
    assert err <= 100 * G.size * kappa**2 * EPS, (err, kappa)


@given(well_conditioned_full_rank())
def test_polar_nuclear_shampoo_match_mp(G):
    _check_polar(G)
    _check_nuclear(G)
    _check_shampoo(G, 0.0)
    _check_shampoo(G, 1e-3 * float(np.linalg.norm(G, 2)) ** 2)


@pytest.mark.parametrize("name, check", [("polar_factor", _check_polar), ("nuclear_norm", _check_nuclear),
                                         ("shampoo_update", lambda G: _check_shampoo(G, 0.0))])
def test_matrix_agreement_checks_can_fail(monkeypatch, name, check):
    real = getattr(sd, name)
    monkeypatch.setattr(sd, name, lambda *a, **k: real(*a, **k) * (1 + 1e-6))
    with pytest.raises(AssertionError):
        check(np.array([[1.0, 2.0], [-3.0, 0.5]]))


def test_svd_error_bound_contains_exact_singular_values():
    c = ss._rational_svd_case(3, 2, ss._skew([1, -2, 1], 3), ss._skew([2], 2), [F(2), F(1, 3)])
    info = sd.svd_error_bound_mp(c.G, 50)
    with mpmath.workdps(60):
        for got, b, t in zip(info["s"], info["bounds"], c.t):
            assert abs(got - mpmath.mpf(t.numerator**2) / t.denominator**2) <= b < mpmath.mpf(10) ** -40


# ----------------------------------------------------------------------------
# Direct solvers and degenerate cases
# ----------------------------------------------------------------------------


def test_lp_and_sign_direction_with_zero_entries():
    g = np.array([3.0, -1.0, 0.0, 2.0])
    d, v = sd.steepest_descent_lp(g)
    assert v == pytest.approx(6.0, rel=1e-12)
    np.testing.assert_allclose(d[[0, 1, 3]], [1, -1, 1])
    np.testing.assert_array_equal(sd.sign_descent_direction(g), [1, -1, 0, 1])
    assert [float(x) for x in sd.sign_descent_direction_mp(g)] == [1, -1, 0, 1]
    assert sd.steepest_descent_lp(np.zeros(3))[1] == 0.0


def test_l2_solver_is_normalised_gradient():
    g = np.array([1e300, -2e300, 0.0])  # scaled internally: no overflow in ‖g‖₂
    d, v = sd.steepest_descent_l2(g)
    np.testing.assert_allclose(d, g / (math.sqrt(5) * 1e300), atol=1e-6)
    assert v == pytest.approx(math.sqrt(5) * 1e300, rel=1e-9)


def test_spectral_degenerate_cases():
    Z = np.zeros((2, 3))
    assert np.all(sd.polar_factor(Z) == 0) and sd.nuclear_norm(Z) == 0
    assert sd.polar_factor(np.array([[-3.0]]))[0, 0] == pytest.approx(-1.0)
    # rank 1: the pseudo-inverse Shampoo update is U_1V_1ᵀ, the thin polar factor
    G = np.outer([1.0, 2.0, 2.0], [3.0, -4.0]) / 15.0
    np.testing.assert_allclose(sd.shampoo_update(G), sd.polar_factor(G), atol=1e-12)
    np.testing.assert_allclose(sd.polar_factor(G), G / np.linalg.norm(G, 2), atol=1e-12)
    # repeated singular values: G = 2Q for orthogonal Q gives Q
    Q = np.array([[0.6, -0.8], [0.8, 0.6]])
    np.testing.assert_allclose(sd.polar_factor(2 * Q), Q, atol=1e-15)
    np.testing.assert_allclose(sd.shampoo_update(2 * Q), Q, atol=1e-14)


def test_pga_and_dual_sandwich_the_nuclear_norm():
    G = np.array([[1.0, 2.0, 0.0], [-3.0, 0.5, 1.0]])
    nuc = sd.nuclear_norm(G)
    D, lo = sd.spectral_steepest_descent_pga(G)
    A, hi = sd.nuclear_norm_dual_bfgs(G)
    assert np.linalg.norm(D, 2) <= 1 + 1e-12
    assert lo <= nuc * (1 + 1e-12) and hi >= nuc * (1 - 1e-12)
    assert hi - lo <= 1e-6 * nuc


def test_exact_helpers():
    K = ss._skew([1, -2, 3], 3)
    Q = xl._cayley(K)
    assert xl._mm(xl._mT(Q), Q) == xl._eye(3)  # rational orthogonal, exactly
    assert xl._strictly_feasible(xl._scale(Q, F(999, 1000)))
    assert not xl._strictly_feasible(Q)  # ‖Q‖₂ = 1: not strictly inside
    assert not xl._strictly_feasible([[F(1), F(1)], [F(0), F(0)]])  # ‖·‖₂ = √2
    G = xl._mat([[1, 2, 3], [2, 4, 6]])
    assert xl._rank(G) == 1
    (b1, b2) = xl._nullspace(G)
    for b in (b1, b2):
        assert all(row[0] == 0 for row in xl._mm(G, [[x] for x in b]))
    assert xl._det(xl._mat([[2, 1], [1, 1]])) == 1


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda: sd.adam_update([1.0, math.nan], 1e-8), "NaN"),
    (lambda: sd.adam_update([], 1e-8), "empty"),
    (lambda: sd.adam_update([[1.0]], 1e-8), "1-D"),
    (lambda: sd.adam_update([1.0], -1e-8), "≥ 0"),
    (lambda: sd.adam_update([1.0], math.inf), "finite"),
    (lambda: sd.adam_update([1.0], 1e-8, beta1=1.0), "beta1"),
    (lambda: sd.adam_update([1.0], 1e-8, beta2=-0.1), "beta2"),
    (lambda: sd.adam_update([1.0], 1e-8, step=0), "step"),
    (lambda: sd.adam_update([1.0, 0.0], 0.0), "0/0"),
    (lambda: sd.adam_update_mp([1.0, 0.0], 0.0), "0/0"),
    (lambda: sd.polar_factor([1.0, 2.0]), "2-D"),
    (lambda: sd.polar_factor(np.zeros((0, 3))), "empty"),
    (lambda: sd.nuclear_norm([[1.0, math.inf]]), "inf"),
    (lambda: sd.shampoo_update([[1.0]], eps=-1.0), "≥ 0"),
    (lambda: sd.shampoo_update([[1.0]], exponent=-0.25), "exponent"),
    (lambda: sd.steepest_descent_lp([math.nan]), "NaN"),
    (lambda: sd.polar_factor_mp([[1.0, math.nan]]), "NaN"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- library-level mutants: a broken float library must move the verdict off "holds" -----------------

LIBRARY_MUTANTS = [
    ("sign_descent_direction", 0.99, "seed-002/sign-descent-linf"),
    ("adam_update", 1.01, "seed-002/adam-no-momentum-sign"),
    ("shampoo_update", 1.01, "seed-002/shampoo-spectral"),
]


@pytest.mark.parametrize("name, factor, stmt_id", LIBRARY_MUTANTS, ids=[m[0] for m in LIBRARY_MUTANTS])
def test_broken_library_function_is_not_holds(monkeypatch, name, factor, stmt_id):
    real = getattr(sd, name)
    monkeypatch.setattr(sd, name, lambda *a, **k: real(*a, **k) * factor)
    r = STATEMENTS[stmt_id].check()
    assert r.verdict is not Verdict.HOLDS, r.evidence["summary"]
    assert any("FAILED" in v for v in r.evidence["accuracy_conditions"].values()), r.evidence["accuracy_conditions"]


@pytest.mark.slow
def test_same_run_seed_same_evidence():
    from theorems.statement import seeded_run

    s = STATEMENTS["seed-002/sign-descent-linf"]
    with seeded_run(3):
        a = s.check().evidence
    with seeded_run(3):
        b = s.check().evidence
    assert a == b


# -- norms by role, per-layer dualisation, step size, Prodigy -----------------------------------------

NEW_IDS = ["seed-002/modular-dual", "seed-002/per-layer-dualisation", "seed-002/per-layer-dualisation/unit-norm",
           "seed-002/steepest-step", "seed-002/steepest-step/value", "seed-002/prodigy-sign",
           "seed-002/prodigy-linf-estimate"]


def test_new_statements_registered_with_expected_holds():
    assert all(i in ALL and ALL[i].expected == "holds" for i in NEW_IDS)


@pytest.mark.parametrize("module, name, stmt_id", [
    ("modular", "network_dual_norm", "seed-002/modular-dual"),
    ("modular", "per_layer_direction", "seed-002/per-layer-dualisation"),
    ("modular", "steepest_descent_step", "seed-002/steepest-step/value"),
    ("prodigy", "prodigy_update", "seed-002/prodigy-sign"),
])
def test_broken_new_library_function_is_not_holds(monkeypatch, module, name, stmt_id):
    from numerics import modular_norm, prodigy

    mod = {"modular": modular_norm, "prodigy": prodigy}[module]
    real = getattr(mod, name)

    def broken(*a, **k):
        out = real(*a, **k)
        return (out[0] * 1.01, *out[1:]) if isinstance(out, tuple) else out * 1.01

    monkeypatch.setattr(mod, name, broken)
    r = ALL[stmt_id].check()
    assert r.verdict is not Verdict.HOLDS, r.summary()


def test_modular_direction_pulled_into_ball_exactly():
    from theorems.seed_002 import modular

    d = [F(3), F(-4), F(1), F(1), F(1), F(1)]
    out = modular._into_ball(d, "linf:2;spectral:2x2", [F(1), F(1, 2)])
    assert modular.feasible_exact(out, "linf:2;spectral:2x2", [F(1), F(1, 2)])
    assert not modular.feasible_exact(d, "linf:2;spectral:2x2", [F(1), F(1, 2)])
