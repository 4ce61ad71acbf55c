"""Gaussian KL divergences, the Laplace posterior and the PAC-Bayes bound of Theorem 3.4.

Each float function has an mpmath twin (``_mp``, mpmath matrices, 50 digits by default).

Stability notes (why the float code is not the textbook formula):

* ``gaussian_kl`` does not form ``tr(S1⁻¹S0) − d − log det(S1⁻¹S0)`` when S0 ≈ S1 (three O(d)
  numbers whose difference may be 1e-20). With ``L1 L1ᵀ = S1`` and ``D = L1⁻¹ (S0 − S1) L1⁻ᵀ``
  (eigenvalues d_i > −1), the covariance part is ``Σ_i (d_i − log1p(d_i))``, each term ≥ 0 and
  evaluated by its series near 0; ``S0 − S1`` is exact where the entries are within a factor 2
  (Sterbenz). When some |d_i| ≥ ½ the textbook form via ``‖L1⁻¹L0‖²_F`` and the Cholesky
  diagonals is used instead (no cancellation there, and no rounded ``−1 + λ_i`` when S0 ≪ S1).
  ``μ1 − μ0`` is carried as hi + lo, so nearly equal means keep their digits.
* ``laplace_pac_bayes_kl`` evaluates ``log1p(x) + 1/(1+x) − 1 = log1p(x) − x/(1+x)`` (x = σ²λ),
  which is ~x²/2 at small x, by its Taylor series there; ``log(σ²) + log(λ)`` replaces
  ``log1p(σ²λ)`` where the product overflows.
* ``laplace_posterior`` inverts ``H + σ⁻²I`` through the eigendecomposition of H, so the result
  is symmetric and the only error is eigh's backward error, amplified by κ(H + σ⁻²I).

References: S. Kullback, Information Theory and Statistics (1959) (Gaussian KL);
D. McAllester, "PAC-Bayesian model averaging" (COLT 1999) and A. Maurer, "A note on the
PAC Bayesian theorem" (2004) (the ``log(2√N/δ)`` form); statements ``thm-3.3/*`` and ``thm-3.4/*`` in
docs/statements.md.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from scipy import linalg

from numerics.validation import as_float_array

_EPS = np.finfo(np.float64).eps


# ----------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------

def _check_covariance(S: np.ndarray, name: str) -> None:
    if S.ndim < 2 or S.shape[-1] != S.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (or a stack of them), got shape {S.shape}")
    asym = np.max(np.abs(S - np.swapaxes(S, -1, -2)), initial=0.0)
    size = np.max(np.abs(S), initial=0.0)
    if asym > 1e-12 * size:
        raise ValueError(f"{name} is not symmetric (max |S − Sᵀ| = {asym:.3g}, max |S| = {size:.3g})")


def _cholesky(S: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} is not positive definite (Cholesky failed)") from None


def _positive(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name)
    if (arr <= 0).any():
        raise ValueError(f"{name} must be > 0, got {arr[arr <= 0].flat[0]!r}")
    return arr


# ----------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------

def _x_minus_log1p(d: np.ndarray) -> np.ndarray:
    """``d − log1p(d) ≥ 0`` for d > −1; series ``Σ_{k≥2} (−d)^k/k`` for |d| < 0.1 (18 terms: 0.1^19 < eps/10)."""
    d = np.asarray(d, dtype=np.float64)
    out = np.empty_like(d)
    small = np.abs(d) < 0.1
    ds = d[small]
    acc = np.zeros_like(ds)
    for k in range(19, 1, -1):
        acc = acc * (-ds) + 1.0 / k
    out[small] = ds * ds * acc
    dl = d[~small]
    out[~small] = dl - np.log1p(dl)
    return out


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _log1p_minus_ratio(x: np.ndarray, log_x: np.ndarray | None = None) -> np.ndarray:
    """``log1p(x) − x/(1+x)`` (= ``log(1+x) + 1/(1+x) − 1``) for x > −1, ≥ 0.

    |x| < 0.1: ``Σ_{k≥2} (−1)^k (k−1)/k x^k`` (no cancellation); x > 1e15: ``log x + 1/x − 1``
    (``log_x`` supplied where σ²λ itself overflows); else the direct formula, whose two terms
    differ by at least a factor ~1.4 away from 0.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < 0.1
    xs = x[small]
    acc = np.zeros_like(xs)
    for k in range(20, 1, -1):
        acc = acc * (-xs) + (k - 1.0) / k
    out[small] = xs * xs * acc
    huge = x > 1e15
    lx = np.log(x[huge]) if log_x is None else log_x[huge]
    with np.errstate(divide="ignore"):
        out[huge] = lx + 1.0 / x[huge] - 1.0
    mid = ~(small | huge)
    xm = x[mid]
    out[mid] = np.log1p(xm) - xm / (1.0 + xm)
    return out


