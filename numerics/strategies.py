"""Hypothesis strategies for the domains of the statements: distributions, spectra, PSD matrices.

Plain "list of floats, normalised" misses the thin regions where bounds break
(near-uniform, nearly two-valued, extreme magnitudes, prescribed condition
number). These strategies mix plain draws with structure-aware ones; they are
public so that users can write their own statements in a few lines.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


@st.composite
def weights_log_uniform(draw, n, min_exponent: int = -300, allow_zero: bool = True):
    """n non-negative weights spanning ``10**min_exponent .. 1`` (at least one positive)."""
    exps = draw(st.lists(st.floats(min_exponent, 0), min_size=n, max_size=n))
    w = np.power(10.0, np.array(exps))
    if allow_zero and n > 1:
        zeros = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        w = np.where(np.array(zeros) & (np.arange(n) != int(np.argmax(w))), 0.0, w)
    return w


@st.composite
def two_valued(draw, n, kappa=None, m=None):
    """m entries proportional to κ, n − m to 1: the extremal family of Thm 3.2 / Lemma 3.5."""
    if m is None:
        # balanced splits are where many bounds are tight: draw them often
        m = draw(st.one_of(st.integers(1, max(n - 1, 1)), st.just(max(n // 2, 1))))
    if kappa is None:
        kappa = draw(st.one_of(
            st.floats(1.0, 1e6),
            st.floats(-9, 0).map(lambda e: 1.0 + 10.0**e),  # κ close to 1
            st.floats(0, 40).map(lambda e: float(np.exp(e))),  # log-uniform up to e^40
        ))
    w = np.ones(n)
    w[:m] = kappa
    return _normalise(w)


@st.composite
def near_uniform(draw, n, max_rel: float = 1e-3):
    """``(1 + ε_i)/n`` with tiny relative perturbations ε_i (down to 1e-15)."""
    scale = draw(st.floats(1e-15, max_rel))
    if n > LARGE_N:
        eps = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).uniform(-1, 1, n)
        return _normalise(1.0 + scale * eps)
    eps = np.array(draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n)))
    return _normalise(1.0 + scale * eps)


#: above this length a vector's entries come from a seeded numpy generator, not one Hypothesis draw
#: each: Hypothesis caps the choices of one example (8192), so lists that long overrun it
LARGE_N = 256


def _large_distribution(draw, n: int, kind: str, positive: bool) -> np.ndarray:
    """The same kinds as :func:`distributions` for large n, entries from a drawn seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "plain":
        return _normalise(rng.uniform(1e-3 if positive else 0.0, 1.0, n) + (0.0 if positive else 1e-300))
    if kind == "logmag":
        w = 10.0 ** rng.uniform(-300, 0, n)
        if not positive:
            w[(rng.random(n) < 0.5) & (np.arange(n) != int(np.argmax(w)))] = 0.0
        return _normalise(w)
    if kind == "two":
        return draw(two_valued(n))
    if kind == "near":
        scale = draw(st.floats(1e-15, 1e-3))
        return _normalise(1.0 + scale * rng.uniform(-1, 1, n))
    spike = draw(st.floats(1e-12, 1e-1))
    w = np.full(n, spike / n)
    w[draw(st.integers(0, n - 1))] = 1.0
    return _normalise(w)


@st.composite
def distributions(draw, min_n: int = 1, max_n: int = 40, positive: bool = False):
    """Probability vectors: plain, log-uniform magnitudes, two-valued, near-uniform, point-like.

    Any ``max_n`` works: lengths above :data:`LARGE_N` draw a seed for their entries.
    """
    if not 1 <= min_n <= max_n:
        raise ValueError(f"distributions needs 1 <= min_n <= max_n, got min_n={min_n}, max_n={max_n}")
    n = draw(st.integers(min_n, max_n))
    kind = draw(st.sampled_from(["plain", "logmag", "two", "near", "spike"]))
    if n > LARGE_N:
        return _large_distribution(draw, n, kind, positive)
    if kind == "plain" or n == 1:
        w = np.array(draw(st.lists(st.floats(1e-3 if positive else 0.0, 1.0), min_size=n, max_size=n)))
        if w.sum() == 0:
            w[0] = 1.0
        return _normalise(w)
    if kind == "logmag":
        return _normalise(draw(weights_log_uniform(n, allow_zero=not positive)))
    if kind == "two":
        return draw(two_valued(n))
    if kind == "near":
        return draw(near_uniform(n))
    spike = draw(st.floats(1e-12, 1e-1))
    w = np.full(n, spike / n)
    w[draw(st.integers(0, n - 1))] = 1.0
    return _normalise(w)


