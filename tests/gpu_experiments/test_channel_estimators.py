"""Tests of gpu_experiments.channel_estimators (a binary channel's information from samples).

What is checked, and against what:

* The estimators on synthetic Gaussian channels (Def. 4.1, ``Z = X·Y ~ N(s, 1)``) whose
  informations are known from :mod:`numerics.channel`: the mean of the per-coordinate
  estimates over n coordinates must agree with the truth within ``4 · s.e. + bias``, where
  s.e. is the measured standard error of that mean (so a false failure has probability
  ~6e-5 for a fixed seed drawn at random) and ``bias`` is the estimator's stated
  leftover bias (module notes). Every agreement check has a meta-test with a
  deliberately wrong estimator that must fail it.
* Exact properties: the ternary sign formula, scale invariance of the KDE estimate,
  the Gaussian references against numerics.channel, limits of the tanh alignment.
* Bad input raises ValueError.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gpu_experiments import channel_estimators as ce
from numerics.channel import information_sign, mutual_information

K = 256  # samples per coordinate, as in the real run
N = 300  # coordinates per synthetic check


def _gaussian_samples(s: float, seed: int, n: int = N, k: int = K) -> np.ndarray:
    return s + np.random.default_rng(seed).standard_normal((n, k))


def _check_mean_agrees(estimates: np.ndarray, truth: float, bias: float) -> None:
    """|mean − truth| ≤ 4 s.e. + bias (see the module docstring)."""
    mean = float(np.mean(estimates))
    se = float(np.std(estimates, ddof=1) / math.sqrt(estimates.size))
    assert abs(mean - truth) <= 4.0 * se + bias, f"mean {mean:.6f} vs truth {truth:.6f} (s.e. {se:.2e}, bias {bias})"


def _truth(fn, s: float) -> float:
    return 0.0 if s == 0 else float(fn(s, 1.0))


# Leftover biases: Miller–Madow leaves O(1/K²) ~ 1e-5 at K = 256 (allow 1e-4); the jackknifed KDE
# leaves +3e-4 ± 1.5e-4 at s = 0 (measured on 1000 coordinates; O(1/K²) terms), allow 6e-4.
SIGN_BIAS, KDE_BIAS = 1e-4, 6e-4


def check_sign_estimator(estimator, s: float, seed: int) -> None:
    _check_mean_agrees(estimator(_gaussian_samples(s, seed)), _truth(information_sign, s), SIGN_BIAS)


def check_kde_estimator(estimator, s: float, seed: int) -> None:
    """Against the estimator's Gaussian target I_a (kernel smoothing included, computed per coordinate)."""
    z = _gaussian_samples(s, seed)
    sd = z.std(axis=1, ddof=1)
    h = ce.kde_bandwidth(z)
    target = float(np.mean(ce.smoothed_gaussian_information(s, sd**2 / (sd**2 + h**2))))
    _check_mean_agrees(estimator(z), target, KDE_BIAS)


@pytest.mark.parametrize("s, seed", [(0.0, 1), (0.2, 2), (1.0, 3)])
def test_sign_information_matches_gaussian_channel(s, seed):
    check_sign_estimator(ce.sign_information, s, seed)


@pytest.mark.parametrize("s, seed", [(0.0, 4), (0.2, 5), (1.0, 6)])
def test_kde_information_matches_its_gaussian_target(s, seed):
    check_kde_estimator(ce.information_kde, s, seed)


def test_kde_target_is_close_to_the_exact_information():
    # the smoothing loss at c = 0.4: a = 1/1.16, target/I ≥ 1 − (1 − a)² ≈ 0.981 (module notes)
    for s in (0.05, 0.3, 1.0, 3.0):
        i = mutual_information(s, 1.0)
        target = ce.smoothed_gaussian_information(s, 1.0 / (1.0 + ce.DEFAULT_BANDWIDTH**2))
        assert 0.98 * i <= target <= i


def test_meta_sign_check_rejects_uncorrected_plugin():
    # the plug-in is biased up by 1/(2K) ≈ 2e-3 at s = 0, 12 s.e. away
    with pytest.raises(AssertionError):
        check_sign_estimator(ce.sign_information_plugin, 0.0, 1)


def test_meta_sign_check_rejects_perturbed_estimator():
    with pytest.raises(AssertionError):
        check_sign_estimator(lambda z: ce.sign_information(z) * 1.05, 1.0, 3)


