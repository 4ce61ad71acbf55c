"""Positive i.i.d. laws and the exact limits of the entropy gap of their normalised weights.

X_1..X_n i.i.d. positive with mean μ and CV = s/μ, p_i = X_i/ΣX_j, Y = X/μ:

    log n − H(p) → E[Y log Y]   (n → ∞),

of which CV²/2 is the second-order Taylor term. For the exponential, gamma,
lognormal, uniform and chi-square families this module gives, exactly (closed
forms written once against a backend: Arb balls or mpmath), E[Y log Y], CV² and,
for the gamma family, the finite-n mean ``E[gap_n] = log n + ψ(a+1) − ψ(na+1)``;
independent quadratures (mpmath and scipy, :mod:`numerics.cv_limit`); the panels
of laws and small-CV paths the Thm 3.7 checker uses; and a seeded simulation of
the finite-n gap with its delta-method bias.

References: Tan & Huang (2025), Thm 3.7 (statements ``thm-3.7``, ``thm-3.7/limit`` in
docs/statements.md); Cover & Thomas (2006) ch. 2; Johnson, Kotz & Balakrishnan,
*Continuous Univariate Distributions* (moments of the families).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import flint
import mpmath
import numpy as np

from numerics import cv_limit
from numerics.backends import MP, Arb

# ----------------------------------------------------------------------------
# Laws: exact parameters (Fractions), closed forms written once against a backend
# ----------------------------------------------------------------------------

FAMILIES = ("exponential", "gamma", "lognormal", "uniform", "chi2")


def law(family: str, **params) -> dict:
    """A law as exact data: ``{"family": ..., <param>: Fraction}`` (scipy's parameter names).

    exponential: no parameters; gamma: shape ``a``; lognormal: shape ``s`` (log X ~ N(0, s²));
    uniform: ``loc``, ``scale`` (X ~ U[loc, loc + scale]); chi2: degrees of freedom ``df``.
    """
    need = {"exponential": (), "gamma": ("a",), "lognormal": ("s",), "uniform": ("loc", "scale"), "chi2": ("df",)}
    if family not in need:
        raise ValueError(f"unknown family {family!r}; known: {FAMILIES}")
    if set(params) != set(need[family]):
        raise ValueError(f"{family} takes parameters {need[family]}, got {sorted(params)}")
    out: dict[str, Any] = {"family": family}
    for k, v in params.items():
        f = Fraction(v)  # exact: a float is the binary rational it stores
        if (k == "loc" and f < 0) or (k != "loc" and f <= 0):
            raise ValueError(f"{family}: parameter {k} = {v} out of range (X must be positive)")
        out[k] = f
    return out


def _is_arb(B) -> bool:
    return isinstance(B, Arb)


def _digamma(B, x):
    return x.digamma() if _is_arb(B) else mpmath.digamma(x)


def _euler(B):
    return flint.arb.const_euler() if _is_arb(B) else +mpmath.euler


def gamma_shape(c: dict) -> Fraction | None:
    """The gamma shape a of the law if it is in the gamma family (Y = X/μ ~ Gamma(a, 1/a))."""
    if c["family"] == "exponential":
        return Fraction(1)
    if c["family"] == "gamma":
        return c["a"]
    if c["family"] == "chi2":
        return c["df"] / 2
    return None


def cv2_exact(c: dict, B):
    """CV² = Var X / (E X)² in backend B."""
    a = gamma_shape(c)
    if a is not None:
        return 1 / B.num(a)
    if c["family"] == "lognormal":
        s = B.num(c["s"])
        return B.expm1(s * s)
    w, lo = c["scale"], c["loc"]
    mu = lo + w / 2
    return B.num(w * w / (12 * mu * mu))


def limit_exact(c: dict, B):
    """E[Y log Y], Y = X/μ, in closed form (backend B).

    gamma(a): ψ(a+1) − log a (exponential: 1 − γ; chi2(k): a = k/2); lognormal(s): s²/2;
    uniform[L, L+w]: [x² log(x/μ)/2 − x²/4]_L^{L+w} / (w μ), μ = L + w/2.
    """
    a = gamma_shape(c)
    if c["family"] == "exponential":
        return 1 - _euler(B)
    if a is not None:
        A = B.num(a)
        return _digamma(B, A + 1) - B.log(A)
    if c["family"] == "lognormal":
        s = B.num(c["s"])
        return s * s / 2
    lo, w = B.num(c["loc"]), B.num(c["scale"])
    mu = lo + w / 2

    def F(x):  # antiderivative of (x/μ) log(x/μ) / w
        return (x * x / 2 * B.log(x / mu) - x * x / 4) / (w * mu)

    return F(lo + w) - (F(lo) if c["loc"] != 0 else 0)  # x² log x → 0 at x = 0


def finite_n_mean_exact(c: dict, n: int, B):
    """E[log n − H(p)] at sample size n, exact for the gamma family (p ~ Dirichlet(a,…,a)):
    log n + ψ(a+1) − ψ(na+1) (E[P log P] = (α/(α+β))(ψ(α+1) − ψ(α+β+1)) for P ~ Beta(α, β)).
    None outside the gamma family."""
    a = gamma_shape(c)
    if a is None:
        return None
    A = B.num(a)
    return B.log(B.num(n)) + _digamma(B, A + 1) - _digamma(B, B.num(n) * A + 1)


def _params_mp(c: dict) -> dict:
    """Parameters in numerics.cv_limit's naming."""
    return {k: (v if k == "family" else v) for k, v in c.items() if k != "family"}


def label(c: dict) -> str:
    ps = ", ".join(f"{k}={float(v):.6g}" for k, v in c.items() if k != "family")
    return f"{c['family']}({ps})"


def limit_quadrature_mp(c: dict, dps: int = 30):
    """E[Y log Y] by mpmath quadrature of the density (numerics.cv_limit), independent of the closed forms."""
    params = {k: float(v) for k, v in _params_mp(c).items()}
    family = "lognormal" if c["family"] == "lognormal" else c["family"]
    return cv_limit.entropy_gap_limit_mp(family, params, dps=dps)


_QUAD_CACHE: dict = {}


def cached_quadrature(c: dict):
    """The mpmath quadrature of a panel law, computed once per process (it costs ~0.3 s a law)."""
    key = tuple(sorted((k, str(v)) for k, v in c.items()))
    if key not in _QUAD_CACHE:
        _QUAD_CACHE[key] = limit_quadrature_mp(c, dps=30)
    return _QUAD_CACHE[key]


def cached_scipy(c: dict):
    """numerics.cv_limit.entropy_gap_limit of a panel law (float), or why it declined; once per process."""
    key = ("scipy",) + tuple(sorted((k, str(v)) for k, v in c.items()))
    if key not in _QUAD_CACHE:
        try:
            _QUAD_CACHE[key] = limit_float_scipy(c)[0]
        except (ValueError, ArithmeticError) as exc:  # it declines laws float64 cannot integrate
            _QUAD_CACHE[key] = f"declined: {str(exc)[:80]}"
    return _QUAD_CACHE[key]


def limit_float_scipy(c: dict) -> tuple[float, float]:
    """E[Y log Y] by scipy quadrature (numerics.cv_limit.entropy_gap_limit)."""
    from scipy import stats

    f = c["family"]
    if f == "exponential":
        d = stats.expon()
    elif f == "gamma":
        d = stats.gamma(float(c["a"]))
    elif f == "lognormal":
        d = stats.lognorm(float(c["s"]))
    elif f == "uniform":
        d = stats.uniform(loc=float(c["loc"]), scale=float(c["scale"]))
    else:
        d = stats.chi2(float(c["df"]))
    return cv_limit.entropy_gap_limit(d), cv_limit.cv_squared_half(d)


def beta_mean_mp(c: dict, n: int):
    """E[gap_n] for the gamma family by mpmath quadrature of n·E[P log(nP)], P ~ Beta(a, (n−1)a).

    The halves p ≤ ½ and q = 1 − p ≤ ½ are integrated in t = log p and s = log q, which turns the
    endpoint singularities p^{a−1}, q^{b−1} into exponentially decaying tails (tanh-sinh on
    q^{−1/2} directly stalls at ~1e-17); breakpoints at the mean × 10^k resolve a narrow bulk."""
    a = mpmath.mpf(gamma_shape(c).numerator) / gamma_shape(c).denominator
    b = (n - 1) * a
    lb = mpmath.log(mpmath.beta(a, b))
    mean = a / (a + b)
    log_half = -mpmath.log(2)

    def lower(t):  # p = e^t, dp = p dt
        p = mpmath.exp(t)
        return n * p * mpmath.log(n * p) * mpmath.exp(a * t + (b - 1) * mpmath.log1p(-p) - lb)

    def upper(s_):  # q = e^s, dq = q ds
        q = mpmath.exp(s_)
        p = 1 - q
        return n * p * mpmath.log(n * p) * mpmath.exp((a - 1) * mpmath.log1p(-q) + b * s_ - lb)

    digits = mpmath.mp.dps + 10
    t_min = -(digits * mpmath.log(10) + 50) / a + mpmath.log(mean)  # p^a below 10^-digits of the bulk
    s_min = -(digits * mpmath.log(10) + 50) / b
    bulk = sorted(mpmath.log(mean) + k * mpmath.log(10) for k in range(-3, 4))
    pts = [t_min] + [t for t in bulk if t_min < t < log_half] + [log_half]
    return mpmath.quad(lower, pts) + mpmath.quad(upper, [s_min, (s_min + log_half) / 2, log_half])


# ----------------------------------------------------------------------------
# The panels: fixed laws, and small-CV paths through each family
# ----------------------------------------------------------------------------

def panel(effort: str = "quick") -> list[dict]:
    out = [law("exponential")]
    out += [law("gamma", a=a) for a in (Fraction(1, 2), 2, 4, 10, 100)]
    out += [law("lognormal", s=s) for s in (Fraction(1, 10), Fraction(1, 4), Fraction(1, 2), 1, Fraction(3, 2), 2)]
    out += [law("uniform", loc=lo, scale=1) for lo in (0, 1, 9)]
    out += [law("chi2", df=k) for k in (1, 2, 3, 10)]
    if effort == "full":
        out += [law("gamma", a=a) for a in (Fraction(1, 10), Fraction(1, 4), 1000)]
        out += [law("lognormal", s=s) for s in (Fraction(1, 100), 3)]
        out += [law("chi2", df=k) for k in (30, 100)]
    return out


#: family-wise false-alarm level of the simulation checks (Bonferroni over the (law, n) cells)
FAMILYWISE_ALPHA = 1e-3

#: CV values of the small-CV regime study
CV_PATH = (Fraction(3, 10), Fraction(1, 10), Fraction(3, 100), Fraction(1, 100))


def law_at_cv(family: str, cv: float | Fraction) -> dict:
    """The member of a family with the given CV (gamma, chi2: exact; lognormal, uniform: the
    float parameter, stored exactly, so the CV is the requested one to ~1e-16)."""
    cv = Fraction(cv)
    if family == "gamma":
        return law("gamma", a=1 / cv**2)
    if family == "chi2":
        return law("chi2", df=2 / cv**2)
    if family == "lognormal":
        return law("lognormal", s=math.sqrt(math.log1p(float(cv) ** 2)))
    if family == "uniform":
        lo = 1 / (math.sqrt(12) * float(cv)) - 0.5
        if lo < 0:
            raise ValueError(f"a uniform law on [L, L+1], L ≥ 0, has CV ≤ 1/√3; asked for {float(cv)}")
        return law("uniform", loc=lo, scale=1)
    raise ValueError(f"family {family!r} has no small-CV path")


def relerr_mp(claim, c, dps=40):
    with MP(dps) as B:
        L = limit_exact(c, B)
        C = claim(c, None, B)
        return None if C is None else abs(C - L) / L


def five_percent_threshold(family: str) -> dict:
    """Largest CV at which |CV²/2 − E[Y log Y]| ≤ 5 % of E[Y log Y] along a family (bisection in mpmath).

    The relative error is increasing in CV on each path (checked on a grid first)."""

    def rel(cv):
        with MP(40):  # mpmath at 40 digits for the expressions below
            if family == "lognormal":  # exact in s: CV² = e^{s²} − 1
                s2 = mpmath.log1p(mpmath.mpf(cv) ** 2)
                L, C = s2 / 2, mpmath.mpf(cv) ** 2 / 2
            elif family in ("gamma", "chi2"):
                a = 1 / mpmath.mpf(cv) ** 2
                L, C = mpmath.digamma(a + 1) - mpmath.log(a), 1 / (2 * a)
            else:  # uniform on [L, L+1]
                lo = 1 / (mpmath.sqrt(12) * cv) - mpmath.mpf(1) / 2
                mu = lo + mpmath.mpf(1) / 2
                F = lambda x: (x * x / 2 * mpmath.log(x / mu) - x * x / 4) / mu if x != 0 else mpmath.mpf(0)
                L, C = F(lo + 1) - F(lo), mpmath.mpf(cv) ** 2 / 2
            return float(abs(C - L) / L)

    hi = (1 - 1e-12) / math.sqrt(3) if family == "uniform" else 10.0  # U[0, 1] has the largest CV, 1/√3
    grid = np.geomspace(0.01, hi, 60)
    vals = [rel(v) for v in grid]
    monotone = all(b >= a for a, b in zip(vals, vals[1:]))
    if vals[-1] <= 0.05:
        return {"family": family, "cv_max": hi, "whole_family": True, "relerr_at_max": vals[-1], "monotone": monotone}
    lo_, hi_ = 0.01, hi
    for _ in range(60):
        mid = math.sqrt(lo_ * hi_)
        lo_, hi_ = (mid, hi_) if rel(mid) <= 0.05 else (lo_, mid)
    out = {"family": family, "cv_5pct": round(lo_, 5), "monotone_on_grid": monotone}
    if family == "gamma":
        out["shape_a_min"] = round(1 / lo_**2, 4)
    if family == "chi2":
        k = math.ceil(2 / lo_**2)
        out["df_min_integer"] = k
        out["largest_cv_integer_df"] = round(math.sqrt(2 / k), 5)
    if family == "lognormal":
        out["s_max"] = round(math.sqrt(math.log1p(lo_**2)), 5)
    if family == "uniform":
        out["loc_min_for_U[loc,loc+1]"] = round(1 / (math.sqrt(12) * lo_) - 0.5, 4)
    return out


# ----------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------

def sample(c: dict, rng: np.random.Generator, shape) -> np.ndarray:
    f = c["family"]
    if f == "exponential":
        return rng.exponential(1.0, shape)
    if f == "gamma":
        return rng.gamma(float(c["a"]), 1.0, shape)
    if f == "lognormal":
        return rng.lognormal(0.0, float(c["s"]), shape)
    if f == "uniform":
        return rng.uniform(float(c["loc"]), float(c["loc"] + c["scale"]), shape)
    return rng.chisquare(float(c["df"]), shape)


def gaps(x: np.ndarray) -> np.ndarray:
    """Row-wise entropy gap ``Σ p log(n p)`` of p = x/Σx, as ``Σ x log x / S − log(S/n)``."""
    n = x.shape[1]
    s = x.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        xlx = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)
    return xlx.sum(axis=1) / s - np.log(s / n)


