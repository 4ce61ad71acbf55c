"""Unit tests of theorems/thm_3_4.py: exact Cayley bases, KL sides, Gibbs risks, coverage machinery."""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import expit, ndtr

from numerics.backends import MP, Arb
from numerics.strategies import spectra
from theorems import thm_3_4 as T
from theorems.statement import Verdict, floatify

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


# ----------------------------------------------------------------------------
# (b) coverage study machinery
# ----------------------------------------------------------------------------

def _gibbs_true_adaptive(theta, cov, mu=T.MU):
    total = 0.0
    for yv in (1.0, -1.0):
        def f(z):
            x = yv * mu + z
            s = math.sqrt(cov[0, 0] * x * x + 2 * cov[0, 1] * x + cov[1, 1])
            return math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * ndtr(-yv * (theta[0] * x + theta[1]) / s)
        total += 0.5 * integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13, limit=400, points=None)[0]
    return total


@pytest.mark.parametrize("N, reading", [(30, "laplace"), (3000, "laplace"), (300, "per-sample")])
def test_true_gibbs_risk_matches_adaptive_quadrature(N, reading):
    x, y = T.pb_sample(N, 5)
    th, Hbar = T._map_logistic(x, y, T.SIGMA2)
    H = N * Hbar if reading == "laplace" else Hbar
    _, cov = T.laplace_posterior(0.5 * (H + H.T), th, T.SIGMA2)
    # QUADPACK on (−∞, ∞) vs composite Gauss–Legendre on |z| ≤ 12 (tail mass < 1e-32)
    assert abs(T.gibbs_risk_true(th, cov) - _gibbs_true_adaptive(th, cov)) < 1e-10


def test_gibbs_risk_tends_to_the_deterministic_risk():
    """Σ_Q → 0: the Gibbs risk is the 0-1 risk of sign(wx + b), w > 0: ½[Φ(t − μ) + 1 − Φ(t + μ)], t = −b/w."""
    w, b = 1.7, 0.3
    t = -b / w
    want = 0.5 * (ndtr(t - T.MU) + 1 - ndtr(t + T.MU))
    got = T.gibbs_risk_true(np.array([w, b]), 1e-16 * np.eye(2))
    assert abs(got - want) < 1e-10


def test_empirical_gibbs_risk_matches_monte_carlo():
    x, y = T.pb_sample(200, 1)
    th, Hbar = T._map_logistic(x, y, T.SIGMA2)
    _, cov = T.laplace_posterior(Hbar, th, T.SIGMA2)  # the wide 'per-sample' Q: randomisation matters
    rng = np.random.default_rng(0)
    thetas = rng.multivariate_normal(th, cov, size=20000)
    mc = np.mean((y[None, :] * (thetas[:, :1] * x[None, :] + thetas[:, 1:])) < 0)
    # Monte Carlo sd ≤ 0.5/√20000 ≈ 0.0035 per point average; 5 sd
    assert abs(T.gibbs_risk_empirical(th, cov, x, y) - mc) < 0.018


def test_population_minimiser_is_stationary():
    th, H = T.population_minimiser()
    # gradient of the population logistic loss at θ* = (2μ, 0): E[(σ(θᵀx̃) − 1{y=1}) x̃] = 0
    g = np.zeros(2)
    for yv in (1.0, -1.0):
        x = yv * T.MU + T._Z
        r = expit(th[0] * x + th[1]) - (yv > 0)
        g += 0.5 * np.array([np.sum(T._W * r * x), np.sum(T._W * r)])
    assert np.max(np.abs(g)) < 1e-12
    assert np.all(np.linalg.eigvalsh(H) > 0)


def test_clopper_pearson_matches_scipy():
    for k, n in [(0, 200), (3, 200), (122, 200), (200, 200)]:
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        lo, hi = T.clopper_pearson(k, n)
        assert abs(lo - ci.low) < 1e-12 and abs(hi - ci.high) < 1e-12
    assert abs(T.clopper_pearson(0, 200)[1] - (1 - 0.025 ** (1 / 200))) < 1e-12


def test_pb_sample_rejects_bad_input():
    for bad in [(0, 1), (10, -1)]:
        with pytest.raises(ValueError, match="need N"):
            T.pb_sample(*bad)


def test_bound_holds_and_mutants_are_refuted():
    r = T.bound.check()
    assert r.verdict is Verdict.HOLDS, r.evidence["summary"]
    cells = r.evidence["cells"]
    assert len(cells) == 3 * len(T.COVERAGE_CONFIG["quick"]["Ns"])
    assert all(c["cp95"][1] < T.DELTA for c in cells.values())
    for m in T.bound.mutants():
        assert m.check().verdict is Verdict.REFUTED, m.id


def test_bound_counterexample_verifies_in_mpmath():
    m = next(m for m in T.bound.mutants() if m.variant == "no complexity term")
    r = m.check()
    ok, line = m.verify_counterexample(r.counterexample.__dict__)
    assert ok, line
    # the claimed bound on the same seeds: no violation can be confirmed
    cx = dict(r.counterexample.__dict__)
    cx["inputs"] = dict(cx["inputs"], variant="claim", violating_seeds=cx["inputs"]["violating_seeds"][:3])
    ok, line = m.verify_counterexample(cx)
    assert not ok and line.startswith("mpmath 20 digits: 0/3"), line


def test_check_uses_the_shared_numerics():
    """The float sides go through numerics.gaussian (not private copies)."""
    import numerics.gaussian as G

    assert T.laplace_pac_bayes_kl is G.laplace_pac_bayes_kl and T.gaussian_kl is G.gaussian_kl
    assert isinstance(T._q(Fraction(1, 3)), flint.fmpq)
