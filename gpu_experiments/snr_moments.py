"""Scalars of tanh-Lion's ``"snr"`` mode: bias corrections of exponential moving averages.

See :class:`gpu_experiments.optimizers.TanhLion` for how they enter the step.
"""

from __future__ import annotations

import math


def one_minus_power(beta: float, t: int) -> float:
    """``1 − β^t`` without cancellation when ``t(1 − β)`` is small."""
    if beta == 0.0:
        return 1.0
    return -math.expm1(t * math.log(beta))


def weighted_variance_unbias_factor(beta: float, t: int) -> float:
    """``1 / (1 − Σ w_k²)`` for the bias-corrected EMA weights after ``t`` samples.

    The zero-initialised EMA with decay β, divided by ``1 − β^t``, is the weighted
    mean with weights ``w_k = (1−β) β^{t−k} / (1 − β^t)`` (k = 1…t, Σw = 1). For
    i.i.d. samples of variance σ², the weighted second moment minus the squared
    weighted mean has expectation ``σ² (1 − Σw²)``, and

        Σw² = (1−β)(1+β^t) / ((1+β)(1−β^t)),
        1 / (1 − Σw²) = (1+β)(1−β^t) / (2β (1−β^{t−1})).

    It is infinite at t = 1 (one sample says nothing about the variance); this
    function returns 0 there, which the ``"snr"`` mode uses to set σ̂² = 0 at the
    first step. For t → ∞ it tends to (1+β)/(2β) (1.005 at β = 0.99).
    """
    if t < 1:
        raise ValueError(f"t must be >= 1, got {t}")
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must lie in (0, 1), got {beta!r}")
    if t == 1:
        return 0.0
    return (1.0 + beta) * one_minus_power(beta, t) / (2.0 * beta * one_minus_power(beta, t - 1))


def snr_momentum_variance_factor(beta1: float, beta2: float) -> float:
    """κ with ``Var(c) = κ Var(g)`` for i.i.d. gradients and a stationary momentum.

    ``m = (1−β₂) Σ_k β₂^k g_{t−k}`` has variance ``σ² (1−β₂)/(1+β₂)``, and
    ``c = β₁ m + (1−β₁) g_t`` with ``g_t`` independent of ``m``:
    ``κ = β₁² (1−β₂)/(1+β₂) + (1−β₁)²`` (0.0141 at the default betas).
    """
    return beta1 * beta1 * (1.0 - beta2) / (1.0 + beta2) + (1.0 - beta1) ** 2
