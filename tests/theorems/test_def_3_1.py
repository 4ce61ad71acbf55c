"""Unit tests of theorems/def_3_1.py: the unit-diagonal matrices, the exact Rényi entropies, the quiet margin."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.backends import MP, Arb
from numerics.entropy import renyi_entropy_mp
from numerics.spectrum import matrix_renyi_entropy, von_neumann_entropy
from theorems import def_3_1 as D
from theorems import strategies as S
from theorems.statement import Verdict, floatify


def _spectrum_summing_to_n(lam):
    lam = np.asarray(lam, dtype=float)
    return lam * lam.size / lam.sum()


# ----------------------------------------------------------------------------
# unit_diagonal_matrix
# ----------------------------------------------------------------------------

def assert_unit_diagonal_with_spectrum(K, lam):
    """K symmetric, K_ii = 1, eigenvalues = lam to 20·n·eps·max λ (Givens rotations and eigh each
    contribute O(n·eps·‖K‖) backward error)."""
    n = lam.size
    assert np.array_equal(K, K.T)
    assert np.all(np.diag(K) == 1.0)
    err = np.max(np.abs(np.sort(np.linalg.eigvalsh(K)) - np.sort(lam)))
    assert err <= 20 * n * np.finfo(float).eps * max(lam.max(), 1.0), err


@given(S.psd_spectra(1, 12), st.integers(0, 2**32 - 1))
def test_unit_diagonal_matrix_has_the_spectrum_and_unit_diagonal(lam, seed):
    lam = _spectrum_summing_to_n(lam)
    assert_unit_diagonal_with_spectrum(D.unit_diagonal_matrix(lam, seed), lam)


def test_spectrum_check_catches_a_wrong_matrix():
    lam = _spectrum_summing_to_n([5.0, 1.0, 1.0, 1.0])
    K = D.unit_diagonal_matrix(lam, 3)
    bad = K.copy()
    bad[0, 1] = bad[1, 0] = K[0, 1] * (1 + 1e-6)  # unit diagonal, slightly wrong spectrum
    with pytest.raises(AssertionError):
        assert_unit_diagonal_with_spectrum(bad, lam)


def test_unit_diagonal_matrix_is_deterministic_and_seed_dependent():
    lam = _spectrum_summing_to_n([3.0, 2.0, 1.0, 0.5])
    a, b, c = D.unit_diagonal_matrix(lam, 7), D.unit_diagonal_matrix(lam, 7), D.unit_diagonal_matrix(lam, 8)
    assert np.array_equal(a, b) and not np.allclose(a, c)


@pytest.mark.parametrize("lam, match", [
    ([], "lam is empty"),
    ([[1.0]], "lam must be 1-D"),
    ([1.0, float("nan")], "lam contains NaN"),
    ([2.5, -0.5], "negative"),
    ([1.0, 2.0], "sum"),
])
def test_unit_diagonal_matrix_rejects_bad_spectra(lam, match):
    with pytest.raises(ValueError, match=match):
        D.unit_diagonal_matrix(lam, 0)


# ----------------------------------------------------------------------------
# exact Rényi entropies of a spectrum
# ----------------------------------------------------------------------------

@given(S.psd_spectra(1, 10), S.orders())
def test_exact_renyi_matches_the_numerics_oracle_and_arb_encloses_it(lam, alpha):
    lam_q = [Fraction(v) for v in lam]
    p = [float(v) for v in D._p_exact(lam_q)]
    want = renyi_entropy_mp(p, math.inf if alpha == S.INF else float(alpha), dps=50)
    with MP(50) as B:
        got = D.renyi_of_spectrum_exact(lam_q, alpha, B)
    # both evaluate the same formula at ≥ 50 digits on inputs equal to 1 ulp (p rounded to float): 1e-13
    assert abs(got - want) <= 1e-13 * max(1.0, abs(want))
    with Arb(128) as B:
        ball = D.renyi_of_spectrum_exact(lam_q, alpha, B)
    assert ball.rad() < 1e-20
    assert abs(float(ball.mid()) - float(got)) <= 1e-15 * max(1.0, abs(float(got)))
    # and the float library on the matrix with this spectrum (eigh error: see spectral-form's tolerance)
    # (PD only: a zero eigenvalue comes out of eigh as ~n·eps, and (n·eps)^α is 3e-8 at α = 1/2)
    if alpha != S.INF and float(alpha) >= 0.5 and min(lam) / max(lam) > 1e-4:
        K = D.unit_diagonal_matrix(_spectrum_summing_to_n(lam), 1)
        assert matrix_renyi_entropy(K, float(alpha), policy="clip") == pytest.approx(float(got), abs=1e-9)


def test_known_values():
    n = 6
    K = D.unit_diagonal_matrix(np.ones(n), 0)
    for a in (0.5, 1.0, 2.0, math.inf):
        assert matrix_renyi_entropy(K, a, policy="clip") == pytest.approx(math.log(n), rel=1e-14)
    rank_one = [Fraction(n)] + [Fraction(0)] * (n - 1)
    with MP(30) as B:
        for a in (Fraction(1, 2), Fraction(1), Fraction(3), S.INF):
            assert D.renyi_of_spectrum_exact(rank_one, a, B) == 0
    # ones(n)·ones(n)ᵀ is the rank-one correlation matrix
    assert von_neumann_entropy(np.ones((n, n)), policy="clip") == pytest.approx(0.0, abs=1e-13)


def test_von_neumann_limit_bound_is_sharp_on_balanced_escort_spectra():
    # n = 3, κ = 2: p = (1/2, 1/4, 1/4), escort at α = 1 puts mass 1/2 on each value
    lam = [Fraction(3, 2), Fraction(3, 4), Fraction(3, 4)]
    with MP(40) as B:
        for e in (2, 4, 6):
            x = {"lam": lam, "alpha": 1 + Fraction(1, 10**e)}
            r = D._vn_lhs_exact(x, B) / D._vn_rhs_exact(x, B)
            assert 1 - 10.0 ** (-e) < r <= 1


# ----------------------------------------------------------------------------
# The quiet margin (Inequality.quiet): noise is silenced, violations are not
# ----------------------------------------------------------------------------

def test_quiet_margin_zeroes_noise_but_keeps_violations():
    s = D.range_
    x = floatify(s.prepare({"lam": np.ones(5), "seed": 1, "alpha": Fraction(2)}))
    margin, scale = s.float_margin(x)
    assert margin == 0.0  # |H − ½log 5| = ½ log 5 up to a few ulps: exactly on the grid point 0
    m = s.mutants()[0]  # rhs × 0.99: a violation of 1 % must survive the rounding
    margin, scale = m.float_margin(x)
    assert margin / scale < -5e-3


def test_every_statement_holds_on_a_short_run_and_keeps_evidence():
    for s in D.STATEMENTS:
        r = s.check(examples=25)
        assert r.verdict is Verdict.HOLDS, (s.id, r.evidence)
        assert r.evidence["cases"] >= 25 and r.evidence["numerical_artefacts"] == 0
        assert float(r.evidence["smallest_relative_margin"]) >= -s.rel_tol


def test_each_statement_has_three_mutants_and_a_proof():
    for s in D.STATEMENTS:
        assert len(s.mutants()) >= 3, s.id
        assert s.proof
