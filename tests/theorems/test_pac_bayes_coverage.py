"""Unit tests of theorems/pac_bayes_coverage.py: Gibbs risks, the population minimiser, coverage machinery."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import expit, ndtr

from tests.theorems.quick_checks import mutants_of, quick_check
from theorems import pac_bayes_coverage as T
from theorems.statement import Verdict


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
    for m in mutants_of(T.bound):
        assert quick_check(m).verdict is Verdict.REFUTED, m.id


def test_bound_counterexample_verifies_in_mpmath():
    m = next(m for m in mutants_of(T.bound) if m.variant == "no complexity term")
    r = quick_check(m)
    ok, line = m.verify_counterexample(asdict(r.counterexample))  # a deep copy: r is shared
    assert ok, line
    # the claimed bound on the same seeds: no violation can be confirmed
    cx = dict(r.counterexample.__dict__)
    cx["inputs"] = dict(cx["inputs"], variant="claim", violating_seeds=cx["inputs"]["violating_seeds"][:3])
    ok, line = m.verify_counterexample(cx)
    assert not ok and line.startswith("mpmath 20 digits: 0/3"), line
