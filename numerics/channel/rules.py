"""Decision rules (threshold, interval, randomized) and their error probabilities on the Gaussian channel."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
from scipy import special

from numerics.channel._numerics import (  # noqa: F401
    _SD_GRID,
    _SQRT2PI,
    _mu_sigma,
    _normal_tail,
    _out,
    _standardize,
)
from numerics.channel.information import (  # noqa: F401
    _quad_pieces,
    bayes_error,
)

# ----------------------------------------------------------------------------
# decision rules and their errors
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ThresholdRule:
    """Predict +1 iff ``x > threshold`` (``reverse=True``: iff ``x < threshold``).

    ``threshold = ±inf`` gives a constant rule.
    """

    threshold: float
    reverse: bool = False

    def __post_init__(self):
        if not isinstance(self.threshold, (int, float, np.floating, np.integer)) or math.isnan(self.threshold):
            raise ValueError(f"threshold must be a real number (not NaN), got {self.threshold!r}")


@dataclass(frozen=True)
class IntervalRule:
    """Randomised rule, piecewise constant: ``P(predict +1 | x) = prob_plus[k]`` on the k-th of the
    intervals ``(−inf, e_1), (e_1, e_2), ..., (e_m, inf)`` cut by the strictly increasing finite
    ``edges``; ``len(prob_plus) = len(edges) + 1``.
    """

    edges: tuple
    prob_plus: tuple

    def __post_init__(self):
        e = np.asarray(self.edges, dtype=np.float64).reshape(-1)
        p = np.asarray(self.prob_plus, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(e)):
            raise ValueError("IntervalRule edges must be finite (no NaN/inf)")
        if e.size > 1 and not np.all(np.diff(e) > 0):
            raise ValueError("IntervalRule edges must be strictly increasing")
        if p.size != e.size + 1:
            raise ValueError(f"IntervalRule needs len(prob_plus) = len(edges) + 1, got {p.size} and {e.size}")
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError("IntervalRule probabilities must lie in [0, 1]")
        object.__setattr__(self, "edges", tuple(e.tolist()))
        object.__setattr__(self, "prob_plus", tuple(p.tolist()))


@dataclass(frozen=True)
class RandomizedRule:
    """Randomised rule ``P(predict +1 | x) = prob_plus(x)`` for a callable with values in [0, 1].

    Args:
        prob_plus: float → [0, 1].
        breakpoints: points where prob_plus is not smooth (given to the quadrature).
        prob_minus: optional ``1 − prob_plus`` computed without cancellation (needed for
            relative accuracy where prob_plus ≈ 1 and the error is tiny).
        prob_plus_mp, prob_minus_mp: mpmath versions for :func:`decision_error_mp`
            (default: prob_plus applied to mpf).
    """

    prob_plus: Callable
    breakpoints: tuple = ()
    prob_minus: Callable | None = None
    prob_plus_mp: Callable | None = field(default=None, compare=False)
    prob_minus_mp: Callable | None = field(default=None, compare=False)

    def __post_init__(self):
        if not callable(self.prob_plus):
            raise TypeError("prob_plus must be callable")
        b = np.asarray(self.breakpoints, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(b)):
            raise ValueError("RandomizedRule breakpoints must be finite")
        object.__setattr__(self, "breakpoints", tuple(sorted(b.tolist())))


def logistic_rule(slope: float, intercept: float = 0.0) -> RandomizedRule:
    """``P(predict +1 | x) = 1/(1 + exp(−(slope·x + intercept)))`` (slope = 2μ/σ², intercept 0 is
    the posterior itself, i.e. the Gibbs classifier)."""
    a, b = float(slope), float(intercept)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError("logistic_rule needs finite slope and intercept")
    # a steep logistic is nearly a step at −b/a: tell the quadrature where, and on what scale
    # (a nearly flat one, |a| ~ 1e-300, needs no breakpoints and would give infinite ones)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        bps = () if a == 0 else tuple(-b / a + j / abs(a) for j in (-20.0, 0.0, 20.0))
    bps = tuple(x for x in bps if math.isfinite(x))
    return RandomizedRule(
        breakpoints=bps,
        prob_plus=lambda x: float(special.expit(a * x + b)),
        prob_minus=lambda x: float(special.expit(-(a * x + b))),
        prob_plus_mp=lambda x: 1 / (1 + mpmath.exp(-(a * x + b))),
        prob_minus_mp=lambda x: 1 / (1 + mpmath.exp(a * x + b)),
    )


def _interval_prob(a, a_lo, b, b_lo) -> np.ndarray:
    """``Φ(b) − Φ(a)`` for a ≤ b (each as hi + lo), subtracting only same-side tail probabilities."""
    a, a_lo, b, b_lo = np.broadcast_arrays(a, a_lo, b, b_lo)
    out = np.empty(a.shape)
    right = a >= 0
    left = b <= 0
    mid = ~(right | left)
    out[right] = _normal_tail(a[right], a_lo[right]) - _normal_tail(b[right], b_lo[right])
    out[left] = _normal_tail(-b[left], -b_lo[left]) - _normal_tail(-a[left], -a_lo[left])
    # a < 0 < b: two positive halves, no cancellation (erf is well conditioned: lo parts negligible)
    out[mid] = 0.5 * (special.erf(b[mid] / math.sqrt(2)) - special.erf(a[mid] / math.sqrt(2)))
    return out


def _rule_grid(rule: RandomizedRule, mu, sigma) -> list:
    """Quadrature breakpoints: μ ± kσ, −μ ± kσ, the rule's breakpoints, and around each of those
    points at the local length scale ``σ²/|b ∓ μ|`` of the Gaussian factors (far in a tail the
    integrand decays on that scale, much faster than σ). Works for floats and mpf alike."""
    lo = -abs(mu) - 40 * sigma
    hi = abs(mu) + 40 * sigma
    grid = {y * mu + j * sigma for y in (-1, 1) for j in _SD_GRID}
    for b in rule.breakpoints:
        if lo < b < hi:
            grid.add(b)
            for y in (-1, 1):
                if abs(b - y * mu) > 2 * sigma:
                    ell = sigma * sigma / abs(b - y * mu)
                    grid |= {b + c * ell for c in (-8, -1, 1, 8) if lo < b + c * ell < hi}
    return sorted(grid)


def _rule_error_scalar(rule: RandomizedRule, mu: float, sigma: float) -> float:
    def q_plus(x):
        v = float(rule.prob_plus(x))
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"rule.prob_plus({x!r}) = {v!r} is not a probability")
        return v

    def q_minus(x):
        if rule.prob_minus is None:
            return 1.0 - q_plus(x)
        v = float(rule.prob_minus(x))
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"rule.prob_minus({x!r}) = {v!r} is not a probability")
        return v

    def f(x):
        # ½ [P(predict −1 | x) φ_+(x) + P(predict +1 | x) φ_−(x)]
        zp, zm = (x - mu) / sigma, (x + mu) / sigma
        wp = math.exp(-0.5 * zp * zp) / (_SQRT2PI * sigma)
        wm = math.exp(-0.5 * zm * zm) / (_SQRT2PI * sigma)
        return 0.5 * ((q_minus(x) * wp if wp else 0.0) + (q_plus(x) * wm if wm else 0.0))

    # every rule's error is at least the Bayes error: the scale for the quadrature
    return _quad_pieces(f, _rule_grid(rule, mu, sigma), float(bayes_error(mu, sigma)), "the error of the rule")


def decision_error(rule, mu, sigma):
    """Error probability ``P(f(X) ≠ Y)`` of a (possibly randomised) decision rule.

    ``P_err = ½ [P(predict −1 | Y=+1) + P(predict +1 | Y=−1)]``:

    * :class:`ThresholdRule` (x > t): ``½[Φ((t−μ)/σ) + Φ(−(t+μ)/σ)]``, reversed
      ``½[Φ((μ−t)/σ) + Φ((t+μ)/σ)]`` (closed form; the standardised arguments carried as
      hi + lo into an erfcx-based tail, because Φ's condition number is ~x²);
    * :class:`IntervalRule`: ``½ Σ_k [(1 − p_k) P₊(I_k) + p_k P₋(I_k)]`` with the interval
      probabilities from differences of same-side tails;
    * :class:`RandomizedRule`: ``½ ∫ [(1 − q(x)) φ₊(x) + q(x) φ₋(x)] dx`` by quad with
      breakpoints at μ ± kσ and the rule's breakpoints.

    Vectorised over μ, σ. Reference: Tan & Huang (2025), Thm 4.3 (``P_err ≥ Φ(−|μ|/σ)``;
    statement ``thm-4.3`` in docs/statements.md).
    """
    m, s = _mu_sigma(mu, sigma)
    if isinstance(rule, ThresholdRule):
        t = float(rule.threshold)
        a, a_lo = _standardize(t, m, s)  # (t − μ)/σ
        b, b_lo = _standardize(t, -m, s)  # (t + μ)/σ
        if rule.reverse:  # ½[Φ(−a) + Φ(b)]
            out = 0.5 * (_normal_tail(a, a_lo) + _normal_tail(-b, -b_lo))
        else:  # ½[Φ(a) + Φ(−b)]
            out = 0.5 * (_normal_tail(-a, -a_lo) + _normal_tail(b, b_lo))
        return _out(out)
    if isinstance(rule, IntervalRule):
        edges = np.array((-np.inf,) + rule.edges + (np.inf,))
        p = np.array(rule.prob_plus)
        mm, ss = m[..., None], s[..., None]
        plus = _interval_prob(*_standardize(edges[:-1], mm, ss), *_standardize(edges[1:], mm, ss))
        minus = _interval_prob(*_standardize(edges[:-1], -mm, ss), *_standardize(edges[1:], -mm, ss))
        out = 0.5 * np.sum((1.0 - p) * plus + p * minus, axis=-1)
        return _out(out)
    if isinstance(rule, RandomizedRule):
        out = np.empty(m.shape)
        for idx in np.ndindex(m.shape):
            out[idx] = _rule_error_scalar(rule, float(m[idx]), float(s[idx]))
        return _out(out)
    raise TypeError(f"rule must be a ThresholdRule, IntervalRule or RandomizedRule, got {type(rule).__name__}")


