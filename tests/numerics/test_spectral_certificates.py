"""Tests of ``numerics/spectral_certificates.py``: the exact nuclear-norm enclosure L ≤ ‖G‖_* ≤ U, the
re-check of stored witnesses, Shampoo's Σσ^{2−8p}, and a meta-test that a broken certificate is caught."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from numerics import exact_linalg as xl
from numerics import spectral_certificates as sc
from numerics import steepest_descent as sd
from numerics.backends import MP

F = Fraction


def _skew(ints, k):
    K = [[F(0)] * k for _ in range(k)]
    it = iter(ints)
    for i in range(k):
        for j in range(i + 1, k):
            K[i][j] = F(next(it))
            K[j][i] = -K[i][j]
    return K


def _exact_svd(m, n, ku, kv, t):
    """G = U diag(t²) Vᵀ with rational orthogonal U, V (Cayley): ‖G‖_* = Σ t² exactly."""
    U, V = xl._cayley(_skew(ku, m)), xl._cayley(_skew(kv, n))
    S = [[(t[i] ** 2 if i == j and i < min(m, n) else F(0)) for j in range(n)] for i in range(m)]
    return xl._mm(xl._mm(U, S), xl._mT(V)), [v * v for v in t]


CASES = [
    (2, 3, [1], [1, -1, 2], [F(2), F(1, 2)]),
    (3, 2, [1, -2, 1], [2], [F(3), F(1, 3)]),
    (3, 3, [1, 2, -1], [0, 1, 1], [F(1), F(1), F(0)]),  # repeated and rank-deficient
    (1, 1, [], [], [F(3)]),
]


def _floats(G):
    return np.array([[float(v) for v in row] for row in G])


def _enclosure(G, with_dual: bool):
    Gf = _floats(G)
    U, s, Vt = np.linalg.svd(Gf, full_matrices=False)
    P = U @ Vt
    A = sd.nuclear_norm_dual_bfgs(Gf, seed=0)[0] if with_dual else None
    return sc.nuclear_enclosure(G, Gf, P, A)


def _bracket_problems(G, enc, nuc) -> list[str]:
    """Every exact check a certificate L ≤ ‖G‖_* ≤ U must pass; empty when it is sound."""
    problems = []
    if not xl._strictly_feasible(enc.D):
        problems.append("‖D‖₂ ≥ 1")
    if enc.L != xl._inner(G, enc.D):
        problems.append("L ≠ ⟨G, D⟩")
    X = G if enc.orient == "G" else xl._mT(G)
    if xl._mm(enc.A, enc.Bt) != X:
        problems.append("A·Bᵀ ≠ X")
    k = len(enc.A)
    pairs = [(sum((enc.A[j][i] ** 2 for j in range(k)), F(0)), sum((v * v for v in enc.Bt[i]), F(0)))
             for i in range(k)]
    if pairs != enc.pairs:
        problems.append("pairs are not (‖a_i‖², ‖b_i‖²)")
    with MP(60) as B:
        upper = enc.U(B)
        if not (enc.L <= nuc and mpmath.mpf(nuc.numerator) / nuc.denominator <= upper):
            problems.append("‖G‖_* outside [L, U]")
    return problems


@pytest.mark.parametrize("with_dual", [False, True])
@pytest.mark.parametrize("m, n, ku, kv, t", CASES)
def test_enclosure_brackets_the_exact_nuclear_norm(m, n, ku, kv, t, with_dual):
    G, sigma = _exact_svd(m, n, ku, kv, t)
    nuc = sum(sigma, F(0))
    enc = _enclosure(G, with_dual)
    assert enc is not None
    assert _bracket_problems(G, enc, nuc) == []
    with MP(60) as B:
        assert float(enc.U(B) - enc.L) <= 1e-8 * max(float(nuc), 1.0)  # tight, not merely valid


@pytest.mark.parametrize("m, n, ku, kv, t", CASES)
def test_stored_witnesses_recompute_the_same_enclosure(m, n, ku, kv, t):
    G, _ = _exact_svd(m, n, ku, kv, t)
    enc = _enclosure(G, with_dual=False)
    with mpmath.workdps(80):
        L, U = sc.verify_enclosure_inputs(G, enc.inputs())
        assert L == enc.L
        with MP(80) as B:
            assert abs(U - enc.U(B)) <= mpmath.mpf(10) ** -70 * max(U, 1)


def test_feasible_witness_is_strictly_inside_the_ball():
    Q = np.array([[0.6, -0.8], [0.8, 0.6]])  # orthogonal: ‖Q‖₂ = 1 in float, on the boundary
    D = sc.feasible_witness(Q * 3.0)
    assert D is not None and xl._strictly_feasible(D)
    assert sc.feasible_witness(np.zeros((2, 3))) == xl._mat(np.zeros((2, 3)))


def test_gram_inverse_trace():
    assert sc.gram_inverse_trace(xl._mat([[2, 0], [0, 4]])) == F(1, 4) + F(1, 16)


@pytest.mark.parametrize("m, n, ku, kv, t", [c for c in CASES if all(v != 0 for v in c[4])])
def test_shampoo_frobenius2_is_sum_of_sigma_powers(m, n, ku, kv, t):
    G, sigma = _exact_svd(m, n, ku, kv, t)
    r = len(sigma)
    enc = _enclosure(G, with_dual=False)
    with MP(60) as B:
        for p in (F(0), F(1, 4), F(1, 2)):
            lo, hi = sc.shampoo_frobenius2(G, p, enc, r)(B)
            assert lo == hi == sum((s ** (2 - 8 * p) for s in sigma), F(0))
        lo, hi = sc.shampoo_frobenius2(G, F(1, 8), enc, r)(B)
        nuc = sum(sigma, F(0))
        assert lo <= nuc and mpmath.mpf(nuc.numerator) / nuc.denominator <= hi
    assert sc.shampoo_frobenius2(G, F(1, 8), None, r) is None  # no enclosure: no certified form
    assert sc.shampoo_frobenius2(G, F(1, 3), enc, r) is None  # irrational powers: none offered


def test_broken_certificates_are_caught():
    """Meta-test: each way a certificate can be wrong is seen by the checks above and by the re-check."""
    G, sigma = _exact_svd(2, 3, [1], [1, -1, 2], [F(2), F(1, 2)])
    nuc = sum(sigma, F(0))
    enc = _enclosure(G, with_dual=False)
    assert _bracket_problems(G, enc, nuc) == []
    P = xl._mm(xl._cayley(_skew([1], 2)), xl._mT(xl._cayley(_skew([1, -1, 2], 3)))[:2])
    boundary = replace(enc, D=P, L=xl._inner(G, P))  # ‖D‖₂ = 1 exactly: not strictly feasible
    inflated = replace(enc, L=nuc + F(1, 10**12))  # a lower bound above the optimum
    truncated = replace(enc, pairs=enc.pairs[:-1])  # an upper bound that drops a term
    perturbed = replace(enc, Bt=[[v + (F(1, 10**9) if (i, j) == (0, 0) else 0) for j, v in enumerate(row)]
                                 for i, row in enumerate(enc.Bt)])  # A·Bᵀ no longer X
    for broken in (boundary, inflated, truncated, perturbed):
        assert _bracket_problems(G, broken, nuc), broken
    x = enc.inputs()
    assert sc.verify_enclosure_inputs(G, {**x, "D_witness": xl._mat_str(P)}) is None
    assert sc.verify_enclosure_inputs(G, {**x, "A": [["0"] * len(r) for r in x["A"]]}) is None
    assert sc.verify_enclosure_inputs(G, {**x, "orient": "G^T"}) is None  # the factorisation of the wrong X
