"""Seed 002: optimisers as steepest descent under a norm (sign descent, Adam, Shampoo).

Bernstein & Newhouse, "Old Optimizer, New Norm: An Anthology", arXiv:2409.20325 (2024):
with the exponential moving averages switched off, each optimiser's update is

    argmax_{‖d‖ ≤ 1} ⟨g, d⟩      (steepest ascent direction; descent steps along −d)

for a particular norm. Three statements, each checked every run:

* ``seed-002/sign-descent-linf``: for g ∈ ℝⁿ, max_{‖d‖∞≤1} ⟨g,d⟩ = ‖g‖₁, attained at sign(g); the
  maximiser set is the face {d : d_i = sign(g_i) where g_i ≠ 0, d_i ∈ [−1, 1] where g_i = 0}, so
  sign(g) (with sign 0 = 0) is always a maximiser and is the unique one iff every g_i ≠ 0.
  Exact identity behind it: ‖g‖₁ − ⟨g,d⟩ = Σ|g_i|·|d_i − sign g_i| for every d in the box.
* ``seed-002/adam-no-momentum-sign``: Adam (Kingma & Ba 2015) with β₁ = β₂ = 0 has m = g, v = g²
  and update m̂/(√v̂ + ε) = g/(|g| + ε); exactly sign(g_i) − u_i = sign(g_i)·ε/(|g_i| + ε), so
  ‖u_ε − sign g‖∞ = ε/(min_{g_i≠0}|g_i| + ε) → 0 (rate ε, not uniform in g); zero entries give 0 for
  every ε > 0. With ε = 0 the update is sign(g) exactly where g_i ≠ 0 and 0/0 where g_i = 0.
* ``seed-002/shampoo-spectral``: for G = U S Vᵀ (thin SVD, rank r), max_{‖D‖₂≤1} ⟨G,D⟩ = ‖G‖_* (nuclear
  norm), attained at the polar factor U_r V_rᵀ; the maximiser is unique iff rank G = min(m, n)
  (quadratic growth: ‖G‖_* − ⟨G,D⟩ ≥ σ_min/2·‖D − UVᵀ‖_F²); otherwise U_rV_rᵀ + a bᵀ is another one for
  unit null vectors aᵀG = 0, Gb = 0. Repeated singular values make U, V non-unique but not U_rV_rᵀ.
  Shampoo (Gupta, Koren & Singer 2018) without accumulation: (GGᵀ)^{-1/4} G (GᵀG)^{-1/4} = U_rV_rᵀ
  (pseudo-inverse roots; = UVᵀ for full rank), and with damping (GGᵀ+εI)^{-1/4}G(GᵀG+εI)^{-1/4} =
  U diag(σ/√(σ²+ε)) Vᵀ.

How they are checked (quick: explicit degenerate cases, then Hypothesis draws):

* a direct numerical solution of the norm-constrained problem: ``scipy.optimize.linprog`` (ℓ∞),
  SLSQP (ℓ2), projected gradient ascent on the spectral-norm ball (primal, lower bound) and BFGS on
  the factorised dual min_A ½‖A‖_F² + ½‖A⁻¹G‖_F² (upper bound, = ‖G‖_*);
* exact sides: rationals for ℓ∞ and Adam (the identities above hold exactly); for the spectral norm an
  exact certified enclosure L ≤ OPT ≤ U (L = ⟨G, D_w⟩ with D_w rational and ‖D_w‖₂ < 1 proven by
  Sylvester's criterion on I − D_wᵀD_w; U = Σ‖a_i‖‖b_i‖ for an exact factorisation G = ABᵀ), mpmath
  ``svd_r`` at 50 digits with an a-posteriori error bound, and G = U S Vᵀ built from rational
  orthogonal (Cayley) factors where the polar factor, OPT and the Shampoo update are exact rationals.

A claim component that a draw violates is refuted only with a certificate evaluated in Arb ball
arithmetic (``Counterexample``), and ``verify_counterexample`` recomputes it from the exact inputs alone
(Fractions + mpmath at 80 digits). Mutants (false claims of the same shape) must be refuted.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Callable

import mpmath
import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from numerics.backends import MP, Arb, certified_sign, fraction_str, to_fraction
from numerics.validation import as_float_vector
from theorems.statement import Counterexample, Statement, Verdict

# ----------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------


def _as_matrix(G, name: str = "G") -> np.ndarray:
    try:
        arr = np.asarray(G, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a matrix of real numbers: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains {'NaN' if np.isnan(arr).any() else 'inf'}")
    return arr


def _check_eps(eps) -> float:
    try:
        e = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"eps must be a real number, got {eps!r}") from None
    if not math.isfinite(e):
        raise ValueError(f"eps must be finite, got {eps!r}")
    if e < 0:
        raise ValueError(f"eps must be ≥ 0, got {eps!r}")
    return e


def _check_beta(beta, name: str) -> float:
    b = float(beta)
    if not (0.0 <= b < 1.0):
        raise ValueError(f"{name} must lie in [0, 1), got {beta!r}")
    return b


def _check_exponent(p) -> float:
    p = float(p)
    if not math.isfinite(p) or p < 0:
        raise ValueError(f"exponent must be a finite number ≥ 0, got {p!r}")
    return p


# ----------------------------------------------------------------------------
# Float functions and their mpmath twins
# ----------------------------------------------------------------------------


def sign_descent_direction(g) -> np.ndarray:
    """``sign(g)`` with sign(0) = 0: the ℓ∞ steepest-ascent direction (Bernstein & Newhouse 2024)."""
    return np.sign(as_float_vector(g, "g"))


def sign_descent_direction_mp(g, dps: int = 50) -> list:
    """mpmath twin of :func:`sign_descent_direction` (exact: entries in {−1, 0, 1})."""
    g = as_float_vector(g, "g")
    with mpmath.workdps(dps):
        return [mpmath.mpf(int(np.sign(x))) for x in g]


def steepest_descent_lp(g) -> tuple[np.ndarray, float]:
    """Direct solution of ``max ⟨g, d⟩ s.t. −1 ≤ d_i ≤ 1`` by linear programming (HiGHS).

    g is scaled by max|g_i| first (the argmax is invariant under positive scaling); the value is
    scaled back. Coordinates with |g_i| below HiGHS's tolerance (~1e-9·max|g|) may come back with
    either sign: the LP value is unaffected to that tolerance.
    """
    g = as_float_vector(g, "g")
    s = float(np.max(np.abs(g)))
    if s == 0.0:
        return np.zeros_like(g), 0.0
    res = linprog(-(g / s), bounds=[(-1.0, 1.0)] * g.size, method="highs")
    if res.status != 0:  # pragma: no cover - a box LP is always feasible and bounded
        raise RuntimeError(f"linprog failed: {res.message}")
    # HiGHS may step outside the box by its feasibility tolerance: report the clipped (feasible) point's value
    d = np.clip(res.x, -1.0, 1.0)
    return d, float((g / s) @ d) * s


def steepest_descent_l2(g) -> tuple[np.ndarray, float]:
    """Direct solution of ``max ⟨g, d⟩ s.t. ‖d‖₂ ≤ 1`` by SLSQP (used by the ℓ2 mutant)."""
    g = as_float_vector(g, "g")
    s = _safe_norm(g)
    if s == 0.0:
        return np.zeros_like(g), 0.0
    gn = g / s
    res = minimize(lambda d: -gn @ d, np.zeros_like(g), jac=lambda d: -gn, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda d: 1.0 - d @ d, "jac": lambda d: -2 * d}],
                   options={"ftol": 1e-15, "maxiter": 200})
    d = res.x / max(1.0, float(np.linalg.norm(res.x)))
    return d, float(gn @ d) * s


def adam_update(g, eps, beta1: float = 0.0, beta2: float = 0.0, step: int = 1, m_prev=None, v_prev=None) -> np.ndarray:
    """Adam's update direction ``m̂/(√v̂ + ε)`` for one step (Kingma & Ba 2015, Alg. 1).

    ``m = β₁ m_prev + (1−β₁) g``, ``v = β₂ v_prev + (1−β₂) g²``, ``m̂ = m/(1−β₁^t)``, ``v̂ = v/(1−β₂^t)``
    (the recurrence of ``torch.optim.Adam``). With β₁ = β₂ = 0 this is ``g/(|g| + ε)``.

    Floating point (float64): v = g² overflows for |g| > 1.3e154, turns subnormal (losing digits) for
    |g| < 1.5e-154 and underflows to 0 below ~1.5e-162; there the float update is not g/(|g|+ε)
    (|g| = 1e-170, ε = 1e-200 gives 1e30 instead of ≈ 1).

    Raises:
        ValueError: bad g, eps < 0, β outside [0, 1), step < 1, or ε = 0 where v̂ = 0 (0/0).
    """
    g = as_float_vector(g, "g")
    eps = _check_eps(eps)
    b1, b2 = _check_beta(beta1, "beta1"), _check_beta(beta2, "beta2")
    if int(step) != step or step < 1:
        raise ValueError(f"step must be an integer ≥ 1, got {step!r}")
    m0 = np.zeros_like(g) if m_prev is None else as_float_vector(m_prev, "m_prev")
    v0 = np.zeros_like(g) if v_prev is None else as_float_vector(v_prev, "v_prev")
    if m0.shape != g.shape or v0.shape != g.shape:
        raise ValueError("m_prev and v_prev must have the shape of g")
    if (v0 < 0).any():
        raise ValueError("v_prev must be ≥ 0")
    m = b1 * m0 + (1 - b1) * g
    v = b2 * v0 + (1 - b2) * g * g
    m_hat = m / (1 - b1**step)
    denom = np.sqrt(v / (1 - b2**step)) + eps
    if (denom == 0).any():
        raise ValueError("Adam's update is 0/0 where v̂ = 0 and eps = 0 (a zero gradient entry with ε = 0)")
    return m_hat / denom


def adam_update_mp(g, eps, beta1=0, beta2=0, step: int = 1, m_prev=None, v_prev=None, dps: int = 50) -> list:
    """mpmath twin of :func:`adam_update` (no under/overflow: mpmath exponents are unbounded)."""
    g = as_float_vector(g, "g")
    _check_eps(eps)
    _check_beta(beta1, "beta1"), _check_beta(beta2, "beta2")
    with mpmath.workdps(dps):
        b1, b2, e = (mpmath.mpf(to_fraction(x).numerator) / to_fraction(x).denominator for x in (beta1, beta2, eps))
        m0 = [mpmath.mpf(0)] * g.size if m_prev is None else [mpmath.mpf(x) for x in m_prev]
        v0 = [mpmath.mpf(0)] * g.size if v_prev is None else [mpmath.mpf(x) for x in v_prev]
        out = []
        for gi, mi, vi in zip(g, m0, v0):
            gi = mpmath.mpf(gi)
            m = b1 * mi + (1 - b1) * gi
            v = b2 * vi + (1 - b2) * gi * gi
            denom = mpmath.sqrt(v / (1 - b2**step)) + e
            if denom == 0:
                raise ValueError("Adam's update is 0/0 where v̂ = 0 and eps = 0")
            out.append(m / (1 - b1**step) / denom)
        return out


def _safe_norm(x: np.ndarray) -> float:
    """Euclidean / Frobenius norm without overflow or underflow of the squares."""
    m = float(np.max(np.abs(x))) if x.size else 0.0
    return 0.0 if m == 0.0 else m * float(np.linalg.norm(x / m))


def _svd_rank(s: np.ndarray, shape) -> int:
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.sum(s > max(shape) * np.finfo(float).eps * s[0]))


def polar_factor(G) -> np.ndarray:
    """``U_r V_rᵀ`` from the thin SVD of G (r = numerical rank, numpy's matrix_rank threshold).

    The spectral-norm steepest-ascent direction (Bernstein & Newhouse 2024); for full-rank G
    the orthogonal polar factor (Higham, Functions of Matrices, 2008, ch. 8).
    """
    G = _as_matrix(G)
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    r = _svd_rank(s, G.shape)
    return U[:, :r] @ Vt[:r]


def _exact_or_float_matrix(G, name: str = "G"):
    """Rational input (lists of Fractions/ints) is kept exact; anything else is validated as floats."""
    if isinstance(G, list) and G and all(isinstance(r, list) for r in G) and \
            all(isinstance(v, (Fraction, int)) and not isinstance(v, bool) for r in G for v in r):
        if not G[0] or any(len(r) != len(G[0]) for r in G):
            raise ValueError(f"{name} must be a non-empty rectangular matrix")
        return G
    return _as_matrix(G, name)


def _mp_matrix(G):
    """mpmath matrix of exact entries (Fractions or floats), rounded once at the working precision."""
    rows = G.tolist() if isinstance(G, np.ndarray) else G
    return mpmath.matrix([[_mpf(v) for v in row] for row in rows])


def _mpf(v):
    f = to_fraction(v)
    return mpmath.mpf(f.numerator) / f.denominator


def _svd_mp(G):
    """Thin SVD at the current precision, singular values sorted decreasingly: (U, s list, V rows)."""
    # mpmath's one-sided Jacobi/QR sweep occasionally stops at its 150-iteration cap on exactly repeated
    # singular values; the transpose or a few extra digits converge (the result is the same SVD)
    U = S = V = None
    for extra, transpose in ((0, False), (0, True), (7, False), (13, True)):
        try:
            with mpmath.extradps(extra):
                A = _mp_matrix(G)
                if transpose:
                    V2, S, U2 = mpmath.svd_r(A.T)
                    U, V = U2.T, V2.T
                else:
                    U, S, V = mpmath.svd_r(A)
            break
        except RuntimeError:
            continue
    if S is None:
        raise RuntimeError("mpmath.svd_r did not converge, also on the transpose and at higher precision")
    U, S, V = +U, +S, +V  # back to the working precision
    s = [S[i] for i in range(S.rows)]
    order = sorted(range(len(s)), key=lambda i: -s[i])
    Us = mpmath.matrix(U.rows, len(s))
    Vs = mpmath.matrix(len(s), V.cols)
    for new, old in enumerate(order):
        for i in range(U.rows):
            Us[i, new] = U[i, old]
        for j in range(V.cols):
            Vs[new, j] = V[old, j]
    return Us, [s[i] for i in order], Vs


def _mp_rank(s, dps) -> int:
    if not s or s[0] == 0:
        return 0
    return sum(1 for x in s if x > mpmath.mpf(10) ** (-(dps - 10)) * s[0])


def polar_factor_mp(G, dps: int = 50):
    """mpmath twin of :func:`polar_factor` (rank threshold 10^-(dps−10) relative)."""
    G = _exact_or_float_matrix(G)
    with mpmath.workdps(dps):
        U, s, V = _svd_mp(G)
        r = _mp_rank(s, dps)
        m, n = U.rows, V.cols
        P = mpmath.matrix(m, n)
        for k in range(r):
            for i in range(m):
                for j in range(n):
                    P[i, j] += U[i, k] * V[k, j]
        return P


def nuclear_norm(G) -> float:
    """``‖G‖_* = Σ σ_i(G)``, the dual of the spectral norm."""
    return float(np.linalg.svd(_as_matrix(G), compute_uv=False).sum())


def nuclear_norm_mp(G, dps: int = 50):
    """mpmath twin of :func:`nuclear_norm`."""
    G = _exact_or_float_matrix(G)
    with mpmath.workdps(dps):
        return mpmath.fsum(_svd_mp(G)[1])


def svd_error_bound_mp(G, dps: int = 50) -> dict:
    """mpmath thin SVD with an a-posteriori bound on every singular value.

    With the computed Û, ŝ, V̂: r = ‖G − Û diag(ŝ) V̂‖_F and e = max(‖ÛᵀÛ − I‖_F, ‖V̂V̂ᵀ − I‖_F).
    Weyl gives |σ_i(G) − σ_i(ÛŜV̂)| ≤ r, and σ_i(ÛŜV̂) ∈ [(1−e)ŝ_i, (1+e)ŝ_i] since the singular
    values of Û, V̂ lie in [√(1−e), √(1+e)]; so |σ_i(G) − ŝ_i| ≤ r + e·ŝ_i (+ 10^-(dps−5)‖G‖_F for the
    rounding of r and e themselves).
    """
    G = _exact_or_float_matrix(G)
    with mpmath.workdps(dps + 10):
        U, s, V = _svd_mp(G)
        A = _mp_matrix(G)
        k = len(s)
        R = A - U * mpmath.diag(s) * V if k else A
        r = mpmath.mnorm(R, "f")
        eU = mpmath.mnorm(U.T * U - mpmath.eye(k), "f")
        eV = mpmath.mnorm(V * V.T - mpmath.eye(k), "f")
        e = max(eU, eV)
        slack = mpmath.mpf(10) ** (-(dps - 5)) * mpmath.mnorm(A, "f")  # rounding of r and e themselves
        bounds = [r + e * x + slack for x in s]
        return {"U": U, "s": s, "V": V, "bounds": bounds, "nuclear": mpmath.fsum(s),
                "nuclear_bound": mpmath.fsum(bounds), "residual": r, "orthogonality": e}


def _psd_power(M: np.ndarray, power: float, eps: float) -> np.ndarray:
    w, Q = np.linalg.eigh((M + M.T) / 2)
    w = np.maximum(w, 0.0)
    thr = 1e-13 * max(float(w.max(initial=0.0)), 0.0) if eps == 0 else 0.0
    f = np.where(w > thr, np.power(np.where(w > thr, w, 1.0), power), 0.0)
    return (Q * f) @ Q.T


def shampoo_update(G, eps: float = 0.0, exponent: float = 0.25) -> np.ndarray:
    """Shampoo without accumulation: ``(GGᵀ + εI)^{−p} G (GᵀG + εI)^{−p}``, p = ``exponent`` (1/4).

    Gupta, Koren & Singer, "Shampoo", ICML 2018, Alg. 1 with one step. With ε = 0 the inverse
    roots are Moore–Penrose (eigenvalues ≤ 1e-13·λ_max of a Gram matrix count as zero), so for
    full-rank G and p = 1/4 the result is UVᵀ. Going through Gram matrices squares the condition
    number: the float error is ~ κ(G)²·1e-16.
    """
    G = _as_matrix(G)
    eps = _check_eps(eps)
    p = _check_exponent(exponent)
    m, n = G.shape
    L = _psd_power(G @ G.T + eps * np.eye(m), -p, eps)
    R = _psd_power(G.T @ G + eps * np.eye(n), -p, eps)
    return L @ G @ R


def shampoo_update_mp(G, eps=0, exponent=Fraction(1, 4), dps: int = 50):
    """mpmath twin of :func:`shampoo_update` (``eigsy``; pseudo-inverse threshold 10^-(dps−10) λ_max)."""
    G = _exact_or_float_matrix(G)
    _check_eps(eps)
    with mpmath.workdps(dps):
        A = _mp_matrix(G)
        e = _mpf(eps)
        p = _mpf(exponent)

        def power(M):
            k = M.rows
            w, Q = mpmath.eigsy(M + e * mpmath.eye(k))
            top = max([w[i] for i in range(k)] + [mpmath.mpf(0)])
            thr = mpmath.mpf(10) ** (-(dps - 10)) * top if e == 0 else mpmath.mpf(0)
            f = [w[i] ** (-p) if w[i] > thr else mpmath.mpf(0) for i in range(k)]
            return Q * mpmath.diag(f) * Q.T

        return power(A * A.T) * A * power(A.T * A)


def _project_spectral_ball(D: np.ndarray) -> np.ndarray:
    U, s, Vt = np.linalg.svd(D, full_matrices=False)
    return (U * np.minimum(s, 1.0)) @ Vt


def spectral_steepest_descent_pga(G, iters: int = 150, step: float = 0.5, starts: int = 2, seed: int = 0):
    """Projected gradient ascent for ``max ⟨G, D⟩ s.t. ‖D‖₂ ≤ 1`` from random feasible starts.

    The projection onto the spectral-norm ball clips the singular values of the iterate at 1
    (Euclidean projection in the Frobenius inner product). Returns (best D, its value): a feasible
    point, so the value is a lower bound of the maximum.
    """
    G = _as_matrix(G)
    fro = _safe_norm(G)
    if fro == 0.0:
        return np.zeros_like(G), 0.0
    Gn = G / fro
    rng = np.random.default_rng(seed)
    best, best_val = None, -math.inf
    for _ in range(starts):
        D = _project_spectral_ball(rng.standard_normal(G.shape))
        for _ in range(iters):
            D = _project_spectral_ball(D + step * Gn)
        val = float(np.sum(Gn * D))
        if val > best_val:
            best, best_val = D, val
    return best, best_val * fro


def nuclear_norm_dual_bfgs(G, seed: int = 0, starts: int = 2):
    """Upper bound on the maximum: ``min_A ½‖A‖_F² + ½‖A⁻¹X‖_F²`` by BFGS (X = G or Gᵀ, rows ≤ cols).

    For invertible A, X = A·(A⁻¹X) = Σ a_i b_iᵀ, so for ‖D‖₂ ≤ 1: ⟨X, D⟩ = Σ a_iᵀ D b_i ≤ Σ‖a_i‖‖b_i‖ ≤
    ½‖A‖² + ½‖A⁻¹X‖², and the infimum over A is ‖G‖_* (A = U S^{1/2}). Returns (A scaled to G, value);
    the orientation is ``"G"`` when m ≤ n else ``"G^T"``.
    """
    G = _as_matrix(G)
    X = G if G.shape[0] <= G.shape[1] else G.T
    fro = _safe_norm(X)
    k = X.shape[0]
    if fro == 0.0:
        return np.eye(k), 0.0
    Xn = X / fro
    rng = np.random.default_rng(seed)

    def f(a):
        A = a.reshape(k, k)
        try:
            B = np.linalg.solve(A, Xn)
            grad = A - np.linalg.solve(A.T, B @ B.T)
        except np.linalg.LinAlgError:
            return 1e300, np.zeros_like(a)
        return 0.5 * float(np.sum(A * A) + np.sum(B * B)), grad.ravel()

    best_A, best = None, math.inf
    for _ in range(starts):
        a0 = (np.eye(k) + 0.1 * rng.standard_normal((k, k))).ravel()
        # BFGS: for ≤ 16 variables it is exact enough and, with this scipy, far cheaper per step than L-BFGS-B
        res = minimize(f, a0, jac=True, method="BFGS", options={"maxiter": 500, "gtol": 1e-12})
        if res.fun < best:
            best, best_A = float(res.fun), res.x.reshape(k, k)
    return best_A * math.sqrt(fro), best * fro


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


def _must(ok: bool, what: str) -> None:
    """An exact identity that the mathematics guarantees; failing means a bug here, so stop loudly."""
    if not ok:
        raise RuntimeError(f"exact identity failed: {what}")


def _sgn(x) -> int:
    return (x > 0) - (x < 0)


def _num(B, x):
    return B.num(x) if isinstance(x, (Fraction, int)) else x


def _seed_of(obj) -> int:
    return int.from_bytes(hashlib.sha256(repr(obj).encode()).digest()[:4], "little")


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{float(x):.3e}"


# ----------------------------------------------------------------------------
# Certificates: Arb-certified margins, stored with the exact inputs
# ----------------------------------------------------------------------------


def _certify(kind: str, inputs: dict, sides: Callable, relation: str, size: int, why: str) -> Counterexample | None:
    """Counterexample when ``sides(B) = (lhs, rhs)`` certifiably violates ``lhs <= rhs`` (or ``==``).

    The claim implies ``lhs ≤ rhs`` (``relation="<="``) or ``lhs = rhs`` (``"=="``); the sign of
    rhs − lhs is proven in Arb at rising precision. None when it does not certify.
    """

    def diff(B):
        lhs, rhs = sides(B)
        return _num(B, rhs) - _num(B, lhs)

    sign, ball = certified_sign(diff)
    if relation == "<=":
        if sign != -1:
            return None
        upper = ball.upper
    else:
        if sign == 0:
            return None
        upper = -ball.lower if sign > 0 else ball.upper
    with Arb(ball.prec_bits) as B:
        lhs, rhs = (_num(B, v) for v in sides(B))
        d = rhs - lhs
        margin = (-abs(d) if relation == "==" else d).str(25, radius=True)
        lhs_s, rhs_s = lhs.str(25, radius=True), rhs.str(25, radius=True)
    with MP(60) as B:
        lhs, rhs = (_num(B, v) for v in sides(B))
        d60 = rhs - lhs
        d60 = -abs(d60) if relation == "==" else d60
    return Counterexample(
        inputs={"kind": kind, **inputs}, lhs=lhs_s, rhs=rhs_s, margin=margin, margin_upper=float(upper),
        margin_mp60=mpmath.nstr(d60, 30), size=size,
        certificate=f"{why} [claim implies lhs {relation} rhs; rhs − lhs enclosed by Arb at "
        f"{ball.prec_bits} bits: {ball.enclosure}]",
    )


# ----------------------------------------------------------------------------
# The search engine shared by the three statements
# ----------------------------------------------------------------------------


class _Certified(Exception):
    def __init__(self, cx):
        super().__init__("certified violation")
        self.cx = cx


def _only_certified(exc: BaseException) -> bool:
    if isinstance(exc, _Certified):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_certified(e) for e in exc.exceptions)
    return False


@dataclass
class _SearchStatement(Statement):
    """Explicit degenerate cases, then Hypothesis draws; each case returns a certified violation or None."""

    id: str = ""
    title: str = ""
    claim: str = ""
    reading: str = ""
    proof: str = ""
    quick_examples: int = 40
    full_examples: int = 400
    explicit_cases: bool = True  # False: Hypothesis draws only (used to test the search's own power)
    shrink: bool = True  # shrink a certified violation to a small one (Hypothesis's shrink phase)

    def _domain(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _explicit(self) -> list:
        return []

    def _case(self, x, state: dict) -> Counterexample | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _new_state(self) -> dict:
        return {"cases": 0, "explicit_cases": 0, "artefacts": [], "exact_identities": 0}

    def _evidence(self, state: dict) -> dict:
        return {}

    def check(self, effort: str = "quick", examples: int | None = None):
        t0 = time.perf_counter()
        state = self._new_state()
        state["effort"] = effort
        cx = None
        for x in self._explicit() if self.explicit_cases else []:
            state["explicit_cases"] += 1
            cx = self._case(x, state)
            if cx is not None:
                break
        if cx is None:
            n = examples or (self.full_examples if effort == "full" else self.quick_examples)
            found = {}

            def run(x):
                c = self._case(x, state)
                if c is not None:
                    found["cx"] = c
                    raise _Certified(c)

            try:
                phases = list(Phase) if self.shrink else [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
                settings(database=None, deadline=None, max_examples=n, phases=phases,
                         suppress_health_check=list(HealthCheck))(given(self._domain())(run))()
            except BaseException as exc:  # Hypothesis may group the exceptions it saw
                if not _only_certified(exc):
                    raise
            cx = found.get("cx")
        evidence = {"cases": state["cases"], "explicit_degenerate_cases": state["explicit_cases"],
                    "exact_identities_verified": state["exact_identities"],
                    "numerical_artefacts": len(state["artefacts"]),
                    "artefacts": state["artefacts"][:5]}
        evidence.update(self._evidence(state))
        if cx is not None:
            evidence["summary"] = f"{cx.inputs['kind']} after {state['cases']} cases (certified)"
            return self.result(Verdict.REFUTED, evidence, cx, t0)
        evidence["summary"] = self._summary(state)
        if self.proof:
            evidence["proof"] = self.proof
        return self.result(Verdict.HOLDS, evidence, None, t0)

    def _summary(self, state) -> str:
        return f"{state['cases']} cases, no violation"

    def mutant(self, name: str, **changes):
        return replace(self, id=f"{self.id}~{name}", proof="", **changes)


# ----------------------------------------------------------------------------
# Statement 1: sign descent = steepest descent under ℓ∞
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VecDirection:
    """A claimed maximiser d(g): float version and exact version against a backend B."""

    name: str
    float_fn: Callable
    exact_fn: Callable  # (g: list[Fraction], B) -> list of Fractions or B numbers


@dataclass(frozen=True)
class VecValue:
    """A claimed maximum value V(g)."""

    name: str
    float_fn: Callable
    exact_fn: Callable  # (g, B) -> Fraction or B number


def _l1(g):
    return sum((abs(x) for x in g), F0)


def _nnz(g) -> int:
    return sum(1 for x in g if x != 0)


SIGN = VecDirection("sign(g)", lambda g: np.sign(g), lambda g, B: [Fraction(_sgn(x)) for x in g])
NEG_SIGN = VecDirection("−sign(g)", lambda g: -np.sign(g), lambda g, B: [Fraction(-_sgn(x)) for x in g])
LINF_NORMALISED = VecDirection(
    "g/‖g‖∞", lambda g: g / np.max(np.abs(g)) if np.any(g) else np.zeros_like(g),
    lambda g, B: [x / max(abs(y) for y in g) for x in g] if any(g) else [F0] * len(g))
SIGN_L2 = VecDirection(
    "sign(g)/√nnz", lambda g: np.sign(g) / math.sqrt(max(np.count_nonzero(g), 1)),
    lambda g, B: [B.num(_sgn(x)) / B.sqrt(B.num(max(_nnz(g), 1))) for x in g])

L1_VALUE = VecValue("‖g‖₁", lambda g: float(np.sum(np.abs(g))), lambda g, B: _l1(g))
L2_VALUE = VecValue("‖g‖₂", lambda g: _safe_norm(g), lambda g, B: B.sqrt(B.num(sum((x * x for x in g), F0))))
SIGN_L2_VALUE = VecValue("‖g‖₁/√nnz", lambda g: float(np.sum(np.abs(g))) / math.sqrt(max(np.count_nonzero(g), 1)),
                         lambda g, B: B.num(_l1(g)) / B.sqrt(B.num(max(_nnz(g), 1))))


def _scaled_value(v: VecValue, c: Fraction) -> VecValue:
    return VecValue(f"{c}·{v.name}", lambda g: v.float_fn(g) * float(c), lambda g, B: _num(B, v.exact_fn(g, B)) * B.num(c))


def _unique_iff_all_nonzero(g) -> bool:
    return all(x != 0 for x in g)


def _unique_always(g) -> bool:
    return True


def _unique_iff_nonzero_vector(g) -> bool:
    return any(x != 0 for x in g)


@st.composite
def gradient_vectors(draw, min_n: int = 1, max_n: int = 12, min_exp: float = -300, max_exp: float = 300,
                     kinds=("plain", "moderate", "zeros", "logmag", "equal", "all-zero", "tiny")):
    """Gradient vectors as exact Fractions of floats: plain, log-uniform over 10^±3, with exact zeros,
    magnitudes spread over 10^min_exp..10^max_exp, all-equal magnitudes, the zero vector, subnormals."""
    n = draw(st.integers(min_n, max_n))
    kind = draw(st.sampled_from(list(kinds)))
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    if kind in ("plain", "zeros"):
        vals = np.array(draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n)))
        # moderate magnitudes here (the extremes are the "logmag" and "tiny" kinds' job)
        vals = np.where(vals == 0, 0.0, np.copysign(np.maximum(np.abs(vals), 1e-3), vals))
    elif kind == "moderate":
        vals = signs * 10.0 ** np.array(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    elif kind == "logmag":
        vals = signs * 10.0 ** np.array(draw(st.lists(st.floats(min_exp, max_exp), min_size=n, max_size=n)))
    elif kind == "equal":
        vals = signs * draw(st.floats(1e-10, 1e10))
    elif kind == "tiny":
        vals = signs * np.array(draw(st.lists(st.sampled_from([5e-324, 1e-310, 1.0, 1e-300]), min_size=n, max_size=n)))
    else:
        vals = np.zeros(n)
    if kind == "zeros" or (kind == "logmag" and draw(st.booleans())):
        mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        mask[draw(st.integers(0, n - 1))] = True
        vals = np.where(mask, 0.0, vals)
    return [Fraction(float(v)) for v in vals]


@dataclass
class SteepestDescentVector(_SearchStatement):
    """``argmax_{‖d‖ ≤ 1} ⟨g, d⟩ = direction(g)``, ``max = value(g)``, unique iff ``unique(g)``."""

    ball: str = "linf"  # "linf" or "l2"
    direction: VecDirection = SIGN
    value: VecValue = L1_VALUE
    unique: Callable = _unique_iff_all_nonzero
    max_n: int = 12

    def mutants(self):
        return [] if "~" in self.id else _sign_descent_mutants(self)

    def _domain(self):
        return gradient_vectors(1, self.max_n).map(lambda g: {"g": g})

    def _explicit(self):
        cases = [(3.0, -1.0, 0.0, 2.0), (1.0, -1.0, 1.0), (0.0, 0.0, 0.0), (5e-324, -1.0, 1e300),
                 (-2.5,), (0.0,), (1.0, 2.0), (1e-300, 0.0, -7.0)]
        return [{"g": [Fraction(v) for v in c]} for c in cases]

    def _new_state(self):
        s = super()._new_state()
        s.update(lp_value_rel_err=0.0, face_width_unique=0.0, face_width_zero=math.inf,
                 second_maximisers=0, gap_identity=0, lp_sign_mismatch=0, max_n=0)
        return s

    # -- exact pieces ----------------------------------------------------------
    def _dual_bound(self, g, B):
        """Hölder: ⟨g,d⟩ ≤ ‖g‖₁‖d‖∞ (ℓ∞ ball), Cauchy–Schwarz ⟨g,d⟩ ≤ ‖g‖₂‖d‖₂ (ℓ2 ball)."""
        return _l1(g) if self.ball == "linf" else B.sqrt(B.num(sum((x * x for x in g), F0)))

    def _exact_feasible(self, d) -> bool:
        return all(abs(x) <= 1 for x in d) if self.ball == "linf" else sum((x * x for x in d), F0) <= 1

    def _witness(self, d_float: np.ndarray) -> list[Fraction] | None:
        """The solver's point as exact rationals, pulled into the ball exactly."""
        d = [Fraction(float(v)) for v in d_float]
        if self.ball == "linf":
            return [min(F1, max(-F1, x)) for x in d]
        for k in (52, 40, 30, 20):
            w = [x * Fraction(2**k - 1, 2**k) for x in d]
            if self._exact_feasible(w):
                return w
        return None

    def _solve(self, gf):
        return steepest_descent_lp(gf) if self.ball == "linf" else steepest_descent_l2(gf)

    def _second_maximiser(self, g):
        """Two distinct exact maximisers when they exist (a zero entry for ℓ∞; g = 0 for ℓ2)."""
        if self.ball == "linf":
            zeros = [i for i, x in enumerate(g) if x == 0]
            if not zeros:
                return None
            d1 = [Fraction(_sgn(x)) for x in g]
            d2 = d1[:]
            d2[zeros[0]] = F1
            return d1, d2
        if any(g):
            return None
        d2 = [F0] * len(g)
        d2[0] = F1
        return [F0] * len(g), d2

    # -- one case --------------------------------------------------------------
    def _case(self, x, state):
        g = x["g"]
        n = len(g)
        state["cases"] += 1
        state["max_n"] = max(state["max_n"], n)
        gf = np.array([float(v) for v in g])
        d_num, v_num = self._solve(gf)
        scale = max(float(np.sum(np.abs(gf))), 1e-300) if self.ball == "linf" else max(_safe_norm(gf), 1e-300)
        # HiGHS works to ~1e-7 relative: coordinates with |g_i| < 1e-6·max|g| may get either sign, which moves
        # the LP value by at most 2·Σ_small |g_i|; SLSQP (ℓ2) to ~1e-6. A float discrepancy counts only above
        # that; certification then decides exactly
        if self.ball == "linf":
            amax = float(np.max(np.abs(gf))) if n else 0.0
            tol = 2 * float(np.sum(np.abs(gf[np.abs(gf) < 1e-6 * amax]))) + 1e-9 * scale
        else:
            tol = 1e-6 * scale
        self._evidence_exact(g, gf, d_num, v_num, scale, state)

        inputs = {"g": _vec_str(g), "ball": self.ball}
        dc = self.direction.float_fn(gf)
        vc = self.value.float_fn(gf)
        obj_c = float(gf @ dc)
        norm_c = float(np.max(np.abs(dc))) if self.ball == "linf" else _safe_norm(dc)
        attempts = []
        if norm_c > 1 + 1e-9:
            i = int(np.argmax(np.abs(dc))) if self.ball == "linf" else None
            attempts.append(lambda: _certify(
                "infeasible-direction", inputs,
                (lambda B: (abs(_num(B, self.direction.exact_fn(g, B)[i])), 1)) if self.ball == "linf" else
                (lambda B: (B.sum([_num(B, v) ** 2 for v in self.direction.exact_fn(g, B)]), 1)),
                "<=", n, f"the claimed maximiser {self.direction.name} lies outside the unit {self.ball} ball"))
        if vc > v_num + tol:
            attempts.append(lambda: _certify(
                "value-above-dual-bound", inputs, lambda B: (self.value.exact_fn(g, B), self._dual_bound(g, B)),
                "<=", n, f"claimed maximum {self.value.name} exceeds the dual-norm bound "
                f"{'‖g‖₁ (Hölder)' if self.ball == 'linf' else '‖g‖₂ (Cauchy–Schwarz)'} ≥ ⟨g,d⟩ for all feasible d"))
        witness = self._witness(d_num)
        if witness is not None and vc < v_num - tol:
            attempts.append(lambda: _certify(
                "value-below-feasible-witness", {**inputs, "witness": _vec_str(witness)},
                lambda B: (sum((a * b for a, b in zip(g, witness)), F0), self.value.exact_fn(g, B)),
                "<=", n, f"the {self.ball}-feasible witness (direct solver, exact) beats the claimed maximum {self.value.name}"))
        if witness is not None and obj_c < v_num - tol:
            attempts.append(lambda: _certify(
                "direction-beaten", {**inputs, "witness": _vec_str(witness)},
                lambda B: (sum((a * b for a, b in zip(g, witness)), F0),
                           B.sum([B.num(a) * _num(B, b) for a, b in zip(g, self.direction.exact_fn(g, B))])),
                "<=", n, f"a feasible witness (direct solver, exact) has ⟨g,w⟩ > ⟨g, {self.direction.name}⟩"))
        if abs(obj_c - vc) > tol:
            attempts.append(lambda: _certify(
                "maximiser-value-inconsistent", inputs,
                lambda B: (B.sum([B.num(a) * _num(B, b) for a, b in zip(g, self.direction.exact_fn(g, B))]),
                           self.value.exact_fn(g, B)),
                "==", n, f"the claimed maximiser {self.direction.name} does not attain the claimed maximum {self.value.name}"))
        pair = self._second_maximiser(g)
        if pair is not None and self.unique(g):
            d1, d2 = pair
            attempts.append(lambda: _certify(
                "not-unique", {**inputs, "d1": _vec_str(d1), "d2": _vec_str(d2)},
                lambda B: (max(abs(a - b) for a, b in zip(d1, d2)), 0), "<=", n,
                "claimed unique, but d1 ≠ d2 are both feasible and attain the dual-norm bound exactly, "
                "so both are maximisers"))
        for attempt in attempts:
            cx = attempt()
            if cx is not None:
                return cx
            state["artefacts"].append(f"uncertified float violation at g = {[float(v) for v in g]}")
        return None

    def _evidence_exact(self, g, gf, d_num, v_num, scale, state):
        """The true theorem's exact identities and the LP's picture of the face (evidence only)."""
        if self.ball != "linf":
            return
        s = [Fraction(_sgn(v)) for v in g]
        l1 = _l1(g)
        _must(sum((a * b for a, b in zip(g, s)), F0) == l1, "⟨g, sign g⟩ = ‖g‖₁ exactly")
        state["exact_identities"] += 1
        # gap identity on the LP's point (clipped exactly) and on a rational point of the box
        rng = np.random.default_rng(_seed_of(g))
        for d in (self._witness(d_num), [Fraction(int(k), 7) for k in rng.integers(-7, 8, len(g))]):
            gap = l1 - sum((a * b for a, b in zip(g, d)), F0)
            _must(gap == sum((abs(a) * abs(b - c) for a, b, c in zip(g, d, s)), F0) and gap >= 0, "‖g‖₁ − ⟨g,d⟩ = Σ|g_i|·|d_i − sign g_i| ≥ 0")
            state["gap_identity"] += 1
        if l1 > 0:
            state["lp_value_rel_err"] = max(state["lp_value_rel_err"], abs(v_num - float(l1)) / float(l1))
            gmax = float(np.max(np.abs(gf)))
            clear = np.abs(gf) > 1e-6 * gmax
            state["lp_sign_mismatch"] += int(np.sum(np.sign(np.round(d_num[clear], 6)) != np.sign(gf[clear])))
            if self._second_maximiser(g) is not None:
                state["second_maximisers"] += 1
        # the δ-optimal set {d in box : ⟨g,d⟩ ≥ OPT − δ} from two LPs (extent along w). By the gap identity it
        # lies within |d_i − sign g_i| ≤ δ/|g_i|, so its extent is ≤ 2δ·Σ|w_i|/|g_i| → 0 (unique maximiser)
        # when all g_i ≠ 0, while a zero entry leaves the whole [−1, 1] free whatever δ
        if scale > 1e-300 and np.any(gf):
            gn = gf / np.max(np.abs(gf))
            opt = float(np.sum(np.abs(gn)))
            delta = 1e-3 * opt  # well above HiGHS's ~1e-7 tolerances
            zero = gf == 0
            w = zero.astype(float) if zero.any() else rng.standard_normal(len(g))
            ext = []
            for sgn in (1, -1):
                r = linprog(-sgn * w, A_ub=[-gn], b_ub=[-(opt - delta)], bounds=[(-1, 1)] * len(g), method="highs")
                ext.append(sgn * -r.fun if r.status == 0 else math.nan)
            width = ext[0] - ext[1]
            if zero.any():
                state["face_width_zero"] = min(state["face_width_zero"], width / float(zero.sum()))
            elif np.min(np.abs(gn)) > 1e-6:
                bound = 2 * delta * float(np.sum(np.abs(w) / np.abs(gn)))
                state["face_width_unique"] = max(state["face_width_unique"], width / bound)

    def _evidence(self, state):
        if self.ball != "linf":
            return {}
        return {
            "lp_value_max_rel_error": _fmt(state["lp_value_rel_err"]),
            "lp_sign_mismatches_on_clear_coordinates": state["lp_sign_mismatch"],
            "gap_identity_checks": state["gap_identity"],
            "delta_optimal_width/bound_all_nonzero_max": _fmt(state["face_width_unique"]),
            "delta_optimal_width_per_zero_entry_min": _fmt(state["face_width_zero"]),
            "second_maximisers_exhibited": state["second_maximisers"],
            "largest_n": state["max_n"],
            "degenerate_cases": "zero entries: the maximiser set is a face (free coordinates in [−1,1]); "
            "sign(g) with sign 0 = 0 lies in it and attains ‖g‖₁; unique iff all g_i ≠ 0",
        }

    def _summary(self, state):
        return (f"{state['cases']} cases: ⟨g,sign g⟩ = ‖g‖₁ exact, LP value rel. err ≤ {_fmt(state['lp_value_rel_err'])}, "
                f"δ-optimal set width ≤ {_fmt(state['face_width_unique'])}×(2δΣ|w_i|/|g_i|) if all g_i≠0, "
                f"≥ {_fmt(state['face_width_zero'])} per zero entry")

    # -- independent recomputation -------------------------------------------
    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        x = cx["inputs"]
        kind = x["kind"]
        g = _vec_from_str(x["g"])
        with MP(80) as B:
            def dot(d):
                return mpmath.fsum(B.num(a) * (B.num(b) if isinstance(b, (Fraction, int)) else b) for a, b in zip(g, d))

            dual = _l1(g) if x["ball"] == "linf" else mpmath.sqrt(B.num(sum((v * v for v in g), F0)))
            if kind == "infeasible-direction":
                d = [b if not isinstance(b, (Fraction, int)) else B.num(b) for b in self.direction.exact_fn(g, B)]
                nrm = max(abs(v) for v in d) if x["ball"] == "linf" else mpmath.sqrt(mpmath.fsum(v * v for v in d))
                ok = nrm > 1
                return ok, f"‖{self.direction.name}‖ = {mpmath.nstr(nrm, 20)} at 80 digits -> {'infeasible' if ok else 'FEASIBLE'}"
            if kind == "value-above-dual-bound":
                v = _num(B, self.value.exact_fn(g, B))
                ok = v > _num(B, dual)
                return ok, f"claimed max {mpmath.nstr(v, 20)} vs dual bound {mpmath.nstr(_num(B, dual), 20)} -> {'violation confirmed' if ok else 'NOT a violation'}"
            if kind in ("value-below-feasible-witness", "direction-beaten"):
                w = _vec_from_str(x["witness"])
                if not self._exact_feasible(w):
                    return False, "witness is not feasible (exact check)"
                best = sum((a * b for a, b in zip(g, w)), F0)
                claimed = (_num(B, self.value.exact_fn(g, B)) if kind.startswith("value")
                           else dot(self.direction.exact_fn(g, B)))
                ok = B.num(best) > claimed
                return ok, f"feasible witness ⟨g,w⟩ = {mpmath.nstr(B.num(best), 20)} vs claimed {mpmath.nstr(claimed, 20)} -> {'violation confirmed' if ok else 'NOT a violation'}"
            if kind == "maximiser-value-inconsistent":
                a, b = dot(self.direction.exact_fn(g, B)), _num(B, self.value.exact_fn(g, B))
                ok = abs(a - b) > mpmath.mpf(10) ** -60 * (abs(a) + abs(b) + mpmath.mpf(10) ** -300)
                return ok, f"⟨g,d_claimed⟩ = {mpmath.nstr(a, 20)} vs claimed max {mpmath.nstr(b, 20)} -> {'inconsistent' if ok else 'CONSISTENT'}"
            if kind == "not-unique":
                d1, d2 = _vec_from_str(x["d1"]), _vec_from_str(x["d2"])
                exact_dual = _l1(g) if x["ball"] == "linf" else (F0 if not any(g) else None)
                ok = (self._exact_feasible(d1) and self._exact_feasible(d2) and d1 != d2 and exact_dual is not None
                      and sum((a * b for a, b in zip(g, d1)), F0) == exact_dual == sum((a * b for a, b in zip(g, d2)), F0)
                      and self.unique(g))
                return ok, f"two distinct exact maximisers attaining the dual bound {fraction_str(exact_dual) if exact_dual is not None else '?'} -> {'non-uniqueness confirmed' if ok else 'NOT confirmed'}"
        return False, f"unknown certificate kind {kind!r}"


sign_descent = SteepestDescentVector(
    id="seed-002/sign-descent-linf",
    title="Sign descent = steepest descent under ℓ∞: argmax_{‖d‖∞≤1} ⟨g,d⟩ = sign(g)",
    claim="For g ∈ ℝⁿ: max_{‖d‖∞ ≤ 1} ⟨g, d⟩ = ‖g‖₁, attained at d = sign(g); the maximiser is unique iff "
    "every g_i ≠ 0; with zero entries the maximiser set is the face {d_i = sign g_i for g_i ≠ 0, "
    "d_i ∈ [−1,1] for g_i = 0}, which contains sign(g) (sign 0 = 0).",
    reading="Steepest ascent direction (descent steps along −d); sign(0) = 0; n ≥ 1, g any real vector "
    "(zero vector included: every d is a maximiser, value 0).",
    proof="⟨g,d⟩ = Σ g_i d_i ≤ Σ|g_i||d_i| ≤ ‖g‖₁ with equality iff d_i = sign(g_i) wherever g_i ≠ 0; "
    "exactly: ‖g‖₁ − ⟨g,d⟩ = Σ|g_i|·|d_i − sign g_i| for d in the box (checked in rationals).",
)


def _sign_descent_mutants(s: SteepestDescentVector):
    return [
        s.mutant("l2 steepest descent is sign(g)", ball="l2", direction=SIGN_L2, value=SIGN_L2_VALUE,
                 unique=_unique_iff_nonzero_vector),
        s.mutant("value ‖g‖₂", value=L2_VALUE),
        s.mutant("value x 1.01", value=_scaled_value(L1_VALUE, Fraction(101, 100))),
        s.mutant("value x 0.99", value=_scaled_value(L1_VALUE, Fraction(99, 100))),
        s.mutant("flipped: argmax −sign(g)", direction=NEG_SIGN),
        s.mutant("argmax g/‖g‖∞", direction=LINF_NORMALISED),
        s.mutant("unique even with zero entries", unique=_unique_always),
    ]


# ----------------------------------------------------------------------------
# Statement 2: Adam with β₁ = β₂ = 0 → sign descent as ε → 0
# ----------------------------------------------------------------------------


def _exact_sqrt(q: Fraction) -> Fraction:
    """√q for a rational square (v = g² when β₂ = 0); ValueError otherwise."""
    if q < 0:
        raise ValueError("negative")
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if a * a != q.numerator or b * b != q.denominator:
        raise ValueError(f"{q} is not a rational square")
    return Fraction(a, b)


def adam_update_exact(g: list[Fraction], eps: Fraction, beta1=F0, beta2=F0, step: int = 1) -> list[Fraction]:
    """Adam's recurrence (from m = v = 0) in exact rationals; needs v̂ to be a rational square (β₂ = 0)."""
    out = []
    for gi in g:
        m = (1 - beta1) * gi
        v = (1 - beta2) * gi * gi
        m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
        denom = _exact_sqrt(v_hat) + eps
        if denom == 0:
            raise ValueError("0/0: zero gradient entry with eps = 0")
        out.append(m_hat / denom)
    return out


@dataclass(frozen=True)
class Limit:
    name: str
    float_fn: Callable
    exact_fn: Callable  # (g, B) -> list


@dataclass(frozen=True)
class ErrorLaw:
    """Claimed ‖u_ε − sign g‖∞ as an exact rational function of (g, ε); ``relation`` "==" or "<="."""

    name: str
    relation: str
    exact_fn: Callable  # (g, eps) -> Fraction


def _gmin(g):
    nz = [abs(x) for x in g if x != 0]
    return min(nz) if nz else None


SIGN_LIMIT = Limit("sign(g), sign 0 = 0", lambda g: np.sign(g), lambda g, B: [Fraction(_sgn(x)) for x in g])
L2_LIMIT = Limit("g/‖g‖₂", lambda g: g / _safe_norm(g) if np.any(g) else np.zeros_like(g),
                 lambda g, B: [B.num(x) / B.sqrt(B.num(sum((y * y for y in g), F0))) if any(g) else F0 for x in g])
LINF_LIMIT = Limit("g/‖g‖∞", LINF_NORMALISED.float_fn, LINF_NORMALISED.exact_fn)
SIGN_PLUS_LIMIT = Limit("sign(g) with sign 0 = +1", lambda g: np.where(g >= 0, 1.0, -1.0),
                        lambda g, B: [Fraction(1 if x >= 0 else -1) for x in g])

TRUE_ERROR = ErrorLaw("ε/(min|g_i≠0| + ε)", "==", lambda g, e: F0 if _gmin(g) is None else e / (_gmin(g) + e))
DROPPED_EPS_ERROR = ErrorLaw("ε/min|g_i≠0|", "==", lambda g, e: F0 if _gmin(g) is None else e / _gmin(g))
ZERO_ERROR = ErrorLaw("0 (update = sign g for every ε)", "==", lambda g, e: F0)
UNIFORM_ERROR = ErrorLaw("≤ ε (uniform in g)", "<=", lambda g, e: e)
SCALED_ERROR = ErrorLaw("0.99·ε/(min|g_i≠0| + ε)", "==",
                        lambda g, e: F0 if _gmin(g) is None else Fraction(99, 100) * e / (_gmin(g) + e))


@st.composite
def adam_inputs(draw):
    """(g, ε): g with zeros / spread magnitudes within float Adam's safe range 1e-150..1e150; ε from
    1e-200..1e3, PyTorch's 1e-8, ε equal to some |g_i|, or ε = 0 when g has no zero entry."""
    g = draw(gradient_vectors(1, 10, -150, 150, kinds=("plain", "moderate", "zeros", "logmag", "equal", "all-zero")))
    # float Adam squares g: keep nonzero magnitudes where g² neither under- nor overflows
    g = [x if x == 0 else (1 if x > 0 else -1) * min(max(abs(x), Fraction(1e-150)), Fraction(1e150)) for x in g]
    nz = [abs(x) for x in g if x != 0]
    choices = [st.floats(-200, 3).map(lambda e: 10.0**e), st.just(1e-8)]
    if nz:
        choices.append(st.sampled_from([float(v) for v in nz]))
    if len(nz) == len(g):
        choices.append(st.just(0.0))
    eps = draw(st.one_of(*choices))
    return {"g": g, "eps": Fraction(eps)}


@dataclass
class AdamSignLimit(_SearchStatement):
    """Adam(β₁ = β₂ = 0) update u_ε = g/(|g|+ε): ``lim_{ε→0⁺} u_ε = limit(g)`` and ``‖u_ε − sign g‖∞ = error(g, ε)``."""

    limit: Limit = SIGN_LIMIT
    error: ErrorLaw = TRUE_ERROR

    def mutants(self):
        return [] if "~" in self.id else _adam_mutants(self)

    def _domain(self):
        return adam_inputs()

    def _explicit(self):
        cases = [((1.0, -2.0, 0.0), 1e-8), ((1e-150, 1.0), 1e-160), ((3.0,), 0.0), ((2.0, -3.0), 2.0),
                 ((0.0, 0.0), 1.0), ((1e150, -1e-150, 0.0), 1e-3), ((0.5, -0.25), 1e-200)]
        return [{"g": [Fraction(v) for v in g], "eps": Fraction(e)} for g, e in cases]

    def _new_state(self):
        s = super()._new_state()
        s.update(float_max_ulps=0.0, torch_max_ulps=0.0, torch_cases=0, slopes=[], lp_agree=0,
                 zero_entries=0, eps_zero_cases=0, final_limit_distance=0.0, torch_error=None)
        return s

    def _case(self, x, state):
        g, eps = x["g"], x["eps"]
        n = len(g)
        state["cases"] += 1
        u = adam_update_exact(g, eps)
        s = [Fraction(_sgn(v)) for v in g]
        for gi, ui, si in zip(g, u, s):  # the exact ε-dependence, coordinate by coordinate
            _must(si - ui == (si * eps / (abs(gi) + eps) if gi != 0 else F0), "sign(g_i) − u_i = sign(g_i)·ε/(|g_i| + ε)")
        state["exact_identities"] += 1
        state["zero_entries"] += sum(1 for v in g if v == 0)
        state["eps_zero_cases"] += int(eps == 0)
        gf = np.array([float(v) for v in g])
        self._evidence_float(g, gf, float(eps), u, state)
        inputs = {"g": _vec_str(g), "eps": fraction_str(eps)}

        # (a) the exact ε-dependence
        true_err = max((abs(a - b) for a, b in zip(s, u)), default=F0)
        claimed = self.error.exact_fn(g, eps)
        bad = true_err != claimed if self.error.relation == "==" else true_err > claimed
        if bad:
            cx = _certify("error-law", inputs, lambda B: (true_err, claimed), self.error.relation, n,
                          f"exact Adam(β=0) update: ‖u_ε − sign g‖∞ = {fraction_str(true_err)}, claimed {self.error.name}")
            if cx is not None:
                return cx
            state["artefacts"].append("uncertified error-law mismatch")
        # (b) the limit: u_ε,i is monotone in ε, so {u_ε,i : 0 < ε ≤ ε₀} lies between u_{ε₀,i} and s_i
        lim_f = self.limit.float_fn(gf)
        for i in range(n):
            delta = abs(float(lim_f[i]) - float(s[i]))
            if delta <= 1e-12:
                continue
            eps0 = abs(g[i]) * Fraction(delta / 4) if g[i] != 0 else F1
            u0 = g[i] / (abs(g[i]) + eps0)
            lo, hi = min(u0, s[i]), max(u0, s[i])
            below = float(lim_f[i]) < float(lo)
            cx = _certify(
                "wrong-limit", {**inputs, "i": i, "eps0": fraction_str(eps0)},
                (lambda B, i=i, lo=lo: (lo, _num(B, self.limit.exact_fn(g, B)[i]))) if below else
                (lambda B, i=i, hi=hi: (_num(B, self.limit.exact_fn(g, B)[i]), hi)), "<=", n,
                f"for all 0 < ε ≤ ε₀ the update's coordinate {i} lies in [{fraction_str(lo)}, {fraction_str(hi)}] "
                f"(monotone in ε), which excludes the claimed limit {self.limit.name}")
            if cx is not None:
                return cx
            state["artefacts"].append(f"uncertified limit mismatch at coordinate {i}")
        return None

    def _evidence_float(self, g, gf, eps, u, state):
        """Float Adam vs exact, torch.optim.Adam vs exact, the numerical limit ε → 0, the LP."""
        lim = np.sign(gf)
        if eps > 0 or np.all(gf != 0):
            uf = adam_update(gf, eps)
            ue = np.array([float(v) for v in u])
            ulp = np.maximum(np.abs(ue), 1e-300) * np.finfo(float).eps  # relative error in units of ε_mach
            state["float_max_ulps"] = max(state["float_max_ulps"], float(np.max(np.abs(uf - ue) / ulp)))
            ut = _torch_adam_update(gf, eps) if state["effort"] == "full" else "not run (effort=quick: importing torch.optim costs ~5-10 s)"
            if isinstance(ut, str):
                state["torch_error"] = ut
            else:
                state["torch_cases"] += 1
                state["torch_max_ulps"] = max(state["torch_max_ulps"], float(np.max(np.abs(ut - ue) / ulp)))
        gmin = _gmin(g)
        if gmin is not None:
            gm = float(gmin)
            eps_k = gm * 10.0 ** -np.arange(0, 13, dtype=float)
            dist = np.array([np.max(np.abs(adam_update(gf, e) - lim)) for e in eps_k])
            state["final_limit_distance"] = max(state["final_limit_distance"], float(dist[-1]))
            ok = (dist[6:] > 0)
            if ok.all():
                slope = np.polyfit(np.log(eps_k[6:]), np.log(dist[6:]), 1)[0]
                state["slopes"].append(float(slope))
            d_lp, v_lp = steepest_descent_lp(gf)
            state["lp_agree"] += int(abs(float(np.sum(np.abs(gf))) - float(gf @ lim)) <= 1e-12 * float(np.sum(np.abs(gf)))
                                     and abs(v_lp - float(gf @ lim)) <= 1e-9 * float(np.sum(np.abs(gf))))

    def _evidence(self, state):
        slopes = state["slopes"]
        return {
            "float_adam_vs_exact_max_ulps": round(state["float_max_ulps"], 2),
            "torch_adam_vs_exact_max_ulps": round(state["torch_max_ulps"], 2),
            "torch_cases": state["torch_cases"],
            "torch_error": state["torch_error"],
            "limit_rate_fitted_slope": (f"{min(slopes):.4f}..{max(slopes):.4f} over {len(slopes)} cases"
                                        if slopes else "n/a"),
            "distance_at_eps=1e-12·min|g|": _fmt(state["final_limit_distance"]),
            "limit_attains_lp_optimum": state["lp_agree"],
            "zero_entries_seen": state["zero_entries"],
            "eps_zero_cases": state["eps_zero_cases"],
            "float_underflow_note": _underflow_note(),
            "degenerate_cases": "g_i = 0: u_i = 0 for every ε > 0 (the limit is sign 0 = 0, a point of the ℓ∞ "
            "face); ε = 0 with g_i = 0 is 0/0 (excluded); ε = 0 with all g_i ≠ 0 gives sign(g) exactly",
        }

    def _summary(self, state):
        slopes = state["slopes"]
        rate = f"{min(slopes):.3f}..{max(slopes):.3f}" if slopes else "n/a"
        torch_part = (f", torch.optim.Adam within {state['torch_max_ulps']:.1f}" if state["torch_cases"] else "")
        return (f"{state['cases']} cases: sign(g) − u_ε = sign(g)·ε/(|g|+ε) exact; fitted rate ε^{rate}; "
                f"float Adam within {state['float_max_ulps']:.1f}{torch_part} ulp of exact")

    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        x = cx["inputs"]
        g = _vec_from_str(x["g"])
        eps = Fraction(x["eps"])
        with MP(80) as B:
            if x["kind"] == "error-law":
                u = [a / (abs(a) + eps) if (a != 0 or eps != 0) else None for a in g]  # β = 0 closed form
                if any(v is None for v in u):
                    return False, "0/0 in the update"
                err = max((abs(Fraction(_sgn(a)) - v) for a, v in zip(g, u)), default=F0)
                claimed = self.error.exact_fn(g, eps)
                ok = err != claimed if self.error.relation == "==" else err > claimed
                return ok, f"‖u_ε − sign g‖∞ = {mpmath.nstr(B.num(err), 20)} vs claimed {mpmath.nstr(B.num(claimed), 20)} -> {'violation confirmed' if ok else 'NOT a violation'}"
            if x["kind"] == "wrong-limit":
                i, eps0 = int(x["i"]), Fraction(x["eps0"])
                if eps0 <= 0:
                    return False, "eps0 must be > 0"
                u0 = g[i] / (abs(g[i]) + eps0)
                si = Fraction(_sgn(g[i]))
                lo, hi = B.num(min(u0, si)), B.num(max(u0, si))
                L = _num(B, self.limit.exact_fn(g, B)[i])
                ok = L < lo or L > hi
                return ok, (f"u_ε[{i}] ∈ [{mpmath.nstr(lo, 15)}, {mpmath.nstr(hi, 15)}] for 0 < ε ≤ {fraction_str(eps0)}; "
                            f"claimed limit {mpmath.nstr(L, 15)} -> {'excluded: not the limit' if ok else 'NOT excluded'}")
        return False, f"unknown certificate kind {x['kind']!r}"


_TORCH = {}


def _torch_adam_update(g: np.ndarray, eps: float):
    """One step of ``torch.optim.Adam(betas=(0, 0), lr=1)`` from θ = 0 (float64): returns −θ₁, or a
    string saying why torch could not be used."""
    try:
        if "torch" not in _TORCH:
            import torch

            _TORCH["torch"] = torch
        torch = _TORCH["torch"]
        p = torch.zeros(g.size, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=1.0, betas=(0.0, 0.0), eps=eps)
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        return -p.detach().numpy().copy()
    except Exception as exc:  # noqa: BLE001 - torch is optional for this evidence
        return f"{type(exc).__name__}: {exc}"


def _underflow_note() -> str:
    g, eps = 1e-170, 1e-200
    exact = Fraction(g) / (Fraction(g) + Fraction(eps))
    flo = float(adam_update([g], eps)[0])
    return (f"float64 Adam at g = {g}, ε = {eps}: {flo:.3g} (g² underflows to 0) vs exact {float(exact):.17g}; "
            "the identity is about exact arithmetic; float Adam equals it for 1e-150 ≤ |g| ≤ 1e150")


adam_sign = AdamSignLimit(
    id="seed-002/adam-no-momentum-sign",
    title="Adam with β₁ = β₂ = 0 and ε → 0 is sign descent",
    claim="Adam with β₁ = β₂ = 0 updates along m̂/(√v̂ + ε) = g/(|g| + ε); exactly "
    "sign(g_i) − g_i/(|g_i|+ε) = sign(g_i)·ε/(|g_i|+ε), so ‖u_ε − sign g‖∞ = ε/(min_{g_i≠0}|g_i| + ε) and "
    "u_ε → sign(g) (sign 0 = 0) as ε → 0⁺, at rate ε, not uniformly in g.",
    reading="One Adam step from m = v = 0 with bias correction (torch.optim.Adam's recurrence); ε ≥ 0, "
    "ε = 0 only when every g_i ≠ 0 (else 0/0); the limit is coordinatewise.",
    proof="With β₁ = β₂ = 0: m̂ = g, v̂ = g², √v̂ = |g|, so u_i = g_i/(|g_i|+ε) and sign(g_i) − u_i = "
    "sign(g_i)·ε/(|g_i|+ε) (exact algebra, checked in rationals); for g_i = 0, u_i = 0 for all ε > 0.",
)


def _adam_mutants(s: AdamSignLimit):
    return [
        s.mutant("limit g/‖g‖₂", limit=L2_LIMIT),
        s.mutant("limit g/‖g‖∞", limit=LINF_LIMIT),
        s.mutant("limit at a zero entry is +1", limit=SIGN_PLUS_LIMIT),
        s.mutant("error ε/min|g| (dropped +ε)", error=DROPPED_EPS_ERROR),
        s.mutant("update = sign(g) for every ε > 0", error=ZERO_ERROR),
        s.mutant("uniform rate: error ≤ ε", error=UNIFORM_ERROR),
        s.mutant("error x 0.99", error=SCALED_ERROR),
    ]


# ----------------------------------------------------------------------------
# Statement 3: Shampoo without accumulation = steepest descent under the spectral norm
# ----------------------------------------------------------------------------


@dataclass
class SpectralCase:
    """Exact input G (rational) plus, when drawn as one, its exact SVD G = U diag(t²) Vᵀ."""

    G: Mat
    kind: str
    U: Mat | None = None
    V: Mat | None = None
    t: list | None = None  # singular values are t_i² (so Shampoo's fourth roots are rational)


def _rational_svd_case(m, n, KU, KV, t, kind="rational-svd") -> SpectralCase:
    U, V = _cayley(KU), _cayley(KV)
    k = min(m, n)
    S = [[(t[i] ** 2 if i == j and i < k else F0) for j in range(n)] for i in range(m)]
    return SpectralCase(G=_mm(_mm(U, S), _mT(V)), kind=kind, U=U, V=V, t=list(t))


def _skew(ints, k) -> Mat:
    K = [[F0] * k for _ in range(k)]
    it = iter(ints)
    for i in range(k):
        for j in range(i + 1, k):
            v = Fraction(next(it))
            K[i][j], K[j][i] = v, -v
    return K


@st.composite
def gradient_matrices(draw, max_dim: int = 4):
    """Gradient matrices: plain floats over ±20 decades of scale, exact rational SVDs (Cayley factors)
    with repeated / zero / widely spread singular values, integer low-rank products."""
    m, n = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    k = min(m, n)
    kind = draw(st.sampled_from(["plain", "rational-svd", "repeated", "low-rank", "ill-conditioned"]))
    if kind == "plain":
        scale = 10.0 ** draw(st.integers(-20, 20))
        vals = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=m * n, max_size=m * n))
        vals = [v if abs(v) >= 1e-6 else 0.0 for v in vals]  # exact zeros, but no subnormal entries
        return SpectralCase(G=[[Fraction(vals[i * n + j] * scale) for j in range(n)] for i in range(m)], kind="plain")
    if kind == "low-rank":
        r = draw(st.integers(0, k - 1))
        A = draw(st.lists(st.integers(-3, 3), min_size=m * r, max_size=m * r))
        Bv = draw(st.lists(st.integers(-3, 3), min_size=n * r, max_size=n * r))
        G = [[sum((Fraction(A[i * r + q] * Bv[j * r + q]) for q in range(r)), F0) for j in range(n)] for i in range(m)]
        return SpectralCase(G=G, kind="low-rank")
    KU = _skew(draw(st.lists(st.integers(-2, 2), min_size=m * (m - 1) // 2, max_size=m * (m - 1) // 2)), m)
    KV = _skew(draw(st.lists(st.integers(-2, 2), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2)), n)
    pool = [F0, Fraction(1, 3), Fraction(1, 2), F1, Fraction(2), Fraction(3)]
    if kind == "repeated":
        v = draw(st.sampled_from(pool[1:]))
        t = [v] * k
        if k > 1 and draw(st.booleans()):
            t[-1] = draw(st.sampled_from(pool))
    elif kind == "ill-conditioned":
        e = draw(st.integers(1, 6))
        t = [F1] + [Fraction(1, 10**e)] * (k - 1)
    else:
        t = sorted(draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k)), reverse=True)
    return _rational_svd_case(m, n, KU, KV, t, kind=kind)


@dataclass(frozen=True)
class MatDirection:
    """Claimed maximiser: ``c·U_rV_rᵀ`` (``polar_multiple = c``) or the raw gradient G (``None``)."""

    name: str
    polar_multiple: Fraction | None


@dataclass(frozen=True)
class MatValue:
    """Claimed maximum: ``c·‖G‖_*`` (kind "nuclear") or ``c·‖G‖_F`` (kind "frobenius")."""

    name: str
    kind: str
    c: Fraction = F1


POLAR = MatDirection("U Vᵀ", F1)
HALF_POLAR = MatDirection("U Vᵀ/2", Fraction(1, 2))
NEG_POLAR = MatDirection("−U Vᵀ", -F1)
RAW_GRADIENT = MatDirection("G = U S Vᵀ", None)
NUCLEAR = MatValue("‖G‖_*", "nuclear")
FROBENIUS = MatValue("‖G‖_F", "frobenius")
NUCLEAR_101 = MatValue("1.01·‖G‖_*", "nuclear", Fraction(101, 100))


def _unique_iff_full_rank(rank, m, n) -> bool:
    return rank == min(m, n)


def _unique_always_mat(rank, m, n) -> bool:
    return True


@dataclass
class _Enclosure:
    """Certified L ≤ OPT ≤ U and L ≤ ‖G‖_* ≤ U, from exact witnesses."""

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


def _feasible_witness(Df: np.ndarray) -> Mat | None:
    nrm = float(np.linalg.norm(Df, 2)) if Df.size else 0.0
    base = Df / max(nrm, 1.0) if nrm > 0 else Df
    D0 = _mat(base)
    for k in (44, 36, 28, 20, 10):
        D = _scale(D0, Fraction(2**k - 1, 2**k))
        if _strictly_feasible(D):
            return D
    return None


def _enclosure(G: Mat, Gf: np.ndarray, D_float: np.ndarray, A_float: np.ndarray | None) -> _Enclosure | None:
    D = _feasible_witness(D_float)
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
    return _Enclosure(D=D, L=_inner(G, D), A=best[1], Bt=best[2], orient=orient, pairs=best[3])


def _verify_enclosure_inputs(G: Mat, x: dict):
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


def _gram_inverse_trace(G: Mat) -> Fraction:
    """tr((GᵀG)⁻¹) via the smaller Gram matrix (full-rank G): Σ σ_i⁻²."""
    S = _small_gram(G)
    return sum((row[i] for i, row in enumerate(_solve(S, _eye(len(S))))), F0)


def _shampoo_frobenius2(G: Mat, p: Fraction, enc: _Enclosure | None, rank: int):
    """‖(GGᵀ)^{-p} G (GᵀG)^{-p}‖_F² = Σ σ_i^{2−8p} for full-rank G, where it has a rational or
    certified form: p = 1/4 → r, p = 1/2 → tr(Gram⁻¹), p = 0 → ‖G‖_F², p = 1/8 → ‖G‖_* ∈ [L, U]."""
    if p == Fraction(1, 4):
        return lambda B: (B.num(rank), B.num(rank))
    if p == Fraction(1, 2):
        v = _gram_inverse_trace(G)
        return lambda B: (v, v)
    if p == 0:
        v = _frob2(G)
        return lambda B: (v, v)
    if p == Fraction(1, 8) and enc is not None:
        return lambda B: (enc.L, enc.U(B))
    return None


@dataclass
class SpectralSteepestDescent(_SearchStatement):
    """``argmax_{‖D‖₂≤1} ⟨G,D⟩ = direction(G)``, ``max = value(G)``, unique iff ``unique(rank, m, n)``,
    and ``(GGᵀ)^{-p} G (GᵀG)^{-p} = UVᵀ`` for full-rank G (p = ``shampoo_exponent``)."""

    direction: MatDirection = POLAR
    value: MatValue = NUCLEAR
    unique: Callable = _unique_iff_full_rank
    shampoo_exponent: Fraction = Fraction(1, 4)
    quick_examples: int = 30
    max_dim: int = 4
    mp_dps: int = 50

    def mutants(self):
        return [] if "~" in self.id else _spectral_mutants(self)

    def _domain(self):
        return gradient_matrices(self.max_dim).map(lambda c: {"case": c})

    def _explicit(self):
        cases = [
            SpectralCase(G=[[F0, F0, F0], [F0, F0, F0]], kind="zero"),
            SpectralCase(G=[[Fraction(-3)]], kind="1x1"),
            SpectralCase(G=[[Fraction(2), F0], [F0, Fraction(2)]], kind="repeated"),
            _rational_svd_case(3, 3, _skew([1, 2, -1], 3), _skew([0, 1, 1], 3), [F1, F1, F0], kind="repeated+rank-deficient"),
            _rational_svd_case(2, 3, _skew([1], 2), _skew([1, -1, 2], 3), [Fraction(2), Fraction(1, 2)], kind="rational-svd"),
            SpectralCase(G=_mat([[1, 2, 3], [2, 4, 6], [-1, -2, -3]]), kind="low-rank"),
            SpectralCase(G=_mat([[1, 0], [0, 2], [1, 1]]), kind="tall"),
            _rational_svd_case(2, 2, _skew([2], 2), _skew([-1], 2), [F1, Fraction(1, 1000)], kind="ill-conditioned"),
        ]
        return [{"case": c} for c in cases]

    def _new_state(self):
        s = super()._new_state()
        s.update(enclosure_rel_width=0.0, mp_nuclear_bound=0.0, mp_polar_identity=0.0, mp_in_enclosure=0,
                 pga_rel_gap=0.0, dual_rel_gap=0.0, shampoo_mp_err=0.0, shampoo_pinv_err=0.0, shampoo_float_err=0.0, damped_mp_err=0.0,
                 exact_polar=0, exact_shampoo=0, float_polar_vs_exact=0.0, float_polar_vs_exact_repeated=0.0,
                 null_pairs=0, full_rank=0, rank_deficient=0, qg_min_ratio=math.inf, kinds={}, max_kappa=1.0,
                 shapes=set())
        return s

    # -- claimed objects -------------------------------------------------------
    def _direction_float(self, Gf, P):
        c = self.direction.polar_multiple
        return Gf.copy() if c is None else float(c) * P

    def _direction_mp(self, G, dps):
        c = self.direction.polar_multiple
        if c is None:
            with mpmath.workdps(dps):
                return _mp_matrix(G)
        P = polar_factor_mp(G, dps)
        with mpmath.workdps(dps):
            return P * _mpf(c)

    def _direction_objective(self, G, enc: _Enclosure):
        """Certified (lo, hi) of ⟨G, D_claimed⟩: c·‖G‖_* (⟨G,UVᵀ⟩ = Σσ) or ‖G‖_F² (exact)."""
        c = self.direction.polar_multiple
        if c is None:
            v = _frob2(G)
            return lambda B: (v, v)
        return (lambda B: (B.num(c) * B.num(enc.L), B.num(c) * enc.U(B))) if c >= 0 else \
            (lambda B: (B.num(c) * enc.U(B), B.num(c) * B.num(enc.L)))

    def _value_float(self, Gf, nuc):
        return float(self.value.c) * (nuc if self.value.kind == "nuclear" else _safe_norm(Gf))

    def _value_bounds(self, G, enc: _Enclosure):
        c = self.value.c
        if self.value.kind == "nuclear":
            return lambda B: (B.num(c) * B.num(enc.L), B.num(c) * enc.U(B))
        f2 = _frob2(G)
        return lambda B: (B.num(c) * B.sqrt(B.num(f2)), B.num(c) * B.sqrt(B.num(f2)))

    def _value_mp(self, G, dps):
        with mpmath.workdps(dps):
            base = nuclear_norm_mp(G, dps) if self.value.kind == "nuclear" else mpmath.sqrt(_mpf(_frob2(G)))
            return base * _mpf(self.value.c)

    # -- one case --------------------------------------------------------------
    def _case(self, x, state):
        case: SpectralCase = x["case"]
        G = case.G
        m, n = len(G), len(G[0])
        k = min(m, n)
        state["cases"] += 1
        state["kinds"][case.kind] = state["kinds"].get(case.kind, 0) + 1
        state["shapes"].add(f"{m}x{n}")
        Gf = np.array([[float(v) for v in row] for row in G])
        rank = _rank(G)
        zero = rank == 0
        state["full_rank" if rank == k else "rank_deficient"] += 1
        seed = _seed_of(_mat_str(G))
        U, s, Vt = np.linalg.svd(Gf, full_matrices=False)
        r_num = _svd_rank(s, Gf.shape)
        P = U[:, :r_num] @ Vt[:r_num]
        nuc = float(s.sum())
        if r_num:
            state["max_kappa"] = max(state["max_kappa"], float(s[0] / s[r_num - 1]))
        D_pga, v_pga = spectral_steepest_descent_pga(Gf, seed=seed)
        A_dual, v_dual = nuclear_norm_dual_bfgs(Gf, seed=seed)
        if nuc > 0:
            state["pga_rel_gap"] = max(state["pga_rel_gap"], (nuc - v_pga) / nuc)
            state["dual_rel_gap"] = max(state["dual_rel_gap"], (v_dual - nuc) / nuc)
        best_lower = max(v_pga, float(np.sum(Gf * P)))
        best_upper = min(v_dual, nuc) if not zero else 0.0
        D_best = D_pga if v_pga >= float(np.sum(Gf * P)) else P
        enc = _enclosure(G, Gf, D_best, A_dual)
        if enc is None:
            state["artefacts"].append(f"no exact enclosure witness ({case.kind} {m}x{n})")
        inputs = {"G": _mat_str(G), "shape": [m, n]}
        tol = 1e-9 * max(nuc, 1e-300)
        size = m * n

        # -- the claim, component by component (float detection, Arb certificate) --
        Dc = self._direction_float(Gf, P)
        obj_c = float(np.sum(Gf * Dc))
        vc = self._value_float(Gf, nuc)
        norm_c = float(np.linalg.norm(Dc, 2)) if Dc.size else 0.0
        attempts = []
        if norm_c > 1 + 1e-9 and self.direction.polar_multiple is None:
            xv = _mat([[v] for v in Vt[0]])  # top right singular vector, as an exact column
            lhs, rhs = _frob2(_mm(G, xv)), _frob2(xv)
            attempts.append(lambda: _certify(
                "infeasible-direction", {**inputs, "x": _vec_str([r[0] for r in xv])},
                lambda B: (lhs, rhs), "<=", size,
                f"the claimed maximiser {self.direction.name} has ‖Gx‖² > ‖x‖² for the exact vector x, so ‖D‖₂ > 1"))
        if enc is not None:
            if vc > best_upper + tol:
                vb = self._value_bounds(G, enc)
                attempts.append(lambda: _certify(
                    "value-above-upper-certificate", {**inputs, **enc.inputs()}, lambda B: (vb(B)[0], enc.U(B)), "<=", size,
                    f"claimed maximum {self.value.name} exceeds U = Σ‖a_i‖‖b_i‖ for the exact factorisation "
                    f"X = A·(A⁻¹X), and ⟨G,D⟩ = Σ a_iᵀDb_i ≤ U for every ‖D‖₂ ≤ 1 (also ‖G‖_* ≤ U by the triangle inequality)"))
            if vc < best_lower - tol:
                vb = self._value_bounds(G, enc)
                attempts.append(lambda: _certify(
                    "value-below-feasible-witness", {**inputs, **enc.inputs()}, lambda B: (enc.L, vb(B)[1]), "<=", size,
                    f"the exact witness D (‖D‖₂ < 1 by Sylvester's criterion on I − DᵀD) has ⟨G,D⟩ > claimed maximum "
                    f"{self.value.name} (‖G‖_* ≥ ⟨G,D⟩ by von Neumann's trace inequality)"))
            if obj_c < best_lower - tol and norm_c <= 1 + 1e-9:
                ob = self._direction_objective(G, enc)
                attempts.append(lambda: _certify(
                    "direction-beaten", {**inputs, **enc.inputs()}, lambda B: (enc.L, ob(B)[1]), "<=", size,
                    f"the exact feasible witness D has ⟨G,D⟩ above ⟨G, {self.direction.name}⟩ "
                    f"(= c·‖G‖_* ≤ c·U, or ‖G‖_F² exactly)"))
            if abs(obj_c - vc) > tol:
                ob, vb = self._direction_objective(G, enc), self._value_bounds(G, enc)
                hi_side = obj_c > vc
                attempts.append(lambda: _certify(
                    "maximiser-value-inconsistent", {**inputs, **enc.inputs()},
                    (lambda B: (ob(B)[0], vb(B)[1])) if hi_side else (lambda B: (vb(B)[0], ob(B)[1])), "<=", size,
                    f"⟨G, {self.direction.name}⟩ and the claimed maximum {self.value.name} have disjoint certified enclosures"))
        if rank < k and self.unique(rank, m, n):
            a = _nullspace(_mT(G))[0]
            b = _nullspace(G)[0]
            attempts.append(lambda: _certify(
                "not-unique", {**inputs, "a": _vec_str(a), "b": _vec_str(b)}, lambda B: (1, 0), "<=", size,
                "claimed unique, but aᵀG = 0 and Gb = 0 exactly: for any maximiser D, D₀ = P_col D P_row is one too, "
                "and D₀ + âb̂ᵀ (unit â, b̂) has norm ≤ 1, the same value and distance 1 from D₀"))
        p = self.shampoo_exponent
        if rank == k and not zero:
            kappa = float(s[0] / s[-1])
            M = None
            if kappa <= 1e4:
                M = shampoo_update(Gf, exponent=float(p))
                err = float(np.linalg.norm(M - P))
                if p == Fraction(1, 4):
                    state["shampoo_float_err"] = max(state["shampoo_float_err"], err)
                bad = err > 1e-12 * max(kappa, 1.0) ** 2 * 100
            else:
                dps = self.mp_dps + int(2 * math.log10(kappa))
                with mpmath.workdps(dps):
                    Mm = shampoo_update_mp(G, 0, p, dps)
                    err = float(mpmath.mnorm(Mm - polar_factor_mp(G, dps), "f"))
                bad = err > 1e-30
            if bad:
                fro = _shampoo_frobenius2(G, p, enc, rank)
                if fro is not None:
                    attempts.append(lambda: _certify(
                        "shampoo-not-polar", inputs, lambda B: (fro(B)[0], rank), "==", size,
                        f"‖(GGᵀ)^{{-{p}}} G (GᵀG)^{{-{p}}}‖_F² = Σσ_i^(2−8p) (exact/certified) differs from "
                        f"‖UVᵀ‖_F² = rank = {rank}, so the two matrices differ"))
        for attempt in attempts:
            cx = attempt()
            if cx is not None:
                return cx
            state["artefacts"].append(f"uncertified float violation ({case.kind}, G = {Gf.tolist()})")

        self._evidence_case(case, G, Gf, rank, P, s, enc, seed, state)
        return None

    def _evidence_case(self, case, G, Gf, rank, P, s, enc, seed, state):
        """Certified enclosure, mpmath SVD with error bound, exact cases, uniqueness evidence."""
        m, n = len(G), len(G[0])
        k = min(m, n)
        # Shampoo goes through Gram matrices (condition number κ²): add 2·log10 κ guard digits
        kappa = float(s[0] / s[rank - 1]) if rank and s[rank - 1] > 0 else 1.0
        dps = self.mp_dps + int(2 * math.log10(max(kappa, 1.0)))
        info = svd_error_bound_mp(G, dps)
        with mpmath.workdps(dps + 10):
            nuc_mp, bound = info["nuclear"], info["nuclear_bound"]
            if nuc_mp > 0:
                state["mp_nuclear_bound"] = max(state["mp_nuclear_bound"], float(bound / nuc_mp))
            Pm = polar_factor_mp(G, dps)
            ip = mpmath.fsum(_mpf(G[i][j]) * Pm[i, j] for i in range(m) for j in range(n))
            state["mp_polar_identity"] = max(state["mp_polar_identity"], float(abs(ip - nuc_mp) / max(nuc_mp, mpmath.mpf(10) ** -300)))
            if enc is not None:
                with MP(dps + 10) as B:
                    U_hi = enc.U(B)
                L = _mpf(enc.L)
                slack = bound + mpmath.mpf(10) ** -(dps + 5) * nuc_mp  # rounding of L, U at dps + 10 digits
                inside = L <= nuc_mp + slack and nuc_mp - slack <= U_hi
                state["mp_in_enclosure"] += int(inside)
                if not inside:
                    state["artefacts"].append(f"mpmath ‖G‖_* = {mpmath.nstr(nuc_mp, 20)} ± {mpmath.nstr(bound, 3)} outside the "
                                              f"certified enclosure [{mpmath.nstr(L, 20)}, {mpmath.nstr(U_hi, 20)}] "
                                              f"({case.kind}, G = {_mat_str(G)})")
                if nuc_mp > 0:
                    state["enclosure_rel_width"] = max(state["enclosure_rel_width"], float((U_hi - L) / nuc_mp))
            if rank == k and rank > 0:
                M = shampoo_update_mp(G, 0, Fraction(1, 4), dps)
                state["shampoo_mp_err"] = max(state["shampoo_mp_err"], float(mpmath.mnorm(M - Pm, "f")))
                # damped: U diag(σ/√(σ²+ε)) Vᵀ
                e_exact = Fraction(float(nuc_mp) ** 2 * 1e-6)  # ε ~ 1e-6·‖G‖_*², an exact rational
                e = _mpf(e_exact)
                Md = shampoo_update_mp(G, e_exact, Fraction(1, 4), dps)
                Uu, ss, Vv = info["U"], info["s"], info["V"]
                target = Uu * mpmath.diag([x / mpmath.sqrt(x * x + e) for x in ss]) * Vv
                state["damped_mp_err"] = max(state["damped_mp_err"], float(mpmath.mnorm(Md - target, "f")))
            elif rank > 0:  # rank-deficient: pseudo-inverse roots give the thin polar factor U_rV_rᵀ
                M = shampoo_update_mp(G, 0, Fraction(1, 4), dps)
                state["shampoo_pinv_err"] = max(state["shampoo_pinv_err"], float(mpmath.mnorm(M - Pm, "f")))
        state["exact_identities"] += 1
        # exact SVD cases: polar factor, OPT and Shampoo in rationals
        if case.U is not None:
            t = case.t
            r = sum(1 for v in t if v != 0)
            Pe = [[sum((case.U[i][q] * case.V[j][q] for q in range(k) if t[q] != 0), F0) for j in range(n)] for i in range(m)]
            _must(_rank(G) == r, "rank G = number of nonzero t_i")
            ptp = _mm(_mT(Pe), Pe)
            _must(_mm(ptp, ptp) == ptp, "partial isometry: ‖Pe‖₂ ≤ 1 exactly")
            opt = sum((v * v for v in t), F0)
            _must(_inner(G, Pe) == opt, "⟨G, U_rV_rᵀ⟩ = Σ t_i² = ‖G‖_* exactly")
            state["exact_polar"] += 1
            err = float(np.max(np.abs(P - np.array([[float(v) for v in row] for row in Pe])))) if Pe else 0.0
            # the polar factor's condition number is ~κ = σ_max/σ_min (σ_min over the nonzero ones), not 1/gap:
            # report the error in units of κ·ε_mach, separately for repeated singular values
            nz = [v * v for v in t if v != 0]
            kappa_r = float(max(nz) / min(nz)) if nz else 1.0
            key = "float_polar_vs_exact_repeated" if len(set(nz)) < r else "float_polar_vs_exact"
            state[key] = max(state[key], err / (kappa_r * np.finfo(float).eps))
            if r == k:
                tm = t + [F0] * (m - k)
                tn = t + [F0] * (n - k)
                P4 = _mm(_mm(case.U, [[tm[i] if i == j else F0 for j in range(m)] for i in range(m)]), _mT(case.U))
                Q4 = _mm(_mm(case.V, [[tn[i] if i == j else F0 for j in range(n)] for i in range(n)]), _mT(case.V))
                sq = _mm(P4, P4)
                _must(_mm(sq, sq) == _mm(G, _mT(G)), "P4 = (GGᵀ)^{1/4} (PSD root, unique)")
                sq = _mm(Q4, Q4)
                _must(_mm(sq, sq) == _mm(_mT(G), G), "Q4 = (GᵀG)^{1/4} (PSD root, unique)")
                P4p = _mm(_mm(case.U, [[(1 / tm[i] if tm[i] else F0) if i == j else F0 for j in range(m)] for i in range(m)]), _mT(case.U))
                Q4p = _mm(_mm(case.V, [[(1 / tn[i] if tn[i] else F0) if i == j else F0 for j in range(n)] for i in range(n)]), _mT(case.V))
                _must(_mm(_mm(P4p, G), Q4p) == Pe, "Shampoo = UVᵀ exactly")
                state["exact_shampoo"] += 1
        # uniqueness: null pair when rank-deficient, quadratic growth when full rank
        if rank < k:
            a, b = _nullspace(_mT(G))[0], _nullspace(G)[0]
            _must(all(v == 0 for v in _mm([a], G)[0]) and all(row[0] == 0 for row in _mm(G, [[v] for v in b])), "aᵀG = 0 and Gb = 0")
            state["null_pairs"] += 1
        elif s.size and s[-1] > 0 and s[0] / s[-1] < 1e4:
            rng = np.random.default_rng(seed + 1)
            fro = _safe_norm(Gf)
            Gn, Pn = Gf / fro, P
            smin = s[-1] / fro
            nuc_n = s.sum() / fro
            for rho in (0.3, 0.05):
                for _ in range(4):
                    D = _project_spectral_ball(Pn + rho * rng.standard_normal(Gf.shape))
                    d2 = float(np.sum((D - Pn) ** 2))
                    if d2 > 1e-10:
                        gap = nuc_n - float(np.sum(Gn * D))
                        state["qg_min_ratio"] = min(state["qg_min_ratio"], gap / (smin / 2 * d2))

    def _evidence(self, state):
        return {
            "kinds": state["kinds"],
            "shapes": sorted(state["shapes"]),
            "full_rank_cases": state["full_rank"],
            "rank_deficient_cases": state["rank_deficient"],
            "largest_condition_number": _fmt(state["max_kappa"]),
            "certified_enclosure_max_rel_width": _fmt(state["enclosure_rel_width"]),
            "mp50_nuclear_inside_enclosure": state["mp_in_enclosure"],
            "mp50_svd_nuclear_rel_error_bound": _fmt(state["mp_nuclear_bound"]),
            "mp50_|⟨G,UVᵀ⟩−‖G‖_*|/‖G‖_*": _fmt(state["mp_polar_identity"]),
            "pga_max_rel_gap_below_nuclear": _fmt(state["pga_rel_gap"]),
            "dual_bfgs_max_rel_gap_above_nuclear": _fmt(state["dual_rel_gap"]),
            "shampoo_mp50_max_‖M−UVᵀ‖_F": _fmt(state["shampoo_mp_err"]),
            "shampoo_float_max_‖M−UVᵀ‖_F(κ≤1e4)": _fmt(state["shampoo_float_err"]),
            "shampoo_pinv_rank_deficient_mp50_max_‖M−U_rV_rᵀ‖_F": _fmt(state["shampoo_pinv_err"]),
            "damped_shampoo_mp50_max_err_vs_Udiag(σ/√(σ²+ε))Vᵀ": _fmt(state["damped_mp_err"]),
            "exact_svd_cases_polar_value": state["exact_polar"],
            "exact_svd_cases_shampoo_equals_UVᵀ": state["exact_shampoo"],
            "float_polar_vs_exact_max_err/(κ·ε_mach)": _fmt(state["float_polar_vs_exact"]),
            "float_polar_vs_exact_max_err/(κ·ε_mach)_repeated_sigma": _fmt(state["float_polar_vs_exact_repeated"]),
            "rank_deficient_null_pairs_exhibited": state["null_pairs"],
            "quadratic_growth_min_ratio": _fmt(state["qg_min_ratio"]),
            "degenerate_cases": "rank-deficient G: maximisers U_rV_rᵀ + U_⊥WV_⊥ᵀ (‖W‖₂ ≤ 1), not unique; repeated "
            "σ: U, V not unique, U_rV_rᵀ is; G = 0: every feasible D, value 0; Shampoo uses pseudo-inverse roots",
        }

    def _summary(self, state):
        return (f"{state['cases']} cases ({state['rank_deficient']} rank-deficient): ‖G‖_* in certified enclosure "
                f"(rel. width ≤ {_fmt(state['enclosure_rel_width'])}), Shampoo−UVᵀ ≤ {_fmt(state['shampoo_mp_err'])} (mp50), "
                f"{state['exact_shampoo']} exact")

    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        x = cx["inputs"]
        kind = x["kind"]
        G = _mat_from_str(x["G"])
        m, n = len(G), len(G[0])
        with mpmath.workdps(80):
            if kind == "infeasible-direction":
                xs = _vec_from_str(x["x"])
                col = [[v] for v in xs]
                if self.direction.polar_multiple is not None:
                    return False, "infeasibility certificate only for the raw-gradient direction"
                ok = _frob2(_mm(G, col)) > _frob2(col)
                return ok, f"‖Gx‖² = {fraction_str(_frob2(_mm(G, col)))[:30]} vs ‖x‖² = {fraction_str(_frob2(col))[:30]} -> {'‖G‖₂ > 1: infeasible' if ok else 'NOT infeasible'}"
            if kind == "not-unique":
                a, b = _vec_from_str(x["a"]), _vec_from_str(x["b"])
                ok = (any(a) and any(b) and all(v == 0 for v in _mm([a], G)[0])
                      and all(r[0] == 0 for r in _mm(G, [[v] for v in b])) and self.unique(_rank(G), m, n))
                return ok, f"exact null pair aᵀG = 0, Gb = 0 (rank {_rank(G)} < {min(m, n)}) -> {'non-uniqueness confirmed' if ok else 'NOT confirmed'}"
            if kind == "shampoo-not-polar":
                p = self.shampoo_exponent
                M = shampoo_update_mp(G, 0, p, 80)
                Pm = polar_factor_mp(G, 80)
                diff = mpmath.mnorm(M - Pm, "f")
                ok = diff > mpmath.mpf(10) ** -40
                return ok, f"‖(GGᵀ)^-{p} G (GᵀG)^-{p} − UVᵀ‖_F = {mpmath.nstr(diff, 15)} at 80 digits -> {'differ' if ok else 'EQUAL'}"
            enc = _verify_enclosure_inputs(G, x)
            if enc is None:
                return False, "a stored witness fails its exact check"
            L, U = enc
            if kind == "value-above-upper-certificate":
                v = self._value_mp(G, 80)
                ok = v > U
                return ok, f"claimed max {mpmath.nstr(v, 20)} > U = {mpmath.nstr(U, 20)} (exact factorisation) -> {'violation confirmed' if ok else 'NOT a violation'}"
            if kind == "value-below-feasible-witness":
                v = self._value_mp(G, 80)
                ok = _mpf(L) > v
                return ok, f"feasible witness ⟨G,D⟩ = {mpmath.nstr(_mpf(L), 20)} > claimed max {mpmath.nstr(v, 20)} -> {'violation confirmed' if ok else 'NOT a violation'}"
            if kind in ("direction-beaten", "maximiser-value-inconsistent"):
                Dc = self._direction_mp(G, 80)
                obj = mpmath.fsum(_mpf(G[i][j]) * Dc[i, j] for i in range(m) for j in range(n))
                if kind == "direction-beaten":
                    ok = _mpf(L) > obj
                    return ok, f"feasible witness ⟨G,D⟩ = {mpmath.nstr(_mpf(L), 20)} > ⟨G, {self.direction.name}⟩ = {mpmath.nstr(obj, 20)} -> {'violation confirmed' if ok else 'NOT a violation'}"
                v = self._value_mp(G, 80)
                ok = abs(obj - v) > mpmath.mpf(10) ** -60 * (abs(obj) + abs(v))
                return ok, f"⟨G, {self.direction.name}⟩ = {mpmath.nstr(obj, 20)} vs claimed max {mpmath.nstr(v, 20)} -> {'inconsistent' if ok else 'CONSISTENT'}"
        return False, f"unknown certificate kind {kind!r}"


shampoo_spectral = SpectralSteepestDescent(
    id="seed-002/shampoo-spectral",
    title="Shampoo without accumulation = steepest descent under the spectral norm: U Vᵀ",
    claim="For G = U S Vᵀ (thin SVD): max_{‖D‖₂ ≤ 1} ⟨G, D⟩ = ‖G‖_*, attained at U_r V_rᵀ; the maximiser is unique "
    "iff rank G = min(m, n); and (GGᵀ)^{-1/4} G (GᵀG)^{-1/4} = U Vᵀ for full-rank G (Shampoo with one step, "
    "no accumulation); with damping ε: U diag(σ/√(σ²+ε)) Vᵀ.",
    reading="Real m×n G (1 ≤ m, n ≤ 4 here), spectral norm = largest singular value, Frobenius inner product; "
    "U_rV_rᵀ over the nonzero singular values (0 for G = 0); inverse roots of singular Gram matrices are "
    "Moore–Penrose (for rank-deficient G the Shampoo formula then gives U_rV_rᵀ).",
    proof="⟨G,D⟩ = Σσ_i u_iᵀDv_i ≤ Σσ_i (|u_iᵀDv_i| ≤ ‖D‖₂), equality at D = UVᵀ; if equality then Dv_i = u_i for "
    "σ_i > 0 (‖Dv_i − u_i‖² ≤ 2 − 2u_iᵀDv_i), which fixes D when V (or U) is square, and quadratic growth "
    "‖G‖_* − ⟨G,D⟩ ≥ σ_min/2·‖D − UVᵀ‖_F² follows; with null vectors aᵀG = 0 = Gb, UVᵀ + âb̂ᵀ is a second "
    "maximiser. Shampoo: (GGᵀ)^{-1/4} = U S^{-1/2} Uᵀ, so the product is U S^{-1/2} S S^{-1/2} Vᵀ = UVᵀ.",
)


def _spectral_mutants(s: SpectralSteepestDescent):
    return [
        s.mutant("direction G = U S Vᵀ", direction=RAW_GRADIENT),
        s.mutant("direction U Vᵀ/2", direction=HALF_POLAR),
        s.mutant("flipped: direction −U Vᵀ", direction=NEG_POLAR),
        s.mutant("value Frobenius ‖G‖_F", value=FROBENIUS),
        s.mutant("value x 1.01", value=NUCLEAR_101),
        s.mutant("unique for every G", unique=_unique_always_mat),
        s.mutant("Shampoo exponent −1/2", shampoo_exponent=Fraction(1, 2)),
    ]


STATEMENTS = [sign_descent, adam_sign, shampoo_spectral]
