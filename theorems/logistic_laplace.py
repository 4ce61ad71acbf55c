"""Thm 3.3 for logistic regression: the Laplace posterior measured against quadrature.

``thm-3.3/logistic`` -- Bayesian logistic regression in d = 1, 2, 3 (x ~ N(0, I_d),
y ~ Bernoulli(sigmoid(xᵀθ₀)), prior N(0, I)): the posterior's mean and
covariance by Gauss–Hermite tensor quadrature centred at θ* and whitened by
the Laplace covariance (spectrally accurate; the error is estimated by a
second rule with more nodes), against the Laplace values (Newton on the
negative log posterior), over a geometric grid of N. Reported errors, absolute
and in posterior-sd units:

- ``mean_abs`` = ‖E[θ|D] − θ*‖₂,
- ``mean_sd``  = Mahalanobis ‖E[θ|D] − θ*‖ in the true posterior covariance,
- ``cov_abs``  = ‖Cov[θ|D] − (H + σ⁻²I)⁻¹‖_F,
- ``cov_rel``  = max_i |μ_i − 1|, μ the eigenvalues of Cov^{-1/2} Σ_Laplace Cov^{-1/2}.

Classical theory (Tierney & Kadane 1986; Kass, Tierney & Kadane 1990): the
posterior mean differs from the mode by O(N⁻¹) (posterior sd is N^{-1/2}, so
O(N^{-1/2}) in sd units), and the covariance's relative error is O(N⁻¹)
(absolute O(N⁻²)). The rates are fitted by log-log least squares per data
seed, with a t-interval over seeds. The statement (:class:`LogisticLaplaceStudy`)
is listed with Thm 3.3's other claim in :mod:`theorems.thm_3_3`.

Reference: Tan & Huang (2025), Thm 3.3; L. Tierney and J. B. Kadane, "Accurate
approximations for posterior moments and marginal densities", JASA 81 (1986).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from scipy import stats
from scipy.special import expit, log_expit

from theorems.statement import Counterexample, Result, Statement, Verdict, fraction_str

# ----------------------------------------------------------------------------
# Laplace approximation (generic Newton on the negative log posterior)
# ----------------------------------------------------------------------------


def laplace_newton(grad_hess, theta0, max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """MAP point and Hessian of a convex negative log posterior U by Newton's method.

    Args:
        grad_hess: θ ↦ (∇U(θ), ∇²U(θ)).
        theta0: start.

    Returns:
        ``(θ*, A)`` with A = ∇²U(θ*); the Laplace posterior is N(θ*, A⁻¹).

    Raises:
        ValueError: if Newton does not converge (U not strictly convex, or overflow).
    """
    th = np.array(theta0, dtype=float)
    prev = math.inf
    for _ in range(max_iter):
        g, A = grad_hess(th)
        step = np.linalg.solve(A, g)
        th = th - step
        if not np.all(np.isfinite(th)):
            raise ValueError("Newton iteration for the MAP diverged")
        size, scale = float(np.max(np.abs(step))), 1.0 + float(np.max(np.abs(th)))
        # stop at rounding level: a tiny step, or a small one that no longer shrinks quadratically
        if size <= 4e-16 * scale or (size <= 1e-9 * scale and size > prev / 4):
            break
        prev = size
    else:
        raise ValueError("Newton iteration for the MAP did not converge")
    return th, grad_hess(th)[1]



# ----------------------------------------------------------------------------
# Logistic regression: measured errors and rates
# ----------------------------------------------------------------------------

THETA0 = (1.0, -0.7, 0.5)
SIGMA2 = 1.0
QUANTITIES = ("mean_abs", "mean_sd", "cov_abs", "cov_rel")
#: classical exponents (Tierney & Kadane 1986): mode-mean gap O(1/N), covariance relative error O(1/N)
THEORY = {"mean_abs": -1.0, "mean_sd": -0.5, "cov_abs": -2.0, "cov_rel": -1.0}
DESCR = {
    "mean_abs": "‖E[θ|D] − θ*‖ (absolute)",
    "mean_sd": "‖E[θ|D] − θ*‖ in posterior-sd units (Mahalanobis)",
    "cov_abs": "‖Cov[θ|D] − (H+σ⁻²I)⁻¹‖_F (absolute)",
    "cov_rel": "relative covariance error max|eig(Cov^-½ Σ_L Cov^-½) − 1|",
}
DATA_RECIPE = ("rng = numpy.random.default_rng((seed, d, N)); X = rng.standard_normal((N, d)); "
               "y = (rng.random(N) < expit(X @ theta0[:d])).astype(float); prior N(0, sigma2 I)")


def logistic_data(d: int, N: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The data of case (d, N, seed): see :data:`DATA_RECIPE`."""
    if d not in (1, 2, 3) or N < 1 or seed < 0:
        raise ValueError(f"need d in 1..3, N ≥ 1, seed ≥ 0; got d={d}, N={N}, seed={seed}")
    rng = np.random.default_rng((seed, d, N))
    X = rng.standard_normal((N, d))
    y = (rng.random(N) < expit(X @ np.array(THETA0[:d]))).astype(float)
    return X, y


