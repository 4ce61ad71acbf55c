"""The result type of every stochastic estimate, and its confidence intervals.

Intervals come from *independent* probes:

* linear estimates (a trace, ``tr f(A)``): the probe mean with a Student-t
  interval, ``mean ± t_{m-1, (1+c)/2} · s / sqrt(m)``;
* non-linear functions of several probe means (entropy gap, Rényi entropy,
  ``Σ sqrt(diag)``): the delete-one jackknife (Efron & Stein 1981) --
  bias-corrected value ``m θ̂ − (m−1) θ̄_(·)`` and standard error
  ``sqrt((m−1)/m · Σ (θ_(i) − θ̄_(·))²)`` -- with the same t quantile.

The interval covers the probe (Monte Carlo) error only.  Deterministic errors
-- Lanczos quadrature error, deflation residuals -- are reported separately
(``details``) and kept small by the defaults; the tests check the intervals
against exact spectra.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A scalar estimate with its confidence interval and cost.

    Attributes:
        value: the estimate.
        ci_low, ci_high: the confidence interval (probe error only; see module doc).
        confidence: the nominal level of the interval.
        stderr: standard error of ``value``.
        hvp_count: operator products used.
        num_probes: independent probes behind the interval.
        method: short name of the estimator.
        interrupted: ``True`` when an interrupt cut the probe loop short.
        details: estimator-specific extras (budget split, deflated eigenvalues, ...).
    """

    value: float
    ci_low: float
    ci_high: float
    confidence: float
    stderr: float
    hvp_count: int
    num_probes: int
    method: str
    interrupted: bool = False
    details: dict = field(default_factory=dict, repr=False)

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2

    def contains(self, x: float) -> bool:
        return self.ci_low <= x <= self.ci_high

    def relative_error(self, exact: float) -> float:
        return abs(self.value - exact) / abs(exact)


def check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    return confidence


def t_quantile(confidence: float, dof: int) -> float:
    from scipy import stats  # imported on first use: scipy.stats costs ~1 s at import (data-parallel workers)

    return float(stats.t.ppf((1 + confidence) / 2, dof))


def mean_interval(samples, confidence: float) -> tuple[float, float, float, float]:
    """``(mean, low, high, stderr)`` of a probe mean (Student t; infinite with one sample)."""
    x = np.asarray(samples, dtype=np.float64)
    m = x.size
    mean = float(np.mean(x))
    if m < 2:
        return mean, -math.inf, math.inf, math.inf
    se = float(np.std(x, ddof=1) / math.sqrt(m))
    h = t_quantile(confidence, m - 1) * se
    return mean, mean - h, mean + h, se


def jackknife_interval(
    columns: np.ndarray, statistic: Callable[[np.ndarray], float], confidence: float
) -> tuple[float, float, float, float]:
    """Jackknife of ``statistic(mean of probe rows)``.

    Args:
        columns: ``(m, d)`` array, one row of ``d`` per-probe quantities per probe.
        statistic: maps the mean row (length ``d``) to the estimate.

    Returns:
        ``(bias-corrected value, low, high, stderr)``; with ``m < 2`` the plain
        statistic and an infinite interval.
    """
    X = np.asarray(columns, dtype=np.float64)
    m = X.shape[0]
    full = statistic(X.mean(axis=0))
    if m < 2:
        return full, -math.inf, math.inf, math.inf
    total = X.sum(axis=0)
    loo = np.array([statistic((total - X[i]) / (m - 1)) for i in range(m)])
    loo_mean = float(loo.mean())
    value = m * full - (m - 1) * loo_mean
    se = math.sqrt((m - 1) / m * float(np.sum((loo - loo_mean) ** 2)))
    h = t_quantile(confidence, m - 1) * se
    return value, value - h, value + h, se
