"""Classifiers of the Gaussian binary channel and their exact errors (Section 4).

Channel (Definition 4.1): ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``. A rule is an
input dict: ``{"rule": "threshold", "t", "reverse"}``, ``{"rule": "interval", "edges",
"probs"}`` (randomised, piecewise constant) or ``{"rule": "logistic", "slope",
"intercept"}``. This module gives each rule's float error (via :mod:`numerics.channel`)
and its exact error in a backend B (closed forms in Φ; a certified Arb integral for
logistic rules), the Bayes error ``Φ(−|μ|/σ)``, and the checks that keep a rounded or
optimiser-pushed input inside the searched domain. Used by the statements ``thm-4.2``,
``thm-4.3``, ``cor-4.4``, ``prop-4.5`` and ``sec-4.1/*`` (docs/statements.md).

Reference: Tan & Huang (2025), Section 4; Cover & Thomas (2006), §2.10 (Bayes error).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
from scipy import special

from numerics.backends import Arb
from numerics.channel import IntervalRule, RandomizedRule, ThresholdRule, decision_error
from theorems.ball_quadrature import SD_GRID, WINDOW_SD, integrate, phi, step_points
from theorems.exact_inputs import exactify

#: Examples per quick check of the Section 4 inequalities (≈1–2 s each). With the dev profile's 40, a
#: false variant survived 2 of 232 runs (Hypothesis draws few distinct regimes in 40 examples); with
#: 150, none of 232 did.
QUICK_EXAMPLES = 150


def check_channel(x: dict) -> None:
    """Raise ``ValueError`` unless the exact input has finite μ and σ > 0."""
    if "mu" not in x or "sigma" not in x:
        raise ValueError("channel input needs 'mu' and 'sigma'")
    if not float(x["sigma"]) > 0 or Fraction(x["sigma"]) <= 0:
        raise ValueError(f"sigma must be > 0, got {x['sigma']!r}")


def _logistic_rule(a: float, b: float) -> RandomizedRule:
    """Logistic rule with breakpoints around its centre −b/a (the quadrature must see a sharp step)."""
    bps = ()
    if a != 0 and math.isfinite(-b / a) and math.isfinite(1 / abs(a)):
        x0 = -b / a
        bps = tuple(p for p in (x0 + k / abs(a) for k in (-50, -20, -5, -1, 0, 1, 5, 20, 50)) if math.isfinite(p))
    return RandomizedRule(
        prob_plus=lambda x: float(special.expit(a * x + b)),
        prob_minus=lambda x: float(special.expit(-(a * x + b))),
        breakpoints=bps,
        prob_plus_mp=lambda x: 1 / (1 + mpmath.exp(-(a * x + b))),
        prob_minus_mp=lambda x: 1 / (1 + mpmath.exp(a * x + b)),
    )


def rule_of(x: dict):
    """The :mod:`numerics.channel` rule object of an input dict (float view)."""
    kind = x.get("rule")
    if kind == "threshold":
        return ThresholdRule(float(x["t"]), reverse=bool(x["reverse"]))
    if kind == "interval":
        return IntervalRule(tuple(float(e) for e in x["edges"]), tuple(float(p) for p in x["probs"]))
    if kind == "logistic":
        return _logistic_rule(float(x["slope"]), float(x["intercept"]))
    raise ValueError(f"unknown rule kind {kind!r} (expected 'threshold', 'interval' or 'logistic')")


def rule_error_float(x: dict) -> float:
    """``P(f(X) ≠ Y)`` in float64 (:func:`numerics.channel.decision_error`)."""
    return float(decision_error(rule_of(x), float(x["mu"]), float(x["sigma"])))


def flipped_rule(x: dict) -> dict:
    """The rule with every prediction swapped: its error is exactly ``1 − P_e``, and in float it keeps
    relative accuracy where ``P_e`` itself rounds to 1 (for H_b(P_e) = H_b(1 − P_e), Fano)."""
    y = dict(x)
    kind = x.get("rule")
    if kind == "threshold":
        y["reverse"] = not bool(x["reverse"])
    elif kind == "interval":
        y["probs"] = [1 - p for p in x["probs"]]  # exact for Fractions; for floats exact when p ≥ ½
    elif kind == "logistic":
        y["slope"], y["intercept"] = -x["slope"], -x["intercept"]
    else:
        raise ValueError(f"unknown rule kind {kind!r}")
    return y


def rule_size(x: dict) -> int:
    """Number of pieces of the rule (1 for thresholds and logistic rules)."""
    return len(x["edges"]) + 1 if x.get("rule") == "interval" else 1


def canonical_channel(x: dict) -> dict:
    """Keep a (rounded or optimiser-pushed) input inside the searched domain: σ > 0, SNR ≤ 37.5
    (beyond, float64 errors and entropies are subnormal and the search would only see rounding) and
    SNR = 0 or ≥ 1e-150 (numerics.channel's quadratures do not reach below);
    raises ``ValueError`` otherwise (the campaign optimiser and the rational simplifier skip such points)."""
    x = dict(x)
    check_channel(x)
    snr = abs(Fraction(x["mu"])) / Fraction(x["sigma"])
    if snr > Fraction(75, 2):
        raise ValueError("SNR |μ|/σ above 37.5 is outside the searched domain (subnormal floats)")
    if 0 < snr < Fraction(1, 10**150):
        raise ValueError("SNR |μ|/σ below 1e-150 (but not 0) is outside the searched domain")
    return x


def exact_rule_input(raw: dict) -> dict:
    """A drawn channel-and-rule input made exact (Fractions) and put back inside the domain."""
    return canonical_rule(exactify(raw))


def canonical_rule(x: dict) -> dict:
    """Re-impose the rule's constraints after rational rounding (strictly increasing edges, σ > 0)."""
    x = canonical_channel(x)
    if x.get("rule") == "interval":
        edges, probs = list(x["edges"]), list(x["probs"])
        keep_e, keep_p = [], [probs[0]]
        for e, p in zip(edges, probs[1:]):
            if keep_e and e <= keep_e[-1]:
                raise ValueError("edges collapsed by rounding")
            keep_e.append(e)
            keep_p.append(p)
        x["edges"], x["probs"] = keep_e, keep_p
    return x


def _same_side_mass(za, zb, B):
    """``Φ(zb) − Φ(za)`` for exact za ≤ zb (None = ∓∞), subtracting same-side tails only."""
    if za is None and zb is None:
        return B.num(1)
    if za is None:
        return B.ncdf(B.num(zb))
    if zb is None:
        return B.ncdf(-B.num(za))
    if za >= 0:
        return B.ncdf(-B.num(za)) - B.ncdf(-B.num(zb))
    return B.ncdf(B.num(zb)) - B.ncdf(B.num(za))


def rule_error_exact(x: dict, B):
    """``P(f(X) ≠ Y) = ½[P(f = −1 | Y = +1) + P(f = +1 | Y = −1)]`` in backend B.

    Threshold ``x > t``: ``½[Φ((t−μ)/σ) + Φ(−(t+μ)/σ)]`` (reversed: ``½[Φ((μ−t)/σ) + Φ((t+μ)/σ)]``);
    interval rule: ``½ Σ_k [(1 − p_k) P₊(I_k) + p_k P₋(I_k)]``; logistic: a quadrature
    (:func:`logistic_error_exact`).
    """
    check_channel(x)
    mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
    kind = x.get("rule")
    if kind == "threshold":
        t = Fraction(x["t"])
        m, sg, tt = B.num(mu), B.num(sigma), B.num(t)
        if x["reverse"]:
            return (B.ncdf((m - tt) / sg) + B.ncdf((tt + m) / sg)) / 2
        return (B.ncdf((tt - m) / sg) + B.ncdf(-(tt + m) / sg)) / 2
    if kind == "interval":
        edges = [Fraction(e) for e in x["edges"]]
        probs = [Fraction(p) for p in x["probs"]]
        if len(probs) != len(edges) + 1 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("interval rule needs strictly increasing edges and len(probs) = len(edges) + 1")
        if any(p < 0 or p > 1 for p in probs):
            raise ValueError("interval rule probabilities must lie in [0, 1]")
        lims = [None] + edges + [None]
        terms = []
        for (a, b), p in zip(zip(lims[:-1], lims[1:]), probs):
            def z(e, shift):
                return None if e is None else (e - shift) / sigma
            plus = _same_side_mass(z(a, mu), z(b, mu), B)
            minus = _same_side_mass(z(a, -mu), z(b, -mu), B)
            terms.append(B.num(1 - p) * plus + B.num(p) * minus)
        return B.sum(terms) / 2
    if kind == "logistic":
        return logistic_error_exact(mu, sigma, Fraction(x["slope"]), Fraction(x["intercept"]), B)
    raise ValueError(f"unknown rule kind {kind!r}")


def logistic_error_exact(mu: Fraction, sigma: Fraction, a: Fraction, b: Fraction, B):
    """Error of the logistic rule ``P(+1|x) = 1/(1 + e^{−(ax+b)})``, in backend B:

        P_err = ½ Σ_{y=±1} ∫ φ(z) / (1 + e^{y(a(yμ + σz) + b)}) dz

    (``x = yμ + σz`` given Y = y; the fraction is the probability of predicting −y). Each
    integrand is φ times a logistic step at ``z_y = (−b/a − yμ)/σ`` of width ``1/(|a|σ)``;
    breakpoints double away from z_y at that width and at ``1/(1 + |z_y|)`` (the scale on
    which φ varies there). The integrands are meromorphic (poles where the exponent is
    in iπ(2ℤ+1)), so ``acb.integral`` needs no analyticity test. Outside |z| ≤ 40 each
    integrand is at most φ: the tails add at most ``2Φ(−40)`` in all.
    """
    base = [Fraction(j) for j in SD_GRID]
    total = []
    for y in (1, -1):
        pts = list(base)
        if a != 0:
            z0 = (-b / a - y * mu) / sigma
            pts += step_points(z0, (1 / (abs(a) * sigma), Fraction(1) / (1 + math.ceil(abs(z0)))))

        def f(z, ops, analytic, y=y):
            m, sg, aa, bb = ops.num(mu), ops.num(sigma), ops.num(a), ops.num(b)
            u = aa * (y * m + sg * z) + bb
            return phi(z, ops) / (1 + ops.exp(y * u))

        if isinstance(B, Arb):
            scale = B.ncdf(-B.num(abs(mu) / sigma))  # every rule errs at least this much
            total.append(integrate(B, f, pts, tail_bound=2 * B.ncdf(B.num(-WINDOW_SD)), abs_scale=scale))
        else:
            with mpmath.workdps(B.dps + 10):
                total.append(integrate(B, f, pts))
    if isinstance(B, Arb):
        return (total[0] + total[1]) / 2
    return +((total[0] + total[1]) / 2)


def bayes_error_exact(x: dict, B):
    """``Φ(−|μ|/σ)`` in backend B."""
    check_channel(x)
    return B.ncdf(-B.num(abs(Fraction(x["mu"])) / Fraction(x["sigma"])))
