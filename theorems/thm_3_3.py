"""Thm 3.3: the Laplace posterior N(θ*, (H + σ⁻²I)⁻¹), measured against the true posterior.

Two sub-claims:

* ``thm-3.3/linear-gaussian`` -- for y = Xθ + ε, ε ~ N(0, s²I), prior N(0, σ²I),
  the Laplace approximation *is* the posterior. Written as an identity of
  log-densities at a test point θ_t:

      log N(θ_t; θ*, (H + σ⁻²I)⁻¹)                                  (Laplace)
    = log N(y; Xθ_t, s²I) + log N(θ_t; 0, σ²I) − log N(y; 0, s²I + σ²XXᵀ)   (Bayes)

  with θ* = (XᵀX/s² + σ⁻²I)⁻¹Xᵀy/s² and H = XᵀX/s². The two sides take
  different routes (d×d precision form vs the N×N evidence of Bayes' theorem);
  every matrix quantity is a rational function of the rational inputs, so the
  exact sides use exact rational linear algebra (``flint.fmpq_mat``) and only the
  final logs are taken in mpmath/Arb. Equality for every θ_t is exactly "the
  posterior is N(θ*, (H + σ⁻²I)⁻¹)".

* ``thm-3.3/logistic`` -- Bayesian logistic regression in d = 1, 2, 3 (x ~ N(0, I_d),
  y ~ Bernoulli(sigmoid(xᵀθ₀)), prior N(0, I)): the posterior's mean and
  covariance by Gauss–Hermite tensor quadrature centred at θ* and whitened by
  the Laplace covariance (spectrally accurate; the error is estimated by a
  second rule with more nodes), against the Laplace values, over a geometric
  grid of N. Reported errors, absolute and in posterior-sd units:

  - ``mean_abs`` = ‖E[θ|D] − θ*‖₂,
  - ``mean_sd``  = Mahalanobis ‖E[θ|D] − θ*‖ in the true posterior covariance,
  - ``cov_abs``  = ‖Cov[θ|D] − (H + σ⁻²I)⁻¹‖_F,
  - ``cov_rel``  = max_i |μ_i − 1|, μ the eigenvalues of Cov^{-1/2} Σ_Laplace Cov^{-1/2}.

  Classical theory (Tierney & Kadane 1986; Kass, Tierney & Kadane 1990): the
  posterior mean differs from the mode by O(N⁻¹) (posterior sd is N^{-1/2}, so
  O(N^{-1/2}) in sd units), and the covariance's relative error is O(N⁻¹)
  (absolute O(N⁻²)). The rates are fitted by log-log least squares per data
  seed, with a t-interval over seeds.

References: Bishop, *Pattern Recognition and Machine Learning* (2006), §3.3 and
§4.4; Tierney & Kadane, JASA 81 (1986) 82–86.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import flint
import mpmath
import numpy as np
from hypothesis import strategies as st
from numpy.polynomial.legendre import leggauss
from scipy.special import expit

from numerics.rational import fmpq_matrix as _mat
from numerics.rational import identity as _identity
from numerics.rational import to_fmpq as _q
from numerics.rational import to_fraction as _frac
from theorems import domain_checks as D
from theorems.logistic_laplace import (  # noqa: F401  (re-exported: tests and users reach them here)
    CONFIGS,
    DATA_RECIPE,
    DESCR,
    EXACT_CASE,
    QUANTITIES,
    SIGMA2,
    THEORY,
    THETA0,
    _fmt_ci,
    _logistic_grad_hess,
    _mp_posterior_moments_1d,
    _rate_evidence,
    _theory_in_ci,
    fit_rate,
    laplace_case,
    laplace_newton,
    logistic_data,
    logistic_study,
)
from theorems.statement import Counterexample, Inequality, Result, Statement, Verdict, exactify, fraction_str

# ----------------------------------------------------------------------------
# Linear-Gaussian model: exact identity
# ----------------------------------------------------------------------------


def _linear_gaussian_grad_hess(X, y, s2, sigma2):
    A = X.T @ X / s2 + np.eye(X.shape[1]) / sigma2

    def gh(th):
        return X.T @ (X @ th - y) / s2 + th / sigma2, A

    return gh


def _mvn_logpdf(x, mean, cov) -> float:
    """log N(x; mean, cov) by Cholesky (float)."""
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, x - mean)
    return float(-0.5 * x.size * math.log(2 * math.pi) - np.sum(np.log(np.diag(L))) - 0.5 * z @ z)


def _lg_arrays(x):
    d, n = int(x["d"]), int(x["n"])
    X = np.array([float(v) for v in x["X"]]).reshape(n, d)
    return X, np.array([float(v) for v in x["y"]]), float(x["s2"]), float(x["sigma2"]), np.array(
        [float(v) for v in x["theta_t"]])


def laplace_logpdf_float(x, variant: str = "claim") -> float:
    """log q_Laplace(θ_t) with the MAP and Hessian from the generic Newton routine (float)."""
    X, y, s2, sigma2, tt = _lg_arrays(x)
    d = X.shape[1]
    th, A = laplace_newton(_linear_gaussian_grad_hess(X, y, s2, sigma2), np.zeros(d))
    H = X.T @ X / s2
    if variant == "no-prior-cov":
        A = H
    elif variant == "sigma-not-squared":
        A = H + np.eye(d) / math.sqrt(sigma2)
    elif variant == "mle-mean":
        th = np.linalg.solve(H, X.T @ y / s2)
    # precision form (no inverse): log N = −d/2 log 2π + ½ log det A − ½ eᵀAe
    L = np.linalg.cholesky(A)
    e = tt - th
    return float(-0.5 * d * math.log(2 * math.pi) + np.sum(np.log(np.diag(L))) - 0.5 * e @ A @ e)


def bayes_logpdf_float(x) -> float:
    """log p(θ_t | D) by Bayes' theorem with the closed-form evidence N(y; 0, s²I + σ²XXᵀ) (float)."""
    X, y, s2, sigma2, tt = _lg_arrays(x)
    n, d = X.shape
    loglik = _mvn_logpdf(y, X @ tt, s2 * np.eye(n))
    logprior = _mvn_logpdf(tt, np.zeros(d), sigma2 * np.eye(d))
    logev = _mvn_logpdf(y, np.zeros(n), s2 * np.eye(n) + sigma2 * X @ X.T)
    return loglik + logprior - logev


