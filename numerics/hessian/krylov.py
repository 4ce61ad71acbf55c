"""Lanczos: tridiagonalisation, Ritz pairs, extreme eigenpairs and deflation pairs.

Lanczos (with full re-orthogonalisation, classical Gram-Schmidt applied twice)
builds ``A V_s = V_s T_s + β_s v_{s+1} e_sᵀ``.  The Ritz pairs ``(θ_i, V_s y_i)``
of ``T_s`` approximate eigenpairs; ``r_i = β_s |e_sᵀ y_i| = ‖A x_i − θ_i x_i‖`` and
``[θ_i − r_i, θ_i + r_i]`` contains an eigenvalue of ``A`` (Parlett 1998, Thm 4.5.1).

Numerics (whatever the operator dtype): the coefficients ``α_j = q_jᵀ A q_j`` and
``β_j = ‖w_j‖`` are accumulated in float64 and ``T`` is diagonalised in float64.
Breakdown (an invariant Krylov space) is declared when ``β_j`` falls to the
rounding level of one product, ``β_j ≤ 8 ε ‖A‖`` (``‖A‖`` estimated by
``max_j |α_j| + β_j + β_{j−1}``), or when it is both within the rounding noise
of an ``n``-term product, ``β_j ≤ 8 √n ε ‖A‖``, *and* negligible relative to the
local scale of the spectrum the run is resolving, ``β_j ≤ 10³ ε (|α_j| + β_{j−1})``
-- i.e. relative to the bulk, not to ``λ_max``.  The former test ``β_j ≤ 10³ ε ‖A‖``
(``1.2·10⁻⁴ λ_max`` in float32) stopped runs as soon as the outliers were resolved
whenever the bulk was narrower than that, and the Krylov-deflated trace then
dropped the whole bulk.  Continuing past a near-breakdown
is harmless: with re-orthogonalisation the next vector is a fresh direction
orthogonal to the basis and the quadrature weight of the new block is ``O(β_j²)``.

Memory: a run stores its basis only when asked (``reorthogonalize`` or
``keep_basis``; ``steps · n`` numbers).  Ritz vectors are formed only for the
pairs that are returned (:func:`top_eigenpairs`) or kept (:func:`deflation_pairs`,
converged pairs only), and the basis is released before they are returned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import eigh_tridiagonal

from .operators import CurvatureOperator
from .probes import check_count, make_generator, random_probes
from .progress import progress_bar

QUADRATURES = ("gauss", "averaged")
WHICH = ("LM", "LA", "SA")
#: breakdown threshold in units of ε‖A‖ (module docstring).
BREAKDOWN_EPS = 8.0


@dataclass
class LanczosRun:
    """Tridiagonal ``T`` (``alpha``, ``beta``) of one run; ``basis`` is ``(steps, n)`` when kept."""

    alpha: np.ndarray
    beta: np.ndarray  # beta[i] couples steps i and i+1; beta[-1] is the residual norm β_s
    basis: torch.Tensor | None
    start_norm: float
    interrupted: bool = False
    breakdown: bool = False  # invariant Krylov space reached: Gauss quadrature is exact

    @property
    def steps(self) -> int:
        return self.alpha.size

    def truncated(self, steps: int) -> LanczosRun:
        """The run's first ``steps`` steps (a prefix of a Lanczos run is a Lanczos run)."""
        if steps >= self.steps:
            return self
        basis = None if self.basis is None else self.basis[:steps]
        return LanczosRun(self.alpha[:steps].copy(), self.beta[:steps].copy(), basis, self.start_norm,
                          self.interrupted, False)

    def ritz(self) -> tuple[np.ndarray, np.ndarray]:
        """Ritz values and eigenvectors of ``T`` (ascending, float64)."""
        if self.steps == 1:
            return self.alpha.copy(), np.ones((1, 1))
        return eigh_tridiagonal(self.alpha, self.beta[: self.steps - 1])

    def quadrature(self, rule: str = "gauss") -> tuple[np.ndarray, np.ndarray]:
        """Nodes and weights (summing to 1) of a quadrature rule for the run's spectral measure.

        ``"gauss"``: the ``s``-point Gauss rule, nodes = Ritz values, weights =
        squared first components of the eigenvectors of ``T_s``.
        ``"averaged"``: Laurie's averaged Gauss rule ``(G_{s−1} + A_s)/2``, with
        ``A_s`` the anti-Gauss rule of ``G_{s−1}`` (``T_s`` with ``β_{s−1}`` scaled
        by ``√2``; Laurie 1996, "Anti-Gaussian quadrature formulas", Math. Comp. 65;
        Calvetti, Reichel & Sgallari 2000 for matrix functionals).  It uses the same
        ``s`` products, is exact for the same polynomial degree ``2s−1`` (hence keeps
        ``vᵀAv`` exact), has positive weights and ``2s−1`` interlacing nodes, and
        its error on a function with a kink inside the spectrum is the *average* of two
        errors of opposite sign, not one of them.
        ``"anti"``: the anti-Gauss rule ``A_s`` alone (its difference to
        ``G_{s−1}`` estimates the quadrature error, :mod:`numerics.hessian.allocation`).
        A run that ended by breakdown is exact under Gauss, which is then used.
        """
        if rule not in (*QUADRATURES, "anti"):
            raise ValueError(f"unknown quadrature rule {rule!r}; choose one of {QUADRATURES}")
        theta, S = self.ritz()
        w = S[0, :] ** 2
        if rule == "gauss" or self.steps < 2 or self.breakdown:
            return theta, w
        s = self.steps
        off = self.beta[: s - 1].copy()
        off[-1] *= math.sqrt(2.0)
        t2, S2 = eigh_tridiagonal(self.alpha, off)
        if rule == "anti":
            return t2, S2[0, :] ** 2
        if s == 2:
            t1, w1 = self.alpha[:1].copy(), np.ones(1)
        else:
            t1, S1 = eigh_tridiagonal(self.alpha[: s - 1], self.beta[: s - 2])
            w1 = S1[0, :] ** 2
        return np.concatenate([t1, t2]), np.concatenate([w1, S2[0, :] ** 2]) / 2


