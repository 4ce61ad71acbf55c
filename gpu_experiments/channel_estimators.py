"""Estimators of a symmetric binary channel's information from samples of ``Z = X·Y``.

The channel is the one of Section 4 (Def. 4.1): a truth ``X ∈ {±1}`` observed through
``Y``. Every function takes an ``(n_coordinates, K)`` array whose row j holds K samples
of one coordinate's channel and returns one value per coordinate. Pure numpy (scipy for
``erf``); :mod:`gpu_experiments.gradient_channel` applies them to Lion's gradients.

Estimands. Assume, as Def. 4.1 does, a *symmetric* channel with X uniform:
``Y | X = −1`` has the mirror law of ``Y | X = +1``. We observe one X per
coordinate, so ``Z_k = X_j Y_kj`` is a sample of ``Y | X = +1`` with density f,
and the channel is

    P(X = +1 | Y = y) = f(y) / (f(y) + f(−y)),
    I(Y; X) = E_Z[ log( 2 f(Z) / (f(Z) + f(−Z)) ) ],                       (1)
    I(sign Y; X) = (1 − p₀) [log 2 − H_b(p₋ / (1 − p₀))],                   (2)

with ``p₋ = P(Z < 0)``, ``p₀ = P(Z = 0)`` (torch's sign(0) = 0 makes the sign
channel ternary, an erasure on exact zeros; with p₀ = 0 (2) is the BSC formula
``log 2 − H_b(p₋)``). For every τ > 0, ``tanh(Y/τ)`` is an injective function of
Y, so ``I(tanh(Y/τ); X) = I(Y; X)``: the information does not depend on the
temperature. What does depend on τ is how much of the update is aligned with X
when it is used *linearly* (summed over steps): the squared correlation

    ρ²(u) = E[X u(Y)]² / E[u(Y)²] = E[u(Z)]² / E[u(Z)²],                    (3)

which satisfies ``½ ρ²(u) ≤ ½ E[δ(Y)²] ≤ I(Y; X)`` (δ = E[X | Y]; Cauchy–Schwarz,
then ``I = E Σ_n δ^{2n}/(2n(2n−1))``), with equality in the first step for the
Bayes update u = δ (= tanh(μY/σ²) for the Gaussian). ρ²(sign) = (1 − 2p₋ − p₀)²
is the leading term of (2).

Estimators (per coordinate, from the K samples; all aim at *aggregate*
unbiasedness, so per-coordinate values may be negative and sums over
coordinates are what the report shows):

* (2): plug-in with the Miller–Madow correction: minus ``[(m − 1) − (m₀ − 1)]/(2K)``,
  m = occupied cells of {Z<0, Z=0, Z>0}, m₀ = occupied cells of {Z=0, Z≠0}
  (the first-order bias of ``H(u) − H(u | X)``; bias left O(1/K²)).
* (1): the resubstitution plug-in ``T = (1/K) Σ_k log(2 f̂(Z_k) / (f̂(Z_k) + f̂(−Z_k)))``
  with a Gaussian kernel density f̂ of bandwidth ``h = c · min(sd, IQR/1.349)``
  (c = 0.4), jackknifed: ``Î = K T − (K − 1) mean_k T₍₋ₖ₎`` (removes the O(1/K)
  bias of a smooth functional; Efron & Tibshirani 1993, ch. 10). For a large
  sample its target is the cross-entropy of the smoothed posterior, which is
  ≤ I(Y; X) by the variational bound: for the Gaussian channel the smoothed
  log-odds are ``2 a μ y/σ²`` with ``a = σ²/(σ² + h²)``, so the target is
  ``I_a = E[log 2 − softplus(−2 a s (s + N))]``, s = |μ|/σ, which is ≥ 0.98·I
  at c = 0.4 (≈ 1 − (1 − a)² at low SNR) (computed exactly by :func:`smoothed_gaussian_information` and
  reported next to the exact theory).
* (3): ``(ū² − S²_u/K) / mean(u²)`` (unbiased numerator).

Gaussian references (Def. 4.1, ``Z ~ N(s, 1)`` in units of σ): :func:`gaussian_fit`
(μ̂, σ̂, the noise-corrected ``ŝ² = μ̂²/σ̂² − 1/K``, normality diagnostics),
:func:`smoothed_gaussian_information` (the KDE target ``I_a``) and
:func:`gaussian_alignment` (ρ² of (3)).

Validation: ``tests/gpu_experiments/test_channel_estimators.py`` draws Gaussian
channels with known s and checks each estimator's mean over coordinates against
:func:`numerics.channel.mutual_information` / :func:`numerics.channel.information_sign`.

References: Cover & Thomas, Elements of Information Theory (2006), ch. 2 and 8;
G. Miller (1955), "Note on the bias of information estimates"; B. Efron and
R. Tibshirani, An Introduction to the Bootstrap (1993), ch. 10 (jackknife);
B. W. Silverman, Density Estimation for Statistics and Data Analysis (1986), §3.4
(the robust scale of the bandwidth); Tan & Huang (2025), Def. 4.1 and Sec. 4.1.
"""

from __future__ import annotations

import math

import numpy as np