def _lg_exact_parts(x):
    d, n = int(x["d"]), int(x["n"])
    X = _mat(n, d, x["X"])
    y = _mat(n, 1, x["y"])
    tt = _mat(d, 1, x["theta_t"])
    return d, n, X, y, tt, _q(x["s2"]), _q(x["sigma2"])


def _scalar(m: flint.fmpq_mat) -> Fraction:
    return _frac(m[0, 0])


def laplace_logpdf_exact(x, B, variant: str = "claim"):
    """Exact log q_Laplace(θ_t): θ*, H, det and quadratic form in rationals; logs in backend B.

    ``variant`` selects the mutants: ``"no-prior-cov"`` (covariance H⁻¹),
    ``"sigma-not-squared"`` (precision H + σ⁻¹I), ``"mle-mean"`` (mean H⁻¹Xᵀy/s²).
    Where a mutant needs H⁻¹ and H is singular it is undefined; the claim's
    value is returned there (the search moves on to inputs where it is defined).
    """
    d, n, X, y, tt, s2, sigma2 = _lg_exact_parts(x)
    H = X.transpose() * X / s2
    A = H + _identity(d) / sigma2
    b = X.transpose() * y / s2
    mean = A.solve(b)
    if variant in ("no-prior-cov", "mle-mean") and H.det() != 0:
        if variant == "no-prior-cov":
            A = H
        else:
            mean = H.solve(b)
    elif variant == "sigma-not-squared":
        s = math.isqrt(int(sigma2.p)), math.isqrt(int(sigma2.q))
        if s[0] ** 2 == sigma2.p and s[1] ** 2 == sigma2.q:  # σ rational: stay exact
            A = H + _identity(d) / flint.fmpq(s[1], s[0])
        else:
            r = B.sqrt(B.num(_frac(sigma2)))
            Hd = [[B.num(_frac(H[i, j])) + (1 / r if i == j else 0) for j in range(d)] for i in range(d)]
            return _logpdf_backend(B, tt, mean, Hd)
    e = tt - mean
    quad = _scalar(e.transpose() * A * e)
    det = _frac(A.det())
    return -B.num(d) / 2 * B.log(2 * B.pi()) + B.log(B.num(det)) / 2 - B.num(quad) / 2


def _logpdf_backend(B, tt, mean, A):
    """log N(θ_t; mean, A⁻¹) with A given as backend numbers (only for the irrational mutant)."""
    d = len(A)
    M = [row[:] for row in A]
    e = [B.num(_frac(tt[i, 0] - mean[i, 0])) for i in range(d)]
    quad = B.num(0)
    for i in range(d):
        for j in range(d):
            quad += e[i] * M[i][j] * e[j]
    # determinant by elimination (A is PD, so no pivoting needed)
    det = B.num(1)
    for k in range(d):
        det *= M[k][k]
        for i in range(k + 1, d):
            f = M[i][k] / M[k][k]
            for j in range(k, d):
                M[i][j] -= f * M[k][j]
    return -B.num(d) / 2 * B.log(2 * B.pi()) + B.log(det) / 2 - quad / 2


