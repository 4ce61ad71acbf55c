"""Hypothesis domains shared by the statement modules.

Generic draws (distributions, spectra, PSD matrices) live in :mod:`numerics.strategies`;
these are the structure-aware domains of the paper's statements, built on them:
Rényi orders and PSD spectra (Def 3.1), a raised entry (Lemma 3.5), and Gaussian
channels with arbitrary classifiers and observations (Section 4). Each mixes plain
draws with the regimes where a bound is tight or a false variant shows (boundaries,
two-valued inputs, extreme magnitudes), so that a short quick check still reaches them.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from numerics.strategies import near_uniform, spectra, two_valued

INF = "inf"  # α = ∞ (min-entropy) travels as this string through the exact inputs

# ----------------------------------------------------------------------------
# Rényi orders and spectra (Def 3.1)
# ----------------------------------------------------------------------------

ALPHA_GRID = [Fraction(1, 10), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(3), Fraction(10)]


def orders(allow_inf: bool = True):
    """Rényi orders α: a grid (incl. 1 exactly), arbitrary floats in [0.05, 20], and ∞."""
    parts = [st.sampled_from(ALPHA_GRID), st.floats(0.05, 20.0).map(Fraction)]
    if allow_inf:
        parts.append(st.just(INF))
    return st.one_of(*parts)


@st.composite
def psd_spectra(draw, min_n: int = 1, max_n: int = 10, positive: bool = False, max_kappa: float | None = None):
    """Spectra of PSD matrices: generic (κ up to 1e6), identity, rank one, rank deficient, two-valued
    (κ up to e^40, or ``max_kappa``)."""
    n = draw(st.integers(min_n, max_n))
    kinds = ["generic", "identity", "two-valued", "near-identity"] + ([] if positive else ["rank-one", "zeros"])
    kind = draw(st.sampled_from(kinds))
    if n == 1 or kind == "identity":
        return np.ones(n)
    if kind == "generic":
        lam = draw(spectra(n, n, 1e6))
    elif kind == "two-valued":
        kappa = None if max_kappa is None else draw(st.one_of(
            st.floats(1.0, max_kappa), st.floats(-9, 0).map(lambda e: 1.0 + 10.0**e)))
        lam = draw(two_valued(n, kappa=kappa))
    elif kind == "near-identity":
        lam = draw(near_uniform(n, 1e-2))
    elif kind == "rank-one":
        lam = np.zeros(n)
        lam[0] = 1.0
    else:
        lam = draw(spectra(n, n, 1e4))
        zero = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        zero[int(np.argmax(lam))] = False
        lam = np.where(zero, 0.0, lam)
    return lam


@st.composite
def balanced_escort_spectra(draw):
    """m eigenvalues κ and n − m = mκ eigenvalues 1: the escort distribution at α = 1 puts mass ½ on each
    value, so Var(log p) = (log κ)²/4 and the von Neumann limit bound is sharp (ratio → 1 as α → 1)."""
    m = draw(st.integers(1, 3))
    kappa = draw(st.integers(2, 8))
    lam = np.ones(m * (1 + kappa))
    lam[:m] = float(kappa)
    return lam


def alpha_key(a):
    """Sort key of an order (∞ as math.inf)."""
    return math.inf if a == INF else a


@st.composite
def ordered_orders(draw):
    """Two orders α ≤ β (∞ last)."""
    a, b = draw(orders()), draw(orders())
    return tuple(sorted((a, b), key=alpha_key))


def orders_near_one():
    """Orders 1 ± 10^−e, e ∈ [1, 6] (exact): where H_α → H_1."""
    e = st.floats(1.0, 6.0)
    return st.tuples(st.sampled_from([1, -1]), e).map(lambda t: Fraction(1) + t[0] * Fraction(10.0 ** -t[1]))


# ----------------------------------------------------------------------------
# Distributions with one raised entry (Lemma 3.5)
# ----------------------------------------------------------------------------


@st.composite
def one_spike(draw):
    """One entry raised above the rest by a relative ε: where the misreading fails (n ≥ 3)."""
    n = draw(st.integers(2, 40))
    eps = 10.0 ** draw(st.floats(-8, 1))
    w = np.ones(n)
    w[0] += eps
    return w / w.sum()


# ----------------------------------------------------------------------------
# Gaussian binary channels, classifiers and observations (Section 4)
# ----------------------------------------------------------------------------

#: SNRs drawn stay below this: Φ(−36) ≈ 1e-284 keeps every error and entropy a normal float64
#: (subnormals below 2.2e-308 carry few digits: at s = 38 a rule's float error was off by 5e-9
#: relative, which the search would report as a violation).
MAX_SNR = 36.0

#: (μ, σ): the paper's example, μ < 0, σ > 1, small and large SNR, μ = 0
CANONICAL_CHANNELS = [(1.0, 1.0), (-1.0, 1.0), (0.5, 2.0), (3.0, 1.0), (-10.0, 4.0), (0.01, 1.0),
                      (0.0, 1.0), (20.0, 1.0), (1.0, 3.0), (-0.25, 0.5)]


def _clamp_snr(mu: float, sigma: float) -> float:
    if sigma > 0 and abs(mu) / sigma > MAX_SNR:
        return math.copysign(MAX_SNR * sigma * 0.999, mu)
    return mu


@st.composite
def channel_params(draw, zero_mu: bool = True):
    """``{"mu", "sigma"}``: a fixed set of canonical channels (drawn 2/7 of the time, so that every
    regime a false variant needs — μ < 0, σ > 1, s ≪ 1, s ≫ 1, μ = 0 — shows up in a 40-example
    run with near certainty), plain, extreme magnitudes, tiny SNR, μ = 0, and the paper's μ = σ = 1.

    The SNR |μ|/σ is kept ≤ ``MAX_SNR``; σ spans 1e-3 .. 1e3 (σ > 1 matters: a σ² in
    place of σ only shows there), μ both signs.
    """
    kinds = ["plain", "canonical", "canonical", "logmag", "small-snr", "unit"] + (["zero"] if zero_mu else [])
    kind = draw(st.sampled_from(kinds))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    if kind == "canonical":
        cases = CANONICAL_CHANNELS if zero_mu else [c for c in CANONICAL_CHANNELS if c[0] != 0]
        mu, sigma = draw(st.sampled_from(cases))
    elif kind == "plain":
        mu, sigma = draw(st.floats(-8.0, 8.0)), draw(st.floats(0.05, 5.0))
        if not zero_mu and mu == 0.0:
            mu = 1.0
    elif kind == "logmag":
        sigma = 10.0 ** draw(st.floats(-3.0, 3.0))
        mu = sign * sigma * 10.0 ** draw(st.floats(-6.0, math.log10(MAX_SNR)))
    elif kind == "small-snr":
        sigma = 10.0 ** draw(st.floats(-3.0, 3.0))
        mu = sign * sigma * 10.0 ** draw(st.floats(-12.0, -2.0))
    elif kind == "unit":
        mu, sigma = sign, 1.0
    else:
        mu, sigma = 0.0, 10.0 ** draw(st.floats(-3.0, 3.0))
    if abs(mu) < 1e-150 * sigma:
        # Hypothesis likes subnormal floats (μ = 1e-320): their SNR is below every quadrature's reach in
        # numerics.channel (information_tanh returns NaN there) and the claims are continuous at μ = 0
        mu = 0.0 if zero_mu else math.copysign(1e-150 * sigma, mu or 1.0)
    return {"mu": _clamp_snr(mu, sigma), "sigma": sigma}


def _small_offset(draw, scale: float) -> float:
    return draw(st.sampled_from([-1.0, 1.0])) * scale * 10.0 ** draw(st.floats(-12.0, -1.0))


@st.composite
def threshold_rules(draw, mu: float, sigma: float) -> dict:
    """Predict +1 iff ``x > t`` (``reverse``: iff ``x < t``); t = 0 with the Bayes orientation often."""
    bayes_reverse = mu < 0
    reverse = draw(st.one_of(st.just(bayes_reverse), st.booleans()))
    w = abs(mu) + sigma
    t = draw(st.one_of(
        st.just(0.0),
        st.floats(-3.0, 3.0).map(lambda c: c * w),
        st.just(None),  # tiny offset from the Bayes threshold
    ))
    if t is None:
        t = _small_offset(draw, w)
    return {"rule": "threshold", "t": t, "reverse": bool(reverse)}


@st.composite
def interval_rules(draw, mu: float, sigma: float) -> dict:
    """Randomised piecewise-constant rule: P(predict +1) = probs[k] on the k-th interval cut by ``edges``."""
    w = abs(mu) + 4.0 * sigma
    raw = draw(st.lists(st.floats(-1.0, 1.0), min_size=0, max_size=6))
    edges = sorted({c * w for c in raw} | ({0.0} if draw(st.booleans()) else set()))
    n = len(edges) + 1
    mode = draw(st.sampled_from(["bayes", "bayes-perturbed", "random", "deterministic"]))

    def bayes_prob(k: int) -> float:
        lo = edges[k - 1] if k > 0 else (edges[0] - 1.0 if edges else -1.0)
        hi = edges[k] if k < len(edges) else (edges[-1] + 1.0 if edges else 1.0)
        mid = 0.5 * (lo + hi)
        return 1.0 if mu * mid > 0 else (0.5 if mu * mid == 0 else 0.0)

    if mode in ("bayes", "bayes-perturbed"):
        probs = [bayes_prob(k) for k in range(n)]
        if mode == "bayes-perturbed":
            k = draw(st.integers(0, n - 1))
            probs[k] = draw(st.one_of(st.floats(0.0, 1.0), st.just(1.0 - probs[k])))
    elif mode == "random":
        probs = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    else:
        probs = [float(b) for b in draw(st.lists(st.booleans(), min_size=n, max_size=n))]
    return {"rule": "interval", "edges": edges, "probs": probs}


@st.composite
def logistic_rules(draw, mu: float, sigma: float) -> dict:
    """``P(+1 | x) = 1/(1 + e^{−(ax + b)})``: a multiple of the posterior's slope 2μ/σ² (sharp = near
    Bayes, c = 1 is the Gibbs classifier), or an arbitrary slope; |a|σ ≤ 1000 keeps quadrature sane."""
    s = abs(mu) / sigma
    if draw(st.booleans()) and mu != 0:
        c = draw(st.one_of(st.just(1.0), st.floats(-1.0, 2.5).map(lambda e: 10.0**e)))
        c = min(c, 500.0 / max(2.0 * s, 1e-300))
        a = c * 2.0 * mu / sigma**2 * draw(st.sampled_from([1.0, 1.0, -1.0]))
    else:
        a = draw(st.sampled_from([-1.0, 1.0])) * 10.0 ** draw(st.floats(-3.0, 3.0)) / sigma
    b = draw(st.one_of(st.just(0.0), st.floats(-3.0, 3.0)))
    return {"rule": "logistic", "slope": a, "intercept": b}


def bayes_rules(mu: float, sigma: float):
    """The Bayes rule itself, ``x > 0`` (``x < 0`` for μ < 0): where every error bound is tight."""
    return st.just({"rule": "threshold", "t": 0.0, "reverse": bool(mu < 0)})


@st.composite
def channels_and_rules(draw) -> dict:
    """A channel ``(μ, σ)`` and an arbitrary classifier for it (threshold, interval or logistic), the
    exact Bayes rule a quarter of the time (the bounds are tight there; a 1 % mutant only shows there)."""
    x = draw(channel_params())
    kind = draw(st.sampled_from([threshold_rules, interval_rules, logistic_rules, bayes_rules]))
    x.update(draw(kind(x["mu"], x["sigma"])))
    return x


@st.composite
def channel_observations(draw):
    """A channel ``(μ, σ)`` and an observation ``x``: plain, at 0, near 0, near a class mean, between
    the means (where MAP and "nearest mean" can differ) and far out."""
    x = draw(channel_params())
    mu, sigma = x["mu"], x["sigma"]
    kind = draw(st.sampled_from(["plain", "zero", "near-zero", "near-mean", "between", "far"]))
    if kind == "plain":
        obs = draw(st.floats(-5.0, 5.0)) * (abs(mu) + sigma)
    elif kind == "zero":
        obs = 0.0
    elif kind == "near-zero":
        obs = draw(st.sampled_from([-1.0, 1.0])) * (abs(mu) + sigma) * 10.0 ** draw(st.floats(-15.0, -1.0))
    elif kind == "near-mean":
        obs = draw(st.sampled_from([-1.0, 1.0])) * mu + sigma * draw(st.floats(-1.0, 1.0))
    elif kind == "between":  # between the class means, where the MAP label and "nearest mean" can differ
        obs = mu * draw(st.floats(-1.0, 1.0))
    else:
        obs = draw(st.sampled_from([-1.0, 1.0])) * (abs(mu) + sigma) * 10.0 ** draw(st.floats(0.0, 3.0))
    x["x"] = obs
    return x