from numerics.validation import as_float_array, check_positive

LOG2 = math.log(2.0)
#: fewest samples per coordinate for which the O(1/K) corrections mean anything
MIN_SAMPLES = 8
#: kernel bandwidth in units of min(sd, IQR/1.349) (see the module notes)
DEFAULT_BANDWIDTH = 0.4


# ----------------------------------------------------------------------------- input checks

def check_samples(z, name: str = "samples") -> np.ndarray:
    """The (n_coordinates, K) float64 array of Z = X·Y, after checks."""
    arr = as_float_array(z, name, ndim=2)  # rows: coordinates, columns: samples
    if arr.shape[1] < MIN_SAMPLES:
        raise ValueError(f"{name} needs at least {MIN_SAMPLES} samples per coordinate, got {arr.shape[1]}")
    return arr


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(p < 1, -(1 - p) * np.log1p(-np.where(p < 1, p, 0.0)), 0.0)
    return a + b


# ----------------------------------------------------------------------------- estimators

def sign_information_plugin(z) -> np.ndarray:
    """Plug-in of (2): ``(1 − p̂₀)[log 2 − H_b(p̂₋/(1 − p̂₀))]`` per coordinate (nats, biased up by ~1/(2K))."""
    z = check_samples(z)
    p0 = np.mean(z == 0, axis=1)
    pm = np.mean(z < 0, axis=1)
    nz = 1.0 - p0
    q = np.divide(pm, nz, out=np.full_like(pm, 0.5), where=nz > 0)
    return nz * (LOG2 - _binary_entropy(q))


def sign_information(z) -> np.ndarray:
    """``I(sign Y; X)`` per coordinate, plug-in of (2) with the Miller–Madow correction.

    ``I = H(u) − H(u | X)`` with u = sign(Y) ∈ {−1, 0, 1}; each plug-in entropy is
    biased by −(occupied cells − 1)/(2K) (Miller 1955), and H(u) depends on the
    data only through p₀, so the correction is ``−[(m − 1) − (m₀ − 1)]/(2K)``.
    """
    z = check_samples(z)
    k = z.shape[1]
    occupied = (np.any(z < 0, axis=1).astype(int) + np.any(z == 0, axis=1) + np.any(z > 0, axis=1))
    occupied0 = np.any(z == 0, axis=1).astype(int) + np.any(z != 0, axis=1)
    return sign_information_plugin(z) - ((occupied - 1) - (occupied0 - 1)) / (2.0 * k)


def kde_bandwidth(z, bandwidth: float = DEFAULT_BANDWIDTH) -> np.ndarray:
    """``h_j = c · min(sd, IQR/1.349)`` per coordinate (Silverman's robust scale); sd if IQR = 0."""
    z = check_samples(z)
    c = check_positive(bandwidth, "bandwidth")
    sd = z.std(axis=1, ddof=1)
    q75, q25 = np.percentile(z, [75, 25], axis=1)
    rob = (q75 - q25) / 1.349
    return c * np.where(rob > 0, np.minimum(sd, rob), sd)


def information_kde(z, bandwidth: float = DEFAULT_BANDWIDTH, chunk: int = 64) -> np.ndarray:
    """``I(Y; X)`` per coordinate: jackknifed resubstitution estimate of (1) with a Gaussian KDE.

    ``A_l = Σ_m κ((Z_l − Z_m)/h)``, ``B_l = Σ_m κ((Z_l + Z_m)/h)`` (∝ f̂(Z_l), f̂(−Z_l)),
    ``T = mean_l log(2A_l/(A_l + B_l))``; removing sample k subtracts the k-th column:
    ``T₍₋ₖ₎ = mean_{l≠k} log(2(A_l − P_lk)/(A_l − P_lk + B_l − Q_lk))``, and the estimate is
    ``K T − (K − 1) mean_k T₍₋ₖ₎``. Cost O(K²) per coordinate. Coordinates with zero
    spread (h = 0) carry no information and get 0.
    """
    z = check_samples(z)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    n, k = z.shape
    h = kde_bandwidth(z, bandwidth)
    out = np.zeros(n)
    live = np.flatnonzero(h > 0)
    diag = np.arange(k)
    for a in range(0, live.size, chunk):
        rows = live[a:a + chunk]
        u = z[rows] / h[rows, None]
        p = np.exp(-0.5 * (u[:, :, None] - u[:, None, :]) ** 2)
        q = np.exp(-0.5 * (u[:, :, None] + u[:, None, :]) ** 2)
        big_a, big_b = p.sum(axis=2), q.sum(axis=2)
        full = np.mean(np.log(2.0 * big_a / (big_a + big_b)), axis=1)
        a_loo = big_a[:, :, None] - p  # [coordinate, l, k]: ≥ P_ll = 1 for l ≠ k
        b_loo = np.maximum(big_b[:, :, None] - q, 0.0)  # rounding can leave −1e-16
        a_loo[:, diag, diag] = 1.0  # the l = k terms are dropped below; keep the log finite
        logs = np.log(2.0 * a_loo / (a_loo + b_loo))
        logs[:, diag, diag] = 0.0
        loo = logs.sum(axis=1) / (k - 1)
        out[rows] = k * full - (k - 1) * loo.mean(axis=1)
    return out