def _orthogonalize(w: torch.Tensor, bases: list[torch.Tensor]) -> torch.Tensor:
    """Remove the components of ``w`` along the rows of each ``(k, n)`` basis (views, no copies)."""
    for _ in range(2):  # twice is enough (Kahan/Parlett "twice is enough")
        for B in bases:
            if B.shape[0]:
                w = w - B.T @ (B @ w)
    return w


def _dot64(a: torch.Tensor, b: torch.Tensor) -> float:
    """``aᵀb`` accumulated in float64 (elementwise products in the vectors' dtype)."""
    if a.dtype == torch.float64:
        return float(torch.dot(a, b))
    return float(torch.sum(a * b, dtype=torch.float64))


def lanczos(
    op: CurvatureOperator,
    num_steps: int,
    *,
    start: torch.Tensor | None = None,
    seed=None,
    reorthogonalize: bool = True,
    keep_basis: bool = False,
    orthogonal_to: torch.Tensor | None = None,
    advance: Callable[[int], None] | None = None,
    stop: Callable[[list, list], bool] | None = None,
) -> LanczosRun:
    """Run ``num_steps`` Lanczos steps (``num_steps`` products) from ``start`` (default Rademacher).

    Args:
        reorthogonalize: full re-orthogonalisation against all previous vectors
            (stores the basis, ``num_steps · n`` numbers); without it only the
            three-term recurrence is used (three vectors; ghost Ritz values may appear;
            the quadrature stays usable for smooth ``f``, Knizhnerman 1996).
        keep_basis: return the basis (needed for Ritz vectors).
        orthogonal_to: ``(n, k)`` orthonormal columns to stay orthogonal to (deflation);
            used as a view, never copied.
        stop: ``stop(alphas, betas) -> bool`` called after every step; ``True`` ends the run.

    A breakdown (module docstring) ends the run early; the
    quadrature is then exact.  A ``KeyboardInterrupt`` ends it with
    ``interrupted=True`` after at least one step, else propagates.
    """
    num_steps = check_count("num_steps", num_steps, 1)
    n = op.shape[0]
    num_steps = min(num_steps, n)
    if start is None:
        start = random_probes(op, 1, make_generator(seed, op))[:, 0]
    start = start.to(device=op.device, dtype=op.dtype)
    extra = [] if orthogonal_to is None else [orthogonal_to.T]
    q = _orthogonalize(start, extra) if extra else start
    norm = math.sqrt(_dot64(q, q))
    if not norm > 0 or not math.isfinite(norm):
        raise ValueError("Lanczos start vector is zero (or lies in the deflated subspace)")
    q = q / norm
    store = reorthogonalize or keep_basis
    basis = torch.empty((num_steps, n), dtype=op.dtype, device=op.device) if store else None
    alpha, beta = [], []
    q_prev = None
    b_prev = 0.0
    scale = 0.0
    interrupted = False
    eps = torch.finfo(op.dtype).eps
    breakdown = False
    for j in range(num_steps):
        try:
            if basis is not None:
                basis[j] = q
            w = op.matvec(q)
        except KeyboardInterrupt:
            if j == 0:
                raise
            interrupted = True
            break
        a = _dot64(w, q)
        w = w.sub_(q, alpha=a)
        if q_prev is not None:
            w = w.sub_(q_prev, alpha=b_prev)
        if reorthogonalize:
            w = _orthogonalize(w, [basis[: j + 1], *extra])
        elif extra:
            w = _orthogonalize(w, extra)
        b = math.sqrt(_dot64(w, w))
        alpha.append(a)
        beta.append(b)
        scale = max(scale, abs(a) + b + b_prev)
        if advance is not None:
            advance(1)
        noise = BREAKDOWN_EPS * eps * max(scale, 1e-300)
        if b <= noise or (b <= math.sqrt(n) * noise and b <= 1e3 * eps * (abs(a) + b_prev)):
            breakdown = True
            break  # invariant subspace (to rounding)
        if stop is not None and stop(alpha, beta):
            break
        q_prev, q, b_prev = q, w.div_(b), b
    steps = len(alpha)
    kept = basis[:steps] if (keep_basis and basis is not None) else None
    return LanczosRun(np.array(alpha), np.array(beta), kept, norm, interrupted, breakdown)


