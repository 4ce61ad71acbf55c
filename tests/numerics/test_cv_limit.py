"""Theorem 3.7 limit E[Y log Y] and CV²/2: float64 vs mpmath quadrature vs closed forms, bad input."""

import functools
import math

import mpmath
import numpy as np
import pytest
from hypothesis import strategies as st
from scipy import special, stats

from numerics import cv_limit as L
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps


def _log_uniform(lo, hi):
    return st.floats(lo, hi).map(lambda e: 10.0**e)


# the float code's domain: bulks no narrower than CV ~ 1e-2 (scipy's logpdf gets noisy beyond),
# tails light enough that E[Y log Y] has no mass beyond 1e300, no density singular at a finite
# upper end (those raise ValueError, tested below)
FAMILIES = {
    "gamma": lambda d: stats.gamma(d(_log_uniform(-2, 3.5)), scale=d(_log_uniform(-50, 50))),
    "expon": lambda d: stats.expon(scale=d(_log_uniform(-50, 50))),
    "lognorm": lambda d: stats.lognorm(d(_log_uniform(-2.5, 1.2)), scale=d(_log_uniform(-50, 50))),
    "uniform": lambda d: (lambda w: stats.uniform(loc=d(st.floats(0, 10)) * w, scale=w))(d(_log_uniform(-50, 50))),
    "chi2": lambda d: stats.chi2(d(_log_uniform(-1, 3))),
    "weibull_min": lambda d: stats.weibull_min(d(_log_uniform(-0.7, 1.7)), scale=d(_log_uniform(-50, 50))),
    "pareto": lambda d: stats.pareto(d(st.floats(1.3, 10)), scale=d(_log_uniform(-50, 50))),
    "beta": lambda d: stats.beta(d(_log_uniform(-1, 1.5)), d(st.floats(1, 30))),
    "halfnorm": lambda d: stats.halfnorm(scale=d(_log_uniform(-50, 50))),
}


@st.composite
def positive_distributions(draw, families=tuple(FAMILIES)):
    return (FAMILIES[draw(st.sampled_from(families))](draw),)


def _closed_form(dist):
    v = L.entropy_gap_limit_closed_form(dist, dps=30)
    return L.entropy_gap_limit_mp(dist, dps=30) if v is None else v


def _memo(fn):
    cache = {}

    @functools.wraps(fn)
    def wrapped(dist):
        key = (dist.dist.name, dist.args, tuple(sorted(dist.kwds.items())))
        if key not in cache:
            cache[key] = fn(dist)
        return cache[key]

    return wrapped


#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "entropy_gap_limit", L.entropy_gap_limit, _memo(functools.partial(L.entropy_gap_limit_mp, dps=30)),
        positive_distributions(),
        rtol=1e-11, atol=0.0,
        why="entropy_gap_limit raises unless quadpack's summed error estimate is ≤ 1e-11 of the result; "
        "the integrand φ(e^t) f_Y(e^t) e^t is non-negative (no cancellation) and scipy's logpdf/mean "
        "are O(eps) relative for these families; measured ≤ 1e-14",
        examples=8,
        meta_args=((stats.expon(),), (stats.lognorm(2.0),),),
    ),
    Agreement(
        "entropy_gap_limit[closed form]", L.entropy_gap_limit, _memo(_closed_form),
        positive_distributions(tuple(f for f in FAMILIES if f != "halfnorm")),
        rtol=1e-11, atol=0.0,
        why="as above, against ψ/log-Γ closed forms (cheap, so many more examples)",
        meta_args=((stats.gamma(2.0),), (stats.pareto(1.5),),),
    ),
    Agreement(
        "cv_squared_half", L.cv_squared_half, _memo(functools.partial(L.cv_squared_half_mp, dps=30)),
        positive_distributions(),
        rtol=1e-11, atol=0.0,
        why="scipy's closed-form moments; Var = Γ(1+2/c) − Γ(1+1/c)² for Weibull cancels ~log10(c²) "
        "digits (c ≤ 50: ~3.5), beta/gamma/lognormal are products of few-ulp factors",
        meta_args=((stats.gamma(3.0),), (stats.weibull_min(2.0),),),
    ),
]
CASES = {c.name: c for c in AGREEMENTS}
def test_agreement_catches_a_dropped_lower_tail(monkeypatch):
    """Meta-test: forgetting the closed-form mass below y = 1e-30 must be caught (gamma(0.01) has
    P(Y < 1e-30) ≈ 0.5)."""
    d = stats.gamma(0.01)
    CASES["entropy_gap_limit[closed form]"].assert_agrees((d,))
    real_cdf = d.cdf
    monkeypatch.setattr(d, "cdf", lambda x: 0.0 * real_cdf(x))
    with pytest.raises(AssertionError):
        CASES["entropy_gap_limit[closed form]"].assert_agrees((d,))


