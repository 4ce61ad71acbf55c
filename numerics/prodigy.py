"""Prodigy (Mishchenko & Defazio 2023), one parameter vector, in float64 and in exact rationals.

K. Mishchenko & A. Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner",
arXiv:2306.06101 (ICML 2024); the recurrence is the reference implementation's (``prodigyopt``,
``Prodigy.step``, MIT licence) with weight decay 0, no bias correction, no safeguard warm-up::

    dlr   = d·lr
    r     = β₃·r + (d/d₀)·dlr·⟨g, x₀ − x⟩          (β₃ = √β₂ by default)
    m     = β₁·m + d(1 − β₁)·g
    v     = β₂·v + d²(1 − β₂)·g²
    s     = β₃·s + (d/d₀)·dlr·g
    d̂     = d_coef·r / ‖s‖₁;   d ← max(d, d̂) on the first step (d = d₀);  d_max ← max(d_max, d̂);
    d'    = min(d_max, d·growth)
    x     ← x − dlr·m/(√v + d'ε)        (β₁ > 0)
    x     ← x − dlr·d'·g/(√v + d'ε)     (β₁ = 0, as the reference code does)

With the moving averages off (β₁ = β₂ = 0, hence β₃ = 0): v = d²g², √v = d|g|, r = (d/d₀)·dlr·⟨g, x₀−x⟩,
s = (d/d₀)·dlr·g, so d̂ = ⟨g, x₀ − x⟩/‖g‖₁ ≤ ‖x₀ − x‖∞ (Hölder: an ℓ∞ distance) and the step is

    x ← x − lr·d'·g/(|g| + ε·d'/d)  →  x − lr·d'·sign(g)   as ε → 0:

sign descent (steepest descent under ℓ∞, :mod:`numerics.steepest_descent`) with step size lr·d'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


@dataclass
class ProdigyState:
    d: float
    d0: float
    d_max: float
    r: float = 0.0
    d_hat: float = math.nan
    x0: np.ndarray | None = None
    m: np.ndarray | None = None
    v: np.ndarray | None = None
    s: np.ndarray | None = None
    history: list = field(default_factory=list)  # (d before, d after) per step


def _check(lr, eps, d0, betas, growth_rate):
    for name, v in (("lr", lr), ("eps", eps), ("d0", d0)):
        if not (isinstance(v, (int, float, Fraction)) and math.isfinite(float(v)) and float(v) > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    if len(betas) != 2 or not all(0 <= float(b) < 1 for b in betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    if not float(growth_rate) > 0:
        raise ValueError(f"growth_rate must be > 0, got {growth_rate!r}")


def prodigy_step(x, g, state: ProdigyState | None, **kw):
    """One Prodigy step in float64: returns ``(x_new, state)`` (a new state when ``state`` is None)."""
    u, state = prodigy_update(x, g, state, **kw)
    return np.asarray(x, dtype=np.float64) + u, state


def prodigy_update(x, g, state: ProdigyState | None, lr: float = 1.0, betas=(0.9, 0.999), beta3=None,
                   eps: float = 1e-8, d0: float = 1e-6, d_coef: float = 1.0, growth_rate: float = math.inf):
    """The update ``u = x_new − x`` of one Prodigy step, and the state (computed directly: ``x_new − x``
    in float loses the digits of a step much smaller than x)."""
    _check(lr, eps, d0, betas, growth_rate)
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if x.shape != g.shape or x.ndim != 1 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(g))):
        raise ValueError(f"x and g must be finite vectors of one shape, got {x.shape} and {g.shape}")
    b1, b2 = (float(b) for b in betas)
    b3 = math.sqrt(b2) if beta3 is None else float(beta3)
    if state is None:
        z = np.zeros_like(x)
        state = ProdigyState(d=float(d0), d0=float(d0), d_max=float(d0), x0=x.copy(), m=z.copy(), v=z.copy(),
                             s=z.copy())
    d = state.d
    dlr = d * lr
    r = state.r * b3 + (d / state.d0) * dlr * float(g @ (state.x0 - x))
    state.m = state.m * b1 + d * (1 - b1) * g
    state.v = state.v * b2 + d * d * (1 - b2) * g * g
    state.s = state.s * b3 + (d / state.d0) * dlr * g
    denom = float(np.sum(np.abs(state.s)))
    if denom == 0:  # the reference returns without a step
        state.history.append((d, d))
        return np.zeros_like(x), state
    state.r = r  # the reference stores the numerator only when it takes the step
    d_hat = d_coef * r / denom
    state.d_hat = d_hat
    d_new = max(d, d_hat) if d == state.d0 else d
    state.d_max = max(state.d_max, d_hat)
    d_new = min(state.d_max, d_new * growth_rate)
    state.d = d_new
    state.history.append((d, d_new))
    den = np.sqrt(state.v) + d_new * eps
    if b1 > 0:
        return -dlr * state.m / den, state
    return -dlr * d_new * g / den, state


def prodigy_run(x0, grad, steps: int, **kw):
    """``steps`` Prodigy steps on ``grad(x)``: returns ``(xs, state)`` with xs[t] the iterate after t steps."""
    xs = [np.asarray(x0, dtype=np.float64)]
    state = None
    for _ in range(int(steps)):
        x, state = prodigy_step(xs[-1], grad(xs[-1]), state, **kw)
        xs.append(x)
    return xs, state


def prodigy_zero_beta_step_exact(x, x0, g, d, d0, d_max, lr, eps, d_coef=Fraction(1)):
    """One β₁ = β₂ = 0 step (β₃ = 0, growth ∞) from the state (x₀, d, d_max), in exact rationals.

    Returns ``(update, d_new)`` with ``update = x_new − x``; ``update`` is None when ``‖g‖₁ = 0``
    (the reference takes no step). √(d²g²) = d|g| exactly since d > 0.
    """
    x, x0, g = ([Fraction(v) for v in vec] for vec in (x, x0, g))
    d, d0, d_max, lr, eps, d_coef = (Fraction(v) for v in (d, d0, d_max, lr, eps, d_coef))
    if not (d > 0 and d0 > 0 and d_max >= d and lr > 0 and eps > 0):
        raise ValueError("need d, d0, lr, eps > 0 and d_max ≥ d")
    dlr = d * lr
    r = (d / d0) * dlr * sum((a * (b - c) for a, b, c in zip(g, x0, x)), Fraction(0))
    denom = (d / d0) * dlr * sum((abs(a) for a in g), Fraction(0))
    if denom == 0:
        return None, d
    d_hat = d_coef * r / denom
    d_new = max(d_max, d_hat)  # min(max(d_max, d̂), d·growth) with growth = ∞
    return [-dlr * d_new * gi / (d * abs(gi) + d_new * eps) for gi in g], d_new
