"""SAM sharpness ``max_{‖ε‖≤ρ} L(θ + ε) − L(θ)``: closed forms and projected-gradient ascent.

First order ``ρ‖g‖``, second order ``ρ‖g‖ + ρ²/2 · ĝᵀHĝ``, the exact maximum of the
quadratic model (a trust-region subproblem, solved through the secular equation),
each with an mpmath twin, and the ascent on a real loss that lower-bounds the true
sharpness. Used by :mod:`numerics.sharpness` and the experiments.

References: P. Foret et al., "Sharpness-aware minimization for efficiently improving
generalization", ICLR 2021; J. J. Moré and D. C. Sorensen, "Computing a trust region
step", SIAM J. Sci. Stat. Comput. 4 (1983).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import torch
from scipy.optimize import brentq

from numerics.hessian.operators import HessianOperator
from numerics.hessian.trace import make_generator
from numerics.validation import as_float_vector, as_symmetric_matrix


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
    return as_symmetric_matrix(H, "hessian", n)


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