def bayes_logpdf_exact(x, B):
    """Exact log p(θ_t|D) = log lik + log prior − log evidence (N×N evidence matrix in rationals)."""
    d, n, X, y, tt, s2, sigma2 = _lg_exact_parts(x)
    r = y - X * tt
    rss = _scalar(r.transpose() * r)
    tss = _scalar(tt.transpose() * tt)
    C = _identity(n) * s2 + X * X.transpose() * sigma2
    yCy = _scalar(y.transpose() * C.solve(y))
    two_pi = 2 * B.pi()
    loglik = -B.num(n) / 2 * B.log(two_pi * B.num(_frac(s2))) - B.num(rss / (2 * _frac(s2)))
    logprior = -B.num(d) / 2 * B.log(two_pi * B.num(_frac(sigma2))) - B.num(tss / (2 * _frac(sigma2)))
    logev = -B.num(n) / 2 * B.log(two_pi) - B.log(B.num(_frac(C.det()))) / 2 - B.num(yCy) / 2
    return loglik + logprior - logev


@st.composite
def linear_gaussian_problems(draw):
    """(d, n, X, y, s², σ², θ_t): plain draws, extreme scales, near-collinear columns, n < d."""
    d = draw(st.integers(1, 3))
    n = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["plain", "scaled", "collinear"]))
    ent = st.floats(-3, 3, allow_subnormal=False).map(lambda v: 0.0 if abs(v) < 1e-6 else v)
    X = np.array(draw(st.lists(ent, min_size=n * d, max_size=n * d))).reshape(n, d)
    if kind == "scaled":
        X = X * 10.0 ** draw(st.integers(-2, 2))
    elif kind == "collinear" and d >= 2:
        X[:, 1] = X[:, 0] * (1 + 10.0 ** draw(st.floats(-8, -1)))
    y = np.array(draw(st.lists(st.floats(-5, 5).map(lambda v: 0.0 if abs(v) < 1e-6 else v), min_size=n, max_size=n)))
    s2 = 10.0 ** draw(st.floats(-2, 2))
    sigma2 = draw(st.one_of(st.just(1.0), st.just(4.0), st.floats(-2, 2).map(lambda e: 10.0 ** e)))
    tt = np.array(draw(st.lists(ent, min_size=d, max_size=d)))
    return {"d": d, "n": n, "X": X.ravel(), "y": y, "s2": s2, "sigma2": sigma2, "theta_t": tt}


def _lg_conjugate_errors(N: int, d: int, seed: int) -> tuple[float, float]:
    """Float check on large N: Laplace (Newton) vs the conjugate posterior in Woodbury form."""
    rng = np.random.default_rng((seed, d, N))
    X = rng.standard_normal((N, d))
    s2, sigma2 = 0.5, 2.0
    y = X @ np.array([1.0, -0.7, 0.5])[:d] + math.sqrt(s2) * rng.standard_normal(N)
    th, A = laplace_newton(_linear_gaussian_grad_hess(X, y, s2, sigma2), np.zeros(d))
    S_lap = np.linalg.inv(A)
    # Gaussian conditioning: Cov(θ, y) = σ²Xᵀ, Cov(y) = s²I + σ²XXᵀ (N×N route)
    C = s2 * np.eye(N) + sigma2 * X @ X.T
    K = np.linalg.solve(C, sigma2 * X).T
    mean = K @ y
    S = sigma2 * np.eye(d) - K @ (sigma2 * X)
    sd = np.sqrt(np.diag(S))
    return float(np.max(np.abs(th - mean) / sd)), float(np.max(np.abs(S_lap - S)) / np.max(np.abs(S)))


