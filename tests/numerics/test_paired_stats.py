"""Tests of ``numerics/paired_stats.py``: exact sign-flip p-values, effect sizes, Kendall τ, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from numerics.paired_stats import kendall_tau, paired_comparison


def test_exact_p_value_by_enumeration():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([2.0, 2.5, 3.5, 5.0, 5.5])  # a < b in every pair
    c = paired_comparison(a, b)
    assert c.p_less == 1 / 32 and c.wins == 5 and c.n == 5  # only the observed pattern is as extreme
    d = a - b
    brute = np.mean([np.mean(np.array(s) * d) <= d.mean() + 1e-12 for s in itertools.product((1, -1), repeat=5)])
    assert c.p_less == brute and c.p_greater == 1.0


def test_null_data_are_not_significant_and_the_test_can_fire():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(12), rng.standard_normal(12)
    c = paired_comparison(a, b)
    assert c.p_less > 0.05 and c.p_greater > 0.05
    assert paired_comparison(a - 2.0, a).p_less < 1e-3  # a shifted arm is caught


def test_monte_carlo_above_twenty_pairs():
    rng = np.random.default_rng(1)
    c = paired_comparison(rng.standard_normal(30) - 1.0, rng.standard_normal(30), seed=3)
    assert "Monte Carlo" in c.method and 0 < c.p_less < 0.01
    assert paired_comparison(np.arange(30.0), np.arange(30.0) + 1, seed=3).p_less == pytest.approx(1 / 100_001)


def test_effect_size_and_interval():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 5.0])
    c = paired_comparison(a, b)
    assert c.mean_difference == pytest.approx(-5 / 3) and c.ci95[0] < -5 / 3 < c.ci95[1]
    assert c.median_ratio == pytest.approx(0.5)


def test_kendall():
    x = np.arange(10.0)
    tau, p = kendall_tau(x, x**2)
    assert tau == pytest.approx(1.0) and p < 1e-5
    tau, p = kendall_tau(x, -x)
    assert tau == pytest.approx(-1.0) and p == pytest.approx(1.0)


@pytest.mark.parametrize("a, b, msg", [([1.0], [2.0], "at least 2"), ([1.0, np.nan], [1.0, 2.0], "finite"),
                                        ([1.0, 2.0], [1.0], "one length")])
def test_bad_input(a, b, msg):
    with pytest.raises(ValueError, match=msg):
        paired_comparison(a, b)
    with pytest.raises(ValueError):
        kendall_tau(a, b)