@st.composite
def channel_parameters(draw, min_sigma: float = 1e-3, max_sigma: float = 1e3, max_snr: float = 1e3,
                       zero_mu: bool = True):
    """``{"mu", "sigma"}`` of the Gaussian channel ``X | Y=±1 ~ N(±μ, σ²)``, generically.

    σ log-uniform in ``[min_sigma, max_sigma]``; the SNR ``|μ|/σ`` plain in ``[0, min(8, max_snr)]``
    or log-uniform down to 1e-12 (the small-SNR regime), both signs of μ, and μ = 0 when
    ``zero_mu``. The paper's statements use a structure-aware version of this domain
    (``theorems.strategies.channel_params``).
    """
    if not (0 < min_sigma <= max_sigma and math.isfinite(max_sigma) and max_snr > 0):
        raise ValueError("channel_parameters needs 0 < min_sigma <= max_sigma < inf and max_snr > 0")
    sigma = 10.0 ** draw(st.floats(math.log10(min_sigma), math.log10(max_sigma)))
    kind = draw(st.sampled_from(["plain", "logsnr"] + (["zero"] if zero_mu else [])))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    if kind == "zero":
        return {"mu": 0.0, "sigma": sigma}
    if kind == "plain":
        snr = draw(st.floats(0.0 if zero_mu else 1e-3, min(8.0, max_snr)))
    else:
        snr = 10.0 ** draw(st.floats(-12.0, math.log10(max_snr)))
    return {"mu": sign * snr * sigma, "sigma": sigma}


@st.composite
def distribution_pairs(draw, min_n: int = 1, max_n: int = 30):
    """(p, q) of equal length; sometimes q is a tiny perturbation of p."""
    p = draw(distributions(min_n, max_n))
    if draw(st.booleans()):
        q = draw(distributions(p.size, p.size, positive=True))
    else:
        rel = draw(st.floats(1e-14, 1e-2))
        e = (np.random.default_rng(draw(st.integers(0, 2**32 - 1))).uniform(-1, 1, p.size) if p.size > LARGE_N
             else np.array(draw(st.lists(st.floats(-1, 1), min_size=p.size, max_size=p.size))))
        q = _normalise(p * (1 + rel * e) + 1e-300)
    return p, q


@st.composite
def spectra(draw, min_n: int = 2, max_n: int = 40, max_kappa: float = 1e8):
    """Positive spectra with a prescribed condition number κ (drawn log-uniformly in [1, max_kappa])."""
    n = draw(st.integers(min_n, max_n))
    log_kappa = draw(st.floats(0.0, float(np.log(max_kappa))))
    kind = draw(st.sampled_from(["uniform-log", "two-valued", "clustered"]))
    scale = 10.0 ** draw(st.floats(-6, 6))
    if kind == "two-valued":
        m = draw(st.integers(1, max(n - 1, 1)))
        t = np.zeros(n)
        t[:m] = 1.0
    elif n > LARGE_N:  # entries from a drawn seed (see LARGE_N)
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        t = rng.choice([0.0, 1.0, 0.5], n) if kind == "clustered" else rng.uniform(0, 1, n)
    elif kind == "clustered":
        t = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 0.5]), min_size=n, max_size=n)))
    else:
        t = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    if n >= 2:
        t[0], t[-1] = 0.0, 1.0  # pin both ends so κ is exactly the drawn one (up to rounding)
    return scale * np.exp(log_kappa * t)


@st.composite
def psd_matrices(draw, min_n: int = 1, max_n: int = 8, max_kappa: float = 1e6):
    """Symmetric PSD matrices ``Q diag(λ) Qᵀ`` with a random orthogonal Q and spectrum from :func:`spectra`."""
    lam = draw(spectra(max(min_n, 2), max_n, max_kappa)) if max_n >= 2 else np.ones(1)
    n = lam.size
    seed = draw(st.integers(0, 2**32 - 1))
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    k = (q * lam) @ q.T
    return (k + k.T) / 2
