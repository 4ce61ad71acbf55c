"""Spectra as distributions: normalisation with an explicit sign policy, and matrix entropies.

Definition 3.1 of Tan & Huang (2025) needs a PSD matrix; a real Hessian has
negative eigenvalues, so every entry point takes an explicit policy:

* ``"error"`` (default): a negative eigenvalue is an error -- for input that
  should be PSD.  ``tol`` (relative to ``max|λ|``) lets round-off negatives of
  ``eigh`` through as zeros.
* ``"abs"``: use ``|λ|`` (the paper's practice on Hessians).
* ``"clip"``: use ``max(λ, 0)``.

The Gauss-Newton matrix, PSD by construction, is the principled alternative
(see :mod:`numerics.hessian`).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from numerics.entropy import entropy_gap, entropy_gap_mp, renyi_entropy, renyi_entropy_mp
from numerics.validation import as_float_vector, as_symmetric_matrix, check_alpha

POLICIES = ("error", "abs", "clip")


def _apply_policy(lam: np.ndarray, policy: str, tol: float) -> np.ndarray:
    if policy not in POLICIES:
        raise ValueError(f"unknown negative-eigenvalue policy {policy!r}; choose one of {POLICIES}")
    scale = float(np.max(np.abs(lam)))
    if policy == "abs":
        v = np.abs(lam)
    elif policy == "clip":
        v = np.maximum(lam, 0.0)
    else:
        worst = float(lam.min())
        if worst < -tol * scale:
            raise ValueError(
                f"spectrum has a negative eigenvalue {worst!r} (policy 'error'); pass policy='abs' or "
                "'clip', or use the Gauss-Newton matrix, which is PSD"
            )
        v = np.maximum(lam, 0.0)
    if not np.any(v > 0):
        raise ValueError("spectrum is all zero after the sign policy: no distribution to normalise")
    return v


def normalize_spectrum(eigenvalues, policy: str = "error", tol: float = 0.0) -> tuple[np.ndarray, float]:
    """Turn eigenvalues into a distribution ``p_i = v_i / Σ v_j`` after the sign policy.

    Args:
        eigenvalues: 1-D array of real eigenvalues.
        policy: ``"error"``, ``"abs"`` or ``"clip"`` (module docstring).
        tol: with ``"error"``, negatives down to ``−tol · max|λ|`` count as 0.

    Returns:
        ``(p, kappa)``: the distribution and the condition number ``max v / min v``
        (``inf`` when some ``v_i = 0``).
    """
    lam = as_float_vector(eigenvalues, "eigenvalues")
    v = _apply_policy(lam, policy, tol)
    p = v / math.fsum(v)
    vmin = float(v.min())
    kappa = math.inf if vmin == 0 else float(v.max()) / vmin
    return p, kappa


def spectral_entropy_gap(eigenvalues, policy: str = "error", tol: float = 0.0) -> float:
    """Entropy gap ``log n − H(p)`` of the normalised spectrum (Tan & Huang 2025, §3)."""
    p, _ = normalize_spectrum(eigenvalues, policy, tol)
    return entropy_gap(p)


def _symmetric_eigenvalues(K) -> np.ndarray:
    return np.linalg.eigvalsh(as_symmetric_matrix(K, "K"))


def matrix_renyi_entropy(K, alpha: float = 1.0, policy: str = "error") -> float:
    """α-order matrix entropy ``H_α(K) = log tr((K/tr K)^α) / (1 − α)`` (Def. 3.1).

    With ``K_ii = 1`` this is the paper's ``tr((K/n)^α)``; α = 1 is the von
    Neumann entropy.  Eigenvalues within ``eigh``'s round-off (``|λ| ≤ 4n·eps·max|λ|``)
    count as zero, whatever their sign.
    """
    alpha = check_alpha(alpha)
    lam = _symmetric_eigenvalues(K)
    tol = lam.size * np.finfo(float).eps * 4
    # eigh's eigenvalues carry an absolute error ~ n·eps·max|λ|: below that they are
    # indistinguishable from 0, and for α < 1 a round-off eigenvalue of 1e-16 would add
    # (1e-16)^α ≈ 0.03 (α = 0.1) to tr(ρ^α). Count them as the zeros they resolve to.
    lam = np.where(np.abs(lam) <= tol * float(np.max(np.abs(lam))), 0.0, lam)
    p, _ = normalize_spectrum(lam, policy, tol=tol)
    return renyi_entropy(p, alpha)


def von_neumann_entropy(K, policy: str = "error") -> float:
    """``−tr(ρ log ρ)`` with ``ρ = K / tr K``."""
    return matrix_renyi_entropy(K, 1.0, policy)


# ----------------------------------------------------------------------------
# mpmath oracles
# ----------------------------------------------------------------------------

def _policy_mp(lam, policy):
    if policy == "abs":
        return [abs(x) for x in lam]
    if policy == "clip":
        return [max(x, 0) for x in lam]
    return [max(x, 0) for x in lam]  # validation already happened in float


def spectral_entropy_gap_mp(eigenvalues, policy: str = "error", dps: int = 50):
    """Oracle for :func:`spectral_entropy_gap`: normalise exactly, then ``Σ p log(n p)``."""
    lam = as_float_vector(eigenvalues, "eigenvalues")
    _apply_policy(lam, policy, 0.0)
    v = _policy_mp([float(x) for x in lam], policy)
    return entropy_gap_mp(v, dps=dps)


def matrix_renyi_entropy_mp(K, alpha: float = 1.0, policy: str = "error", dps: int = 50):
    """Oracle for :func:`matrix_renyi_entropy`: eigenvalues by mpmath's Jacobi ``eigsy``."""
    check_alpha(alpha)
    K = np.asarray(K, dtype=np.float64)
    _symmetric_eigenvalues(K)
    with mpmath.workdps(dps):
        M = mpmath.matrix((K + K.T).tolist()) / 2
        lam = mpmath.eigsy(M, eigvals_only=True)
        lam = [lam[i] for i in range(len(lam))]
        v = _policy_mp(lam, policy)
        total = mpmath.fsum(v)
        return renyi_entropy_mp([x / total for x in v], alpha, dps=dps)