def _out(a):
    a = np.asarray(a)
    return float(a) if a.ndim == 0 else a


# ----------------------------------------------------------------------------
# KL between multivariate normals
# ----------------------------------------------------------------------------

def gaussian_kl(mu0, S0, mu1, S1):
    """``KL(N(μ0, S0) ‖ N(μ1, S1))`` in nats, for d-dimensional normals (stacks broadcast).

    ``KL = ½ [tr(S1⁻¹S0) + (μ1−μ0)ᵀ S1⁻¹ (μ1−μ0) − d + log det S1 − log det S0]``, evaluated as
    ``½ [Σ_i (d_i − log1p d_i) + ‖L1⁻¹(μ1 − μ0)‖²]`` with ``S1 = L1 L1ᵀ`` (Cholesky) and d_i the
    eigenvalues of ``L1⁻¹ (S0 − S1) L1⁻ᵀ`` (see module notes). Error ~ eps·κ(S1) relative.

    Args:
        mu0, mu1: means, shape (..., d).
        S0, S1: symmetric positive-definite covariances, shape (..., d, d).

    Raises:
        ValueError: NaN/inf, empty, shape mismatch, non-symmetric or non-PD covariance.

    Reference: Kullback (1959); statement ``thm-3.4/kl-formula`` (checked against the eigenvalue form).
    """
    mu0, mu1 = as_float_array(mu0, "mu0"), as_float_array(mu1, "mu1")
    S0, S1 = as_float_array(S0, "S0"), as_float_array(S1, "S1")
    _check_covariance(S0, "S0")
    _check_covariance(S1, "S1")
    d = S0.shape[-1]
    if S1.shape[-1] != d or mu0.shape[-1:] != (d,) or mu1.shape[-1:] != (d,):
        raise ValueError(
            f"dimension mismatch: mu0 {mu0.shape}, S0 {S0.shape}, mu1 {mu1.shape}, S1 {S1.shape}"
        )
    try:
        batch = np.broadcast_shapes(mu0.shape[:-1], mu1.shape[:-1], S0.shape[:-2], S1.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch shapes do not broadcast: mu0 {mu0.shape}, S0 {S0.shape}, mu1 {mu1.shape}, S1 {S1.shape}"
        ) from None
    mu0 = np.broadcast_to(mu0, batch + (d,))
    mu1 = np.broadcast_to(mu1, batch + (d,))
    S0 = np.broadcast_to(S0, batch + (d, d))
    S1 = np.broadcast_to(S1, batch + (d, d))
    out = np.empty(batch)
    for idx in np.ndindex(batch):
        out[idx] = _gaussian_kl_single(mu0[idx], S0[idx], mu1[idx], S1[idx])
    return _out(out)


def _gaussian_kl_single(mu0, S0, mu1, S1) -> float:
    L0 = _cholesky(S0, "S0")  # KL is infinite/undefined unless both are PD
    L1 = _cholesky(S1, "S1")
    # near branch: D = L1⁻¹ (S0 − S1) L1⁻ᵀ, its eigenvalues d_i = λ_i(S1⁻¹S0) − 1 carry every digit
    B = linalg.solve_triangular(L1, S0 - S1, lower=True)
    D = linalg.solve_triangular(L1, B.T, lower=True)  # L1⁻¹ (L1⁻¹Δ)ᵀ = L1⁻¹ Δ L1⁻ᵀ as Δ = Δᵀ
    dvals = np.linalg.eigvalsh(0.5 * (D + D.T))
    if np.max(np.abs(dvals)) < 0.5:
        cov_part = float(np.sum(_x_minus_log1p(dvals)))
    else:
        # far branch: forming S0 − S1 would cancel when S0 ≪ S1 (λ_i → 0 needs log λ_i, not
        # log1p of a rounded −1 + λ_i); here tr(S1⁻¹S0) − d − log det(S1⁻¹S0) has no cancellation
        # beyond a factor ~10 d, because some |λ_i − 1| ≥ 0.5
        A = linalg.solve_triangular(L1, L0, lower=True)  # tr(S1⁻¹S0) = ‖L1⁻¹L0‖²_F
        logdet = 2.0 * float(np.sum(np.log(np.diag(L0))) - np.sum(np.log(np.diag(L1))))
        cov_part = float(np.sum(A * A)) - S0.shape[-1] - logdet
    m_hi, m_lo = _two_sum(mu1, -mu0)  # μ1 − μ0 exactly
    v = linalg.solve_triangular(L1, m_hi, lower=True) + linalg.solve_triangular(L1, m_lo, lower=True)
    return 0.5 * (cov_part + float(v @ v))


