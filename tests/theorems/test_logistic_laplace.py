"""Unit tests of theorems/logistic_laplace.py: the Laplace routine, data, quadrature, rate fits, the study."""

from __future__ import annotations

import math
from dataclasses import asdict
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit

from tests.theorems.quick_checks import mutants_of, quick_check
from theorems import logistic_laplace as T
from theorems.statement import Verdict

# ----------------------------------------------------------------------------
# the generic Laplace routine and the data
# ----------------------------------------------------------------------------

def test_laplace_newton_rejects_divergence():
    with pytest.raises(ValueError, match="diverged|converge"):
        T.laplace_newton(lambda t: (np.array([1.0]), np.array([[1e-320]])), np.zeros(1))
    with pytest.raises(ValueError, match="converge"):
        # a gradient with no root: Newton steps never shrink
        T.laplace_newton(lambda t: (np.array([1.0]), np.array([[1.0]])), np.zeros(1), max_iter=5)


def test_logistic_data_rejects_bad_input():
    for bad in [(0, 10, 0), (4, 10, 0), (1, 0, 0), (1, 10, -1)]:
        with pytest.raises(ValueError, match="need d"):
            T.logistic_data(*bad)


def test_logistic_data_is_reproducible():
    X1, y1 = T.logistic_data(2, 50, 7)
    X2, y2 = T.logistic_data(2, 50, 7)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert set(np.unique(y1)) <= {0.0, 1.0}
    # labels follow the model: the MLE-ish correlation has the sign of θ0
    X, y = T.logistic_data(1, 20000, 0)
    assert np.corrcoef(X[:, 0], y - expit(0))[0, 1] > 0


# ----------------------------------------------------------------------------
# logistic regression: quadrature and rate fits
# ----------------------------------------------------------------------------

def _adaptive_moments_1d(N, seed):
    """Posterior mean and variance of 1-D logistic regression by scipy's adaptive quadrature."""
    X, y = T.logistic_data(1, N, seed)
    x, s = X[:, 0], 2 * y - 1
    th, A = T.laplace_newton(T._logistic_grad_hess(X, y, 1.0), np.zeros(1))
    sd = 1 / math.sqrt(A[0, 0])
    U0 = np.sum(np.logaddexp(0, -s * x * th[0])) + th[0] ** 2 / 2

    def dens(t):
        return math.exp(-(np.sum(np.logaddexp(0, -s * x * t)) + t * t / 2 - U0))

    lo, hi = th[0] - 12 * sd, th[0] + 12 * sd
    opts = dict(epsabs=0, epsrel=1e-13, limit=200)
    Z = integrate.quad(dens, lo, hi, **opts)[0]
    m = integrate.quad(lambda t: t * dens(t), lo, hi, **opts)[0] / Z
    v = integrate.quad(lambda t: (t - m) ** 2 * dens(t), lo, hi, **opts)[0] / Z
    return th[0], A[0, 0], m, v


@pytest.mark.parametrize("N, seed", [(50, 0), (800, 3)])
def test_gauss_hermite_ground_truth_matches_adaptive_quadrature(N, seed):
    th, A, m, v = _adaptive_moments_1d(N, seed)
    c = T.laplace_case(1, N, seed, 20)
    # |m − θ*| and |v − 1/A| from two unrelated quadratures; QUADPACK at epsrel 1e-13 on an O(1) integrand
    assert abs(c["mean_abs"] - abs(m - th)) <= 1e-9 * math.sqrt(v)
    assert abs(c["cov_abs"] - abs(v - 1 / A)) <= 1e-9 * v
    assert c["quad_err"] < 1e-8  # n vs n + 4 nodes: the estimate for the coarser rule


def test_logistic_error_is_nonzero_and_small():
    c = T.laplace_case(2, 400, 0, 12)
    assert c["mean_sd"] > 1e4 * c["quad_err"]  # a real error, far above the quadrature's
    assert c["mean_sd"] < 0.2 and c["cov_rel"] < 0.05


def test_fit_rate_recovers_a_known_exponent_and_can_exclude_a_wrong_one():
    rng = np.random.default_rng(0)
    Ns = np.array([100 * 2 ** k for k in range(7)])
    E = 3.0 * Ns[None, :] ** -1.0 * np.exp(0.05 * rng.standard_normal((8, Ns.size)))
    r = T.fit_rate(Ns, E)
    assert r["ci"][0] <= -1.0 <= r["ci"][1]
    assert not (r["ci"][0] <= -0.5 <= r["ci"][1])
    assert r["ci"][1] - r["ci"][0] < 0.1


def test_logistic_study_is_approximate_with_classical_rates():
    r = T.logistic.check()
    assert r.verdict is Verdict.APPROXIMATE
    rates = r.evidence["rates"]["d=1"]
    # classical rates, with room for the pre-asymptotic O(N^-1/2) relative correction at N ≥ 400
    for q, want in T.THEORY.items():
        assert abs(rates[q]["slope"] - want) < 0.08, (q, rates[q])


def test_exact_mutant_counterexample_verifies_in_mpmath():
    m = next(m for m in mutants_of(T.logistic) if m.mutant_claim == ("exact",))
    r = quick_check(m)
    assert r.verdict is Verdict.REFUTED
    ok, line = m.verify_counterexample(asdict(r.counterexample))  # a deep copy: r is shared
    assert ok, line
    # a tampered counterexample (data changed to a symmetric set, where θ* = 0 = E[θ|D]) must not verify
    cx = dict(r.counterexample.__dict__)
    cx["inputs"] = dict(cx["inputs"], x=["1", "-1"], y=[1, 1], N=2)
    assert not m.verify_counterexample(cx)[0]


def test_rate_mutant_counterexample_verifies_independently():
    m = next(m for m in mutants_of(T.logistic) if m.mutant_claim == ("rate", "cov_rel", -0.5))
    r = quick_check(m)
    assert r.verdict is Verdict.REFUTED
    ok, line = m.verify_counterexample(asdict(r.counterexample))  # a deep copy: r is shared
    assert ok, line
    # the same recomputation must reject a claim that sits on the measured exponent (a sub-study, to save time)
    inp = r.counterexample.inputs
    Ns, seeds = inp["N_grid"][-3:], inp["seeds"][:4]
    cfg = next(c for c in T.CONFIGS["quick"] if c[0] == inp["d"])
    E = T.logistic_study(*cfg)["cov_rel"][:4, -3:]
    measured = T.fit_rate(Ns, E)["slope"]
    cx = dict(r.counterexample.__dict__)
    cx["inputs"] = dict(inp, claimed_exponent=str(Fraction(measured).limit_denominator(10**6)), N_grid=Ns, seeds=seeds)
    assert not m.verify_counterexample(cx)[0]
