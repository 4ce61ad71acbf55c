import math

import numpy as np
import pytest
from hypothesis import given

from numerics import divergence as D
from numerics.entropy import entropy_gap
from numerics.strategies import distribution_pairs, distributions
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps

#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "kl_divergence", D.kl_divergence, D.kl_divergence_mp, distribution_pairs(1, 30),
        rtol=1e-12, atol=1e-30,
        why="non-negative summands q f(p/q) with p − q exact when close; the exact-sum correction "
        "(δp − δq)/(1+δp) − log1p δp + log1p δq has absolute rounding ~eps·|δ| ≤ 1e-31",
    ),
    Agreement(
        "reverse_kl", D.reverse_kl, D.reverse_kl_mp, distribution_pairs(1, 30),
        rtol=1e-12, atol=1e-30, why="as kl_divergence with the arguments swapped",
    ),
    Agreement(
        "jeffreys_divergence", D.jeffreys_divergence, D.jeffreys_divergence_mp, distribution_pairs(1, 30),
        rtol=1e-12, atol=1e-30, why="sum of two non-negative KLs",
    ),
    Agreement(
        "total_variation", D.total_variation, D.total_variation_mp, distribution_pairs(1, 30),
        rtol=64 * EPS, atol=4e-16,
        why="normalising p/S rounds each entry by ≤ 1 ulp (≤ eps·p_i), so the sum of |p_i − q_i| "
        "carries ≤ 2 eps absolute; the rest is a sum of non-negative terms",
    ),
]


@given(distributions(1, 40))
def test_kl_to_uniform_is_the_entropy_gap(p):
    u = np.full(p.size, 1.0 / p.size)
    assert D.kl_divergence(p, u) == pytest.approx(entropy_gap(p), rel=1e-11, abs=1e-15)


def test_infinite_and_zero_cases():
    assert D.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert D.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert D.kl_divergence([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert D.total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        D.kl_divergence([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="q"):
        D.total_variation([0.5, 0.5], [0.5, float("nan")])
    with pytest.raises(ValueError, match="sums to"):
        D.jeffreys_divergence([0.5, 0.6], [0.5, 0.5])


@given(distribution_pairs(2, 20))
def test_pinsker(pq):
    p, q = pq
    assert D.kl_divergence(p, q) >= 2 * D.total_variation(p, q) ** 2 - 1e-15