def update_alignment(z, tau=None) -> np.ndarray:
    """ρ² of (3) per coordinate for ``u = sign`` (tau=None), ``tanh(Z/τ)`` (τ > 0) or ``u = Z`` (τ = inf).

    ``(ū² − S²_u/K) / mean(u²)``; 0 where u ≡ 0. τ may be a scalar or one value per coordinate.
    """
    z = check_samples(z)
    if tau is None:
        u = np.sign(z)
    else:
        t = np.asarray(tau, dtype=np.float64)
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != z.shape[0]):
            raise ValueError(f"tau must be a scalar or have one entry per coordinate ({z.shape[0]}), "
                             f"got shape {t.shape}")
        if np.isnan(t).any() or (t <= 0).any():
            raise ValueError("tau must be > 0 (inf for u = Y)")
        t = t.reshape(-1, 1) if t.ndim == 1 else t
        u = z.copy() if np.all(np.isinf(t)) else np.tanh(z / t)
    k = z.shape[1]
    mean, second = u.mean(axis=1), np.mean(u * u, axis=1)
    var = u.var(axis=1, ddof=1)
    return np.divide(mean**2 - var / k, second, out=np.zeros_like(mean), where=second > 0)


def signed_correlation(u: np.ndarray) -> np.ndarray:
    """``ū / √mean(u²)`` per row, the sample ``E[Xu]/√E[u²]`` (bias O(1/K)); 0 where u ≡ 0."""
    second = np.mean(u * u, axis=1)
    return np.divide(u.mean(axis=1), np.sqrt(second), out=np.zeros(u.shape[0]), where=second > 0)


def gaussian_fit(z) -> dict:
    """μ̂, σ̂ (ddof 1), the bias-corrected ``ŝ² = μ̂²/σ̂² − 1/K``, skewness and excess kurtosis of Z."""
    z = check_samples(z)
    k = z.shape[1]
    mu = z.mean(axis=1)
    sigma = z.std(axis=1, ddof=1)
    live = sigma > 0
    safe = np.where(live, sigma, 1.0)
    snr2 = np.where(live, (mu / safe) ** 2 - 1.0 / k, 0.0)
    c = (z - mu[:, None]) / z.std(axis=1)[:, None].clip(min=np.finfo(float).tiny)
    skew = np.where(live, np.mean(c**3, axis=1), 0.0)
    kurt = np.where(live, np.mean(c**4, axis=1) - 3.0, 0.0)
    return {"mu": mu, "sigma": sigma, "snr2": snr2, "skewness": skew, "excess_kurtosis": kurt,
            "zero_fraction": np.mean(z == 0, axis=1), "degenerate": ~live}


_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(96)
_GH_W = _GH_W / _GH_W.sum()


def smoothed_gaussian_information(s, a) -> np.ndarray:
    """``I_a(s) = E[log 2 − softplus(−2 a s (s + N))]``, N ~ N(0, 1): the cross-entropy information of the
    posterior with log-odds ``2 a s y`` (a = 1 is I(Y; X)); the large-sample target of :func:`information_kde`
    on a Gaussian channel with ``a = σ²/(σ² + h²)``. Gauss–Hermite (96 nodes; the integrand is smooth)."""
    s = np.asarray(s, dtype=np.float64)[..., None]
    a = np.asarray(a, dtype=np.float64)[..., None]
    v = -2.0 * a * s * (s + _GH_X)
    return np.sum(_GH_W * (LOG2 - np.logaddexp(0.0, v)), axis=-1)


_TRAP_X = np.linspace(-12.0, 12.0, 2401)
_TRAP_W = np.exp(-0.5 * _TRAP_X**2)
_TRAP_W = _TRAP_W / _TRAP_W.sum()


def gaussian_alignment(s, tau_over_sigma=None) -> np.ndarray:
    """ρ² of (3) for the Gaussian channel at SNR s: sign: ``erf(s/√2)²``; τ = inf: ``s²/(1+s²)``;
    tanh(Y/τ): ``E[tanh((s+N)/t)]² / E[tanh²((s+N)/t)]``, t = τ/σ, by the trapezoid rule on N ∈ [−12, 12]
    (step 0.01: exact to rounding for t ≥ 0.05 since the integrand is analytic in a strip)."""
    from scipy.special import erf

    s = np.asarray(s, dtype=np.float64)
    if tau_over_sigma is None:
        return erf(s / math.sqrt(2.0)) ** 2
    t = np.broadcast_to(np.asarray(tau_over_sigma, dtype=np.float64), s.shape)
    if np.all(np.isinf(t)):
        return s * s / (1.0 + s * s)
    out = np.empty(s.shape)
    for a in range(0, s.size, 2048):
        ss, tt = s.flat[a:a + 2048][:, None], t.flat[a:a + 2048][:, None]
        u = np.tanh((ss + _TRAP_X) / tt)
        out.flat[a:a + 2048] = np.sum(_TRAP_W * u, axis=1) ** 2 / np.sum(_TRAP_W * u * u, axis=1)
    return out