@dataclass(frozen=True)
class Eigenpairs:
    """Ritz approximations of extreme eigenpairs.

    Attributes:
        values: Ritz values, ordered by the requested criterion.
        vectors: ``(n, k)`` Ritz vectors (orthonormal).
        residual_norms: ``‖A x − θ x‖``; ``[θ − r, θ + r]`` contains an eigenvalue.
        converged: ``r ≤ tol · max|θ|``.
        hvp_count: products used.
    """

    values: np.ndarray
    vectors: torch.Tensor
    residual_norms: np.ndarray
    converged: np.ndarray
    hvp_count: int
    interrupted: bool = False

    def intervals(self) -> np.ndarray:
        return np.stack([self.values - self.residual_norms, self.values + self.residual_norms], axis=1)


def _ritz_pairs(op, run: LanczosRun, order: np.ndarray, theta, S, resid, tol, hvps) -> Eigenpairs:
    """Ritz pairs ``order`` of ``run`` (vectors formed for these only); releases the run's basis."""
    scale = float(np.max(np.abs(theta))) if theta.size else 1.0
    scale = scale or 1.0
    Y = torch.as_tensor(S[:, order], dtype=op.dtype, device=op.device)
    vectors = run.basis.T @ Y if order.size else torch.zeros((op.shape[0], 0), dtype=op.dtype, device=op.device)
    run.basis = None
    return Eigenpairs(theta[order], vectors, resid[order], resid[order] <= tol * scale, hvps, run.interrupted)


