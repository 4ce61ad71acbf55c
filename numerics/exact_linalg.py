"""Exact rational linear algebra for small matrices (pure-Python ``Fraction``).

Row echelon form, rank, null space, determinant, solves, Sylvester's criterion and the Cayley transform,
used to build matrices with exactly known SVDs G = U S Vᵀ (rational orthogonal U, V) and to certify
feasibility (‖D‖₂ < 1) without rounding. Matrices are lists of rows of Fractions (``Mat``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from numerics.backends import fraction_str, to_fraction

# ----------------------------------------------------------------------------
# Exact rational linear algebra (small matrices; pure Python Fractions)
# ----------------------------------------------------------------------------

Mat = list  # list of rows of Fractions

F0, F1 = Fraction(0), Fraction(1)


def _mat(rows) -> Mat:
    return [[to_fraction(float(v) if isinstance(v, np.floating) else v) for v in row] for row in rows]


def _mT(A: Mat) -> Mat:
    return [list(c) for c in zip(*A)] if A and A[0] else []


def _mm(A: Mat, B: Mat) -> Mat:
    Bt = _mT(B)
    return [[sum((a * b for a, b in zip(row, col)), F0) for col in Bt] for row in A]


def _eye(k: int) -> Mat:
    return [[F1 if i == j else F0 for j in range(k)] for i in range(k)]


def _sub(A: Mat, B: Mat) -> Mat:
    return [[a - b for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]


def _scale(A: Mat, c) -> Mat:
    return [[a * c for a in row] for row in A]


def _inner(A: Mat, B: Mat) -> Fraction:
    return sum((a * b for ra, rb in zip(A, B) for a, b in zip(ra, rb)), F0)


def _frob2(A: Mat) -> Fraction:
    return _inner(A, A)


def _echelon(A: Mat):
    """Reduced row echelon form (copy) and pivot columns."""
    R = [row[:] for row in A]
    rows, cols = len(R), len(R[0]) if R else 0
    pivots, r = [], 0
    for c in range(cols):
        p = next((i for i in range(r, rows) if R[i][c] != 0), None)
        if p is None:
            continue
        R[r], R[p] = R[p], R[r]
        inv = 1 / R[r][c]
        R[r] = [x * inv for x in R[r]]
        for i in range(rows):
            if i != r and R[i][c] != 0:
                f = R[i][c]
                R[i] = [x - f * y for x, y in zip(R[i], R[r])]
        pivots.append(c)
        r += 1
        if r == rows:
            break
    return R, pivots


def _rank(A: Mat) -> int:
    return len(_echelon(A)[1]) if A and A[0] else 0


def _nullspace(A: Mat) -> list[list[Fraction]]:
    """Basis of {x : A x = 0}."""
    cols = len(A[0])
    R, piv = _echelon(A)
    free = [c for c in range(cols) if c not in piv]
    basis = []
    for f in free:
        x = [F0] * cols
        x[f] = F1
        for i, p in enumerate(piv):
            x[p] = -R[i][f]
        basis.append(x)
    return basis


def _det(A: Mat) -> Fraction:
    M = [row[:] for row in A]
    k, det = len(M), F1
    for c in range(k):
        p = next((i for i in range(c, k) if M[i][c] != 0), None)
        if p is None:
            return F0
        if p != c:
            M[c], M[p] = M[p], M[c]
            det = -det
        det *= M[c][c]
        for i in range(c + 1, k):
            if M[i][c] != 0:
                f = M[i][c] / M[c][c]
                M[i] = [x - f * y for x, y in zip(M[i], M[c])]
    return det


def _solve(A: Mat, B: Mat) -> Mat:
    """X with A X = B for square invertible A (Gauss–Jordan on [A | B])."""
    k = len(A)
    R, piv = _echelon([ra + rb for ra, rb in zip(A, B)])
    if piv[:k] != list(range(k)):
        raise ZeroDivisionError("singular matrix")
    return [row[k:] for row in R[:k]]


def _positive_definite(S: Mat) -> bool:
    """Sylvester's criterion: a symmetric matrix is ≻ 0 iff every leading principal minor is > 0."""
    return all(_det([row[:i] for row in S[:i]]) > 0 for i in range(1, len(S) + 1))


def _small_gram(D: Mat) -> Mat:
    """DᵀD or DDᵀ, whichever is smaller (same nonzero spectrum)."""
    return _mm(_mT(D), D) if len(D[0]) <= len(D) else _mm(D, _mT(D))


def _strictly_feasible(D: Mat) -> bool:
    """‖D‖₂ < 1, proven exactly: I − DᵀD ≻ 0 by Sylvester's criterion."""
    S = _small_gram(D)
    return _positive_definite(_sub(_eye(len(S)), S))


def _cayley(K: Mat) -> Mat:
    """Rational orthogonal matrix (I − K)(I + K)⁻¹ for skew-symmetric rational K."""
    k = len(K)
    I = _eye(k)
    IpK = [[I[i][j] + K[i][j] for j in range(k)] for i in range(k)]
    ImK = _sub(I, K)
    return _mT(_solve(_mT(IpK), _mT(ImK)))  # X = ImK · IpK⁻¹  ⇔  IpKᵀ Xᵀ = ImKᵀ


def _mat_str(A: Mat) -> list:
    return [[fraction_str(v) for v in row] for row in A]


def _mat_from_str(rows) -> Mat:
    return [[Fraction(v) for v in row] for row in rows]


def _vec_str(v) -> list:
    return [fraction_str(x) for x in v]


def _vec_from_str(v) -> list:
    return [Fraction(x) for x in v]
