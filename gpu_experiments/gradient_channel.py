"""Information check on real training: the channel of Section 4 measured on Lion's gradients.

The question. Section 4 reads Lion's update as the output of a binary channel: the
true descent direction ``X ∈ {±1}`` of a coordinate is observed through a noisy
signal ``Y | X ~ N(μX, σ²)``; Lion keeps ``sign(Y)``, tanh-Lion a tanh of Y, and
Sec. 4.1 says the tanh keeps all of ``I(Y; X)`` while the sign keeps only
``I(sign Y; X) = log 2 − H_b(Φ(−|μ|/σ))`` (ratio → π/2 at low SNR). Here both
informations are measured on gradients recorded from a real Lion run, next to
the Gaussian theory of :mod:`numerics.channel`.

Set-up (per architecture; :func:`record_gradient_channel`):

* Train with Lion (lr 3e-4, betas (0.9, 0.99), no weight decay, constant lr,
  batch 64, ``drop_last``) on the embedded digits data. Before every step t the
  *full-batch* gradient ``G(θ_t)`` is computed (the mean of the mini-batch
  gradients over a fixed partition of the 1437 training images into batches of
  64, weighted by batch size: with batch norm this is the mean signal of a
  mini-batch gradient, which a single 1437-image forward pass is not), and the
  full-batch momentum ``M_t = β₂ M_{t−1} + (1 − β₂) G(θ_{t−1})`` is kept
  (M_0 = 0): M_t is the noise-free twin of the momentum Lion holds when it
  receives the mini-batch gradient at θ_t.
* At each checkpoint (default 25/50/100 % of the steps), θ fixed, the truth is
  ``X_j = sign(M_t,j)`` and ``K`` (default 256) independent mini-batches of 64
  (uniform without replacement) give the observations ``Y_kj = g_kj``, the
  mini-batch gradient (the issue's "mini-batch signal"). Batch-norm running
  statistics are restored after every gradient, so sampling does not move the model.

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
is the leading term of (2). We report ρ² for sign, for tanh(Y/τ) at a few
global temperatures τ (multiples of the median σ̂ over coordinates), and for
u = Y (τ → ∞).

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

I and ρ² are blind to the sign of μ (a channel that reverses X is as informative),
while a descent step is not; the report therefore also gives the mean signed
correlation ``E[Xu]/√E[u²]`` (u = sign Y and u = Y) and the fraction of coordinates
with μ̂ < 0 (mean mini-batch gradient against the momentum's sign). Coordinates with
``M_j = 0`` exactly (structurally zero gradients, e.g. the outer taps of a 3x3 conv
at 1x1 resolution, ~61 % of the width-4 ResNet-18) have no truth and are left out.

Gaussian theory (per coordinate, through :mod:`numerics.channel`): μ̂ = mean Z,
σ̂ = sd Z, and the bias-corrected ``ŝ² = μ̂²/σ̂² − 1/K`` (E[μ̂²] = μ² + σ²/K).
Every theory value F(s) (~ k s² at small s) is evaluated as
``sign(ŝ²) F(√|ŝ²|)``, the linear continuation in s² to negative ŝ², so that
coordinates with no signal contribute zero on average instead of a positive
bias. Normality diagnostic: sample skewness and excess kurtosis of Z.

Validation: ``tests/gpu_experiments/test_gradient_channel.py`` draws Gaussian
channels with known s and checks each estimator's mean over coordinates against
:func:`numerics.channel.mutual_information` / :func:`information_sign`.

References: Cover & Thomas, Elements of Information Theory (2006), ch. 2 and 8;
G. Miller (1955), "Note on the bias of information estimates"; B. Efron and
R. Tibshirani, An Introduction to the Bootstrap (1993), ch. 10 (jackknife);
Tan & Huang (2025), Def. 4.1 and Sec. 4.1 (statements ``sec-4.1/*`` in docs/statements.md).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from numerics.channel import information_sign, mutual_information
from numerics.validation import as_float_array, check_positive

LOG2 = math.log(2.0)
#: fewest samples per coordinate for which the O(1/K) corrections mean anything
MIN_SAMPLES = 8
#: kernel bandwidth in units of min(sd, IQR/1.349) (see the module notes)
DEFAULT_BANDWIDTH = 0.4
#: global tanh temperatures, in units of the median σ̂ over the coordinates
DEFAULT_TAU_FACTORS = (0.1, 1.0, 10.0)
#: |μ|/σ above this is "large", below SMALL_SNR "small" in the report
LARGE_SNR, SMALL_SNR = 1.0, 0.1

#: the architectures of presets/cpu_small.toml
MODEL_OPTIONS = {
    "resnet18": {"width": 4, "blocks_per_stage": [2, 2, 2, 2]},
    "vit": {"patch_size": 2, "dim": 32, "depth": 2, "heads": 4, "mlp_dim": 64},
    "mlp": {"hidden": 16},
    "cnn": {"channels": 4},
}
LION_LR, LION_BETAS = 3e-4, (0.9, 0.99)


# ----------------------------------------------------------------------------- input checks

def _check_samples(z, name: str = "samples") -> np.ndarray:
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
    z = _check_samples(z)
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
    z = _check_samples(z)
    k = z.shape[1]
    occupied = (np.any(z < 0, axis=1).astype(int) + np.any(z == 0, axis=1) + np.any(z > 0, axis=1))
    occupied0 = np.any(z == 0, axis=1).astype(int) + np.any(z != 0, axis=1)
    return sign_information_plugin(z) - ((occupied - 1) - (occupied0 - 1)) / (2.0 * k)


def kde_bandwidth(z, bandwidth: float = DEFAULT_BANDWIDTH) -> np.ndarray:
    """``h_j = c · min(sd, IQR/1.349)`` per coordinate (Silverman's robust scale); sd if IQR = 0."""
    z = _check_samples(z)
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
    z = _check_samples(z)
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
    z = _check_samples(z)
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


def _signed_correlation(u: np.ndarray) -> np.ndarray:
    second = np.mean(u * u, axis=1)
    return np.divide(u.mean(axis=1), np.sqrt(second), out=np.zeros(u.shape[0]), where=second > 0)


def gaussian_fit(z) -> dict:
    """μ̂, σ̂ (ddof 1), the bias-corrected ``ŝ² = μ̂²/σ̂² − 1/K``, skewness and excess kurtosis of Z."""
    z = _check_samples(z)
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


def _signed(fn, snr2) -> np.ndarray:
    """``sign(s²) F(√|s²|)``: F's linear continuation in s² to negative (noise-corrected) s²."""
    s2 = np.asarray(snr2, dtype=np.float64)
    return np.sign(s2) * fn(np.sqrt(np.abs(s2)))


def _mi(s):
    s = np.asarray(s, dtype=np.float64)
    return np.asarray(mutual_information(s, 1.0), dtype=np.float64) if s.size else s


def _isign(s):
    s = np.asarray(s, dtype=np.float64)
    return np.asarray(information_sign(s, 1.0), dtype=np.float64) if s.size else s


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


# ----------------------------------------------------------------------------- analysis of one checkpoint

def analyse_channel(z, *, bandwidth: float = DEFAULT_BANDWIDTH, tau_factors=DEFAULT_TAU_FACTORS) -> dict:
    """Aggregates over the coordinates of one checkpoint (see the module notes for every estimator).

    Args:
        z: (n_coordinates, K) samples of ``Z = X·Y``.
        bandwidth: KDE bandwidth factor c.
        tau_factors: global temperatures τ = factor · median σ̂.

    Returns:
        dict of JSON-ready numbers: sums/means of the empirical and Gaussian-theory informations,
        ratios, SNR fractions, normality diagnostics, alignments.
    """
    z = _check_samples(z)
    n, k = z.shape
    fit = gaussian_fit(z)
    keep = ~fit["degenerate"]
    zk = z[keep]
    if zk.shape[0] == 0:
        raise ValueError("every coordinate has zero spread: nothing to measure")
    snr2 = fit["snr2"][keep]
    sigma = fit["sigma"][keep]
    h = kde_bandwidth(zk, bandwidth)
    a = sigma**2 / (sigma**2 + h**2)
    emp_sign = sign_information(zk)
    emp_y = information_kde(zk, bandwidth)
    th_y = _signed(_mi, snr2)
    th_sign = _signed(_isign, snr2)
    th_target = np.sign(snr2) * smoothed_gaussian_information(np.sqrt(np.abs(snr2)), a)
    snr = np.sqrt(np.clip(snr2, 0.0, None))

    def stats(x):
        return {"sum": float(np.sum(x)), "mean": float(np.mean(x)),
                "se_mean": float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")}

    def ratio(num, den):
        return float(num / den) if den > 0 else float("nan")

    med_sigma = float(np.median(sigma))
    alignment = {"sign": {"empirical": float(np.mean(update_alignment(zk))),
                          "gaussian": float(np.mean(_signed(gaussian_alignment, snr2)))},
                 "identity": {"empirical": float(np.mean(update_alignment(zk, math.inf))),
                              "gaussian": float(np.mean(_signed(lambda s: gaussian_alignment(s, math.inf), snr2)))}}
    for f in tau_factors:
        tau = check_positive(f, "tau factor") * med_sigma
        alignment[f"tanh(Y/{f:g}·median σ)"] = {
            "tau": tau,
            "empirical": float(np.mean(update_alignment(zk, tau))),
            "gaussian": float(np.mean(_signed(lambda s: gaussian_alignment(s, tau / sigma), snr2))),
        }
    out = {
        "coordinates": int(n), "measured_coordinates": int(zk.shape[0]),
        "degenerate_coordinates": int(n - zk.shape[0]), "mini_batches": int(k),
        "bandwidth_factor": float(bandwidth),
        "I_sign_empirical": stats(emp_sign), "I_Y_empirical": stats(emp_y),
        "I_sign_gaussian": stats(th_sign), "I_Y_gaussian": stats(th_y),
        "I_Y_gaussian_at_kde_bandwidth": stats(th_target),
        "ratio_I_Y_over_I_sign_empirical": ratio(np.sum(emp_y), np.sum(emp_sign)),
        "ratio_I_Y_over_I_sign_gaussian": ratio(np.sum(th_y), np.sum(th_sign)),
        "empirical_over_gaussian_I_sign": ratio(np.sum(emp_sign), np.sum(th_sign)),
        "empirical_over_gaussian_I_Y_at_bandwidth": ratio(np.sum(emp_y), np.sum(th_target)),
        "fraction_snr_large": float(np.mean(snr > LARGE_SNR)),
        "fraction_snr_small": float(np.mean(snr < SMALL_SNR)),
        "snr_quantiles": {q: float(np.quantile(snr, float(q))) for q in ("0.1", "0.5", "0.9", "0.99")},
        "fraction_mean_against_truth": float(np.mean(fit["mu"][keep] < 0)),
        # I and ρ² are blind to the sign of μ (a channel that flips X is as informative); for a descent
        # step the sign matters: mean over coordinates of E[Xu]/√E[u²] (ū/√mean u², bias O(1/K))
        "mean_signed_correlation_sign": float(np.mean(_signed_correlation(np.sign(zk)))),
        "mean_signed_correlation_identity": float(np.mean(_signed_correlation(zk))),
        "fraction_exact_zero_samples": float(np.mean(fit["zero_fraction"][keep])),
        "median_skewness": float(np.median(fit["skewness"][keep])),
        "median_abs_skewness": float(np.median(np.abs(fit["skewness"][keep]))),
        "median_excess_kurtosis": float(np.median(fit["excess_kurtosis"][keep])),
        "fraction_excess_kurtosis_above_1": float(np.mean(fit["excess_kurtosis"][keep] > 1.0)),
        # the sampling distribution of the excess kurtosis of K Gaussian samples has sd ≈ √(24/K)
        "kurtosis_sd_under_normality": math.sqrt(24.0 / k),
        "median_sigma": med_sigma,
        "alignment_rho2": alignment,
    }
    return out


# ----------------------------------------------------------------------------- recording a Lion run

def _progress(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _flat_grad(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for p in model.parameters() if p.requires_grad])


def _batch_gradient(model, buffers, x, y) -> torch.Tensor:
    """Gradient of the mean cross-entropy on (x, y) in train mode; batch-norm running statistics restored."""
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    with torch.no_grad():
        for b, saved in buffers:
            b.copy_(saved)
    return _flat_grad(model).to(torch.float64)


def _snapshot_buffers(model):
    return [(b, b.detach().clone()) for b in model.buffers()]


def full_batch_gradient(model, x, y, batch_size: int) -> torch.Tensor:
    """Size-weighted mean of the mini-batch gradients over the fixed partition of (x, y) into batches."""
    buffers = _snapshot_buffers(model)
    total = None
    for a in range(0, x.shape[0], batch_size):
        g = _batch_gradient(model, buffers, x[a:a + batch_size], y[a:a + batch_size]) * min(batch_size, x.shape[0] - a)
        total = g if total is None else total + g
    return total / x.shape[0]


def record_gradient_channel(arch: str, *, epochs: int = 8, seed: int = 0, mini_batches: int = 256,
                            checkpoints=(25, 50, 100), batch_size: int = 64, max_coordinates: int = 20_000,
                            bandwidth: float = DEFAULT_BANDWIDTH, tau_factors=DEFAULT_TAU_FACTORS,
                            model_options: dict | None = None, quiet: bool = False) -> dict:
    """Train ``arch`` with Lion on digits, keep the full-batch momentum, and analyse the channel at checkpoints.

    Args:
        arch: an architecture of :func:`gpu_experiments.models.build_model`.
        epochs, batch_size: the run (steps per epoch = floor(1437 / batch_size)).
        seed: model initialisation, data order, mini-batch draws and the coordinate subsample.
        mini_batches: K, mini-batch gradients drawn per checkpoint.
        checkpoints: percentages of the total steps (1..100).
        max_coordinates: analyse a fixed random subset of this many coordinates (all if fewer).
        bandwidth, tau_factors: see :func:`analyse_channel`.
        model_options: size options (default :data:`MODEL_OPTIONS`).

    Returns:
        JSON-ready dict with the configuration and one :func:`analyse_channel` entry per checkpoint,
        plus the training loss/accuracy and the sign agreement of M with the current full-batch gradient.
    """
    from .data import epoch_permutation, load_dataset
    from .models import build_model
    from .optimizers import Lion

    for name, v in (("epochs", epochs), ("mini_batches", mini_batches), ("batch_size", batch_size),
                    ("max_coordinates", max_coordinates)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if mini_batches < MIN_SAMPLES:
        raise ValueError(f"mini_batches must be at least {MIN_SAMPLES}, got {mini_batches}")
    cps = sorted({int(c) for c in checkpoints})
    if not cps or cps[0] < 1 or cps[-1] > 100 or any(float(c) != int(c) for c in checkpoints):
        raise ValueError(f"checkpoints must be integer percentages in 1..100, got {list(checkpoints)}")
    options = dict(MODEL_OPTIONS.get(arch, {}) if model_options is None else model_options)

    torch.manual_seed(seed)
    data = load_dataset("digits", image_size=8, channels=1)
    x, y = data.x_train, data.y_train
    n_train = x.shape[0]
    if batch_size > n_train:
        raise ValueError(f"batch_size {batch_size} exceeds the {n_train} training images")
    model = build_model(arch, in_channels=1, image_size=8, num_classes=data.num_classes, **options)
    model.train()
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = Lion(model.parameters(), lr=LION_LR, betas=LION_BETAS)
    steps_per_epoch = n_train // batch_size
    total_steps = epochs * steps_per_epoch
    cp_steps = {max(1, round(c * total_steps / 100)): c for c in cps}
    rng = np.random.default_rng(seed)
    coords = np.sort(rng.choice(n_params, size=max_coordinates, replace=False)) if n_params > max_coordinates \
        else np.arange(n_params)
    coords_t = torch.as_tensor(coords)
    beta2 = LION_BETAS[1]
    momentum = torch.zeros(n_params, dtype=torch.float64)
    results = []
    t0 = time.time()
    _progress(f"[channel] {arch}: {n_params} parameters, {total_steps} Lion steps, checkpoints at steps "
              f"{sorted(cp_steps)}, {coords.size} coordinates analysed", quiet)
    step = 0
    for epoch in range(epochs):
        perm = epoch_permutation(n_train, seed, epoch)
        for b in range(steps_per_epoch):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            g_full = full_batch_gradient(model, x, y, batch_size)
            momentum.mul_(beta2).add_(g_full, alpha=1.0 - beta2)  # M_{t+1}: noise-free twin of Lion's m
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            step += 1
            if step in cp_steps:
                results.append(_checkpoint(model, x, y, momentum, coords_t, step, cp_steps[step], mini_batches,
                                           batch_size, rng, bandwidth, tau_factors, quiet, t0))
        _progress(f"[channel] {arch}: epoch {epoch + 1}/{epochs} done, last batch loss {loss.item():.3f} "
                  f"({time.time() - t0:.0f} s)", quiet)
    return {
        "arch": arch, "model_options": options, "parameters": int(n_params), "seed": int(seed),
        "epochs": int(epochs), "batch_size": int(batch_size), "steps": int(total_steps),
        "optimizer": {"name": "lion", "lr": LION_LR, "betas": list(LION_BETAS), "weight_decay": 0.0,
                      "schedule": "constant"},
        "mini_batches": int(mini_batches), "coordinates_analysed": int(coords.size),
        "coordinate_subsample": bool(coords.size < n_params), "bandwidth_factor": float(bandwidth),
        "tau_factors": [float(f) for f in tau_factors], "checkpoints": results,
        "wall_seconds": round(time.time() - t0, 1),
    }


def _checkpoint(model, x, y, momentum, coords, step, percent, k, batch_size, rng, bandwidth, tau_factors, quiet, t0):
    t1 = time.time()
    n_train = x.shape[0]
    truth = torch.sign(momentum[coords])
    buffers = _snapshot_buffers(model)
    samples = np.empty((coords.numel(), k))
    for i in range(k):
        idx = torch.as_tensor(rng.choice(n_train, size=batch_size, replace=False))
        samples[:, i] = (_batch_gradient(model, buffers, x[idx], y[idx])[coords] * truth).numpy()
    g_now = full_batch_gradient(model, x, y, batch_size)[coords]
    with torch.no_grad():
        was = model.training
        model.eval()
        logits = model(x)
        model.train(was)
    train_loss = float(F.cross_entropy(logits, y))
    train_acc = float((logits.argmax(1) == y).float().mean())
    undefined = (truth == 0).numpy()
    _progress(f"[channel]   step {step} ({percent} %): {k} mini-batch gradients in {time.time() - t1:.0f} s; "
              f"estimating ...", quiet)
    stats = analyse_channel(samples[~undefined], bandwidth=bandwidth, tau_factors=tau_factors)
    stats.update({
        "step": int(step), "percent": int(percent), "train_loss_eval_mode": train_loss,
        "train_accuracy_eval_mode": train_acc, "coordinates_with_zero_momentum": int(undefined.sum()),
        "fraction_sign_M_equals_sign_G": float(np.mean((torch.sign(g_now) == truth).numpy()[~undefined])),
    })
    _progress(f"[channel]   step {step}: I_sign {stats['I_sign_empirical']['mean']:.5f} vs "
              f"I_Y {stats['I_Y_empirical']['mean']:.5f} nats/coordinate (Gaussian theory "
              f"{stats['I_sign_gaussian']['mean']:.5f} vs {stats['I_Y_gaussian']['mean']:.5f}); "
              f"{time.time() - t1:.0f} s, total {time.time() - t0:.0f} s", quiet)
    return stats


# ----------------------------------------------------------------------------- reports

def _fmt(v, digits=4):
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}g}"


def channel_markdown(runs: list[dict]) -> str:
    """The channel.md text for a list of :func:`record_gradient_channel` results."""
    lines = ["# Information check on real training: Lion's gradient channel", "",
             "Truth X = sign of the full-batch momentum (EMA β₂ = 0.99 of the full-batch gradient); observation "
             "Y = mini-batch gradient (batch 64) at fixed θ; Z = X·Y per coordinate. Informations in nats "
             "(natural log), summed over the analysed coordinates and per coordinate (mean ± s.e.); coordinates "
             "whose full-batch momentum is exactly 0 (structurally zero gradients, e.g. 3x3 taps that only ever "
             "see padding at 1x1 resolution) have no truth and are left out (count in parentheses). "
             "Empirical: I_sign by plug-in + Miller–Madow, I_Y by a jackknifed KDE estimate (its Gaussian target "
             "is 'Gauss@h', slightly below I_Y by the kernel smoothing). Gaussian theory: numerics.channel at the "
             "noise-corrected SNR ŝ² = μ̂²/σ̂² − 1/K. I(tanh(Y/τ); X) = I_Y for every τ > 0. "
             "See gpu_experiments/gradient_channel.py for the formulas.", ""]
    for run in runs:
        lines += [f"## {run['arch']} ({run['parameters']} parameters; {run['coordinates_analysed']} coordinates"
                  f"{' (fixed random subset)' if run['coordinate_subsample'] else ''}; seed {run['seed']}, "
                  f"{run['epochs']} epochs = {run['steps']} Lion steps, K = {run['mini_batches']})", "",
                  "| step (%) | coords (M = 0) | ΣI_sign emp | ΣI_Y emp | ΣI_sign Gauss | ΣI_Y Gauss | ΣI_Y Gauss@h "
                  "| I_Y/I_sign emp | I_Y/I_sign Gauss | mean I_sign emp | mean I_Y emp |",
                  # coords = analysed coordinates with M ≠ 0 (M = 0 exactly: a structurally zero gradient)
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for c in run["checkpoints"]:
            lines.append(
                f"| {c['step']} ({c['percent']}) | {c['measured_coordinates']} ({c['coordinates_with_zero_momentum']}) "
                f"| {_fmt(c['I_sign_empirical']['sum'])} "
                f"| {_fmt(c['I_Y_empirical']['sum'])} | {_fmt(c['I_sign_gaussian']['sum'])} "
                f"| {_fmt(c['I_Y_gaussian']['sum'])} | {_fmt(c['I_Y_gaussian_at_kde_bandwidth']['sum'])} "
                f"| {_fmt(c['ratio_I_Y_over_I_sign_empirical'])} | {_fmt(c['ratio_I_Y_over_I_sign_gaussian'])} "
                f"| {_fmt(c['I_sign_empirical']['mean'])} ± {_fmt(c['I_sign_empirical']['se_mean'], 2)} "
                f"| {_fmt(c['I_Y_empirical']['mean'])} ± {_fmt(c['I_Y_empirical']['se_mean'], 2)} |")
        lines += ["", "| step | train acc | frac s>1 | frac s<0.1 | median s | 90 % s | frac μ̂<0 | frac zeros "
                  "| median skew | median excess kurt (sd under normality) | frac kurt>1 | sign M = sign G "
                  "| mean corr(X, sign Y) | mean corr(X, Y) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for c in run["checkpoints"]:
            lines.append(
                f"| {c['step']} | {_fmt(c['train_accuracy_eval_mode'], 3)} | {_fmt(c['fraction_snr_large'], 3)} "
                f"| {_fmt(c['fraction_snr_small'], 3)} | {_fmt(c['snr_quantiles']['0.5'], 3)} "
                f"| {_fmt(c['snr_quantiles']['0.9'], 3)} | {_fmt(c['fraction_mean_against_truth'], 3)} "
                f"| {_fmt(c['fraction_exact_zero_samples'], 3)} | {_fmt(c['median_skewness'], 3)} "
                f"| {_fmt(c['median_excess_kurtosis'], 3)} ({_fmt(c['kurtosis_sd_under_normality'], 2)}) "
                f"| {_fmt(c['fraction_excess_kurtosis_above_1'], 3)} | {_fmt(c['fraction_sign_M_equals_sign_G'], 3)} "
                f"| {_fmt(c['mean_signed_correlation_sign'], 3)} | {_fmt(c['mean_signed_correlation_identity'], 3)} |")
        lines += ["", "Update alignment ρ²(u) = E[Xu]²/E[u²] (mean over coordinates; empirical / Gaussian):", "",
                  "| step | " + " | ".join(run["checkpoints"][0]["alignment_rho2"]) + " |",
                  "|---|" + "---|" * len(run["checkpoints"][0]["alignment_rho2"])]
        for c in run["checkpoints"]:
            cells = [f"{_fmt(v['empirical'], 3)} / {_fmt(v['gaussian'], 3)}" for v in c["alignment_rho2"].values()]
            lines.append(f"| {c['step']} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_channel_reports(runs: list[dict], out_dir) -> Path:
    """Write ``channel.json`` and ``channel.md`` into ``out_dir`` (created); returns the directory."""
    if not runs:
        raise ValueError("no runs to report")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "channel.json").write_text(json.dumps({"runs": runs}, indent=1, allow_nan=True) + "\n")
    (out / "channel.md").write_text(channel_markdown(runs))
    return out


def run_channel(archs, out_dir, *, epochs: int = 8, seed: int = 0, mini_batches: int = 256,
                max_coordinates: int = 20_000, quiet: bool = False) -> Path:
    """The ``channel`` subcommand: one run per architecture, one torch thread, reports in ``out_dir``."""
    if not archs:
        raise ValueError("give at least one architecture")
    unknown = [a for a in archs if a not in MODEL_OPTIONS]
    if unknown:
        raise ValueError(f"unknown architecture(s) {unknown}; choose from {sorted(MODEL_OPTIONS)}")
    torch.set_num_threads(1)  # a shared CPU: more threads are slower (presets use 1 too)
    runs = [record_gradient_channel(a, epochs=epochs, seed=seed, mini_batches=mini_batches,
                                    max_coordinates=max_coordinates, quiet=quiet) for a in archs]
    return write_channel_reports(runs, out_dir)
