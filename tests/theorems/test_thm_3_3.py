"""Unit tests of theorems/thm_3_3.py: Newton on the linear-Gaussian model, the exact/float sides of the identity."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given

from numerics.backends import MP
from theorems import thm_3_3 as T
from theorems.statement import Verdict, floatify

# ----------------------------------------------------------------------------
# Newton (logistic_laplace.laplace_newton) on the linear-Gaussian model
# ----------------------------------------------------------------------------

def test_laplace_newton_is_exact_on_a_quadratic():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
    th, A = T.laplace_newton(T._linear_gaussian_grad_hess(X, y, 0.3, 2.0), np.zeros(3))
    want = np.linalg.solve(X.T @ X / 0.3 + np.eye(3) / 2.0, X.T @ y / 0.3)
    np.testing.assert_allclose(th, want, rtol=1e-13)  # κ(A) ≈ 30: a few ulps
    np.testing.assert_allclose(A, X.T @ X / 0.3 + np.eye(3) / 2.0)


# ----------------------------------------------------------------------------
# linear-Gaussian identity: float sides vs exact sides
# ----------------------------------------------------------------------------

def _lg_float_vs_exact(x, lhs_float=T.laplace_logpdf_float):
    """Both float sides agree with the exact (mpmath 50 digits) value of the identity."""
    xf = floatify(x)
    with MP(50) as B:
        exact = float(T.bayes_logpdf_exact(x, B))
        exact_l = float(T.laplace_logpdf_exact(x, B))
    assert abs(exact - exact_l) <= 1e-30 * max(1.0, abs(exact))  # the identity itself, at 50 digits
    # tolerance: the float sides go through Cholesky/Newton on matrices with κ up to ~1e9 in the
    # drawn domain (collinear columns): ~κ·eps relative on the log-det and quadratic form
    for got in (lhs_float(xf), T.bayes_logpdf_float(xf)):
        assert abs(got - exact) <= 1e-6 * max(1.0, abs(exact)), (got, exact)


@given(T.linear_gaussian_problems())
def test_linear_gaussian_sides_agree(raw):
    _lg_float_vs_exact(T._lg_prepare(raw))


def test_linear_gaussian_agreement_can_fail():
    x = T._lg_prepare({"d": 1, "n": 2, "X": np.array([1.0, 2.0]), "y": np.array([0.5, -1.0]),
                       "s2": 1.0, "sigma2": 1.0, "theta_t": np.array([0.3])})
    _lg_float_vs_exact(x)
    with pytest.raises(AssertionError):
        _lg_float_vs_exact(x, lhs_float=lambda xf: T.laplace_logpdf_float(xf) * (1 + 1e-5))


def test_linear_gaussian_identity_by_hand():
    """d = n = 1, X = 1, y = 1, s² = σ² = 1: posterior N(1/2, 1/2), so log q(0) = −½ log π − ¼."""
    x = T._lg_prepare({"d": 1, "n": 1, "X": np.array([1.0]), "y": np.array([1.0]), "s2": 1.0, "sigma2": 1.0,
                       "theta_t": np.array([0.0])})
    with MP(40) as B:
        want = -B.log(B.pi()) / 2 - B.num(Fraction(1, 4))
        assert abs(T.laplace_logpdf_exact(x, B) - want) < 1e-35
        assert abs(T.bayes_logpdf_exact(x, B) - want) < 1e-35


def test_linear_gaussian_check_holds_and_reports_float_errors():
    r = T.linear_gaussian.check()
    assert r.verdict is Verdict.HOLDS
    fv = r.evidence["float_vs_conjugate"]
    # float Laplace vs the Woodbury route for N ≤ 1024: rounding only (κ(XᵀX)·eps ≈ 1e-13)
    assert fv["max_mean_err_sd_units"] < 1e-9 and fv["max_cov_rel_err"] < 1e-9
