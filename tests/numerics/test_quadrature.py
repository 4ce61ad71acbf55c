"""Adaptive Gauss–Kronrod 7/15: exactness degrees, known integrals (one sharply peaked), mpmath, bad input."""

import math

import mpmath
import numpy as np
import pytest

from numerics import quadrature as Q

EPS = np.finfo(float).eps


def _lorentz(eps, c):
    """1/((x − c)² + ε²): a peak of height 1/ε² and width ε, nowhere near a node of [−1, 1]."""
    return lambda x: 1.0 / ((x - c) ** 2 + eps * eps)


#: (integrand, edges, exact value): smooth, oscillating, an endpoint cusp of the derivative, a peak
KNOWN = [
    ("exp on [0, 1]", np.exp, [0.0, 1.0], math.e - 1),
    ("sin on [0, π]", np.sin, [0.0, math.pi], 2.0),
    ("cos(20x) on [0, 3]", lambda x: np.cos(20 * x), [0.0, 3.0], math.sin(60.0) / 20),
    ("sqrt on [0, 1]", np.sqrt, [0.0, 1.0], 2.0 / 3.0),
    ("gaussian on [-10, 0, 10]", lambda x: np.exp(-x * x / 2), [-10.0, 0.0, 10.0],
     math.sqrt(2 * math.pi) * math.erf(10 / math.sqrt(2))),
    ("peak of width 1e-3 at 0.3", _lorentz(1e-3, 0.3), [-1.0, 1.0],
     (math.atan(0.7 / 1e-3) + math.atan(1.3 / 1e-3)) / 1e-3),
]


def _check_known_values(rtol=1e-13):
    for name, f, edges, want in KNOWN:
        got, err = Q.adaptive_gauss_kronrod(f, edges)
        assert abs(got - want) <= rtol * abs(want), f"{name}: {got!r} vs {want!r}"
        assert err <= 1e-13 * abs(want), f"{name}: error estimate {err:.3g}"


def test_known_integrals():
    _check_known_values()


def test_exactness_degrees():
    """K15 integrates polynomials of degree ≤ 23 exactly and x^24 not; the embedded G7 agrees with
    it up to degree 13 (error estimate at rounding level) and not at x^14. Even powers on [−1, 1]
    (odd ones vanish by symmetry), all powers on [0, 1]."""

    def power(n):
        return lambda x: x**n

    def rule(n, a, b):
        k, err = Q.gauss_kronrod_15(power(n), np.array([a]), np.array([b]))
        return k[0], err[0]

    for n in range(24):
        assert abs(rule(n, 0.0, 1.0)[0] - 1 / (n + 1)) <= 8 * EPS / (n + 1), n
    for n in range(0, 23, 2):
        assert abs(rule(n, -1.0, 1.0)[0] - 2 / (n + 1)) <= 8 * EPS, n
    assert abs(rule(24, -1.0, 1.0)[0] - 2 / 25) > 1e-9
    assert max(rule(n, -1.0, 1.0)[1] for n in range(0, 13, 2)) < 1e-14
    assert rule(14, -1.0, 1.0)[1] > 1e-3
    assert np.sum(Q._KW) == pytest.approx(2.0, abs=4 * EPS)
    assert np.sum(Q._GW) == pytest.approx(2.0, abs=4 * EPS)


def test_one_rule_call_per_round_on_all_intervals():
    a, b = np.array([0.0, 1.0, 3.0]), np.array([1.0, 3.0, 2.0])  # the last one reversed
    calls = []

    def f(x):
        calls.append(x.size)
        return x * x

    k, err = Q.gauss_kronrod_15(f, a, b)
    assert calls == [45]
    np.testing.assert_allclose(k, [1 / 3, 26 / 3, -19 / 3], rtol=4 * EPS)
    assert np.all(err < 1e-14)


def test_error_estimate_bounds_the_truncation_error():
    """QUADPACK's heuristic on single intervals the rule does not resolve to rounding (it has no
    rounding floor: see the module notes)."""
    for c in (16.0, 32.0):
        k, err = Q.gauss_kronrod_15(np.exp, np.array([0.0]), np.array([c]))
        assert 0 < abs(k[0] - math.expm1(c)) <= err[0], c
    for w in (20.0, 40.0):
        k, err = Q.gauss_kronrod_15(lambda x: np.cos(w * x), np.array([0.0]), np.array([1.0]))
        assert 0 < abs(k[0] - math.sin(w) / w) <= err[0], w


@pytest.mark.parametrize(
    "f_np, f_mp, edges, mp_points",
    [
        (lambda x: x * np.log1p(x), lambda x: x * mpmath.log1p(x), [0.0, 2.0], [0, 2]),
        (lambda x: np.exp(-x * x) * np.cos(3 * x), lambda x: mpmath.exp(-x * x) * mpmath.cos(3 * x),
         [-3.0, 0.5, 5.0], [-3, 0.5, 5]),
        # mpmath gets a breakpoint at the peak: without it tanh-sinh is off by 1e-5, the adaptive rule is not
        (lambda x: 1 / (1 + 1e4 * (x - 0.7) ** 2), lambda x: 1 / (1 + 10**4 * (x - mpmath.mpf("0.7")) ** 2),
         [0.0, 1.0], [0, mpmath.mpf("0.7"), 1]),
        (lambda x: x**0.25 * np.exp(-x), lambda x: mpmath.root(x, 4) * mpmath.exp(-x), [0.0, 1.0, 30.0], [0, 1, 30]),
    ],
    ids=["x log(1+x)", "exp(-x²) cos 3x", "peak of width 1e-2", "x^(1/4) e^-x"],
)
def test_agrees_with_mpmath_quad(f_np, f_mp, edges, mp_points):
    got, err = Q.adaptive_gauss_kronrod(f_np, edges)
    with mpmath.workdps(30):
        want, mp_err = mpmath.quad(f_mp, mp_points, error=True)
        assert mp_err < mpmath.mpf("1e-25") * abs(want)
    assert abs(got - float(want)) <= 1e-13 * abs(float(want))
    assert err <= 1e-13 * abs(got)