# ----------------------------------------------------------------------------
# Laplace posterior quantities (Thms 3.3, 3.4)
# ----------------------------------------------------------------------------

def laplace_pac_bayes_kl(eigenvalues, theta_norm_sq, sigma2):
    """KL of the Laplace posterior to the prior, eigenvalue form of Theorem 3.4.

    ``KL(N(θ*, (H + σ⁻²I)⁻¹) ‖ N(0, σ²I)) = ½ [Σ_i (log(1 + σ²λ_i) + 1/(1 + σ²λ_i) − 1) + ‖θ*‖²/σ²]``
    with λ_i the eigenvalues of H; equals ``gaussian_kl(θ*, (H + σ⁻²I)⁻¹, 0, σ²I)``.

    Args:
        eigenvalues: λ_i, shape (..., n); each must satisfy 1 + σ²λ_i > 0 (H + σ⁻²I PD;
            negative eigenvalues of a non-convex Hessian are allowed down to −1/σ²).
        theta_norm_sq: ‖θ*‖² ≥ 0, shape (...).
        sigma2: prior variance σ² > 0, shape (...).

    Reference: Tan & Huang (2025), Thm 3.4 (statements ``thm-3.4/*``).
    """
    lam = as_float_array(eigenvalues, "eigenvalues")
    if lam.ndim == 0:
        raise ValueError("eigenvalues must be an array with the eigenvalues on the last axis")
    th = as_float_array(theta_norm_sq, "theta_norm_sq")
    if (th < 0).any():
        raise ValueError(f"theta_norm_sq must be >= 0, got {th[th < 0].flat[0]!r}")
    s2 = _positive(sigma2, "sigma2")
    try:
        batch = np.broadcast_shapes(lam.shape[:-1], th.shape, s2.shape)
    except ValueError:
        raise ValueError(
            f"shapes do not broadcast: eigenvalues {lam.shape} (last axis summed), "
            f"theta_norm_sq {th.shape}, sigma2 {s2.shape}"
        ) from None
    s2e = s2[..., None]
    with np.errstate(over="ignore"):
        x = s2e * lam
    bad = ~(x > -1.0)
    if bad.any():
        raise ValueError(
            "H + I/sigma2 is not positive definite: an eigenvalue is <= -1/sigma2 "
            f"(sigma2·λ = {x[bad].flat[0]!r})"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        log_x = np.where(x > 1e15, np.log(np.where(x > 1e15, s2e, 1.0)) + np.log(np.where(x > 1e15, lam, 1.0)), 0.0)
    terms = _log1p_minus_ratio(np.where(np.isinf(x), 1e300, x), log_x)
    with np.errstate(over="ignore"):
        out = 0.5 * (np.sum(terms, axis=-1) + th / s2)
    return _out(np.broadcast_to(out, batch))


def laplace_posterior(H, theta_map, sigma2):
    """Laplace approximation with Gaussian prior N(0, σ²I): ``N(θ*, (H + σ⁻²I)⁻¹)``.

    Args:
        H: symmetric Hessian of the negative log-likelihood at θ*, shape (..., n, n).
        theta_map: the MAP point θ*, shape (..., n).
        sigma2: prior variance σ² > 0, shape (...).

    Returns:
        ``(mean, cov)``: θ* (a copy) and ``(H + σ⁻²I)⁻¹ = V diag(1/(λ_i + σ⁻²)) Vᵀ``.

    Raises:
        ValueError: NaN/inf, shapes, non-symmetric H, or H + σ⁻²I not positive definite.

    Reference: Tan & Huang (2025), Thm 3.3 (statements ``thm-3.3/*``).
    """
    H = as_float_array(H, "H")
    th = as_float_array(theta_map, "theta_map")
    s2 = _positive(sigma2, "sigma2")
    _check_covariance(H, "H")
    n = H.shape[-1]
    if th.shape[-1:] != (n,):
        raise ValueError(f"theta_map must have length {n} on its last axis, got shape {th.shape}")
    try:
        batch = np.broadcast_shapes(H.shape[:-2], th.shape[:-1], s2.shape)
    except ValueError:
        raise ValueError(f"shapes do not broadcast: H {H.shape}, theta_map {th.shape}, sigma2 {s2.shape}") from None
    lam, V = np.linalg.eigh(0.5 * (H + np.swapaxes(H, -1, -2)))
    prec = np.broadcast_to(lam, batch + (n,)) + (1.0 / s2)[..., None]
    if (prec <= 0).any():
        raise ValueError("H + I/sigma2 is not positive definite (an eigenvalue of H is <= -1/sigma2)")
    V = np.broadcast_to(V, batch + (n, n))
    cov = (V / prec[..., None, :]) @ np.swapaxes(V, -1, -2)
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    return np.array(np.broadcast_to(th, batch + (n,))), cov


def pac_bayes_bound(emp_risk, kl, n, delta):
    """McAllester/Maurer PAC-Bayes bound (as in Thm 3.4 of Tan & Huang 2025), loss in [0, 1]:

    ``E_Q[L] ≤ E_Q[L̂] + sqrt((KL(Q‖P) + log(2√N/δ)) / (2N))`` with probability ≥ 1 − δ.

    Args:
        emp_risk: empirical risk E_Q[L̂] in [0, 1].
        kl: KL(Q‖P) ≥ 0.
        n: number of samples N ≥ 1 (integer-valued).
        delta: confidence parameter in (0, 1).

    Returns the bound (may exceed 1, i.e. be vacuous). Vectorised (broadcast).

    Reference: Maurer (2004); McAllester (1999); statement ``thm-3.4/bound``.
    """
    e = as_float_array(emp_risk, "emp_risk")
    k = as_float_array(kl, "kl")
    nn = as_float_array(n, "n")
    dl = as_float_array(delta, "delta")
    if ((e < 0) | (e > 1)).any():
        raise ValueError("emp_risk must lie in [0, 1] (loss bounded in [0, 1])")
    if (k < 0).any():
        raise ValueError("kl must be >= 0")
    if (nn < 1).any() or (nn != np.round(nn)).any():
        raise ValueError("n must be an integer >= 1")
    if ((dl <= 0) | (dl >= 1)).any():
        raise ValueError("delta must lie in (0, 1)")
    try:
        e, k, nn, dl = np.broadcast_arrays(e, k, nn, dl)
    except ValueError:
        raise ValueError("emp_risk, kl, n and delta have incompatible shapes") from None
    log_term = math.log(2.0) + 0.5 * np.log(nn) - np.log(dl)  # log(2√N/δ) without forming √N/δ
    return _out(e + np.sqrt((k + log_term) / (2.0 * nn)))


# ----------------------------------------------------------------------------
# mpmath oracles (textbook formulas on the exact input values, mpmath matrices)
# ----------------------------------------------------------------------------

def _mp_matrix(A):
    A = np.asarray(A, dtype=np.float64)
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in np.atleast_2d(A)])


