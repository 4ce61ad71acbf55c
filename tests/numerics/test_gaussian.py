"""Gaussian KL, Laplace posterior, PAC-Bayes bound (Thms 3.3, 3.4): float64 vs mpmath, bad input."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import gaussian as G
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps
MAX_KAPPA = 1e3  # condition number of the covariances drawn below (the tolerances scale with it)
LOG10_MAX_KAPPA = math.log10(MAX_KAPPA)


# ----------------------------------------------------------------------------
# strategies
# ----------------------------------------------------------------------------

@st.composite
def orthogonal(draw, d):
    a = np.array(draw(st.lists(st.floats(-1, 1), min_size=d * d, max_size=d * d))).reshape(d, d)
    q, _ = np.linalg.qr(a + 1e-3 * np.eye(d))
    return q


@st.composite
def spd(draw, d, log_kappa=LOG10_MAX_KAPPA):
    """Symmetric positive definite, κ ≤ 10^log_kappa, overall scale 10^[−40, 40]."""
    q = draw(orthogonal(d))
    scale = 10.0 ** draw(st.floats(-40, 40))
    lam = scale * 10.0 ** np.array(draw(st.lists(st.floats(0, log_kappa), min_size=d, max_size=d)))
    s = (q * lam) @ q.T
    return 0.5 * (s + s.T)


@st.composite
def gaussian_pairs(draw):
    d = draw(st.integers(1, 5))
    S1 = draw(spd(d))
    kind = draw(st.sampled_from(["independent", "near", "equal"]))
    if kind == "independent":  # trace ratio 10^±2, sometimes 10^±12
        T = draw(spd(d))
        ratio = 10.0 ** draw(st.one_of(st.floats(-2, 2), st.floats(-12, 12)))
        S0 = T / (float(np.trace(T)) / d) * (float(np.trace(S1)) / d) * ratio
    elif kind == "near":  # S0 = S1 (1 + ε E) with ε down to 1e-13: KL ~ ε²
        eps = 10.0 ** draw(st.floats(-13, -1))
        e = np.array(draw(st.lists(st.floats(-1, 1), min_size=d * d, max_size=d * d))).reshape(d, d)
        S0 = S1 + eps * np.min(np.linalg.eigvalsh(S1)) * 0.5 * (e + e.T) / d
        S0 = 0.5 * (S0 + S0.T)
    else:
        S0 = S1.copy()
    root = math.sqrt(float(np.max(np.linalg.eigvalsh(S1))))
    mu1 = root * np.array(draw(st.lists(st.floats(-3, 3), min_size=d, max_size=d)))
    shift = draw(st.sampled_from([0.0, 1e-12, 1e-6, 1.0]))
    mu0 = mu1 + shift * root * np.array(draw(st.lists(st.floats(-1, 1), min_size=d, max_size=d)))
    if kind == "equal" and shift == 0.0:
        mu0 = mu1 + root * 1e-3  # KL = 0 exactly has nothing to compare relatively
    return mu0, S0, mu1, S1


@st.composite
def laplace_kl_args(draw):
    s2 = 10.0 ** draw(st.floats(-30, 30))
    n = draw(st.integers(1, 20))
    # x = σ²λ from −0.9 (a negative-curvature direction; the condition number of the term in x is
    # ≤ ~10 there) to 1e300 (σ²λ overflowing is handled via log σ² + log λ)
    xs = draw(st.lists(st.one_of(st.floats(-0.9, 0.0), st.just(0.0),
                                 st.builds(lambda e: 10.0**e, st.floats(-300, 300))), min_size=n, max_size=n))
    lam = [x / s2 for x in xs]
    if not all(math.isfinite(v) for v in lam):
        lam = [v if math.isfinite(v) else 1e300 for v in lam]
    th = draw(st.one_of(st.just(0.0), st.builds(lambda e: 10.0**e, st.floats(-300, 300))))
    if not math.isfinite(th / s2):
        th = s2
    return np.array(lam), th, s2


@st.composite
def pac_bayes_args(draw):
    e = draw(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0])))
    kl = draw(st.one_of(st.just(0.0), st.builds(lambda x: 10.0**x, st.floats(-300, 8))))
    n = draw(st.one_of(st.integers(1, 10**12), st.just(1)))
    delta = draw(st.one_of(st.floats(1e-300, 1.0, exclude_max=True), st.sampled_from([0.05, 1e-300])))
    return e, kl, float(n), delta


_S = np.array([[2.0, 0.3], [0.3, 1.0]])  # a meta-test covariance

#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "gaussian_kl", G.gaussian_kl, G.gaussian_kl_mp, gaussian_pairs(),
        rtol=64 * MAX_KAPPA * EPS, atol=1e-300,
        why="Cholesky, triangular solves and eigvalsh are backward stable with errors ~κ(S1)·eps relative "
        "to ‖D‖ and to the Mahalanobis term; Σ(d − log1p d) and ‖v‖² are sums of non-negative terms; "
        "S0 − S1 and μ1 − μ0 exact; measured ≤ 15 κ eps, allowed 64 κ eps with κ ≤ 1e3",
        meta_args=((np.array([0.1, -0.2]), _S, np.zeros(2), np.eye(2)),
                    (np.zeros(2), _S * (1 + 1e-6), np.zeros(2), _S),),
    ),
    Agreement(
        "laplace_pac_bayes_kl", G.laplace_pac_bayes_kl, G.laplace_pac_bayes_kl_mp, laplace_kl_args(),
        rtol=64 * EPS, atol=1e-300,
        why="each term log1p(x) − x/(1+x) ≥ 0 to a few ulp (series for |x| < 0.1, cancellation ≤ 5x "
        "elsewhere); σ²λ rounds once, the term's condition number in x is ≤ ~10 for x ≥ −0.9; "
        "n ≤ 20 non-negative terms",
        meta_args=((np.array([1e-3, 2.0, 50.0]), 4.0, 0.5), (np.array([-1.0, 1e-9]), 0.0, 0.9),),
    ),
    Agreement(
        "pac_bayes_bound", G.pac_bayes_bound, G.pac_bayes_bound_mp, pac_bayes_args(),
        rtol=8 * EPS, atol=0.0,
        why="log 2 + ½ log n − log δ and (kl + ·)/(2n) are sums/products of positives; sqrt halves the error",
        meta_args=((0.1, 5.0, 1000.0, 0.05),),
    ),
]
CASES = {c.name: c for c in AGREEMENTS}


def test_agreement_catches_a_dropped_term(monkeypatch):
    """Meta-test: truncating d − log1p(d) to its leading term d²/2 must be caught."""
    monkeypatch.setattr(G, "_x_minus_log1p", lambda d: 0.5 * np.asarray(d) ** 2)
    with pytest.raises(AssertionError):
        CASES["gaussian_kl"].assert_agrees(CASES["gaussian_kl"].meta_args[1])  # the near branch


def _posterior_error(H, th, s2):
    mean, cov = G.laplace_posterior(H, th, s2)
    m_mp, c_mp = G.laplace_posterior_mp(H, th, s2)
    n = H.shape[0]
    diff = math.sqrt(sum(float(cov[i, j] - c_mp[i, j]) ** 2 for i in range(n) for j in range(n)))
    norm = math.sqrt(sum(float(c_mp[i, j]) ** 2 for i in range(n) for j in range(n)))
    lam = np.linalg.eigvalsh(H) + 1 / s2
    kappa = float(lam.max() / lam.min())
    assert np.array_equal(mean, th)
    return diff / norm, kappa


@st.composite
def laplace_posterior_args(draw):
    n = draw(st.integers(1, 6))
    q = draw(orthogonal(n))
    s2 = 10.0 ** draw(st.floats(-20, 20))
    xs = np.array(draw(st.lists(st.one_of(st.floats(-0.9, 1.0), st.builds(lambda e: 10.0**e, st.floats(-10, 4))),
                                min_size=n, max_size=n)))
    H = (q * (xs / s2)) @ q.T
    th = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n)))
    return 0.5 * (H + H.T), th, s2


@given(laplace_posterior_args())
def test_laplace_posterior_agrees_with_mpmath(args):
    rel, kappa = _posterior_error(*args)
    # eigh is backward stable: the inverse of H + I/σ² is off by ~n·κ·eps in the Frobenius norm
    assert rel <= 16 * args[0].shape[0] * kappa * EPS


def test_laplace_posterior_check_catches_a_perturbation(monkeypatch):
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert _posterior_error(H, np.ones(2), 0.7)[0] < 1e-14
    real = G.laplace_posterior
    monkeypatch.setattr(G, "laplace_posterior", lambda *a: (real(*a)[0], real(*a)[1] * (1 + 1e-8)))
    rel, kappa = _posterior_error(H, np.ones(2), 0.7)
    with pytest.raises(AssertionError):
        assert rel <= 16 * 2 * kappa * EPS


# ----------------------------------------------------------------------------
# identities and extremes
# ----------------------------------------------------------------------------

@settings(max_examples=30)
@given(laplace_posterior_args())
def test_eigenvalue_form_equals_generic_gaussian_kl(args):
    """Thm 3.4: ½[Σ(log(1+σ²λ) + 1/(1+σ²λ) − 1) + ‖θ‖²/σ²] = KL(N(θ, (H+σ⁻²I)⁻¹) ‖ N(0, σ²I))."""
    H, th, s2 = args
    mean, cov = G.laplace_posterior(H, th, s2)
    n = H.shape[0]
    a = G.laplace_pac_bayes_kl(np.linalg.eigvalsh(H), float(th @ th), s2)
    b = G.gaussian_kl(mean, cov, np.zeros(n), s2 * np.eye(n))
    lam = np.linalg.eigvalsh(H) * s2 + 1
    kappa = float(lam.max() / lam.min())
    # the generic route goes through the computed covariance, off by ~κ(H + σ⁻²I)·eps relative:
    # that is an error ~κ eps relative to the KL, plus a KL of its own ½ Σ d_i², d_i ~ κ eps
    # (visible when the true KL is 0: H = 0, θ = 0); and the generic formula sums terms of size ~1
    # (tr, −n, log det) into a KL that can be ~1e-6: an absolute cancellation error ~n·κ·eps
    # (found by Hypothesis at H = 1/512, θ = 0: |a − b| = 5.4e-20 on a KL of 9.5e-7)
    assert abs(a - b) <= 64 * n * kappa * EPS * a + n * (64 * kappa * EPS) ** 2 + 16 * n * kappa * EPS


def test_eigenvalue_form_matches_mpmath_generic_kl():
    H = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 0.1]])
    th, s2 = np.array([0.3, -1.0, 2.0]), 0.8
    with mpmath.workdps(60):
        P = mpmath.matrix(H.tolist()) + mpmath.eye(3) / mpmath.mpf(s2)
        cov = mpmath.inverse(P)
        # KL(N(θ, cov) ‖ N(0, σ²I)) by the textbook formula
        tr = sum(cov[i, i] for i in range(3)) / mpmath.mpf(s2)
        want = (tr + mpmath.mpf(float(th @ th)) / mpmath.mpf(s2) - 3
                + 3 * mpmath.log(mpmath.mpf(s2)) - mpmath.log(mpmath.det(cov))) / 2
    got = G.laplace_pac_bayes_kl(np.linalg.eigvalsh(H), float(th @ th), s2)
    assert abs(got - float(want)) <= 1e-14 * float(want)
    assert abs(G.laplace_pac_bayes_kl_mp(np.linalg.eigvalsh(H), float(th @ th), s2) - want) < 1e-14


def test_kl_of_identical_gaussians_is_zero_and_batches_broadcast():
    S = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert G.gaussian_kl(np.ones(2), S, np.ones(2), S) == 0.0
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 3, 3))
    S0 = A @ np.swapaxes(A, -1, -2) + 3 * np.eye(3)
    mu0 = rng.normal(size=(4, 3))
    out = G.gaussian_kl(mu0, S0, np.zeros(3), np.eye(3))
    assert out.shape == (4,)
    for i in range(4):
        assert out[i] == G.gaussian_kl(mu0[i], S0[i], np.zeros(3), np.eye(3))
    # 1-D closed form
    m0, v0, m1, v1 = 0.3, 2.0, -1.0, 0.5
    want = 0.5 * (v0 / v1 + (m1 - m0) ** 2 / v1 - 1 + math.log(v1 / v0))
    assert G.gaussian_kl([m0], [[v0]], [m1], [[v1]]) == pytest.approx(want, rel=1e-15)


def test_laplace_quantities_vectorise_and_handle_extremes():
    lam = np.array([[1e-300, 1e300, -0.5], [0.0, 1.0, 2.0]])
    out = G.laplace_pac_bayes_kl(lam, np.array([0.0, 3.0]), 1.0)
    assert out.shape == (2,)
    assert out[0] == pytest.approx(float(G.laplace_pac_bayes_kl_mp(lam[0], 0.0, 1.0)), rel=1e-15)
    assert out[1] == pytest.approx(float(G.laplace_pac_bayes_kl_mp(lam[1], 3.0, 1.0)), rel=1e-15)
    # σ²λ overflowing float64 still gives the finite answer log(σ²λ) − 1
    got = G.laplace_pac_bayes_kl([1e300], 0.0, 1e300)
    assert got == pytest.approx(0.5 * (600 * math.log(10) - 1), rel=1e-15)
    # H = 0: posterior = prior covariance, KL = ‖θ‖²/(2σ²)
    assert G.laplace_pac_bayes_kl(np.zeros(5), 2.0, 4.0) == 0.25
    mean, cov = G.laplace_posterior(np.zeros((2, 3, 3)), np.ones(3), np.array([1.0, 2.0]))
    assert mean.shape == (2, 3) and np.allclose(cov[1], 2 * np.eye(3))


def test_pac_bayes_bound_values():
    assert G.pac_bayes_bound(0.1, 5.0, 1000, 0.05) == pytest.approx(
        0.1 + math.sqrt((5.0 + math.log(2 * math.sqrt(1000) / 0.05)) / 2000), rel=1e-15)
    out = G.pac_bayes_bound([0.0, 0.5], [1.0, 100.0], [10, 10**6], 0.01)
    assert out.shape == (2,) and np.all(out > [0.0, 0.5])


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------

_I2 = np.eye(2)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros(2), _I2, [np.nan, 0.0], _I2), "mu1 contains NaN"),
        ((np.zeros(2), np.array([[np.inf, 0.0], [0.0, 1.0]]), np.zeros(2), _I2), "S0 contains inf"),
        ((np.zeros(2), np.ones((2, 3)), np.zeros(2), _I2), "square"),
        ((np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), _I2), "not symmetric"),
        ((np.zeros(2), _I2, np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]])), "S1 is not positive definite"),
        ((np.zeros(2), -_I2, np.zeros(2), _I2), "S0 is not positive definite"),
        ((np.zeros(3), _I2, np.zeros(2), _I2), "dimension mismatch"),
        ((np.zeros((3, 2)), np.stack([_I2] * 2), np.zeros(2), _I2), "batch shapes"),
        (([], [[]], [], [[]]), "empty"),
    ],
)
def test_bad_gaussian_kl_input(args, match):
    with pytest.raises(ValueError, match=match):
        G.gaussian_kl(*args)


@pytest.mark.parametrize(
    "args, match",
    [
        (([1.0, -2.0], 0.0, 1.0), "not positive definite"),
        (([1.0, np.nan], 0.0, 1.0), "NaN"),
        (([1.0], -1.0, 1.0), "theta_norm_sq must be >= 0"),
        (([1.0], 1.0, 0.0), "sigma2 must be > 0"),
        (([1.0], 1.0, np.inf), "sigma2 contains inf"),
        ((1.0, 1.0, 1.0), "last axis"),
        (([], 1.0, 1.0), "empty"),
        ((np.ones((2, 3)), [1.0, 2.0, 3.0], 1.0), "broadcast"),
    ],
)
def test_bad_laplace_kl_input(args, match):
    with pytest.raises(ValueError, match=match):
        G.laplace_pac_bayes_kl(*args)


def test_bad_laplace_posterior_and_bound_input():
    with pytest.raises(ValueError, match="not positive definite"):
        G.laplace_posterior(-2 * _I2, np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="not symmetric"):
        G.laplace_posterior(np.array([[1.0, 1.0], [0.0, 1.0]]), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="length 2"):
        G.laplace_posterior(_I2, np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="sigma2 must be > 0"):
        G.laplace_posterior(_I2, np.zeros(2), -1.0)
    for args, match in [((1.5, 1.0, 10, 0.1), "emp_risk"), ((0.5, -1.0, 10, 0.1), "kl must be"),
                        ((0.5, 1.0, 0, 0.1), "n must be"), ((0.5, 1.0, 2.5, 0.1), "n must be"),
                        ((0.5, 1.0, 10, 1.0), "delta"), ((0.5, 1.0, 10, 0.0), "delta"),
                        ((np.nan, 1.0, 10, 0.1), "NaN"), (([0.1, 0.2], [1.0, 2.0, 3.0], 10, 0.1), "shapes")]:
        with pytest.raises(ValueError, match=match):
            G.pac_bayes_bound(*args)
        if np.ndim(args[0]) == 0 and np.ndim(args[1]) == 0:
            with pytest.raises(ValueError, match=match):
                G.pac_bayes_bound_mp(*args)
    with pytest.raises(ValueError, match="one pair"):
        G.gaussian_kl_mp(np.zeros((2, 2)), np.stack([_I2] * 2), np.zeros(2), _I2)


@pytest.mark.slow
def test_report_worst_laplace_posterior_disagreement():
    from hypothesis import target

    worst = [0.0, 0.0]

    @settings(max_examples=300, database=None)
    @given(laplace_posterior_args())
    def search(args):
        rel, kappa = _posterior_error(*args)
        worst[0] = max(worst[0], rel)
        worst[1] = max(worst[1], rel / (kappa * EPS))
        target(rel / (kappa * EPS), label="error in units of κ eps")

    search()
    print(f"\nlaplace_posterior: worst relative Frobenius error {worst[0]:.3e}, worst in units of κ·eps {worst[1]:.2f}")