def test_repeated_edges_and_an_empty_range():
    got, _ = Q.adaptive_gauss_kronrod(np.exp, [0.0, 0.0, 0.5, 0.5, 1.0])
    assert got == pytest.approx(math.e - 1, rel=1e-14)
    assert Q.adaptive_gauss_kronrod(np.exp, [2.0, 2.0]) == (0.0, 0.0)


def test_a_non_converged_integral_is_visible_in_its_error_estimate():
    """1/x on [1e-300, 1] (= 300 log 10 ≈ 691) in 3 rounds: far off, and the estimate says so
    (err ≈ |total|; a caller that compares err with rtol·|total| refuses it -- the estimate is
    QUADPACK's heuristic, not a bound: here it is 80 times too small)."""
    got, err = Q.adaptive_gauss_kronrod(lambda x: 1 / x, [1e-300, 1.0], max_rounds=3)
    assert abs(got - 300 * math.log(10)) > 100
    assert err > 0.1 * abs(got)


# ----------------------------------------------------------------------------
# meta-tests: a broken rule must be caught
# ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "table, broken",
    [
        ("_KW", lambda w: w * np.where(np.arange(15) == 3, 1 + 1e-9, 1.0)),  # one Kronrod weight off by 1e-9
        ("_KW", lambda w: np.roll(w, 1)),  # weights shifted against their nodes
        ("_NODES", lambda x: np.where(np.arange(15) == 12, x + 1e-9, x)),  # one node moved
    ],
    ids=["Kronrod weight off by 1e-9", "weights shifted", "node moved"],
)
def test_known_values_catch_a_broken_kronrod_table(monkeypatch, table, broken):
    monkeypatch.setattr(Q, table, broken(getattr(Q, table).copy()))
    with pytest.raises(AssertionError):
        _check_known_values()


def test_exactness_check_catches_a_broken_gauss_table(monkeypatch):
    """A wrong G7 weight leaves K15 (the value) intact but not the error estimate."""
    monkeypatch.setattr(Q, "_GW", Q._GW * np.where(np.arange(15) == 5, 1 + 1e-6, 1.0))
    with pytest.raises(AssertionError):
        test_exactness_degrees()


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "edges, kwargs, match",
    [
        ([], {}, "empty"),
        ([1.0], {}, "at least two"),
        ([0.0, float("nan")], {}, "NaN"),
        ([0.0, float("inf")], {}, "inf"),
        ([0.0, 2.0, 1.0], {}, "non-decreasing"),
        ([[0.0, 1.0]], {}, "1-D"),
        (["a", "b"], {}, "real numbers"),
        ([0.0, 1.0], {"rtol": 0.0}, "rtol"),
        ([0.0, 1.0], {"rtol": float("nan")}, "rtol"),
        ([0.0, 1.0], {"max_rounds": -1}, "max_rounds"),
        ([0.0, 1.0], {"max_rounds": 2.5}, "max_rounds"),
        ([0.0, 1.0], {"max_rounds": True}, "max_rounds"),
    ],
)
def test_bad_adaptive_input(edges, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Q.adaptive_gauss_kronrod(np.exp, edges, **kwargs)


@pytest.mark.parametrize(
    "a, b, match",
    [
        ([0.0, 1.0], [1.0], "same length"),
        ([], [], "empty"),
        ([0.0], [float("inf")], "inf"),
        ([[0.0]], [[1.0]], "1-D"),
    ],
)
def test_bad_rule_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        Q.gauss_kronrod_15(np.exp, a, b)


# ----------------------------------------------------------------------------
# mp_quad_pieces: tanh-sinh with a relative stopping rule
# ----------------------------------------------------------------------------


def test_mp_quad_pieces_is_relative_on_a_tiny_integral():
    with mpmath.workdps(50):
        c = mpmath.mpf(10) ** -89
        got = Q.mp_quad_pieces([(lambda x: c * mpmath.exp(-x), 0, 1), (lambda x: c * mpmath.exp(-x), 1, 3),
                                (lambda x: c, 2, 2)])  # the empty piece is skipped
        want = c * (1 - mpmath.exp(-3))
        assert abs(got / want - 1) < mpmath.mpf(10) ** -40
        # a narrow peak needs breakpoints around it: tanh-sinh nodes that all miss the peak see nothing,
        # and no error estimate can tell (on [0, 1] alone this comes back 6x off)
        third, w = mpmath.mpf(1) / 3, mpmath.mpf(10) ** -3
        peak = lambda x: c * mpmath.exp(-((x - third) * 10**4) ** 2)  # noqa: E731
        pts = [0, third - w, third, third + w, 1]
        got = Q.mp_quad_pieces([(peak, a, b) for a, b in zip(pts[:-1], pts[1:])], magnitude_degree=2)
        assert abs(got / (c * mpmath.sqrt(mpmath.pi) / 10**4) - 1) < mpmath.mpf(10) ** -30


def test_mp_quad_pieces_refuses_a_divergent_integral():
    with mpmath.workdps(30), pytest.raises(ArithmeticError, match="did not converge"):
        Q.mp_quad_pieces([(lambda x: 1 / x, 0, 1)])
