"""Unit tests of theorems/thm_3_4.py: exact Cayley bases, the KL formula's sides, the log-det identity."""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.backends import MP, Arb
from numerics.strategies import spectra
from theorems import thm_3_4 as T
from theorems.statement import floatify

# ----------------------------------------------------------------------------
# (a) KL formula
# ----------------------------------------------------------------------------

@given(st.integers(1, 6).flatmap(lambda d: st.lists(st.integers(-40, 40).map(lambda k: Fraction(k, 7)),
                                                     min_size=d * (d - 1) // 2, max_size=d * (d - 1) // 2)
                                 .map(lambda s: (d, s))))
def test_cayley_transform_is_exactly_orthogonal(ds):
    d, skew = ds
    Q = T.cayley_orthogonal(skew, d)
    assert Q.transpose() * Q == T._identity(d)


def _kl_sides_agree(x, lhs_float=T.kl_formula_float):
    xd = T._kl_derive(dict(x))
    with MP(50) as B:
        a, b = T.kl_formula_exact(xd, B), T.generic_kl_exact(xd, B)
    assert abs(a - b) <= 1e-40 * max(1, abs(a))  # the identity, in exact rationals + 50-digit logs
    xf = floatify(xd)
    # float tolerance: eigh backward error eps·‖H‖ on the small eigenvalues, κ ≤ 1e6 in the domain,
    # plus gaussian_kl's own eps·κ(S1): 1e-8 relative, with an absolute floor for KL ~ (σ²λ)² ≪ 1
    for got in (lhs_float(xf), T.generic_kl_float(xf)):
        assert abs(got - float(a)) <= 1e-8 * float(a) + 1e-12, (got, float(a))


@given(T.kl_problems())
def test_kl_formula_sides_agree(raw):
    _kl_sides_agree(T._kl_prepare(raw))


def test_kl_agreement_can_fail():
    x = T._kl_prepare({"lam": np.array([1.0, 3.0]), "skew": [Fraction(1, 2)], "theta": np.array([1.0, -2.0]),
                       "sigma2": 0.5})
    _kl_sides_agree(x)
    with pytest.raises(AssertionError):
        _kl_sides_agree(x, lhs_float=lambda xf: T.kl_formula_float(xf) * (1 + 1e-6))


def test_kl_formula_in_arb_encloses_the_generic_side():
    raw = {"lam": np.array([0.0, 1e-3, 7.0]), "skew": [Fraction(1, 3), Fraction(-2), Fraction(1, 5)],
           "theta": np.array([0.5, 0.0, 3.0]), "sigma2": 2.0}
    x = T._kl_derive(T._kl_prepare(raw))
    with Arb(256) as B:
        d = T.kl_formula_exact(x, B) - T.generic_kl_exact(x, B)
        assert d.contains(0) and d.rad() < 1e-60


def test_kl_derived_matrix_has_the_prescribed_spectrum():
    x = T._kl_derive(T._kl_prepare({"lam": np.array([0.5, 2.0, 9.0]), "skew": [Fraction(1), Fraction(2), Fraction(-3)],
                                    "theta": np.zeros(3), "sigma2": 1.0}))
    H = np.array([float(v) for v in x["H"]]).reshape(3, 3)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [0.5, 2.0, 9.0], rtol=1e-14)
    assert abs(H[0, 1]) > 0.1  # genuinely non-diagonal


def test_kl_canonical_rejects_bad_inputs():
    with pytest.raises(ValueError):
        T._kl_canonical({"lam": [Fraction(1)], "sigma2": Fraction(0)})
    with pytest.raises(ValueError):
        T._kl_canonical({"lam": [Fraction(-1)], "sigma2": Fraction(1)})


# ----------------------------------------------------------------------------
# (c) log-det identity
# ----------------------------------------------------------------------------

def _logdet_sides_agree(lam, rhs_float=T.logdet_identity_float):
    x = T._ld_derive(T.exactify({"lam": lam}))
    with MP(50) as B:
        a, b = T.logdet_exact(x, B), T.logdet_identity_exact(x, B)
    assert abs(a - b) < 1e-35 * max(1, abs(a))
    xf = floatify(x)
    # float: n·log terms up to 40·30 cancel, each to ~eps relative -> ~1e-12 absolute
    for got in (T.logdet_float(xf), rhs_float(xf)):
        assert abs(got - float(a)) <= 1e-11 * max(1.0, abs(float(a))), (got, float(a))


@given(spectra(2, 40))
def test_logdet_identity_sides_agree(lam):
    _logdet_sides_agree(lam)


def test_logdet_agreement_can_fail():
    _logdet_sides_agree(np.array([1.0, 2.0, 5.0]))
    with pytest.raises(AssertionError):
        _logdet_sides_agree(np.array([1.0, 2.0, 5.0]),
                            rhs_float=lambda xf: T.logdet_identity_float(xf, "KL(p‖u) instead of KL(u‖p)"))


def test_logdet_canonical_rejects_nonpositive():
    with pytest.raises(ValueError, match="> 0"):
        T._ld_canonical({"lam": [Fraction(1), Fraction(0)]})


def test_check_uses_the_shared_numerics():
    """The float sides go through numerics.gaussian (not private copies)."""
    import numerics.gaussian as G

    assert T.laplace_pac_bayes_kl is G.laplace_pac_bayes_kl and T.gaussian_kl is G.gaussian_kl
    assert isinstance(T._q(Fraction(1, 3)), flint.fmpq)
