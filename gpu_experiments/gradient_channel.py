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
  mini-batch gradient. Batch-norm running statistics are restored after every
  gradient, so sampling does not move the model.

Estimands and estimators: :mod:`.channel_estimators` (its equations (1)–(3):
``I(Y; X)``, ``I(sign Y; X)`` and the update alignment ρ²). ρ² is reported for sign,
for tanh(Y/τ) at a few global temperatures τ (multiples of the median σ̂ over
coordinates), and for u = Y (τ → ∞).

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

Validation: ``tests/gpu_experiments/test_channel_estimators.py`` checks the estimators on
Gaussian channels with known s; ``tests/gpu_experiments/test_gradient_channel.py`` checks
the analysis, the recording loop and the command.

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
from numerics.validation import check_positive

from .channel_estimators import (
    DEFAULT_BANDWIDTH,
    MIN_SAMPLES,
    check_samples,
    gaussian_alignment,
    gaussian_fit,
    information_kde,
    kde_bandwidth,
    sign_information,
    signed_correlation,
    smoothed_gaussian_information,
    update_alignment,
)

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


# ----------------------------------------------------------------------------- Gaussian theory per coordinate

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
    z = check_samples(z)
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
        "mean_signed_correlation_sign": float(np.mean(signed_correlation(np.sign(zk)))),
        "mean_signed_correlation_identity": float(np.mean(signed_correlation(zk))),
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
             "See gpu_experiments/channel_estimators.py for the formulas.", ""]
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
