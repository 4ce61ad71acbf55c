"""Steepest descent under a norm: the float directions of sign descent, Adam, Shampoo and their mpmath twins.

Bernstein & Newhouse, "Old Optimizer, New Norm: An Anthology", arXiv:2409.20325 (2024): with the
exponential moving averages switched off, each optimiser steps along ``argmax_{‖d‖ ≤ 1} ⟨g, d⟩`` for a
norm -- ℓ∞ for sign descent / Adam(β₁ = β₂ = 0, ε → 0), the spectral norm for Shampoo without
accumulation (the polar factor U Vᵀ). Every float function has an mpmath twin (``*_mp``, 50 digits by
default) used as its reference in the statements of :mod:`theorems.seed_002`; direct numerical solvers of
the norm-constrained problems (LP, SLSQP, projected gradient ascent, a factorised dual) check them.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
from scipy.optimize import linprog, minimize

from numerics.backends import to_fraction
from numerics.validation import as_float_array, as_float_vector

# ----------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------


def _as_matrix(G, name: str = "G") -> np.ndarray:
    return as_float_array(G, name, ndim=2)


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

    The Gram matrices square the entries, which overflow beyond ~1e154 and underflow below
    ~1e-154 (a 1e-200 gradient came back as 0). G and ε are therefore divided by ``s²``
    and s, ``s = 2^k ≥ max(max|G_ij|, √ε)`` (exact: a power of 2), and the result is scaled
    back by the homogeneity ``S(sG, s²ε) = s^{1−4p} S(G, ε)`` (no rescaling at all for p = 1/4).
    """
    G = _as_matrix(G)
    eps = _check_eps(eps)
    p = _check_exponent(exponent)
    m, n = G.shape
    top = max(float(np.max(np.abs(G))), math.sqrt(eps))
    if top == 0.0:
        return np.zeros_like(G)
    k = math.frexp(top)[1]
    G, eps = np.ldexp(G, -k), math.ldexp(eps, -2 * k)
    L = _psd_power(G @ G.T + eps * np.eye(m), -p, eps)
    R = _psd_power(G.T @ G + eps * np.eye(n), -p, eps)
    out = L @ G @ R
    if p == 0.25:
        return out
    whole = math.floor(k * (1 - 4 * p))  # 2^(k(1−4p)) as 2^frac · 2^whole: no OverflowError from pow
    return np.ldexp(out * 2.0 ** (k * (1 - 4 * p) - whole), whole)


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