@dataclass
class _LinearGaussianIdentity(Inequality):
    """The identity, plus (for the statement itself) float errors against the conjugate posterior."""

    def check(self, effort: str = "quick", examples: int | None = None):
        r = super().check(effort, examples)
        if "~" not in self.id:
            grid = [4, 16, 64, 256, 1024] if effort == "quick" else [4, 16, 64, 256, 1024, 4096]
            rows = []
            for N in grid:
                for d in (1, 2, 3):
                    m, c = _lg_conjugate_errors(N, d, 0)
                    rows.append({"N": N, "d": d, "mean_err_sd_units": float(f"{m:.3g}"),
                                 "cov_rel_err": float(f"{c:.3g}")})
            r.evidence["float_vs_conjugate"] = {
                "what": "float Laplace (Newton) vs conjugate posterior (Woodbury/N×N route), s²=0.5, σ²=2",
                "max_mean_err_sd_units": max(x["mean_err_sd_units"] for x in rows),
                "max_cov_rel_err": max(x["cov_rel_err"] for x in rows),
                "rows": rows,
            }
            fv = r.evidence["float_vs_conjugate"]
            r.evidence["summary"] += (
                f"; float errors vs conjugate posterior ≤ {fv['max_mean_err_sd_units']:.1e} sd "
                f"(mean), {fv['max_cov_rel_err']:.1e} rel (cov), N ≤ {grid[-1]}"
            )
        return r


def _lg_mutants(s):
    out = []
    for name, variant in [("covariance H^-1 without the prior term", "no-prior-cov"),
                          ("precision H + sigma^-1 I", "sigma-not-squared"),
                          ("mean = MLE instead of MAP", "mle-mean")]:
        out.append(s.mutant(
            name,
            lhs_float=functools.partial(_lg_mutant_float, variant=variant),
            lhs_exact=functools.partial(laplace_logpdf_exact, variant=variant),
        ))
    return out


def _lg_mutant_float(x, variant):
    X = _lg_arrays(x)[0]
    if variant in ("no-prior-cov", "mle-mean") and np.linalg.cond(X.T @ X) > 1e12:
        # H⁻¹ undefined (or meaningless in float): fall back to the claim, as the exact side does for det H = 0
        return laplace_logpdf_float(x)
    return laplace_logpdf_float(x, variant)


def _lg_canonical(x):
    if x["s2"] <= 0 or x["sigma2"] <= 0:
        raise ValueError("variances must be > 0")
    return x


def _lg_prepare(raw):
    x = exactify(raw)
    x["d"], x["n"] = int(raw["d"]), int(raw["n"])
    return x


linear_gaussian = _LinearGaussianIdentity(
    id="thm-3.3/linear-gaussian",
    expected="holds",
    domain_check=D.all_of(
        D.integer("d", 1), D.integer("n", 1), D.interval("s2", 0, lo_open=True), D.interval("sigma2", 0, lo_open=True),
        D.that(lambda x: len(x["X"]) == x["n"] * x["d"] and len(x["y"]) == x["n"] and len(x["theta_t"]) == x["d"],
               "X must hold n·d entries, y n and theta_t d")),
    title="Thm 3.3, linear-Gaussian: the Laplace posterior is the exact posterior",
    claim="For y = Xθ + ε, ε ~ N(0, s²I), prior N(0, σ²I): p(θ|D) = N(θ; θ*, (H + σ⁻²I)⁻¹) with θ* the "
    "MAP and H = ∇²L(θ*) = XᵀX/s² (checked as an identity of log-densities at a test point θ_t).",
    reading="L = −log p(D|θ) summed over the N data (so H = XᵀX/s² carries the factor N); log-density identity "
    "log N(θ_t; θ*, (H+σ⁻²I)⁻¹) = log p(y|θ_t) + log p(θ_t) − log p(y) with the closed-form evidence "
    "p(y) = N(y; 0, s²I + σ²XXᵀ). Exact sides: rational linear algebra (flint.fmpq_mat), logs in mpmath/Arb. "
    "d ≤ 3, N ≤ 6 per drawn case (n < d included: H singular, H + σ⁻²I still PD).",
    domain=linear_gaussian_problems(),
    prepare=_lg_prepare,
    canonical=_lg_canonical,
    lhs_float=laplace_logpdf_float,
    rhs_float=bayes_logpdf_float,
    lhs_exact=laplace_logpdf_exact,
    rhs_exact=bayes_logpdf_exact,
    relation="==",
    size=lambda x: int(x["n"]) * int(x["d"]),
    # float Bayes route: yᵀC⁻¹y with κ(s²I + σ²XXᵀ) up to ~1e8 and cancellation between log-likelihood and
    # log-evidence (both ~1e5 when s² is small and X scaled up): up to ~1e-8 relative seen
    rel_tol=1e-7,
    scale_floor=1.0,  # log-densities near 0 are compared on an absolute scale
    extra_mutants=_lg_mutants,
    proof="Completing the square: −log p(θ|D) = ½(θ−θ*)ᵀ(H+σ⁻²I)(θ−θ*) + const exactly, since L is quadratic; "
    "equivalently the Woodbury identity links the d×d precision form and the N×N evidence form. Every "
    "drawn case agrees exactly in rational arithmetic (no certified nonzero difference).",
)