def bias_coefficient_mp(c: dict, dps: int = 30):
    """b in E[gap_n] = E[Y log Y] + b/n + O(n⁻²) (delta method on mean(Y log Y)/Ȳ − log Ȳ):
    b = (L + ½)CV² − Cov(Y log Y, Y), Cov = E[Y² log Y] − L.  For the gamma family b = −CV²/2."""
    a = gamma_shape(c)
    with mpmath.workdps(dps):
        if a is not None:
            return -1 / (2 * mpmath.mpf(a.numerator) / a.denominator)
        with MP(dps) as B:
            L, cv2 = limit_exact(c, B), cv2_exact(c, B)
        if c["family"] == "lognormal":
            s = mpmath.mpf(c["s"].numerator) / c["s"].denominator
            # Y = exp(sZ − s²/2): E[Y² log Y] = e^{s²}·(3s²/2) (tilt by 2s)
            ey2logy = mpmath.exp(s * s) * 3 * s * s / 2
        else:
            lo = mpmath.mpf(c["loc"].numerator) / c["loc"].denominator
            w = mpmath.mpf(c["scale"].numerator) / c["scale"].denominator
            mu = lo + w / 2
            ey2logy = mpmath.quad(lambda x: (x / mu) ** 2 * mpmath.log(x / mu), [lo, lo + w]) / w
        return (L + mpmath.mpf(1) / 2) * cv2 - (ey2logy - L)


