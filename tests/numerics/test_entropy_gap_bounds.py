"""numerics.entropy_gap_bounds: the closed forms against their exact twins and against each other."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.backends import MP
from numerics.entropy_gap_bounds import (
    best_split,
    dimension_free_bound,
    dimension_free_bound_exact,
    supremum_gap,
    supremum_gap_fast,
    two_valued_gap,
    two_valued_gap_exact,
)


@given(st.integers(2, 300), st.floats(1.0, 1e6, exclude_min=True))
def test_fast_supremum_equals_the_scan_over_every_split(n, kappa):
    # unimodal in m: the O(1) candidates ⌊m*⌋, ⌈m*⌉ give the scan's max (tolerance: a few ulps)
    assert supremum_gap_fast(n, kappa) == pytest.approx(supremum_gap(n, kappa), rel=1e-12, abs=1e-300)


@given(st.integers(2, 60), st.data(), st.floats(1e-6, 40))
def test_two_valued_gap_matches_its_exact_twin(n, data, log_kappa):
    m = data.draw(st.integers(1, n - 1))
    kappa = math.exp(log_kappa)
    with MP(50) as B:
        exact = float(two_valued_gap_exact(n, m, Fraction(kappa), B))
    # φ(t) = t log t − t + 1 form: relative accuracy ~1e-14 down to κ − 1 = 1e-6 (no cancellation)
    assert two_valued_gap(n, m, kappa) == pytest.approx(exact, rel=1e-12, abs=1e-300)


@given(st.floats(1e-9, 700))
def test_dimension_free_bound_matches_its_exact_twin_and_bounds_every_split(log_kappa):
    kappa = math.exp(log_kappa)
    with MP(60) as B:
        exact = float(dimension_free_bound_exact(Fraction(kappa), B))
    assert float(dimension_free_bound(kappa)) == pytest.approx(exact, rel=1e-10, abs=1e-300)
    n = 50
    assert two_valued_gap(n, best_split(n, kappa), kappa) <= float(dimension_free_bound(kappa)) * (1 + 1e-12)


def test_a_wrong_fast_supremum_is_caught():
    # meta-test: dropping the ceiling candidate misses the max at some (n, κ)
    def floor_only(n, kappa):
        c = kappa * math.log(kappa) / (kappa - 1)
        m = min(max(int(math.floor(n * (c - 1) / (kappa - 1))), 1), n - 1)
        return float(two_valued_gap(n, m, kappa))

    misses = [(n, k) for n in range(3, 40) for k in np.geomspace(1.01, 1e3, 25)
              if not floor_only(n, k) == pytest.approx(supremum_gap(n, k), rel=1e-12)]
    assert misses
