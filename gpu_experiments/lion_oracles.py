"""Arbitrary-precision oracles of one Lion / tanh-Lion step (the mathematical rule, not the code).

:func:`lion_step_mp` and :func:`tanh_lion_step_mp` evaluate one step per
coordinate in ``mpmath`` at the working precision ``mp.dps`` of the caller; the
tests compare the float64 optimizers of :mod:`gpu_experiments.optimizers`
against them.
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath

from .optimizer_defaults import DEFAULT_TEMPERATURE, TANH_LION_MODES


def _mp_sign(x) -> int:
    return (x > 0) - (x < 0)


def tanh_lion_step_mp(
    theta: Sequence[float],
    grad: Sequence[float],
    exp_avg: Sequence[float],
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.0,
    mode: str = "fixed",
    temperature: float = DEFAULT_TEMPERATURE,
    smooth_beta: float = 1.0,
    snr_beta: float = 0.99,
    eps: float = 1e-30,
    snr_noise: str = "gradient",
    grad_mean: Sequence[float] | None = None,
    grad_sq_mean: Sequence[float] | None = None,
    snr_step: int = 0,
    dps: int = 50,
) -> dict[str, list]:
    """One step of the (tanh-)Lion rule per coordinate, in ``dps``-digit arithmetic.

    The mpmath twin of ``Lion.step`` / ``TanhLion.step``: the inputs are the float
    state before the step (read exactly), the rule is the mathematical one,
    ``θ − η(u(c) + λθ)`` with the formulas of :class:`TanhLion` (``mode="sign"``
    gives Lion). Every hyperparameter enters as the exact binary value of the
    float the optimizer sees.

    Returns:
        dict with ``theta``, ``exp_avg``, ``c``, ``u`` (lists of mpf) and, for
        ``mode="snr"``, ``grad_mean``, ``grad_sq_mean``, ``mu_hat``, ``var``.
    """
    if mode not in TANH_LION_MODES + ("sign",):
        raise ValueError(f"mode must be 'sign' or one of {TANH_LION_MODES}, got {mode!r}")
    n = len(theta)
    if len(grad) != n or len(exp_avg) != n:
        raise ValueError(f"theta, grad and exp_avg must have the same length, got {n}, {len(grad)}, {len(exp_avg)}")
    with mpmath.workdps(dps):
        mpf = mpmath.mpf
        b1, b2 = mpf(betas[0]), mpf(betas[1])
        eta, lam = mpf(lr), mpf(weight_decay)
        out: dict[str, list] = {k: [] for k in ("theta", "exp_avg", "c", "u")}
        if mode == "snr":
            for k in ("grad_mean", "grad_sq_mean", "mu_hat", "var"):
                out[k] = []
            bs = mpf(snr_beta)
            t = snr_step + 1
            bias = 1 - bs**t
            unbias = 0 if t == 1 else (1 + bs) * bias / (2 * bs * (1 - bs ** (t - 1)))
            kappa = 1 if snr_noise == "gradient" else b1**2 * (1 - b2) / (1 + b2) + (1 - b1) ** 2
            gm = grad_mean if grad_mean is not None else [0.0] * n
            gs = grad_sq_mean if grad_sq_mean is not None else [0.0] * n
        for i in range(n):
            th, g, m = mpf(theta[i]), mpf(grad[i]), mpf(exp_avg[i])
            c = b1 * m + (1 - b1) * g
            if mode == "sign":
                u = mpf(_mp_sign(c))
            elif mode == "fixed":
                u = mpmath.tanh(c / mpf(temperature))
            elif mode == "optax-smooth":
                u = mpmath.tanh(mpf(smooth_beta) * c)
            else:
                a = bs * mpf(gm[i]) + (1 - bs) * g
                b = bs * mpf(gs[i]) + (1 - bs) * g * g
                mu = a / bias
                var = max(b / bias - mu * mu, 0) * unbias * kappa + mpf(eps)
                u = mpmath.tanh(c * abs(mu) / var)
                out["grad_mean"].append(a)
                out["grad_sq_mean"].append(b)
                out["mu_hat"].append(mu)
                out["var"].append(var)
            out["c"].append(c)
            out["u"].append(u)
            out["theta"].append(th - eta * (u + lam * th))
            out["exp_avg"].append(b2 * m + (1 - b2) * g)
        return out


def lion_step_mp(
    theta: Sequence[float],
    grad: Sequence[float],
    exp_avg: Sequence[float],
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.0,
    dps: int = 50,
) -> dict[str, list]:
    """One Lion step per coordinate in ``dps``-digit arithmetic (mpmath twin of ``Lion.step``).

    ``c = β₁m + (1−β₁)g``, ``θ − η(sign(c) + λθ)``, ``β₂m + (1−β₂)g``; see
    :func:`tanh_lion_step_mp`.
    """
    return tanh_lion_step_mp(
        theta, grad, exp_avg, lr=lr, betas=betas, weight_decay=weight_decay, mode="sign", dps=dps
    )