def simulate(laws: list[dict], ns, budget: int, seed: int = 20250307, min_reps: int = 10) -> list[dict]:
    """Mean gap and 95 % CI at each n (R = max(min_reps, budget/n) replicates), with the references."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in laws:
        with MP(30) as B:
            L = float(limit_exact(c, B))
            half = float(cv2_exact(c, B)) / 2
        b = float(bias_coefficient_mp(c))
        for n in ns:
            reps = max(min_reps, budget // n)
            chunk = max(1, min(reps, 4_000_000 // n))
            vals = []
            done = 0
            while done < reps:
                k = min(chunk, reps - done)
                vals.append(gaps(sample(c, rng, (k, n))))
                done += k
            g = np.concatenate(vals)
            mean, sd = float(g.mean()), float(g.std(ddof=1))
            se = sd / math.sqrt(reps)
            with MP(30) as B:
                exact = finite_n_mean_exact(c, n, B)
            ref = float(exact) if exact is not None else L + b / n
            rows.append({
                "law": label(c), "n": n, "reps": reps, "mean_gap": mean, "ci95": [mean - 1.96 * se, mean + 1.96 * se],
                "se": se, "sd": sd, "limit": L, "cv2_half": half,
                "reference": ref, "reference_kind": "exact E[gap_n]" if exact is not None else "L + b/n (delta method)",
                "z_vs_reference": (mean - ref) / se if se > 0 else 0.0,
                "z_vs_limit": (mean - L) / se if se > 0 else 0.0,
                "z_vs_cv2_half": (mean - half) / se if se > 0 else 0.0,
            })
    return rows