def test_mpmath_quadrature_agrees_with_closed_forms():
    """Two independent oracles at 30 digits: tanh-sinh on the exact density vs ψ / log Γ formulas
    (exponential, lognormal, chi2 are in test_literals at 50 digits; beta(0.1, 0.1) and Pareto
    1.05 below)."""
    for name, p in [("gamma", {"a": 0.3}), ("uniform", {"loc": 1.0, "scale": 2.0}), ("weibull", {"c": 0.7})]:
        q = L.entropy_gap_limit_mp(name, p, dps=30)
        c = L.entropy_gap_limit_closed_form(name, p, dps=30)
        assert abs(q - c) <= mpmath.mpf("1e-26") * abs(c), (name, p)


# ----------------------------------------------------------------------------
# the numbers quoted for Thm 3.7 (statement thm-3.7 in docs/statements.md)
# ----------------------------------------------------------------------------

def test_literals():
    euler = 0.57721566490153286
    assert L.entropy_gap_limit(stats.expon()) == pytest.approx(1 - euler, rel=1e-14)
    assert round(L.entropy_gap_limit(stats.expon()), 4) == 0.4228
    assert L.cv_squared_half(stats.expon()) == 0.5
    # lognormal shape 2: the exact limit is s²/2 = 2 while CV²/2 = (e^4 − 1)/2 ≈ 26.8
    assert L.entropy_gap_limit(stats.lognorm(2.0)) == pytest.approx(2.0, rel=1e-14)
    assert L.cv_squared_half(stats.lognorm(2.0)) == pytest.approx(math.expm1(4.0) / 2, rel=1e-14)
    assert round(L.cv_squared_half(stats.lognorm(2.0)), 1) == 26.8
    assert L.entropy_gap_limit(stats.uniform()) == pytest.approx(math.log(2) - 0.5, rel=1e-14)
    assert L.entropy_gap_limit(stats.gamma(2.0)) == pytest.approx(special.digamma(3) - math.log(2), rel=1e-14)
    with mpmath.workdps(50):  # 50-digit oracles are compared with 50-digit constants
        assert abs(L.entropy_gap_limit_mp("exponential", {}) - (1 - mpmath.euler)) < mpmath.mpf("1e-45")
        assert abs(L.entropy_gap_limit_mp("lognormal", {"s": 1}) - mpmath.mpf(1) / 2) < mpmath.mpf("1e-45")
        want = mpmath.digamma(mpmath.mpf(5) / 2) - mpmath.log(mpmath.mpf(3) / 2)
        assert abs(L.entropy_gap_limit_mp("chi2", {"df": 3}) - want) < mpmath.mpf("1e-45")


@pytest.mark.parametrize("s", [0.3, 0.1, 0.01])
def test_cv_squared_half_is_the_small_cv_limit(s):
    # lognormal: E[Y log Y] = s²/2 and CV²/2 = (e^{s²} − 1)/2 = s²/2 (1 + s²/2 + ...)
    ratio = L.entropy_gap_limit(stats.lognorm(s)) / L.cv_squared_half(stats.lognorm(s))
    assert abs(ratio - 1 + s * s / 2) <= s**4


def test_scale_invariance_and_tiny_cv():
    for d in (stats.gamma(2.5), stats.weibull_min(3.0), stats.lognorm(0.7)):
        a = L.entropy_gap_limit(d)
        for scale in (1e-200, 1e150):
            b = L.entropy_gap_limit(type(d)(d.dist, *d.args, scale=scale))
            assert b == pytest.approx(a, rel=1e-13)
    # CV = 1e-3: the limit 5e-7 is not a difference of O(CV) numbers
    assert L.entropy_gap_limit(stats.lognorm(1e-3)) == pytest.approx(5e-7, rel=1e-12)


def test_density_callable_oracle():
    with mpmath.workdps(30):
        got = L.entropy_gap_limit_mp(lambda x: mpmath.exp(-x), support=(0, mpmath.inf), dps=30)
        assert abs(got - (1 - mpmath.euler)) < mpmath.mpf("1e-25")
        cv = L.cv_squared_half_mp(lambda x: 2 * x, support=(0, 1), dps=30)  # triangular: mean 2/3, var 1/18
        assert abs(cv - mpmath.mpf(1) / 16) < mpmath.mpf("1e-25")


