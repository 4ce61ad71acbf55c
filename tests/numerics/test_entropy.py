import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import entropy as E
from numerics.strategies import distributions, near_uniform, two_valued
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps
alphas = st.one_of(
    st.floats(1e-3, 1e3),
    st.floats(1 - 1e-6, 1 + 1e-6),
    st.sampled_from([0.5, 1.0, 2.0, math.inf]),
)

#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "shannon_entropy", E.shannon_entropy, E.shannon_entropy_mp, st.tuples(distributions(1, 60)),
        rtol=64 * EPS, atol=1e-300,
        why="sum of n ≤ 60 non-negative terms, each ≤ 3 ulp; pairwise summation adds log2(n) ulp",
    ),
    Agreement(
        "entropy_gap", E.entropy_gap, E.entropy_gap_mp, st.tuples(distributions(1, 60)),
        rtol=64 * EPS, atol=1e-40,
        why="non-negative summands f(n p_i)/n with n p_i − 1 exact (TwoProduct): relative error stays O(eps); "
        "atol: at exactly uniform p the gap is 0 and the 50-digit oracle itself leaves ~1e-49 of rounding",
    ),
    Agreement(
        "renyi_entropy", E.renyi_entropy, E.renyi_entropy_mp, st.tuples(distributions(1, 40), alphas),
        rtol=1e-12, atol=1e-300,
        why="log1p/expm1 form near α = 1 and log-sum-exp with log1p far from it; condition number "
        "of log Σ p^α in α·log p is ≤ α·max|log p| ≤ 1e3·700, hence 1e-12 not eps",
    ),
    Agreement(
        "binary_entropy", E.binary_entropy, E.binary_entropy_mp,
        st.tuples(st.one_of(st.floats(0, 1), st.floats(0, 1e-250), st.floats(1 - 1e-9, 1))),
        rtol=16 * EPS, atol=1e-300,
        why="min(x, 1−x) is exact and log1p(−y), y ≤ ½, is accurate: a few ulp",
    ),
    Agreement(
        "binary_entropy_inv", E.binary_entropy_inv, E.binary_entropy_inv_mp,
        st.tuples(st.one_of(st.floats(0, math.log(2) - 1e-3), st.floats(0, 1e-280))),
        rtol=1e-13, atol=1e-300,
        why="Brent to 4 ulp in x; condition number |h/(x H_b'(x))| ≤ ~60 for h ≤ log 2 − 1e-3",
    ),
    Agreement(
        "xlogx", E.xlogx, E.xlogx_mp, st.tuples(st.one_of(st.floats(0, 1e6), st.floats(0, 1e-300))),
        rtol=4 * EPS, atol=1e-320,
        why="one multiplication of a correctly rounded log",
    ),
]


@given(near_uniform(50))
def test_entropy_gap_keeps_relative_accuracy_near_uniform(p):
    want = E.entropy_gap_mp(p)
    assert abs(E.entropy_gap(p) - want) <= 64 * EPS * want + 1e-300
    # the naive formula loses everything here: that is why entropy_gap is not log n − H(p)


def test_entropy_gap_equals_log_n_minus_entropy():
    p = np.random.default_rng(0).dirichlet(np.ones(30))
    assert E.entropy_gap(p) == pytest.approx(math.log(30) - E.shannon_entropy(p), rel=1e-13)


def test_extremes_tiny_probabilities_and_a_million_points():
    p = np.full(10**6, 1e-300)
    p[0] = 1 - (10**6 - 1) * 1e-300
    for f in (E.shannon_entropy, E.entropy_gap, lambda x: E.renyi_entropy(x, 2.0), lambda x: E.renyi_entropy(x, 0.5)):
        assert math.isfinite(f(p))
    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(10**6))
    assert math.isfinite(E.entropy_gap(q)) and 0 < E.entropy_gap(q) < 1
    # two-valued distributions have a closed-form oracle at any n
    n, m, kappa = 10**6, 1000, 50.0
    p2 = np.ones(n)
    p2[:m] = kappa
    p2 /= p2.sum()
    with mpmath.workdps(40):
        s = m * mpmath.mpf(kappa) + (n - m)
        a, b = mpmath.mpf(kappa) / s, 1 / s
        want = m * a * mpmath.log(n * a) + (n - m) * b * mpmath.log(n * b)
    assert E.entropy_gap(p2) == pytest.approx(float(want), rel=1e-11)


def test_alpha_limits():
    p = np.random.default_rng(2).dirichlet(np.ones(20))
    h1 = E.shannon_entropy(p)
    assert E.renyi_entropy(p, 1 + 1e-12) == pytest.approx(h1, rel=1e-10)
    assert E.renyi_entropy(p, 1 - 1e-12) == pytest.approx(h1, rel=1e-10)
    assert E.renyi_entropy(p, math.inf) == pytest.approx(-math.log(p.max()), rel=1e-14)
    assert E.renyi_entropy(p, 1e-9) == pytest.approx(math.log(20), rel=1e-6)


@given(two_valued(12))
def test_renyi_entropy_is_nonincreasing_in_alpha(p):
    hs = [E.renyi_entropy(p, a) for a in (0.25, 0.5, 1.0, 2.0, 8.0, math.inf)]
    assert all(x >= y - 1e-12 for x, y in zip(hs, hs[1:]))


@pytest.mark.parametrize(
    "bad, match",
    [
        ([], "empty"),
        ([0.5, float("nan"), 0.5], "NaN"),
        ([0.5, float("inf")], "inf"),
        ([[0.5, 0.5]], "1-D"),
        ([0.7, -0.1, 0.4], "negative"),
        ([0.2, 0.2], "sums to"),
        ("abc", "real numbers"),
    ],
)
def test_bad_distributions_raise_clear_errors(bad, match):
    for f in (E.shannon_entropy, E.entropy_gap, lambda p: E.renyi_entropy(p, 2)):
        with pytest.raises(ValueError, match=match):
            f(bad)


@pytest.mark.parametrize("alpha", [0, -1, float("nan"), "x"])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        E.renyi_entropy([0.5, 0.5], alpha)


def test_binary_entropy_domain_errors():
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            E.binary_entropy(bad)
    for bad in (-1e-3, 0.7, float("nan")):
        with pytest.raises(ValueError):
            E.binary_entropy_inv(bad)


@given(st.floats(0, 0.5))
def test_binary_entropy_inverse_round_trip(x):
    y = E.binary_entropy_inv(E.binary_entropy(x))
    assert abs(E.binary_entropy(y) - E.binary_entropy(x)) <= 8 * EPS * E.binary_entropy(x) + 1e-300