def _mp_vector(v):
    return mpmath.matrix([mpmath.mpf(float(x)) for x in np.asarray(v, dtype=np.float64).reshape(-1)])


def gaussian_kl_mp(mu0, S0, mu1, S1, dps: int = 50):
    """Oracle for :func:`gaussian_kl` (single pair): the textbook formula
    ``½ [tr(S1⁻¹S0) + δᵀS1⁻¹δ − d + log det S1 − log det S0]`` in mpmath matrices, with
    guard digits for the cancellation (up to 2·16 digits when S0 ≈ S1 to machine precision)."""
    mu0, mu1 = as_float_array(mu0, "mu0"), as_float_array(mu1, "mu1")
    S0, S1 = as_float_array(S0, "S0"), as_float_array(S1, "S1")
    _check_covariance(S0, "S0")
    _check_covariance(S1, "S1")
    if S0.ndim != 2 or S0.shape != S1.shape or mu0.shape != (S0.shape[0],) or mu1.shape != mu0.shape:
        raise ValueError("gaussian_kl_mp takes one pair: mu (d,), S (d, d)")
    _cholesky(S0, "S0")
    _cholesky(S1, "S1")
    d = S0.shape[0]
    with mpmath.workdps(dps + 40):
        A0, A1 = _mp_matrix(S0), _mp_matrix(S1)
        dm = _mp_vector(mu1) - _mp_vector(mu0)
        A1inv = mpmath.inverse(A1)
        maha = (dm.T * A1inv * dm)[0, 0]
        if np.array_equal(S0, S1):
            cov_part = mpmath.mpf(0)  # exactly; the formula would leave rounding noise ~10^-(dps+40)
        else:
            tr = mpmath.fsum((A1inv * A0)[i, i] for i in range(d))
            cov_part = tr - d + mpmath.log(mpmath.det(A1)) - mpmath.log(mpmath.det(A0))
        val = (cov_part + maha) / 2
    with mpmath.workdps(dps):
        return +val