# ----------------------------------------------------------------------------
# what float64 cannot do is refused, with a pointer to the oracle
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("dist", [stats.pareto(1.05), stats.beta(0.1, 0.1), stats.beta(5, 0.01)],
                         ids=["pareto 1.05 (tail past 1e300)", "beta(0.1, 0.1)", "beta(5, 0.01)"])
def test_out_of_float_range_is_refused_and_the_oracle_works(dist):
    with pytest.raises(ValueError, match="entropy_gap_limit_mp"):
        L.entropy_gap_limit(dist)
    want = L.entropy_gap_limit_closed_form(dist, dps=30)
    assert abs(L.entropy_gap_limit_mp(dist, dps=30) - want) < mpmath.mpf("1e-25") * want


# ----------------------------------------------------------------------------
# the oracle's tail cut where the evaluated density stops (x = e^t rounded onto a support end)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "dist",
    [stats.pareto(2.3, scale=1.0000000000000022), stats.pareto(1.3, scale=1.0000000000000022),
     stats.uniform(scale=0.9999999999999994)],
    ids=["pareto 2.3, scale 1+10ulp", "pareto 1.3, scale 1+10ulp", "uniform, scale 1-3ulp"],
)
def test_oracle_cuts_where_the_density_stops_between_two_probes(dist):
    """A scale a few ulp from 1 puts the finite end of the support at log x ~ 1e-15, so x = e^t
    rounds onto it ~1e-56 from it (at 40 digits) -- where the outward walk of the tail cut-off
    can land with a non-zero probe and a zero one a unit further (formerly a ZeroDivisionError,
    found by the agreement search). What lies beyond is ~1e-56 of the result: the cut is exact."""
    want = L.entropy_gap_limit_closed_form(dist, dps=30)
    assert abs(L.entropy_gap_limit_mp(dist, dps=30) - want) < mpmath.mpf("1e-25") * want


@pytest.mark.parametrize(
    "args, kwargs",
    [
        # (1 − z)^{−0.99} near the upper end: ~40 % of the mass lies closer to x = 1e10 than 40 digits resolve
        ((stats.beta(5, 0.01, scale=1e10),), {}),
        # a density that stops inside its declared support, between two probes of the tail walk
        ((lambda x: mpmath.exp(-mpmath.mpf("40.5")) if x < mpmath.exp(mpmath.mpf("40.5")) else mpmath.mpf(0),),
         {"support": (0, mpmath.inf)}),
    ],
    ids=["scaled beta(5, 0.01)", "density stopping inside its support"],
)
def test_oracle_refuses_a_density_that_stops_before_its_tail_is_negligible(args, kwargs):
    with pytest.raises(ValueError, match="drops to 0"):
        L.entropy_gap_limit_mp(*args, dps=30, **kwargs)


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "dist, exc, match",
    [
        (stats.norm(), ValueError, "positive"),
        (stats.uniform(-1, 2), ValueError, "positive"),
        (stats.pareto(1.0), ValueError, "infinite"),
        (stats.halfcauchy(), ValueError, "infinite"),
        (stats.poisson(3.0), TypeError, "continuous"),
        ("gamma", TypeError, "frozen"),
        (np.ones(3), TypeError, "frozen"),
    ],
)
def test_bad_distributions(dist, exc, match):
    with pytest.raises(exc, match=match):
        L.entropy_gap_limit(dist)
    with pytest.raises(exc, match=match):
        L.cv_squared_half(dist)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("cauchy", {}), {}, "unknown family"),
        (("gamma", {}), {}, "needs parameter 'a'"),
        (("gamma", {"a": -1}), {}, "must be > 0"),
        (("gamma", {"a": 2, "loc": -1}), {}, "loc"),
        (("gamma", {"a": float("nan")}), {}, "finite"),
        (("gamma", {"a": 2, "shape": 3}), {}, "unknown parameters"),
        (("lognormal", {"s": 1, "scale": 0}), {}, "scale must be > 0"),
        (("pareto", {"b": 1.0}), {}, "infinite mean"),
        ((lambda x: mpmath.exp(-x),), {}, "support"),
        ((lambda x: 2 * mpmath.exp(-x),), {"support": (0, mpmath.inf)}, "integrates to"),
        ((lambda x: 1 / x**2,), {"support": (1, mpmath.inf)}, "infinite mean"),
        ((lambda x: mpmath.exp(-x),), {"support": (-1, mpmath.inf)}, "positive"),
        ((stats.norm(),), {}, "no exact mpmath density"),
        ((3.0,), {}, "family name"),
    ],
)
def test_bad_oracle_input(args, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        L.entropy_gap_limit_mp(*args, dps=20, **kwargs)


