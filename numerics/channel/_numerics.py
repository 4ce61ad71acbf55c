"""Input checks, constants and error-free (double-double) transformations for the Gaussian channel."""

from __future__ import annotations

import math

import mpmath
import numpy as np
from scipy import special

from numerics.validation import as_float_array

LOG2 = math.log(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_U_HALF = math.atanh(0.5)  # the t = ½ boundary between the t chart and the ρ chart
#: Above this SNR Φ(−s) < 1e-324: every information equals log 2 in float64
#: (see module notes) and H(Y|X) underflows.
SNR_SATURATION = 38.5
#: Grid of standard deviations (of the Gaussian mass) used as quadrature breakpoints;
#: the mass beyond 40 sd is < 2Φ(−40) ~ 1e-349, below every tolerance used here.
_SD_GRID = (-40.0, -20.0, -10.0, -6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 10.0, 20.0, 40.0)


# ----------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------

def _mu_sigma(mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast (μ, σ) after checking: finite, σ > 0, compatible shapes."""
    m = as_float_array(mu, "mu")
    s = as_float_array(sigma, "sigma")
    if (s <= 0).any():
        raise ValueError(f"sigma must be > 0, got {s[s <= 0].flat[0]!r}")
    try:
        return np.broadcast_arrays(m, s)
    except ValueError:
        raise ValueError(f"mu and sigma have incompatible shapes {m.shape} and {s.shape}") from None


def _snr(mu, sigma) -> np.ndarray:
    """``s = |μ|/σ`` (may be inf when σ is tiny relative to μ)."""
    m, s = _mu_sigma(mu, sigma)
    with np.errstate(over="ignore", under="ignore"):
        return np.abs(m) / s


# ----------------------------------------------------------------------------
# error-free transformations: the Gaussian tail Φ(−x) has relative condition
# number ~x², so at x = 30 one rounding of x = (t − μ)/σ costs 900 ulp. We carry
# x as hi + lo (exact to ~2^-104) and feed lo into the tail to first order.
# ----------------------------------------------------------------------------

_SPLITTER = 134217729.0  # 2**27 + 1 (Veltkamp)


def _split(a):
    with np.errstate(over="ignore", invalid="ignore"):
        c = _SPLITTER * a
        hi = c - (c - a)
    hi = np.where(np.isfinite(hi), hi, a)  # |a| > 1e300: no split needed, the tail underflows anyway
    return hi, a - hi


def _two_prod(a, b):
    """``a·b = p + e`` exactly (Dekker)."""
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        ah, al = _split(a)
        bh, bl = _split(b)
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, np.where(np.isfinite(e), e, 0.0)


def _two_sum(a, b):
    """``a + b = s + e`` exactly (Knuth)."""
    with np.errstate(over="ignore", invalid="ignore"):
        s = a + b
        bb = s - a
        e = (a - (s - bb)) + (b - bb)
    return s, np.where(np.isfinite(e), e, 0.0)


def _div_dd(n_hi, n_lo, d):
    """``(n_hi + n_lo)/d = q + r`` to ~2^-104 relative."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        q = n_hi / d
        p, e = _two_prod(q, d)
        r = (((n_hi - p) - e) + n_lo) / d
    return q, np.where(np.isfinite(r), r, 0.0)


def _standardize(t, m, s):
    """``(t − m)/s`` as hi + lo."""
    d_hi, d_lo = _two_sum(np.asarray(t, dtype=np.float64), -np.asarray(m, dtype=np.float64))
    return _div_dd(d_hi, d_lo, s)


def _snr_dd(mu, sigma):
    """``|μ|/σ`` as hi + lo, after the input checks."""
    m, s = _mu_sigma(mu, sigma)
    return _div_dd(np.abs(m), np.zeros_like(m), s)


def _normal_tail(x_hi, x_lo=0.0):
    """``Φ(−x)`` for ``x = x_hi + x_lo`` with a few ulp relative error (scipy's ndtr has ~x² ulp).

    For x ≥ 1: ``Φ(−x) = ½ erfcx(x/√2) e^{−x²/2}`` with ``x²/2`` split exactly into h + l, so the
    exponential is exact up to its own rounding; below 1 ``ndtr`` is accurate and the
    derivative ``−φ(x)`` carries x_lo.
    """
    x_hi = np.asarray(x_hi, dtype=np.float64)
    x_lo = np.broadcast_to(np.asarray(x_lo, dtype=np.float64), x_hi.shape)
    out = np.empty(x_hi.shape)
    big = x_hi >= 1.0
    xs, ls = x_hi[~big], x_lo[~big]
    out[~big] = special.ndtr(-xs) - np.exp(-0.5 * xs * xs) / _SQRT2PI * ls
    xb, lb = x_hi[big], x_lo[big]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        h, l = _two_prod(xb, xb)
        corr = 0.5 * l + xb * lb  # x²/2 − h/2 to first order in the tiny parts
        val = 0.5 * special.erfcx(xb / math.sqrt(2.0)) * np.exp(-0.5 * h) * (1.0 - corr)
    out[big] = np.where(np.isfinite(val), val, 0.0)
    return out


def _log_normal_tail(x_hi, x_lo=0.0):
    """``log Φ(−x)``, finite far beyond the underflow of Φ(−x)."""
    x_hi = np.asarray(x_hi, dtype=np.float64)
    x_lo = np.broadcast_to(np.asarray(x_lo, dtype=np.float64), x_hi.shape)
    out = np.empty(x_hi.shape)
    big = x_hi >= 1.0
    out[~big] = np.log(_normal_tail(x_hi[~big], x_lo[~big]))
    xb, lb = x_hi[big], x_lo[big]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # x = inf gives −inf
        h, l = _two_prod(xb, xb)
        val = np.log(0.5 * special.erfcx(xb / math.sqrt(2.0))) - 0.5 * h - (0.5 * l + xb * lb)
    out[big] = np.where(np.isnan(val), -np.inf, val)
    return out


def _out(a: np.ndarray):
    return float(a) if a.ndim == 0 else a


def _mp_snr(mu, sigma, dps: int):
    """(|μ|/σ, μ, σ) as mpf after the same checks as the float code; μ and σ are exact (a float is
    a 53-bit rational) and the quotient is formed at dps + 40 digits, so it is exact for the
    oracle whatever the caller's global mpmath precision is."""
    _mu_sigma(mu, sigma)
    if np.ndim(mu) or np.ndim(sigma):
        raise ValueError("the mpmath oracles take scalar mu and sigma")
    with mpmath.workdps(max(dps, 15) + 40):
        m, s = mpmath.mpf(float(mu)), mpmath.mpf(float(sigma))
        return abs(m) / s, m, s


def _extra_digits(s) -> int:
    """Guard digits for ``log 2 − H`` style cancellation, which loses ~2 log10(1/s) digits at small s."""
    if s == 0:
        return 10
    return 10 + max(0, int(math.ceil(-2 * float(mpmath.log10(s)))))