def _run_ritz(op, steps, seed, progress, description):
    with progress_bar(steps, description, progress) as advance:
        run = lanczos(op, steps, seed=seed, keep_basis=True, advance=advance)
    theta, S = run.ritz()
    resid = abs(run.beta[-1]) * np.abs(S[-1, :])
    if run.breakdown:
        resid = np.zeros_like(resid)  # invariant subspace: the Ritz pairs are exact (to rounding)
    # floor at the rounding level of a product, so [θ − r, θ + r] stays honest for converged pairs
    floor = BREAKDOWN_EPS * torch.finfo(op.dtype).eps * (float(np.max(np.abs(theta))) if theta.size else 0.0)
    return run, theta, S, np.maximum(resid, floor)


def top_eigenpairs(
    op: CurvatureOperator,
    k: int = 1,
    *,
    which: str = "LA",
    num_steps: int | None = None,
    tol: float = 1e-6,
    seed=None,
    progress=False,
) -> Eigenpairs:
    """``k`` extreme eigenpairs by Lanczos with full re-orthogonalisation.

    Args:
        k: number of pairs.
        which: ``"LA"`` largest algebraic (the "top eigenvalue"), ``"SA"`` smallest
            algebraic, ``"LM"`` largest magnitude.
        num_steps: Lanczos steps = products (default ``min(n, max(2k + 20, 3k))``).
        tol: relative residual ``r / max|θ|`` below which a pair counts as converged.

    Memory: ``(num_steps + k) · n`` numbers at the peak (basis + the ``k`` Ritz vectors).
    """
    k = check_count("k", k, 1)
    if which not in WHICH:
        raise ValueError(f"unknown which={which!r}; choose one of {WHICH}")
    n = op.shape[0]
    if k > n:
        raise ValueError(f"k={k} exceeds the dimension n={n}")
    steps = num_steps if num_steps is not None else min(n, max(2 * k + 20, 3 * k))
    steps = check_count("num_steps", steps, k)
    start_count = op.hvp_count
    run, theta, S, resid = _run_ritz(op, steps, seed, progress, "Lanczos eigenpairs")
    order = {"LA": np.argsort(-theta), "SA": np.argsort(theta), "LM": np.argsort(-np.abs(theta))}[which]
    order = order[: min(k, theta.size)]
    return _ritz_pairs(op, run, order, theta, S, resid, tol, op.hvp_count - start_count)


def deflation_pairs(
    op: CurvatureOperator, num_steps: int, *, tol: float = 1e-5, max_pairs: int | None = None, seed=None,
    progress=False,
) -> Eigenpairs:
    """Converged Ritz pairs of largest magnitude from one Lanczos run, for deflation.

    Keeps the pairs with ``r_i ≤ tol · max|θ|`` (their eigenvalue error is
    ``O(r_i²/gap)``), largest ``|θ|`` first, at most ``max_pairs``.  Only the kept
    pairs' vectors are formed: the peak is ``(num_steps + kept) · n`` numbers.
    """
    num_steps = check_count("num_steps", num_steps, 1)
    start_count = op.hvp_count
    run, theta, S, resid = _run_ritz(op, min(num_steps, op.shape[0]), seed, progress, "Lanczos deflation")
    scale = float(np.max(np.abs(theta))) or 1.0
    order = np.argsort(-np.abs(theta))
    order = order[resid[order] <= tol * scale]
    if max_pairs is not None:
        order = order[:max_pairs]
    return _ritz_pairs(op, run, order, theta, S, resid, tol, op.hvp_count - start_count)
