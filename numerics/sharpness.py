"""Sharpness measures of the adaptive-optimizer literature, exact and stochastic, on the Hessian engine.

* ``tr(diag(H)^{1/2}) = Σ_i sqrt(policy(H_ii))`` -- the sharpness Adam minimises
  near the minimiser manifold (label-noise setting), against SGD's ``tr(H)``
  ("Adam Reduces a Unique Form of Sharpness").  ``H`` is PSD on the
  manifold; elsewhere the diagonal can be negative and an explicit policy is
  applied: ``"abs"`` (default) ``Σ sqrt|H_ii|``, ``"clip"`` ``Σ sqrt(max(H_ii, 0))``.
* ``tr(H) = Σ_i H_ii`` (signed).
* Rényi entropy ``H_α(p)`` of the normalised (policy-mapped) spectrum
  ``p = v / Σ v``, ``v = |λ|`` or ``max(λ, 0)``: ``H_α = log(Σ p_i^α)/(1 − α)``
  (α = 1 Shannon).  Rényi sharpness (Zhang, Sun, Zhang & Liu, "Rényi Sharpness:
  A Novel Sharpness that Strongly Correlates with Generalization") is the
  *negative* Rényi entropy of the Hessian, ``−H_α``: a spread-out spectrum (small
  entropy) is sharp.  This module reports ``H_α`` itself.
* SAM sharpness (Foret et al. 2021) ``S_ρ = max_{‖ε‖₂ ≤ ρ} L(θ + ε) − L(θ)``:

  - first order: ``L(θ+ε) ≈ L + gᵀε`` gives ``ε* = ρ g/‖g‖`` and ``S ≈ ρ ‖g‖``;
  - second order along that direction: ``S ≈ ρ‖g‖ + (ρ²/2) gᵀHg / ‖g‖²``
    (the exact value of ``L(θ + ρ g/‖g‖) − L(θ)`` for a quadratic loss, so a
    lower bound on ``S`` there);
  - quadratic loss ``L = ½ θᵀAθ + ...``: ``S`` is the trust-region subproblem
    ``max_{‖ε‖≤ρ} gᵀε + ½ εᵀAε``, solved exactly by :func:`sam_quadratic_exact`
    (Moré & Sorensen 1983 secular equation, hard case included);
  - any loss: :func:`maximize_in_ball`, projected gradient ascent with
    backtracking and restarts.  Every iterate is feasible, so its best value is
    a *lower bound* on ``S`` (up to the rounding of the loss difference,
    ``~eps·|L|``), never an overestimate.

Paths (:func:`sharpness_report`): exact -- the dense Hessian
(:func:`numerics.hessian.dense_matrix`) and ``eigh`` -- when the parameter count
is at most ``exact_max_params``; otherwise stochastic -- shared Rademacher probes
of :func:`numerics.hessian.diagonal_estimate` for ``tr H``, ``tr(diag H^{1/2})``
and ``R_med`` (:mod:`numerics.rmed`), and stochastic Lanczos quadrature
(:func:`numerics.hessian.slq`) for ``H_α``; every stochastic number carries a
confidence interval and its product count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mpmath
import numpy as np
import torch
from scipy.optimize import brentq

from numerics.entropy import renyi_entropy, renyi_entropy_mp
from numerics.hessian.dense import dense_matrix, eigenvalues_of
from numerics.hessian.estimate import Estimate, check_confidence, mean_interval
from numerics.hessian.lanczos import renyi_entropy_from_slq, slq
from numerics.hessian.operators import HessianOperator
from numerics.hessian.trace import DiagonalEstimate, diagonal_estimate, make_generator
from numerics.rmed import (
    adam_preconditioner_from_optimizer,
    check_preconditioner,
    diagonal_functional_estimate,
    r_med_from_diagonal,
    r_med_from_diagonal_estimate,
)
from numerics.spectrum import normalize_spectrum
from numerics.validation import as_float_vector, check_alpha

POLICIES = ("abs", "clip")


def _check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"unknown negative-value policy {policy!r}; choose one of {POLICIES}")
    return policy


def check_rho(rho) -> float:
    """SAM radius: a finite number > 0."""
    try:
        r = float(rho)
    except (TypeError, ValueError):
        raise ValueError(f"rho must be a real number, got {rho!r}") from None
    if not (r > 0 and math.isfinite(r)):
        raise ValueError(f"rho must be a finite number > 0, got {rho!r}")
    return r


def _mp_dps(values, dps: int) -> int:
    """Digits to hold sums of doubles spanning ``max/min`` magnitudes exactly."""
    pos = [abs(float(v)) for v in values if float(v) != 0]
    if not pos:
        return dps
    return dps + int(math.ceil(math.log10(max(pos)) - math.log10(min(pos)))) + 20


# ----------------------------------------------------------------------------
# Diagonal functionals: tr(diag(H)^{1/2}) and tr(H)
# ----------------------------------------------------------------------------


def _sqrt_sum(d: np.ndarray, policy: str) -> float:
    v = np.abs(d) if policy == "abs" else np.maximum(d, 0.0)
    return float(np.sum(np.sqrt(v)))


def sqrt_diag_trace(diagonal, policy: str = "abs") -> float:
    """``tr(diag(H)^{1/2}) = Σ_i sqrt(policy(H_ii))`` (Adam's implicit regulariser).

    Args:
        diagonal: the Hessian diagonal.
        policy: ``"abs"`` (``sqrt|H_ii|``, default) or ``"clip"`` (``sqrt(max(H_ii, 0))``).

    All terms are non-negative, so the float sum is accurate to ``~n·eps`` relative.
    """
    d = as_float_vector(diagonal, "diagonal")
    return _sqrt_sum(d, _check_policy(policy))


def sqrt_diag_trace_mp(diagonal, policy: str = "abs", dps: int = 50):
    """Oracle for :func:`sqrt_diag_trace`."""
    d = as_float_vector(diagonal, "diagonal")
    _check_policy(policy)
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(float(a)) for a in d]
        return mpmath.fsum(mpmath.sqrt(abs(a) if policy == "abs" else max(a, 0)) for a in xs)


def hessian_trace(diagonal) -> float:
    """``tr H = Σ_i H_ii``, correctly rounded (``math.fsum``)."""
    return math.fsum(as_float_vector(diagonal, "diagonal"))


def hessian_trace_mp(diagonal, dps: int = 50):
    """Oracle for :func:`hessian_trace`: the exact sum of the given doubles."""
    d = as_float_vector(diagonal, "diagonal")
    with mpmath.workdps(_mp_dps(d, dps)):
        return mpmath.fsum(mpmath.mpf(float(a)) for a in d)


def trace_from_diagonal_estimate(est: DiagonalEstimate, confidence: float = 0.95) -> Estimate:
    """Hutchinson ``tr A`` from the diagonal probes: per probe ``Σ_i v_i (P A v)_i`` plus the exact deflated part."""
    confidence = check_confidence(confidence)
    per_probe = est.samples.double().sum(dim=1).cpu().numpy()
    exact = float(est.exact_part.double().sum())
    mean, lo, hi, se = mean_interval(per_probe, confidence)
    return Estimate(exact + mean, exact + lo, exact + hi, confidence, se, est.hvp_count, per_probe.size,
                    "hutchinson-diag", est.interrupted, {"exact_part": exact})


def sqrt_diag_trace_from_diagonal_estimate(est: DiagonalEstimate, policy: str = "abs", confidence: float = 0.95,
                                           num_groups: int | None = None) -> Estimate:
    """Jackknife ``Σ sqrt(policy(A_ii))`` from shared probes (as :func:`numerics.hessian.sqrt_diagonal_trace`)."""
    _check_policy(policy)
    return diagonal_functional_estimate(est, lambda d: _sqrt_sum(d, policy), confidence=confidence,
                                        num_groups=num_groups, method="sqrt-diag")


# ----------------------------------------------------------------------------
# Rényi entropy of the spectrum
# ----------------------------------------------------------------------------


def spectral_renyi_entropy(eigenvalues, alpha: float, policy: str = "abs") -> float:
    """``H_α(p)`` of ``p = v/Σv``, ``v = policy(λ)`` (Zhang et al.'s Rényi sharpness is ``−H_α``).

    Args:
        eigenvalues: the spectrum.
        alpha: order ``> 0`` (1: Shannon; ``inf``: min-entropy).
        policy: ``"abs"`` or ``"clip"`` (``"error"`` for a PSD spectrum, see
            :func:`numerics.spectrum.normalize_spectrum`).
    """
    alpha = check_alpha(alpha)
    p, _ = normalize_spectrum(eigenvalues, policy)
    return renyi_entropy(p, alpha)


def spectral_renyi_entropy_mp(eigenvalues, alpha: float, policy: str = "abs", dps: int = 50):
    """Oracle for :func:`spectral_renyi_entropy`: exact normalisation, textbook formula in mpmath."""
    check_alpha(alpha)
    lam = as_float_vector(eigenvalues, "eigenvalues")
    normalize_spectrum(lam, policy)  # same validation as the float path
    v = [abs(float(x)) if policy == "abs" else max(float(x), 0.0) for x in lam]
    return renyi_entropy_mp(v, alpha, dps=dps)


def renyi_entropies_slq(op, alphas: Sequence[float], num_probes: int, num_steps: int, *, policy: str = "abs",
                        seed=None, confidence: float = 0.95) -> dict[float, Estimate]:
    """``{α: H_α}`` from one stochastic Lanczos quadrature run (jackknife intervals, shared products)."""
    alphas = [_check_finite_alpha(a) for a in alphas]
    res = slq(op, num_probes, min(num_steps, op.shape[0]), seed=seed)
    return {a: renyi_entropy_from_slq(res, a, policy, confidence) for a in alphas}


def _check_finite_alpha(alpha) -> float:
    a = check_alpha(alpha)
    if math.isinf(a):
        raise ValueError("alpha must be finite for the stochastic (SLQ) path")
    return a


# ----------------------------------------------------------------------------
# SAM sharpness: closed forms
# ----------------------------------------------------------------------------


def _grad_vector(grad, name: str = "grad") -> np.ndarray:
    if isinstance(grad, torch.Tensor):
        grad = grad.detach().double().cpu().numpy()
    return as_float_vector(grad, name)


def sam_first_order(grad, rho: float) -> float:
    """``ρ ‖g‖₂``: SAM sharpness of the first-order model ``L(θ+ε) ≈ L(θ) + gᵀε``.

    Reference: Foret, Kleiner, Mobahi & Neyshabur (2021), "Sharpness-Aware
    Minimization for Efficiently Improving Generalization", eq. 2.
    """
    g = _grad_vector(grad)
    return check_rho(rho) * float(np.linalg.norm(g))


def sam_first_order_mp(grad, rho: float, dps: int = 50):
    """Oracle for :func:`sam_first_order`."""
    g = _grad_vector(grad)
    rho = check_rho(rho)
    with mpmath.workdps(_mp_dps(g, dps)):
        return mpmath.mpf(rho) * mpmath.sqrt(mpmath.fsum(mpmath.mpf(float(x)) ** 2 for x in g))


def sam_second_order(grad, hess_grad, rho: float) -> float:
    """``ρ‖g‖ + (ρ²/2) gᵀHg/‖g‖²``: the second-order model evaluated at ``ε = ρ g/‖g‖``.

    Args:
        grad: ``g = ∇L(θ)`` (non-zero: the direction is undefined at ``g = 0``).
        hess_grad: ``H g`` (one Hessian-vector product).
        rho: radius ``> 0``.
    """
    g = _grad_vector(grad)
    Hg = _grad_vector(hess_grad, "hess_grad")
    rho = check_rho(rho)
    if g.size != Hg.size:
        raise ValueError(f"grad has {g.size} entries but hess_grad has {Hg.size}")
    gg = float(np.dot(g, g))
    if gg == 0:
        raise ValueError("the gradient is zero: the SAM direction g/‖g‖ is undefined (use sam_quadratic_exact)")
    return rho * math.sqrt(gg) + 0.5 * rho * rho * float(np.dot(g, Hg)) / gg


def sam_second_order_mp(grad, hess_grad, rho: float, dps: int = 50):
    """Oracle for :func:`sam_second_order`."""
    g = _grad_vector(grad)
    Hg = _grad_vector(hess_grad, "hess_grad")
    rho = check_rho(rho)
    if g.size != Hg.size:
        raise ValueError(f"grad has {g.size} entries but hess_grad has {Hg.size}")
    with mpmath.workdps(_mp_dps(np.concatenate([g, Hg]), dps) * 2):
        gm = [mpmath.mpf(float(x)) for x in g]
        hm = [mpmath.mpf(float(x)) for x in Hg]
        gg = mpmath.fsum(x * x for x in gm)
        if gg == 0:
            raise ValueError("the gradient is zero: the SAM direction g/‖g‖ is undefined")
        r = mpmath.mpf(rho)
        return r * mpmath.sqrt(gg) + r * r / 2 * mpmath.fsum(a * b for a, b in zip(gm, hm)) / gg


def _symmetric_matrix(H, n: int) -> np.ndarray:
    if isinstance(H, torch.Tensor):
        H = H.detach().double().cpu().numpy()
    try:
        A = np.asarray(H, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"hessian must be a real matrix: {exc}") from None
    if A.shape != (n, n):
        raise ValueError(f"hessian must have shape ({n}, {n}) to match grad, got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("hessian contains NaN or inf")
    scale = float(np.max(np.abs(A))) or 1.0
    if float(np.max(np.abs(A - A.T))) > 1e-10 * scale:
        raise ValueError("hessian is not symmetric (|H − Hᵀ| > 1e-10 · max|H|)")
    return (A + A.T) / 2


def sam_quadratic_exact(grad, hessian, rho: float) -> float:
    """Exact ``max_{‖ε‖≤ρ} gᵀε + ½ εᵀHε``: the SAM sharpness of a quadratic loss.

    Trust-region subproblem (Moré & Sorensen 1983).  With ``H = Q Λ Qᵀ``,
    ``g̃ = Qᵀg``, ``λ₁ = max λ`` and the multiplier ``μ = λ₁ + s``:
    ``ε_i(s) = g̃_i / (s + λ₁ − λ_i)``; the maximiser has ``μ ≥ max(λ₁, 0)`` and
    either ``μ = 0`` with ``‖ε‖ ≤ ρ`` (interior, only if ``H ≺ 0``), or
    ``‖ε(s)‖ = ρ`` -- the secular equation ``1/‖ε(s)‖ − 1/ρ = 0``, increasing in
    ``s`` and nearly linear near the pole (solved by Brent's method) -- or the
    *hard case* ``g̃`` orthogonal to the top eigenspace with ``‖ε(0)‖ < ρ``
    (``μ = λ₁``, the rest of the radius spent along the top eigenvector).  The
    value is then ``S = ½ gᵀε + ½ μ ρ²`` (from ``g + Hε = μ ε``): a sum of
    non-negative terms, free of cancellation.

    Accuracy: ``eigh`` is backward stable (``‖δH‖ ≲ n·eps·‖H‖``) and ``S`` is
    Lipschitz in ``(g, H)`` with constants ``(ρ, ρ²/2)``, so the error is
    ``≲ ρ²·n·eps·‖H‖ + ρ·eps·‖g‖``, also in the (near) hard case.
    """
    g = _grad_vector(grad)
    A = _symmetric_matrix(hessian, g.size)
    rho = check_rho(rho)
    lam, Q = np.linalg.eigh(A)
    gt = Q.T @ g
    top = float(lam[-1])
    gaps = top - lam  # >= 0, exactly 0 at the top
    g2 = gt * gt
    s_low = max(0.0, -top)  # μ = top + s >= 0

    def eps_of(s):
        den = s + gaps
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.where(den > 0, gt / np.where(den > 0, den, 1.0), np.where(gt == 0, 0.0, np.inf))
        return e

    def phi(s):
        with np.errstate(divide="ignore", invalid="ignore"):
            nrm = math.sqrt(float(np.sum(g2 / (s + gaps) ** 2))) if s > 0 else float(np.linalg.norm(eps_of(s)))
        return (1.0 / nrm if nrm > 0 else math.inf) - 1.0 / rho

    if phi(s_low) >= 0:
        # ‖ε(s_low)‖ <= ρ: interior (top < 0, μ = 0) or the hard case (μ = top >= 0)
        e = eps_of(s_low)
        mu = top + s_low
        return 0.5 * float(np.dot(gt, e)) + (0.5 * mu * rho * rho if top >= 0 else 0.0)
    # at s_high every |ε_i| <= |g̃_i| ρ/‖g‖, so ‖ε‖ <= ρ; doubling absorbs the rounding of that bound
    s_high = 2.0 * (s_low + float(np.linalg.norm(g)) / rho)
    while phi(s_high) < 0:
        s_high *= 2.0
    s = brentq(phi, s_low, s_high, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=1000)
    e = eps_of(s)
    return 0.5 * float(np.dot(gt, e)) + 0.5 * (top + s) * rho * rho


def sam_quadratic_exact_mp(grad, hessian, rho: float, dps: int = 50):
    """Oracle for :func:`sam_quadratic_exact`: Jacobi ``eigsy`` and bisection on the secular equation in mpmath."""
    g = _grad_vector(grad)
    _symmetric_matrix(hessian, g.size)  # same validation as the float path
    rho = check_rho(rho)
    n = g.size
    H = np.asarray(hessian.detach().cpu().numpy() if isinstance(hessian, torch.Tensor) else hessian, dtype=np.float64)
    with mpmath.workdps(dps):
        M = (mpmath.matrix(H.tolist()) + mpmath.matrix(H.T.tolist())) / 2
        lam, Q = mpmath.eigsy(M)
        lam = [lam[i] for i in range(n)]
        gm = [mpmath.mpf(float(x)) for x in g]
        gt = [mpmath.fsum(Q[j, i] * gm[j] for j in range(n)) for i in range(n)]
        top = max(lam)
        gaps = [top - x for x in lam]
        r = mpmath.mpf(rho)
        s_low = max(mpmath.mpf(0), -top)

        def norm2(s):
            total = mpmath.mpf(0)
            for gi, di in zip(gt, gaps):
                den = s + di
                if den == 0:
                    if gi != 0:
                        return mpmath.inf
                    continue
                total += (gi / den) ** 2
            return total

        def value(s):
            den_terms = [gi * gi / (s + di) for gi, di in zip(gt, gaps) if s + di != 0]
            return mpmath.fsum(den_terms) / 2

        if norm2(s_low) <= r * r:
            mu = top + s_low
            return value(s_low) + (mu * r * r / 2 if top >= 0 else 0)
        a, b = s_low, s_low + mpmath.sqrt(mpmath.fsum(x * x for x in gm)) / r
        if a == 0:
            # geometric search for a point inside the pole region (the root may be tiny)
            a = b
            while norm2(a) <= r * r:
                a /= 2
        while b / a > 2:  # log-space bisection first: the root may be many decades below b
            mid = mpmath.sqrt(a * b)
            if norm2(mid) > r * r:
                a = mid
            else:
                b = mid
        for _ in range(4 * dps):
            mid = (a + b) / 2
            if norm2(mid) > r * r:
                a = mid
            else:
                b = mid
        s = (a + b) / 2
        return value(s) + (top + s) * r * r / 2


# ----------------------------------------------------------------------------
# SAM sharpness: projected gradient ascent
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BallMaximum:
    """Result of :func:`maximize_in_ball`.

    Attributes:
        value: best ``f(ε) − f(0)`` found (a lower bound on the maximum over the ball).
        epsilon: the maximiser found (``‖ε‖ ≤ ρ``).
        restart_values: best value of each restart (restart 0 starts at ``ρ g/‖g‖``).
        gradient_evaluations: evaluations of ``f`` and its gradient (forward + backward passes).
        converged: per restart, whether the step reached ``xtol·ρ`` before ``steps`` ran out.
    """

    value: float
    epsilon: torch.Tensor
    restart_values: list
    gradient_evaluations: int
    converged: list = field(default_factory=list)


def _project(x: torch.Tensor, rho: float) -> torch.Tensor:
    nrm = float(torch.linalg.vector_norm(x))
    return x * (rho / nrm) if nrm > rho else x


def maximize_in_ball(
    value_and_grad: Callable[[torch.Tensor], tuple[float, torch.Tensor]],
    n: int,
    rho: float,
    *,
    steps: int = 30,
    restarts: int = 2,
    seed=None,
    initial_step: float = 0.5,
    max_step: float = 4.0,
    xtol: float = 1e-10,
    dtype: torch.dtype = torch.float64,
    device=None,
) -> BallMaximum:
    """Projected gradient ascent for ``max_{‖ε‖≤ρ} f(ε) − f(0)`` with backtracking and restarts.

    Each iteration proposes ``ε' = P(ε + t ρ ∇f/‖∇f‖)`` (``P`` the projection on
    the ball, ``t`` a step in units of ρ); the proposal is accepted if it does not
    decrease ``f`` (then ``t ← min(2t, max_step)``), otherwise ``t ← t/2``.  The
    iterates are feasible and ``f`` never decreases, so the result is a lower
    bound on the maximum that improves monotonically.  Restart 0 starts at the
    first-order maximiser ``ρ ∇f(0)/‖∇f(0)‖``; the others at uniformly random
    points of the sphere ``‖ε‖ = ρ`` (seeded).

    Args:
        value_and_grad: ``ε -> (f(ε), ∇f(ε))`` on flat tensors of length ``n``.
        steps: evaluations of ``value_and_grad`` per restart (after the start).
        restarts: number of starting points (``>= 1``).
        seed: integer or ``torch.Generator`` for the random starts.
    """
    rho = check_rho(rho)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an integer >= 1, got {restarts!r}")
    if not (0 < initial_step <= max_step):
        raise ValueError(f"need 0 < initial_step <= max_step, got {initial_step}, {max_step}")
    gen = make_generator(seed)
    zero = torch.zeros(n, dtype=dtype, device=device)
    f0, g0 = value_and_grad(zero)
    evals = 1
    g0n = float(torch.linalg.vector_norm(g0))
    best_value, best_eps = 0.0, zero
    restart_values, converged = [], []
    for r in range(restarts):
        if r == 0 and g0n > 0:
            eps = g0 * (rho / g0n)
        else:
            u = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype=dtype, device=device)
            eps = u * (rho / float(torch.linalg.vector_norm(u)))
        f, g = value_and_grad(eps)
        evals += 1
        t = initial_step
        done = False
        for _ in range(steps):
            gn = float(torch.linalg.vector_norm(g))
            if gn == 0:
                done = True
                break
            cand = _project(eps + g * (t * rho / gn), rho)
            if float(torch.linalg.vector_norm(cand - eps)) <= xtol * rho:
                done = True  # projected gradient step is (numerically) zero: a KKT point
                break
            fc, gc = value_and_grad(cand)
            evals += 1
            if fc >= f:
                eps, f, g = cand, fc, gc
                t = min(2 * t, max_step)
            else:
                t /= 2
                if t * rho <= xtol * rho:
                    done = True
                    break
        restart_values.append(f - f0)
        converged.append(done)
        if f - f0 > best_value:
            best_value, best_eps = f - f0, eps
    return BallMaximum(best_value, best_eps, restart_values, evals, converged)


class ShiftedLoss:
    """``δ ↦ L(θ + δ)`` and its gradient, ``δ`` a flat perturbation of a HessianOperator's block.

    Uses the operator's data, batch weights, model mode, dtype and device, so the
    loss is the one whose Hessian the operator multiplies by.  (It reads the
    operator's internals; ask the engine for a public ``loss_at`` if they change.)
    """

    def __init__(self, op: HessianOperator) -> None:
        if not isinstance(op, HessianOperator):
            raise TypeError(f"expected a HessianOperator, got {type(op).__name__}")
        self.op = op
        self.n = op.shape[0]
        self.evaluations = 0

    def _values(self, delta: torch.Tensor) -> dict:
        parts = self.op._split(delta)
        return {name: self.op._block_values[name] + d for name, d in zip(self.op.block_names, parts)}

    def value_and_grad(self, delta: torch.Tensor) -> tuple[float, torch.Tensor]:
        leaf = delta.detach().to(device=self.op.device, dtype=self.op.dtype).requires_grad_(True)
        total, grad = 0.0, torch.zeros_like(leaf)
        with self.op._context():
            for (X, y), w in zip(self.op._batches, self.op._weights):
                loss = self.op._loss(self._values(leaf), X, y)
                (g,) = torch.autograd.grad(loss, leaf, allow_unused=True, materialize_grads=True)
                total += w * float(loss.detach())
                grad += w * g
        self.evaluations += 1
        return total, grad.detach()

    def value(self, delta: torch.Tensor) -> float:
        total = 0.0
        with torch.no_grad(), self.op._context():
            d = delta.to(device=self.op.device, dtype=self.op.dtype)
            for (X, y), w in zip(self.op._batches, self.op._weights):
                total += w * float(self.op._loss(self._values(d), X, y))
        self.evaluations += 1
        return total


def sam_ascent(op: HessianOperator, rho: float, **kwargs) -> BallMaximum:
    """SAM sharpness ``max_{‖ε‖≤ρ} L(θ+ε) − L(θ)`` of the operator's loss by :func:`maximize_in_ball`."""
    loss = ShiftedLoss(op)
    return maximize_in_ball(loss.value_and_grad, loss.n, rho, dtype=op.dtype, device=op.device, **kwargs)


# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------


def _metric(value, method: str, estimator: str, hvp_count: int, ci=None, stderr=None, confidence=None, **extra) -> dict:
    value = float(value)
    lo, hi = (value, value) if ci is None else (float(ci[0]), float(ci[1]))
    out = {"value": value, "ci_low": lo, "ci_high": hi, "stderr": 0.0 if stderr is None else float(stderr),
           "method": method, "estimator": estimator, "hvp_count": int(hvp_count)}
    if confidence is not None:
        out["confidence"] = float(confidence)
    out.update(extra)
    return out


def _from_estimate(est: Estimate, estimator: str | None = None, **extra) -> dict:
    return _metric(est.value, "stochastic", estimator or est.method, est.hvp_count, (est.ci_low, est.ci_high),
                   est.stderr, est.confidence, num_probes=est.num_probes, **extra)


def _rmed_dict(res, method: str, hvp_count: int) -> dict:
    if method == "exact":
        out = _metric(res.total.value, "exact", "dense-diagonal", hvp_count)
        out["blocks"] = {k: float(v.value) for k, v in res.blocks.items()}
    else:
        out = _from_estimate(res.total, "diagonal-probes+jackknife", plug_in=res.total.details.get("plug_in"))
        out["blocks"] = {k: {"value": float(v.value), "ci_low": float(v.ci_low), "ci_high": float(v.ci_high)}
                         for k, v in res.blocks.items()}
    out["policy"] = res.policy
    return out


def sharpness_report(
    model: torch.nn.Module,
    loss_fn,
    batch,
    *,
    exact_max_params: int = 2_000,
    seed: int = 0,
    rho: float = 0.05,
    alphas: Sequence[float] = (0.5, 1.0, 2.0),
    policy: str = "abs",
    preconditioner=None,
    num_probes: int = 100,
    deflation_rank: int = 0,
    slq_probes: int = 10,
    slq_steps: int = 80,
    sam_steps: int = 20,
    sam_restarts: int = 2,
    confidence: float = 0.95,
    params=None,
    mode: str = "eval",
    dtype: torch.dtype | None = torch.float64,
    device=None,
) -> dict:
    """Every sharpness metric (R_med, tr diag(H)^½, Rényi, SAM) of ``model`` on ``batch``.

    Each comes with its method, product count and interval.

    Args:
        model, loss_fn, batch: as for :class:`~numerics.hessian.HessianOperator`
            (``batch`` is an ``(X, y)`` pair or a list of them; ``loss_fn`` must
            return a scalar).
        exact_max_params: dense Hessian + ``eigh`` up to this many parameters,
            stochastic estimators above.
        seed: seed of every probe and random restart (use the same seed for all
            optimizers of a comparison: common random numbers).
        rho: SAM radius.
        alphas: Rényi orders (finite, ``> 0``).
        policy: ``"abs"`` or ``"clip"`` for negative eigenvalues / diagonal entries.
        preconditioner: ``None``, a flat positive vector ``D`` (length ``n``), or
            an Adam/AdamW optimizer of ``model`` (``D = sqrt(v̂) + ε`` is read from
            its state); adds ``r_med_preconditioned``.
        num_probes, deflation_rank: diagonal probes (stochastic path).
        slq_probes, slq_steps: stochastic Lanczos quadrature (stochastic path).  The
            intervals cover the probe error, not the deterministic quadrature error,
            which matters for ``α < 1`` (``|λ|^α`` has a cusp at 0 where network
            spectra pile up): on the digits MLP ``H_0.5`` was off by +0.13 nats with
            40 steps and +0.015 with 80.
        sam_steps, sam_restarts: projected-gradient ascent budget.
        params, mode, dtype, device: passed to the operator (``dtype=None``: the
            parameters' dtype; float64 is the default because the SAM differences
            ``L(θ+ε) − L(θ)`` lose ``log10(L/S)`` digits).

    Returns:
        A JSON-able dict: ``n``, ``path`` (``"exact"``/``"stochastic"``), ``loss``,
        ``grad_norm``, the settings, and per metric a dict with ``value``,
        ``ci_low``, ``ci_high``, ``stderr``, ``method``, ``estimator``,
        ``hvp_count`` -- ``trace``, ``sqrt_diag_trace``, ``renyi_entropy``
        (``{str(α): metric}``), ``r_med`` (with per-tensor ``blocks``),
        ``r_med_preconditioned`` (``None`` without a preconditioner) and ``sam``
        (``first_order``, ``second_order``, ``ascent`` -- the ascent's interval is
        ``[value, inf)``: a lower bound); ``hvp_count`` and ``seconds`` in total.

    Raises:
        ValueError: ``rho <= 0``, ``alpha <= 0``, unknown policy, non-scalar or
            non-finite loss, bad preconditioner.

    Example (a checkpoint of an Adam run; for SGD pass ``preconditioner=None``)::

        rep = sharpness_report(model, nn.CrossEntropyLoss(), eval_batches, preconditioner=adam,
                               exact_max_params=5_000, seed=seed, mode="train", device="cuda")
        rep["sqrt_diag_trace"]["value"], rep["r_med"]["value"], rep["sam"]["ascent"]["value"]
    """
    t0 = time.perf_counter()
    rho = check_rho(rho)
    alphas = [_check_finite_alpha(a) for a in alphas]
    _check_policy(policy)
    confidence = check_confidence(confidence)
    if isinstance(exact_max_params, bool) or not isinstance(exact_max_params, int) or exact_max_params < 0:
        raise ValueError(f"exact_max_params must be an integer >= 0, got {exact_max_params!r}")
    op = HessianOperator(model, loss_fn, batch, params=params, mode=mode, dtype=dtype, device=device)
    n = op.shape[0]
    if isinstance(preconditioner, torch.optim.Optimizer):
        preconditioner = adam_preconditioner_from_optimizer(preconditioner, model, op.block_names)
    D = check_preconditioner(preconditioner, n)
    gen = make_generator(seed)
    out: dict = {
        "n": n, "loss": float(op.loss_value), "policy": policy, "mode": mode,
        "dtype": str(op.dtype).replace("torch.", ""), "seed": seed, "rho": rho, "confidence": confidence,
        "block_names": list(op.block_names),
    }
    if n <= exact_max_params:
        out["path"] = "exact"
        start = op.hvp_count
        A = dense_matrix(op, max_params=None)
        hv = op.hvp_count - start
        lam = eigenvalues_of(A)
        diag = A.diagonal().double().cpu().numpy()
        del A
        out["trace"] = _metric(hessian_trace(diag), "exact", "dense-diagonal", hv)
        out["sqrt_diag_trace"] = _metric(sqrt_diag_trace(diag, policy), "exact", "dense-diagonal", hv)
        out["renyi_entropy"] = {str(a): _metric(spectral_renyi_entropy(lam, a, policy), "exact", "eigh", hv)
                                for a in alphas}
        out["r_med"] = _rmed_dict(r_med_from_diagonal(diag, op.block_slices(), None, policy, hv), "exact", hv)
        out["r_med_preconditioned"] = (
            _rmed_dict(r_med_from_diagonal(diag, op.block_slices(), D, policy, hv), "exact", hv) if D is not None
            else None
        )
        out["top_eigenvalue"] = float(lam[-1])
    else:
        out["path"] = "stochastic"
        est = diagonal_estimate(op, num_probes, deflation_rank=deflation_rank, seed=gen)
        out["trace"] = _from_estimate(trace_from_diagonal_estimate(est, confidence))
        out["sqrt_diag_trace"] = _from_estimate(
            sqrt_diag_trace_from_diagonal_estimate(est, policy, confidence), "diagonal-probes+jackknife"
        )
        out["r_med"] = _rmed_dict(
            r_med_from_diagonal_estimate(est, op.block_slices(), None, policy, confidence=confidence), "stochastic",
            est.hvp_count,
        )
        out["r_med_preconditioned"] = (
            _rmed_dict(r_med_from_diagonal_estimate(est, op.block_slices(), D, policy, confidence=confidence),
                       "stochastic", est.hvp_count) if D is not None else None
        )
        renyi = renyi_entropies_slq(op, alphas, slq_probes, slq_steps, policy=policy, seed=gen, confidence=confidence)
        out["renyi_entropy"] = {str(a): _from_estimate(e, "slq+jackknife") for a, e in renyi.items()}
    # SAM: gradient, one product for the second-order term, then the ascent
    g = op.gradient()
    gnorm = float(torch.linalg.vector_norm(g))
    out["grad_norm"] = gnorm
    sam: dict = {"rho": rho, "first_order": _metric(rho * gnorm, "closed_form", "rho*|g|", 0)}
    if gnorm > 0:
        Hg = op.matvec(g)
        sam["second_order"] = _metric(sam_second_order(g, Hg, rho), "closed_form", "rho|g|+rho^2/2 gHg/|g|^2", 1)
    else:
        sam["second_order"] = _metric(math.nan, "closed_form", "undefined at g = 0", 0)
    ascent = sam_ascent(op, rho, steps=sam_steps, restarts=sam_restarts, seed=gen)
    sam["ascent"] = _metric(
        ascent.value, "lower_bound", "projected-gradient-ascent", 0, (ascent.value, math.inf),
        gradient_evaluations=ascent.gradient_evaluations, restart_values=[float(v) for v in ascent.restart_values],
        converged=list(ascent.converged),
    )
    best = ascent.value
    sam["first_order_rel_gap"] = (best - sam["first_order"]["value"]) / best if best > 0 else math.nan
    sam["second_order_rel_gap"] = (best - sam["second_order"]["value"]) / best if best > 0 else math.nan
    out["sam"] = sam
    out["hvp_count"] = op.hvp_count
    out["seconds"] = time.perf_counter() - t0
    return out