def laplace_pac_bayes_kl_mp(eigenvalues, theta_norm_sq, sigma2, dps: int = 50):
    """Oracle for :func:`laplace_pac_bayes_kl` (1-D eigenvalues, scalar θ², σ²): the formula as
    written, ``log(1+x) + 1/(1+x) − 1``, with 2·log10(1/min|x|) guard digits for its cancellation."""
    lam = as_float_array(eigenvalues, "eigenvalues").reshape(-1)
    th = float(as_float_array(theta_norm_sq, "theta_norm_sq"))
    s2 = float(_positive(sigma2, "sigma2"))
    if th < 0:
        raise ValueError("theta_norm_sq must be >= 0")
    xs_abs = [abs(float(v)) * s2 for v in lam if v != 0]
    guard = 20 + (int(-2 * math.log10(min(xs_abs))) if xs_abs and min(xs_abs) < 1 and min(xs_abs) > 0 else 0)
    with mpmath.workdps(dps + guard):
        S2 = mpmath.mpf(s2)
        terms = []
        for v in lam:
            x = S2 * mpmath.mpf(float(v))
            if x <= -1:
                raise ValueError("H + I/sigma2 is not positive definite")
            terms.append(mpmath.log(1 + x) + 1 / (1 + x) - 1)
        val = (mpmath.fsum(terms) + mpmath.mpf(th) / S2) / 2
    with mpmath.workdps(dps):
        return +val


def laplace_posterior_mp(H, theta_map, sigma2, dps: int = 50):
    """Oracle for :func:`laplace_posterior` (single matrix): ``(θ*, mpmath.inverse(H + I/σ²))``."""
    H = as_float_array(H, "H")
    _check_covariance(H, "H")
    th = as_float_array(theta_map, "theta_map")
    s2 = float(_positive(sigma2, "sigma2"))
    if H.ndim != 2 or th.shape != (H.shape[0],):
        raise ValueError("laplace_posterior_mp takes one H (n, n) and theta_map (n,)")
    n = H.shape[0]
    with mpmath.workdps(dps + 20):
        Hm = _mp_matrix(H)
        Hm = (Hm + Hm.T) / 2  # the float code also uses ½(H + Hᵀ)
        P = Hm + mpmath.eye(n) / mpmath.mpf(s2)
        cov = mpmath.inverse(P)
    with mpmath.workdps(dps):
        return _mp_vector(th), cov * 1


def pac_bayes_bound_mp(emp_risk, kl, n, delta, dps: int = 50):
    """Oracle for :func:`pac_bayes_bound` (scalars)."""
    pac_bayes_bound(emp_risk, kl, n, delta)  # same checks
    with mpmath.workdps(dps + 10):
        e, k, N, d = (mpmath.mpf(float(v)) for v in (emp_risk, kl, n, delta))
        val = e + mpmath.sqrt((k + mpmath.log(2 * mpmath.sqrt(N) / d)) / (2 * N))
    with mpmath.workdps(dps):
        return +val
