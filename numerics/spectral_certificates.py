"""Exact certificates for spectral-norm steepest descent: nuclear-norm enclosures and Shampoo's ‖·‖_F².

The problem ``max_{‖D‖₂ ≤ 1} ⟨G, D⟩`` has the value ‖G‖_* = Σσ_i (von Neumann's trace inequality), so
rational witnesses bound it on both sides without rounding:

* lower: any exact D with ‖D‖₂ < 1 (Sylvester's criterion on I − DᵀD) gives L = ⟨G, D⟩ ≤ ‖G‖_*;
* upper: any exact factorisation X = A·Bᵀ (X = G or Gᵀ, whichever is wide; A square, invertible,
  Bᵀ = A⁻¹X) gives ⟨G, D⟩ = Σ_i a_iᵀ D b_i ≤ U = Σ_i ‖a_i‖‖b_i‖ for every ‖D‖₂ ≤ 1, and ‖G‖_* ≤ U
  by the triangle inequality (‖a bᵀ‖_* = ‖a‖‖b‖).

The upper bound is tight at A = U_k S^{1/2} (thin SVD): ``‖X‖_* = min_{X = ABᵀ} Σ_i ‖a_i‖‖b_i‖``, the
column-balanced form of ``min ½(‖A‖_F² + ‖B‖_F²)`` (Recht, Fazel & Parrilo, "Guaranteed Minimum-Rank
Solutions of Linear Matrix Equations via Nuclear Norm Minimization", SIAM Review 52(3), 2010). The float
solvers of :mod:`numerics.steepest_descent` supply the witnesses; everything certified here is exact.

For full-rank G, Shampoo's preconditioned step (Gupta, Koren & Singer, "Shampoo: Preconditioned Stochastic
Tensor Optimization", ICML 2018) with exponent p has ``‖(GGᵀ)^{-p} G (GᵀG)^{-p}‖_F² = Σ σ_i^{2−8p}``,
rational or enclosed for p ∈ {0, 1/8, 1/4, 1/2} (:func:`shampoo_frobenius2`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

from numerics.exact_linalg import (
    F0,
    Mat,
    _det,
    _eye,
    _frob2,
    _inner,
    _mat,
    _mat_from_str,
    _mat_str,
    _mm,
    _mT,
    _scale,
    _small_gram,
    _solve,
    _strictly_feasible,
)
from numerics.steepest_descent import _mpf


@dataclass
class NuclearEnclosure:
    """Certified L ≤ OPT ≤ U and L ≤ ‖G‖_* ≤ U, from exact witnesses.

    ``U = Σ_i √(‖a_i‖² ‖b_i‖²)`` over the columns a_i of A and the rows b_i of Bᵀ, evaluated in a
    backend ``B`` (mpmath or Arb) by :meth:`U`; L is exact.
    """

    D: Mat  # ‖D‖₂ < 1 (exact), L = ⟨G, D⟩
    L: Fraction
    A: Mat  # X = A·Bt exactly, X = G (m ≤ n) or Gᵀ
    Bt: Mat
    orient: str
    pairs: list  # (‖a_i‖², ‖b_i‖²)

    def U(self, B):
        return B.sum([B.sqrt(B.num(a * b)) for a, b in self.pairs]) if self.pairs else B.num(0)

    def inputs(self) -> dict:
        return {"D_witness": _mat_str(self.D), "A": _mat_str(self.A), "orient": self.orient}


def feasible_witness(Df: np.ndarray) -> Mat | None:
    """An exact D with ‖D‖₂ < 1 near the float ``Df``: rounded, then shrunk by (2ᵏ − 1)/2ᵏ until proven."""
    nrm = float(np.linalg.norm(Df, 2)) if Df.size else 0.0
    base = Df / max(nrm, 1.0) if nrm > 0 else Df
    D0 = _mat(base)
    for k in (44, 36, 28, 20, 10):
        D = _scale(D0, Fraction(2**k - 1, 2**k))
        if _strictly_feasible(D):
            return D
    return None


def nuclear_enclosure(G: Mat, Gf: np.ndarray, D_float: np.ndarray,
                      A_float: np.ndarray | None) -> NuclearEnclosure | None:
    """L ≤ ‖G‖_* ≤ U from a float feasible point ``D_float`` and a float factor ``A_float`` (optional).

    The factor with the smaller U is kept among ``A_float`` and U_k S^{1/2} from a float SVD; None when
    no witness survives its exact check.
    """
    D = feasible_witness(D_float)
    if D is None:
        return None
    orient = "G" if len(G) <= len(G[0]) else "G^T"
    X, Xf = (G, Gf) if orient == "G" else (_mT(G), Gf.T)
    k = len(X)
    candidates = []
    if A_float is not None:
        candidates.append(A_float)
    U, s, _ = np.linalg.svd(Xf)
    floor = s[0] * 1e-8 if s.size and s[0] > 0 else 1.0
    candidates.append(U[:, :k] * np.sqrt(np.maximum(np.pad(s, (0, k - s.size)), floor)))
    best = None
    for Af in candidates:
        A = _mat(Af)
        if _det(A) == 0:
            continue
        Bt = _solve(A, X)
        pairs = [(sum((A[j][i] ** 2 for j in range(k)), F0), sum((v * v for v in Bt[i]), F0)) for i in range(k)]
        ub = sum(math.sqrt(float(a) * float(b)) for a, b in pairs)
        if best is None or ub < best[0]:
            best = (ub, A, Bt, pairs)
    if best is None:
        return None
    return NuclearEnclosure(D=D, L=_inner(G, D), A=best[1], Bt=best[2], orient=orient, pairs=best[3])


def verify_enclosure_inputs(G: Mat, x: dict):
    """Recompute (L, U at 80 digits) from stored witnesses; None if a witness fails its exact check."""
    D = _mat_from_str(x["D_witness"])
    A = _mat_from_str(x["A"])
    if not _strictly_feasible(D):
        return None
    X = G if x["orient"] == "G" else _mT(G)
    try:
        Bt = _solve(A, X)
    except ZeroDivisionError:
        return None
    if _mm(A, Bt) != X:
        return None
    k = len(A)
    U = mpmath.fsum(mpmath.sqrt(_mpf(sum((A[j][i] ** 2 for j in range(k)), F0) * sum((v * v for v in Bt[i]), F0)))
                    for i in range(k))
    return _inner(G, D), U


def gram_inverse_trace(G: Mat) -> Fraction:
    """tr((GᵀG)⁻¹) via the smaller Gram matrix (full-rank G): Σ σ_i⁻²."""
    S = _small_gram(G)
    return sum((row[i] for i, row in enumerate(_solve(S, _eye(len(S))))), F0)


def shampoo_frobenius2(G: Mat, p: Fraction, enc: NuclearEnclosure | None, rank: int):
    """‖(GGᵀ)^{-p} G (GᵀG)^{-p}‖_F² = Σ σ_i^{2−8p} for full-rank G, where it has a rational or
    certified form: p = 1/4 → r, p = 1/2 → tr(Gram⁻¹), p = 0 → ‖G‖_F², p = 1/8 → ‖G‖_* ∈ [L, U]."""
    if p == Fraction(1, 4):
        return lambda B: (B.num(rank), B.num(rank))
    if p == Fraction(1, 2):
        v = gram_inverse_trace(G)
        return lambda B: (v, v)
    if p == 0:
        v = _frob2(G)
        return lambda B: (v, v)
    if p == Fraction(1, 8) and enc is not None:
        return lambda B: (enc.L, enc.U(B))
    return None