def test_meta_kde_check_rejects_unjackknifed_and_sign_estimators():
    def resubstitution_only(z):  # T of the module notes, without the jackknife (biased up ~1e-2)
        h = ce.kde_bandwidth(z)
        u = z / h[:, None]
        a = np.exp(-0.5 * (u[:, :, None] - u[:, None, :]) ** 2).sum(2)
        b = np.exp(-0.5 * (u[:, :, None] + u[:, None, :]) ** 2).sum(2)
        return np.mean(np.log(2 * a / (a + b)), axis=1)

    with pytest.raises(AssertionError):
        check_kde_estimator(resubstitution_only, 0.0, 4)
    with pytest.raises(AssertionError):  # I(sign) is 25 % below I(Y) at s = 1
        check_kde_estimator(ce.sign_information, 1.0, 6)


def test_sign_information_ternary_formula():
    # counts: 6 positive, 1 zero, 1 negative of K = 8 -> (1 − p0)[log 2 − H_b(p−/(1 − p0))]
    z = np.array([[1.0, 2, 3, 4, 5, 6, 0, -1]])
    p0, q = 1 / 8, 1 / 7
    expected = (1 - p0) * (math.log(2) + q * math.log(q) + (1 - q) * math.log(1 - q))
    assert ce.sign_information_plugin(z)[0] == pytest.approx(expected, rel=1e-14)
    # Miller–Madow: 3 occupied cells of {<0, 0, >0}, 2 of {0, ≠0}: −[(3 − 1) − (2 − 1)]/(2K)
    assert ce.sign_information(z)[0] == pytest.approx(expected - 1 / 16, rel=1e-14)
    assert ce.sign_information(np.ones((1, 8)))[0] == pytest.approx(math.log(2))  # one cell each: no correction


def test_kde_information_is_scale_invariant_and_zero_for_constant_coordinates():
    z = _gaussian_samples(0.5, 7, n=5, k=32)
    np.testing.assert_allclose(ce.information_kde(z * 3.7e-4), ce.information_kde(z), rtol=1e-9, atol=1e-12)
    z[0] = 2.0
    assert ce.information_kde(z)[0] == 0.0


def test_gaussian_references_against_numerics_channel():
    s = np.array([1e-3, 0.1, 0.7, 2.0, 5.0])
    # Gauss–Hermite with 96 nodes on a smooth integrand: agreement to ~1e-9 relative
    np.testing.assert_allclose(ce.smoothed_gaussian_information(s, 1.0), mutual_information(s, 1.0), rtol=1e-7)
    # tanh alignment: τ → 0 is sign, τ → ∞ is the identity
    np.testing.assert_allclose(ce.gaussian_alignment(s[1:4], 0.05), ce.gaussian_alignment(s[1:4]), rtol=0.05)
    np.testing.assert_allclose(ce.gaussian_alignment(s[1:4], 1e4), ce.gaussian_alignment(s[1:4], math.inf), rtol=1e-6)


@pytest.mark.parametrize("tau", [None, 1.0, math.inf])
def test_update_alignment_matches_gaussian(tau):
    s = 0.5
    z = _gaussian_samples(s, 8)
    truth = float(ce.gaussian_alignment(np.array([s]), tau)[0]) if tau is not None else float(ce.gaussian_alignment(s))
    _check_mean_agrees(ce.update_alignment(z, tau), truth, 1e-3)  # ratio estimator: O(1/K) bias ≲ 1e-3


@pytest.mark.parametrize("bad, match", [
    (np.zeros((0, 16)), "empty"), (np.zeros(16), "2-D"), (np.zeros((2, 4)), "at least"),
    (np.full((2, 16), np.nan), "NaN"), (np.full((2, 16), np.inf), "inf"), ([["a"] * 16], "real"),
])
def test_bad_samples_raise(bad, match):
    for fn in (ce.sign_information, ce.information_kde, ce.update_alignment, ce.gaussian_fit):
        with pytest.raises(ValueError, match=match):
            fn(bad)


def test_bad_parameters_raise():
    z = _gaussian_samples(0.1, 10, n=3, k=16)
    with pytest.raises(ValueError, match="bandwidth"):
        ce.information_kde(z, bandwidth=0.0)
    with pytest.raises(ValueError, match="chunk"):
        ce.information_kde(z, chunk=0)
    with pytest.raises(ValueError, match="tau"):
        ce.update_alignment(z, -1.0)
    with pytest.raises(ValueError, match="one entry per coordinate"):
        ce.update_alignment(z, np.ones(4))
