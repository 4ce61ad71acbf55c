"""The generic domains of numerics.strategies: valid draws at every size, the channel-parameter domain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from numerics.strategies import LARGE_N, channel_parameters, distribution_pairs, distributions, spectra

FAST = settings(max_examples=25, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def _valid_distribution(p, n_range, positive=False):
    assert n_range[0] <= p.size <= n_range[1]
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and abs(p.sum() - 1) < 1e-9
    assert not positive or np.all(p > 0)


@pytest.mark.parametrize("positive", [False, True])
def test_distributions_beyond_hypothesis_choice_limit(positive):
    """max_n > 8192 used to overrun Hypothesis's per-example choice limit (every draw failed)."""
    seen = []

    @FAST
    @given(distributions(9000, 12000, positive=positive))
    def check(p):
        _valid_distribution(p, (9000, 12000), positive)
        seen.append(p.size)

    check()
    assert len(seen) == 25 and max(seen) > LARGE_N


@FAST
@given(distributions(1, 2 * LARGE_N))
def test_distributions_on_both_sides_of_the_large_n_switch(p):
    _valid_distribution(p, (1, 2 * LARGE_N))


@FAST
@given(distribution_pairs(LARGE_N + 1, LARGE_N + 50))
def test_large_pairs(pq):
    p, q = pq
    assert p.size == q.size > LARGE_N
    _valid_distribution(p, (p.size, p.size))
    _valid_distribution(q, (q.size, q.size))


@FAST
@given(spectra(9000, 9100, max_kappa=1e6))
def test_large_spectra_keep_their_condition_number(lam):
    assert lam.size >= 9000 and np.all(lam > 0)
    assert lam.max() / lam.min() <= 1e6 * (1 + 1e-9)


@settings(max_examples=200, database=None)
@given(channel_parameters(min_sigma=1e-2, max_sigma=1e2, max_snr=50.0))
def test_channel_parameters(x):
    assert set(x) == {"mu", "sigma"}
    assert 1e-2 * (1 - 1e-12) <= x["sigma"] <= 1e2 * (1 + 1e-12)
    assert abs(x["mu"]) / x["sigma"] <= 50.0 * (1 + 1e-12)


def test_channel_parameters_reach_every_regime():
    seen = set()

    @settings(max_examples=300, database=None)
    @given(channel_parameters())
    def collect(x):
        s = abs(x["mu"]) / x["sigma"]
        seen.add("zero" if x["mu"] == 0 else "tiny" if s < 1e-6 else "large" if s > 5 else "moderate")
        seen.add("neg" if x["mu"] < 0 else "pos")

    collect()
    assert seen >= {"zero", "tiny", "moderate", "large", "neg", "pos"}


@pytest.mark.parametrize("strategy", [lambda: distributions(5, 2), lambda: distributions(0, 3),
                                      lambda: channel_parameters(min_sigma=0.0),
                                      lambda: channel_parameters(max_sigma=float("inf"))])
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_bad_arguments_name_the_problem(strategy):
    with pytest.raises(ValueError, match="needs"):
        strategy().example()


def test_zero_mu_can_be_excluded():
    @settings(max_examples=100, database=None)
    @given(channel_parameters(zero_mu=False))
    def check(x):
        assert x["mu"] != 0

    check()