@dataclass
class LogisticLaplaceStudy(Statement):
    """Errors of the Laplace posterior for logistic regression, and their fitted rates.

    ``mutant_claim`` turns the statement into a false claim that the check must refute:
    ``("rate", quantity, exponent)`` or ``("exact",)``.
    """

    id: str = "thm-3.3/logistic"
    expected: str | None = "approximate"
    title: str = "Thm 3.3, logistic regression: Laplace posterior errors and rates"
    claim: str = ("p(θ|D) ≈ N(θ*, (H + σ⁻²I)⁻¹) for Bayesian logistic regression; review: exact for linear-Gaussian, "
                  "mean error ~ N^-1/2, covariance error ~ N^-1.")
    reading: str = (
        "Logistic likelihood, L summed over the N data (H carries the factor N), prior N(0, I), "
        "θ₀ = (1, −0.7, 0.5)[:d], x ~ N(0, I_d), d = 1, 2 (quick) and 3 (full). Ground truth: Gauss–Hermite "
        "tensor quadrature centred at θ* and whitened by the "
        "Laplace covariance (error estimate: a second rule with 4 more nodes per axis). '≈' read as: the errors are "
        "nonzero and vanish as N → ∞; rates fitted by log-log OLS per data seed with a 95% t-interval over seeds."
    )
    mutant_claim: tuple | None = None
    empirical: bool = True

    def mutants(self):
        out = []
        for q, e, what in [("mean_abs", -0.5, "absolute mean error ~ N^-1/2"),
                           ("cov_rel", -0.5, "covariance (relative) error ~ N^-1/2"),
                           ("mean_sd", -1.0, "mean error in posterior-sd units ~ N^-1")]:
            out.append(LogisticLaplaceStudy(id=f"{self.id}~{what}", title=f"mutant: {what}", claim=what,
                                            reading=self.reading, mutant_claim=("rate", q, e)))
        out.append(LogisticLaplaceStudy(id=f"{self.id}~exact for logistic regression",
                                        title="mutant: the Laplace posterior is exact for logistic regression",
                                        claim="posterior mean and variance equal θ* and (H + σ⁻²I)⁻¹",
                                        reading=self.reading, mutant_claim=("exact",)))
        return out

    # -- the study ----------------------------------------------------------------
    def _run(self, effort):
        per_d = {}
        for d, Ns, seeds, nodes in CONFIGS[effort]:
            E = logistic_study(d, Ns, seeds, nodes)
            rates = {q: fit_rate(Ns, E[q]) for q in QUANTITIES}
            per_d[d] = (Ns, seeds, nodes, E, rates)
        return per_d

    def check(self, effort: str = "quick") -> Result:
        t0 = time.perf_counter()
        if self.mutant_claim == ("exact",):
            return self._check_exact(t0)
        per_d = self._run(effort)
        if self.mutant_claim is not None:
            return self._check_rate_claim(per_d, t0)
        evidence = {"errors": {}, "rates": {}, "theory_exponents": THEORY, "quantities": DESCR}
        decreasing, nonzero, lines = True, False, []
        for d, (Ns, seeds, nodes, E, rates) in per_d.items():
            med = {q: [float(f"{v:.4g}") for v in np.median(E[q], axis=0)] for q in QUANTITIES}
            evidence["errors"][f"d={d}"] = {"N": list(Ns), "seeds": len(seeds), "gh_nodes": nodes,
                                            "median_over_seeds": med,
                                            "max_quad_err_sd_units": float(f"{E['quad_err'].max():.2e}")}
            evidence["rates"][f"d={d}"] = {q: _rate_evidence(r, THEORY[q]) for q, r in rates.items()}
            decreasing &= all(r["ci"][1] < 0 for r in rates.values())
            # nonzero: the smallest measured error dwarfs the quadrature error estimate
            ratio = float(np.min(E["mean_sd"] / np.maximum(E["quad_err"], 1e-16)))
            nonzero |= ratio > 1e3
            lines.append(f"d={d}: mean {rates['mean_abs']['slope']:.2f} abs/{rates['mean_sd']['slope']:.2f} sd, "
                         f"cov {rates['cov_abs']['slope']:.2f} abs/{rates['cov_rel']['slope']:.2f} rel")
        d1 = per_d[min(per_d)]
        Ns1, E1 = d1[0], d1[3]
        evidence["regime"] = (
            f"d={min(per_d)}: at N={Ns1[0]} mean error {np.median(E1['mean_sd'][:, 0]):.3f} posterior sd, covariance "
            f"rel. error {np.median(E1['cov_rel'][:, 0]):.2e}; at N={Ns1[-1]}: "
            f"{np.median(E1['mean_sd'][:, -1]):.4f} sd, "
            f"{np.median(E1['cov_rel'][:, -1]):.2e}"
        )
        evidence["review_comparison"] = (
            "review 'mean error ~ N^-1/2' holds in posterior-sd units only (absolute mean error ~ N^-1); "
            "review 'covariance error ~ N^-1' holds for the relative error (absolute ~ N^-2)"
        )
        flags = [(v["theory_in_ci"], v.get("theory_in_corrected_ci"), v["theory_in_tail_ci"])
                 for rd in evidence["rates"].values() for v in rd.values()]
        n_plain = sum(bool(a) for a, _, _ in flags)
        n_tail = sum(bool(t) for _, _, t in flags)
        n_corr = sum(bool(c) for _, c, _ in flags if c is not None)
        n_corr_total = sum(c is not None for _, c, _ in flags)
        evidence["rates_note"] = (
            "plain log-log slopes are slightly shallower than the classical exponents (pre-asymptotic "
            "O(N^-1/2) relative corrections); the slope over the upper half of the grid ('tail') and the fit with "
            "an N^-1/2 correction term ('corrected') bracket the classical exponents")
        evidence["summary"] = (
            "fitted exponents " + "; ".join(lines) + " (theory −1/−0.5, −2/−1); theory inside the 95% CI: "
            f"{n_plain}/{len(flags)} plain, {n_tail}/{len(flags)} upper-half grid, "
            f"{n_corr}/{n_corr_total} with an N^-1/2 correction term")
        # the verdict rests on the rates, not only on their signs: every theory exponent must lie in
        # the 95 % CI of the fit with the N^-1/2 correction term (the asymptotic model), or, where that
        # fit is not available, of the upper-half-grid fit -- a N^-0.1 decay does not pass
        off = [(d, q) for d, (_, _, _, _, rates) in per_d.items() for q in QUANTITIES
               if not _theory_in_ci(_rate_evidence(rates[q], THEORY[q]))]
        evidence["rates_consistent_with_theory"] = not off
        if nonzero and decreasing and not off:
            return self.result(Verdict.APPROXIMATE, evidence, None, t0)
        if nonzero and decreasing:
            d, q = off[0]
            Ns, seeds, nodes, E, rates = per_d[d]
            evidence["summary"] = (f"{DESCR[q]} decays at N^{rates[q]['slope']:.3f}, theory exponent {THEORY[q]} "
                                   f"outside the 95% CI: " + evidence["summary"])
            r = rates[q]
            used = {**r, "slope": r.get("corrected_slope", r["tail_slope"]), "ci": r.get("corrected_ci", r["tail_ci"])}
            cx = self._rate_counterexample(d, Ns, seeds, nodes, q, THEORY[q], used, f"exponent {THEORY[q]}")
            return self.result(Verdict.REFUTED, evidence, cx, t0)
        if not nonzero:
            evidence["summary"] = "errors indistinguishable from quadrature error: " + evidence["summary"]
            return self.result(Verdict.HOLDS, evidence, None, t0)
        # errors do not vanish: the '≈' claim fails; certify with the offending rate
        d, (Ns, seeds, nodes, E, rates) = next(
            (d, v) for d, v in per_d.items() if any(r["ci"][1] >= 0 for r in v[4].values()))
        q = next(q for q, r in rates.items() if r["ci"][1] >= 0)
        cx = self._rate_counterexample(d, Ns, seeds, nodes, q, 0.0, rates[q], "error → 0 (negative exponent)")
        return self.result(Verdict.REFUTED, evidence, cx, t0)

    def _check_rate_claim(self, per_d, t0):
        _, q, claimed = self.mutant_claim
        evidence = {"claimed": f"{DESCR[q]} ~ N^{claimed}", "fitted": {}}
        hit = None
        for d, (Ns, seeds, nodes, _, rates) in per_d.items():
            r = rates[q]
            evidence["fitted"][f"d={d}"] = {"slope": round(r["slope"], 4), "ci95": [round(v, 4) for v in r["ci"]]}
            if hit is None and not (r["ci"][0] <= claimed <= r["ci"][1]):
                hit = (d, Ns, seeds, nodes, r)
        if hit is None:
            evidence["summary"] = f"claimed exponent {claimed} inside every fitted CI"
            return self.result(Verdict.APPROXIMATE, evidence, None, t0)
        d, Ns, seeds, nodes, r = hit
        cx = self._rate_counterexample(d, Ns, seeds, nodes, q, claimed, r, f"exponent {claimed}")
        evidence["summary"] = f"d={d}: fitted exponent {r['slope']:.3f}, 95% CI {_fmt_ci(r['ci'])} excludes {claimed}"
        return self.result(Verdict.REFUTED, evidence, cx, t0)

    def _rate_counterexample(self, d, Ns, seeds, nodes, q, claimed, r, claimed_text):
        lo, hi = r["ci"]
        dist = max(lo - claimed, claimed - hi)
        return Counterexample(
            inputs={"kind": "rate", "d": d, "N_grid": list(Ns), "seeds": list(seeds), "quantity": q,
                    "claimed_exponent": fraction_str(Fraction(claimed)), "theta0": list(THETA0[:d]),
                    "sigma2": fraction_str(Fraction(SIGMA2)), "data": DATA_RECIPE},
            lhs=f"claimed exponent of {DESCR[q]}: {claimed_text}",
            rhs=f"fitted exponent {r['slope']:.4f}, 95% CI {_fmt_ci(r['ci'])} "
            f"(per-seed OLS, t over {len(seeds)} seeds)",
            margin=f"the claimed exponent lies {dist:.4f} outside the CI",
            margin_upper=-float(dist),
            margin_mp60="n/a: statistical rate claim (verify_counterexample: independent Gauss–Legendre recomputation)",
            certificate=f"Gauss–Hermite tensor quadrature ({nodes} and {nodes + 4} nodes/axis agree to "
            f"≤ {logistic_study(d, Ns, seeds, nodes)['quad_err'].max():.1e} sd units); statistical evidence "
            "(95% CI), not a proof",
            size=d,
        )

    def _check_exact(self, t0):
        d, N, seed = EXACT_CASE["d"], EXACT_CASE["N"], EXACT_CASE["seed"]
        X, y = logistic_data(d, N, seed)
        c = laplace_case(d, N, seed, 60)
        xs = [Fraction(float(v)) for v in X[:, 0]]
        ys = [int(v) for v in y]
        t_map, v_lap, m_true, v_true = _mp_posterior_moments_1d(xs, ys, Fraction(SIGMA2))
        gap = abs(m_true - t_map)
        evidence = {"case": EXACT_CASE, "float_mean_abs": c["mean_abs"], "float_cov_rel": c["cov_rel"],
                    "quad_err": c["quad_err"], "mp_mean_gap": mpmath.nstr(gap, 15),
                    "mp_var_true": mpmath.nstr(v_true, 15), "mp_var_laplace": mpmath.nstr(v_lap, 15)}
        if gap < 1e-20:
            evidence["summary"] = "posterior mean equals the MAP to 20 digits"
            return self.result(Verdict.HOLDS, evidence, None, t0)
        cx = Counterexample(
            inputs={"kind": "exact", "d": 1, "N": N, "seed": seed, "sigma2": fraction_str(Fraction(SIGMA2)),
                    "x": [fraction_str(v) for v in xs], "y": ys},
            lhs=f"E[θ|D] = {mpmath.nstr(m_true, 20)}, Var[θ|D] = {mpmath.nstr(v_true, 20)}",
            rhs=f"θ* = {mpmath.nstr(t_map, 20)}, (H + σ⁻²)⁻¹ = {mpmath.nstr(v_lap, 20)}",
            margin=f"|E[θ|D] − θ*| = {mpmath.nstr(gap, 15)} (float Gauss–Hermite: {c['mean_abs']:.6e})",
            margin_upper=-float(gap),
            margin_mp60=mpmath.nstr(-gap, 30),
            certificate="mpmath tanh-sinh quadrature at 30 digits (MAP by findroot) and float Gauss–Hermite "
            f"(quadrature error {c['quad_err']:.1e}) agree; not interval arithmetic",
            size=N,
        )
        evidence["summary"] = f"N={N}: |E[θ|D] − θ*| = {float(gap):.4e}, Var ratio {float(v_true / v_lap):.4f}"
        return self.result(Verdict.REFUTED, evidence, cx, t0)

    # -- independent recomputation -------------------------------------------------
    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        """Recompute a counterexample from its inputs only.

        ``exact``: mpmath at 50 digits with Gauss–Legendre quadrature (a rule other than
        the check's tanh-sinh) on the stored data. ``rate``: the data are regenerated
        from the seeds, the MAP found by scipy's root finder (not our Newton), the
        moments by composite Gauss–Legendre on a ±9 sd box (not Gauss–Hermite), the
        slopes refitted; the claim must lie outside the new CI.
        """
        inp = cx["inputs"] if "inputs" in cx else cx
        if inp["kind"] == "exact":
            xs = [Fraction(v) for v in inp["x"]]
            with mpmath.workdps(50):
                ss = [2 * int(v) - 1 for v in inp["y"]]
                xm = [mpmath.mpf(v.numerator) / v.denominator for v in xs]
                s2 = mpmath.mpf(Fraction(inp["sigma2"]).numerator) / Fraction(inp["sigma2"]).denominator

                def U(t):
                    nll = mpmath.fsum(mpmath.log1p(mpmath.exp(-s * xi * t)) for s, xi in zip(ss, xm))
                    return nll + t * t / (2 * s2)

                t_map = mpmath.findroot(lambda t: mpmath.diff(U, t), mpmath.mpf(0))
                U0 = U(t_map)
                pts = mpmath.linspace(t_map - 30, t_map + 30, 61)
                dens = lambda t: mpmath.exp(-(U(t) - U0))  # noqa: E731
                Z = mpmath.quad(dens, pts, method="gauss-legendre")
                m = mpmath.quad(lambda t: t * dens(t), pts, method="gauss-legendre") / Z
                gap = abs(m - t_map)
            ok = gap > mpmath.mpf("1e-10")
            return ok, f"mpmath 50 digits, Gauss–Legendre: |E[θ|D] − θ*| = {mpmath.nstr(gap, 12)} -> " + (
                "nonzero: not exact" if ok else "NOT confirmed")
        from scipy.optimize import root

        d, q = int(inp["d"]), inp["quantity"]
        Ns, seeds = [int(v) for v in inp["N_grid"]], [int(v) for v in inp["seeds"]]
        claimed = float(Fraction(inp["claimed_exponent"]))
        sigma2 = float(Fraction(inp["sigma2"]))
        E = np.zeros((len(seeds), len(Ns)))
        g1, w1 = leggauss(10)
        edges = np.linspace(-9, 9, 13)  # mass beyond 9 posterior sd is < 1e-17 for N ≥ 100
        h = edges[1] - edges[0]
        z1 = (edges[:-1, None] + h / 2 * (g1[None, :] + 1)).ravel()
        w1 = np.tile(w1 * h / 2, len(edges) - 1)
        Z = np.stack(np.meshgrid(*([z1] * d), indexing="ij"), -1).reshape(-1, d)
        W = np.prod(np.stack(np.meshgrid(*([w1] * d), indexing="ij"), -1).reshape(-1, d), -1)
        for i, s in enumerate(seeds):
            for j, N in enumerate(Ns):
                X, y = logistic_data(d, N, s)
                sgn = 2 * y - 1

                def grad(t):
                    return -X.T @ (sgn * expit(-sgn * (X @ t))) + t / sigma2

                def hess(t):
                    p = expit(X @ t)
                    return (X * (p * (1 - p))[:, None]).T @ X + np.eye(d) / sigma2

                sol = root(grad, np.zeros(d), jac=hess, method="hybr", tol=1e-14)
                th = sol.x
                L = np.linalg.cholesky(np.linalg.inv(hess(th)))
                U0 = np.sum(np.logaddexp(0, -sgn * (X @ th))) + th @ th / (2 * sigma2)
                lw = np.empty(len(Z))
                for k in range(0, len(Z), 4096):
                    T = th + Z[k:k + 4096] @ L.T
                    lw[k:k + 4096] = -(np.logaddexp(0, -sgn[None, :] * (T @ X.T)).sum(1)
                                       + (T ** 2).sum(1) / (2 * sigma2) - U0)
                wt = W * np.exp(lw - lw.max())
                mz = wt @ Z / wt.sum()
                Cz = ((Z - mz) * wt[:, None]).T @ (Z - mz) / wt.sum()
                E[i, j] = {
                    "mean_abs": lambda: np.linalg.norm(L @ mz),
                    "mean_sd": lambda: math.sqrt(mz @ np.linalg.solve(Cz, mz)),
                    "cov_abs": lambda: np.linalg.norm(L @ (Cz - np.eye(d)) @ L.T),
                    "cov_rel": lambda: np.max(np.abs(1 / np.linalg.eigvalsh(Cz) - 1)),
                }[q]()
        r = fit_rate(Ns, E)
        ok = not (r["ci"][0] <= claimed <= r["ci"][1])
        return ok, (f"independent Gauss–Legendre recomputation: exponent {r['slope']:.4f}, CI {_fmt_ci(r['ci'])} "
                    f"{'excludes' if ok else 'CONTAINS'} the claimed {claimed}")


logistic = LogisticLaplaceStudy()

STATEMENTS = [linear_gaussian, logistic]