def _logistic_grad_hess(X, y, sigma2):
    d = X.shape[1]

    def gh(th):
        p = expit(X @ th)
        g = X.T @ (p - y) + th / sigma2
        A = (X * (p * (1 - p))[:, None]).T @ X + np.eye(d) / sigma2
        return g, A

    return gh


def _neg_log_post(thetas, X, s, sigma2):
    """U(θ) = −Σ log sigmoid(s_i x_iᵀθ) + ‖θ‖²/(2σ²) for a batch of θ (rows)."""
    return -log_expit((thetas @ X.T) * s).sum(-1) + (thetas ** 2).sum(-1) / (2 * sigma2)


def _gh_whitened_moments(X, y, th, L, sigma2, n):
    """Mean and covariance of z = L⁻¹(θ − θ*) under the posterior by n-point-per-axis Gauss–Hermite.

    The posterior density in z is φ(z)·r(z) with r(z) = exp(−[U(θ*+Lz) − U(θ*)] + ½‖z‖²), which
    is smooth and → 1 as N grows, so the tensor rule converges geometrically.
    """
    d = X.shape[1]
    s = 2 * y - 1
    z1, w1 = hermegauss(n)
    w1 = w1 / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([z1] * d), indexing="ij")
    Z = np.stack(grids, -1).reshape(-1, d)
    W = np.prod(np.stack(np.meshgrid(*([w1] * d), indexing="ij"), -1).reshape(-1, d), -1)
    U0 = _neg_log_post(th[None, :], X, s, sigma2)[0]
    lr = np.empty(len(Z))
    chunk = max(1, 2_000_000 // max(len(y), 1))
    for i in range(0, len(Z), chunk):
        Zi = Z[i:i + chunk]
        lr[i:i + chunk] = -(_neg_log_post(th + Zi @ L.T, X, s, sigma2) - U0) + 0.5 * (Zi ** 2).sum(-1)
    wr = W * np.exp(lr - lr.max())
    total = wr.sum()
    mz = (wr[:, None] * Z).sum(0) / total
    Dz = Z - mz
    Cz = (wr[:, None] * Dz).T @ Dz / total
    return mz, Cz


def laplace_case(d: int, N: int, seed: int, nodes: int, sigma2: float = SIGMA2) -> dict:
    """Errors of the Laplace approximation for one logistic-regression data set (float)."""
    X, y = logistic_data(d, N, seed)
    th, A = laplace_newton(_logistic_grad_hess(X, y, sigma2), np.zeros(d))
    S = np.linalg.inv(A)
    L = np.linalg.cholesky(S)
    mz, Cz = _gh_whitened_moments(X, y, th, L, sigma2, nodes)
    mz2, Cz2 = _gh_whitened_moments(X, y, th, L, sigma2, nodes + 4)
    S_true = L @ Cz2 @ L.T
    return {
        "mean_abs": float(np.linalg.norm(L @ mz2)),
        "mean_sd": float(math.sqrt(mz2 @ np.linalg.solve(Cz2, mz2))),
        "cov_abs": float(np.linalg.norm(S_true - S)),
        "cov_rel": float(np.max(np.abs(1.0 / np.linalg.eigvalsh(Cz2) - 1.0))),
        # quadrature error estimate, in whitened (posterior-sd) units
        "quad_err": float(max(np.max(np.abs(mz - mz2)), np.max(np.abs(Cz - Cz2)))),
        "map": th.tolist(),
        "post_mean": (th + L @ mz2).tolist(),
    }


@functools.lru_cache(maxsize=32)
def logistic_study(d: int, Ns: tuple, seeds: tuple, nodes: int) -> dict:
    """Errors over the grid: arrays [seed, N] per quantity (cached: mutants reuse the study)."""
    out = {k: np.zeros((len(seeds), len(Ns))) for k in (*QUANTITIES, "quad_err")}
    for i, s in enumerate(seeds):
        for j, N in enumerate(Ns):
            c = laplace_case(d, N, s, nodes)
            for k in out:
                out[k][i, j] = c[k]
    return out


def _t_interval(values: np.ndarray, level: float) -> list[float]:
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return [float(values.mean() - half), float(values.mean() + half)]


def fit_rate(Ns, E, level: float = 0.95) -> dict:
    """Log-log slope of errors E[seed, N] vs N: per-seed OLS slopes, t-interval over seeds.

    Also reported: the pooled fit of the geometric mean over seeds (OLS standard error); the
    slope over the upper half of the grid (``tail``); and, with ≥ 5 grid points, the slope of
    ``log E = a + b log N + c N^{-1/2}`` (``corrected``: the Laplace expansion goes in powers of
    N^{-1/2}, so the next term biases a plain fit on a finite grid towards shallower slopes).
    """
    Ns = np.asarray(Ns, dtype=float)
    lN = np.log(Ns)
    logE = np.log(np.asarray(E, dtype=float))
    slopes = np.array([np.polyfit(lN, e, 1)[0] for e in logE])
    pooled = stats.linregress(lN, logE.mean(0))
    tq2 = stats.t.ppf(0.5 + level / 2, len(lN) - 2) if len(lN) > 2 else math.inf
    k = len(lN) // 2
    tail = np.array([np.polyfit(lN[k:], e[k:], 1)[0] for e in logE]) if len(lN) - k >= 2 else slopes
    out = {
        "slope": float(slopes.mean()),
        "ci": _t_interval(slopes, level),
        "per_seed": [round(float(b), 4) for b in slopes],
        "pooled_slope": float(pooled.slope),
        "pooled_ci": [float(pooled.slope - tq2 * pooled.stderr), float(pooled.slope + tq2 * pooled.stderr)],
        "tail_N": [int(Ns[k]), int(Ns[-1])],
        "tail_slope": float(tail.mean()),
        "tail_ci": _t_interval(tail, level),
    }
    if len(lN) >= 5:
        A = np.stack([np.ones_like(lN), lN, Ns ** -0.5], 1)
        corr = np.array([np.linalg.lstsq(A, e, rcond=None)[0][1] for e in logE])
        out["corrected_slope"] = float(corr.mean())
        out["corrected_ci"] = _t_interval(corr, level)
    return out


#: (d, N grid, seeds, Gauss–Hermite nodes per axis) per effort; the error estimate uses nodes + 4.
#: Measured quadrature error (n vs n + 4) stays ≤ 1e-7 posterior-sd units, ≥ 1e4 below every error reported.
CONFIGS = {
    "quick": [
        (1, tuple(400 * 2 ** k for k in range(7)), tuple(range(8)), 20),
        (2, tuple(400 * 2 ** k for k in range(5)), tuple(range(6)), 12),
    ],
    "full": [
        (1, tuple(100 * 2 ** k for k in range(11)), tuple(range(16)), 32),
        (2, tuple(100 * 2 ** k for k in range(9)), tuple(range(12)), 20),
        (3, tuple(100 * 2 ** k for k in range(8)), tuple(range(8)), 14),
    ],
}

#: the small case used to refute "exact for logistic regression" (d = 1, recomputed in mpmath)
EXACT_CASE = {"d": 1, "N": 20, "seed": 0}


def _rate_evidence(r: dict, theory: float) -> dict:
    def rnd(v):
        return [round(x, 4) for x in v]

    out = {"slope": round(r["slope"], 4), "ci95": rnd(r["ci"]), "theory": theory,
           "theory_in_ci": bool(r["ci"][0] <= theory <= r["ci"][1]),
           "pooled": round(r["pooled_slope"], 4), "pooled_ci95": rnd(r["pooled_ci"]),
           "tail_N": r["tail_N"], "tail_slope": round(r["tail_slope"], 4), "tail_ci95": rnd(r["tail_ci"]),
           "theory_in_tail_ci": bool(r["tail_ci"][0] <= theory <= r["tail_ci"][1])}
    if "corrected_slope" in r:
        out.update(corrected_slope=round(r["corrected_slope"], 4), corrected_ci95=rnd(r["corrected_ci"]),
                   theory_in_corrected_ci=bool(r["corrected_ci"][0] <= theory <= r["corrected_ci"][1]))
    return out


def _theory_in_ci(ev: dict) -> bool:
    """Theory exponent inside the corrected fit's CI (else the upper-half grid's)."""
    if "theory_in_corrected_ci" in ev:
        return ev["theory_in_corrected_ci"]
    return ev["theory_in_tail_ci"]


def _fmt_ci(ci):
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _mp_posterior_moments_1d(x: list[Fraction], y: list[int], sigma2: Fraction, dps: int = 30):
    """MAP, posterior mean and variance of 1-D logistic regression in mpmath (tanh-sinh quadrature)."""
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(v.numerator) / v.denominator for v in x]
        ss = [2 * int(v) - 1 for v in y]
        s2 = mpmath.mpf(sigma2.numerator) / sigma2.denominator

        def U(t):
            return mpmath.fsum(mpmath.log1p(mpmath.exp(-s * xi * t)) for s, xi in zip(ss, xs)) + t * t / (2 * s2)

        def dU(t):
            return mpmath.fsum(-s * xi / (1 + mpmath.exp(s * xi * t)) for s, xi in zip(ss, xs)) + t / s2

        def d2U(t):
            return mpmath.fsum(xi * xi * mpmath.exp(s * xi * t) / (1 + mpmath.exp(s * xi * t)) ** 2
                               for s, xi in zip(ss, xs)) + 1 / s2

        t_map = mpmath.findroot(dU, mpmath.mpf(0))
        A = d2U(t_map)
        sd = 1 / mpmath.sqrt(A)
        U0 = U(t_map)
        pts = [t_map + k * sd for k in (-40, -10, -3, 0, 3, 10, 40)]
        dens = lambda t: mpmath.exp(-(U(t) - U0))  # noqa: E731
        Z = mpmath.quad(dens, pts)
        m1 = mpmath.quad(lambda t: (t - t_map) * dens(t), pts) / Z
        m2 = mpmath.quad(lambda t: (t - t_map) ** 2 * dens(t), pts) / Z
        # tails beyond ±40 Laplace sd: U − U0 ≥ (t − t_map)²/(2σ²) ... the integrand is < e^-40 there
        return t_map, 1 / A, t_map + m1, m2 - m1 ** 2


# ----------------------------------------------------------------------------
# The statement: errors and rates judged against the classical theory
# ----------------------------------------------------------------------------


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
