"""Thm 3.4: the KL formula of the Laplace posterior against the prior, and the log-det identity.

Sub-claims:

* ``thm-3.4/kl-formula`` -- for PSD H, θ*, σ² > 0:
  ``½ [Σ_i (log(1+σ²λ_i) + 1/(1+σ²λ_i) − 1) + ‖θ*‖²/σ²] = KL(N(θ*, (H+σ⁻²I)⁻¹) ‖ N(0, σ²I))``.
  H is built as ``Q diag(λ) Qᵀ`` with Q the Cayley transform ``(I − A)(I + A)⁻¹`` of a rational
  skew-symmetric A, so Q is exactly orthogonal and H an exact rational matrix with exactly the
  prescribed spectrum. The generic side is evaluated on the (non-diagonal) H in exact rational
  arithmetic -- ``tr((H+σ⁻²I)⁻¹)`` and ``det(H+σ⁻²I)`` by ``flint.fmpq_mat`` -- so only the final
  logarithms are taken in mpmath / Arb: both sides are certified enclosures, no error bound needed.
* ``thm-3.4/bound`` -- the PAC-Bayes bound ``E_Q[L] ≤ E_Q[L̂] + sqrt((KL(Q‖P) + log(2√N/δ))/(2N))``
  with the Laplace posterior Q: a coverage study over independent training samples, in
  :mod:`theorems.pac_bayes_coverage` (listed here, in the paper's order).
* ``thm-3.4/log-det-identity`` -- ``Σ log λ_i = n log(tr H / n) − n·KL(u‖p)``, p = λ/Σλ.

Reference: Tan & Huang (2025), Thm 3.4 (statements ``thm-3.4/*`` in docs/statements.md).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import flint
import numpy as np
from hypothesis import strategies as st

from numerics.divergence import kl_divergence, kl_divergence_mp, reverse_kl, reverse_kl_mp
from numerics.gaussian import gaussian_kl, laplace_pac_bayes_kl, laplace_posterior
from numerics.rational import identity as _identity
from numerics.rational import to_fmpq as _q
from numerics.rational import to_fraction as _frac
from numerics.strategies import spectra
from theorems import domain_checks as D
from theorems.inequality import Inequality
from theorems.pac_bayes_coverage import bound
from theorems.statement import exactify, normalise_exact

# ----------------------------------------------------------------------------
# exact rational helpers
# ----------------------------------------------------------------------------


def cayley_orthogonal(skew_upper: list[Fraction], d: int) -> flint.fmpq_mat:
    """Exactly orthogonal rational Q = (I − A)(I + A)⁻¹ from the upper triangle of a skew A."""
    A = flint.fmpq_mat(d, d)
    k = 0
    for i in range(d):
        for j in range(i + 1, d):
            A[i, j] = _q(skew_upper[k])
            A[j, i] = -_q(skew_upper[k])
            k += 1
    eye = _identity(d)
    return (eye - A) * (eye + A).inv()  # I + A is invertible for skew A (eigenvalues 1 + i·t)


# ----------------------------------------------------------------------------
# (a) the KL formula
# ----------------------------------------------------------------------------


@st.composite
def kl_problems(draw):
    """(λ ≥ 0, skew params of Q, θ*, σ²): spectra with prescribed κ, zeros (PSD), extreme σ²λ."""
    d = draw(st.integers(1, 6))
    if d == 1:
        lam = np.array([10.0 ** draw(st.floats(-4, 4))])
    else:
        lam = draw(spectra(d, d, max_kappa=1e6))
        lam = lam / lam.max() * 10.0 ** draw(st.floats(-4, 4))
    if draw(st.booleans()):
        zeros = draw(st.lists(st.booleans(), min_size=d, max_size=d))
        lam = np.where(zeros, 0.0, lam)
    skew = [Fraction(k, 16) for k in draw(st.lists(st.integers(-48, 48), min_size=d * (d - 1) // 2,
                                                       max_size=d * (d - 1) // 2))]
    theta = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(-10, 10, allow_subnormal=False)),
                                   min_size=d, max_size=d)))
    sigma2 = draw(st.one_of(st.just(1.0), st.floats(-3, 3).map(lambda e: 10.0 ** e)))
    return {"lam": lam, "skew": skew, "theta": theta, "sigma2": sigma2}


def _kl_prepare(raw):
    x = exactify({k: v for k, v in raw.items() if k != "skew"})
    x["skew"] = list(raw["skew"])
    return x


def _kl_canonical(x):
    if x["sigma2"] <= 0 or any(v < 0 for v in x["lam"]):
        raise ValueError("need σ² > 0 and λ ≥ 0")
    return x


def _kl_derive(x):
    """Adds the exact matrix H = Q diag(λ) Qᵀ (Q the Cayley transform of the stored skew parameters)."""
    d = len(x["lam"])
    Q = cayley_orthogonal(x["skew"], d)
    D = flint.fmpq_mat(d, d)
    for i in range(d):
        D[i, i] = _q(x["lam"][i])
    H = Q * D * Q.transpose()
    x["H"] = [_frac(H[i, j]) for i in range(d) for j in range(d)]
    return x


def kl_formula_float(x, variant: str = "claim") -> float:
    lam, th, s2 = x["lam"], x["theta"], float(x["sigma2"])
    if variant == "claim":
        return laplace_pac_bayes_kl(lam, float(th @ th), s2)
    r = s2 * lam
    inv_term = 0.0 if variant == "drop 1/(1+σ²λ)" else 1.0
    terms = np.log1p(r) + inv_term / (1 + r) - 1
    theta_term = 0.0 if variant == "drop ‖θ*‖²/σ²" else float(th @ th) / s2
    half = 1.0 if variant == "factor ½ → 1" else 0.5
    return half * (float(np.sum(terms)) + theta_term)


def kl_formula_exact(x, B, variant: str = "claim"):
    """The eigenvalue formula as written, term by term, in backend B."""
    s2 = B.num(x["sigma2"])
    terms = []
    for lam in x["lam"]:
        r = s2 * B.num(lam)
        inv_term = 0 if variant == "drop 1/(1+σ²λ)" else 1 / (1 + r)
        terms.append(B.log(1 + r) + inv_term - 1)
    tt = B.num(sum((t * t for t in x["theta"]), Fraction(0)))
    theta_term = B.num(0) if variant == "drop ‖θ*‖²/σ²" else tt / s2
    half = B.num(1) if variant == "factor ½ → 1" else B.num(Fraction(1, 2))
    return half * (B.sum(terms) + theta_term)


def generic_kl_float(x) -> float:
    d = len(x["lam"])
    H = x["H"].reshape(d, d)
    s2 = float(x["sigma2"])
    mean, cov = laplace_posterior(0.5 * (H + H.T), x["theta"], s2)
    return gaussian_kl(mean, cov, np.zeros(d), s2 * np.eye(d))


def generic_kl_exact(x, B):
    """½[tr(Σ_P⁻¹Σ_Q) + μᵀΣ_P⁻¹μ − d + log det Σ_P − log det Σ_Q] on the full matrix H, rationals + final logs."""
    d = len(x["lam"])
    H = flint.fmpq_mat(d, d, [_q(v) for v in x["H"]])
    s2 = _q(x["sigma2"])
    prec = H + _identity(d) / s2  # Σ_Q⁻¹
    cov = prec.inv()
    trace = sum((_frac(cov[i, i]) for i in range(d)), Fraction(0)) / _frac(s2)
    maha = sum((t * t for t in x["theta"]), Fraction(0)) / _frac(s2)
    logdet_p = d * B.log(B.num(_frac(s2)))
    logdet_q = -B.log(B.num(_frac(prec.det())))
    return (B.num(trace + maha - d) + logdet_p - logdet_q) / 2


def _kl_mutants(s):
    return [
        s.mutant(v, lhs_float=functools.partial(kl_formula_float, variant=v),
                 lhs_exact=functools.partial(kl_formula_exact, variant=v))
        for v in ("drop 1/(1+σ²λ)", "factor ½ → 1", "drop ‖θ*‖²/σ²")
    ]


kl_formula = Inequality(
    id="thm-3.4/kl-formula",
    expected="holds",
    domain_check=D.all_of(
        D.positive_vector("lam", 1, allow_zero=True), D.interval("sigma2", 0, lo_open=True),
        D.that(lambda x: len(x["skew"]) == len(x["lam"]) * (len(x["lam"]) - 1) // 2
               and len(x["theta"]) == len(x["lam"]), "skew must hold d(d−1)/2 entries and theta d")),
    title="Thm 3.4: eigenvalue formula = KL(N(θ*, (H+σ⁻²I)⁻¹) ‖ N(0, σ²I))",
    claim="½[Σ_i (log(1+σ²λ_i) + 1/(1+σ²λ_i) − 1) + ‖θ*‖²/σ²] = KL(N(θ*, (H+σ⁻²I)⁻¹) ‖ N(0, σ²I)), λ_i = eig(H).",
    reading="H = Q diag(λ) Qᵀ PSD (zeros allowed), d ≤ 6, Q an exactly orthogonal rational Cayley transform; "
    "generic Gaussian KL on the full H in exact rationals (fmpq_mat), logs in Arb/mpmath; float sides: "
    "numerics.gaussian.laplace_pac_bayes_kl vs gaussian_kl(laplace_posterior(H, θ*, σ²), N(0, σ²I)).",
    domain=kl_problems(),
    prepare=_kl_prepare,
    derive=_kl_derive,
    canonical=_kl_canonical,
    lhs_float=kl_formula_float,
    rhs_float=generic_kl_float,
    lhs_exact=kl_formula_exact,
    rhs_exact=generic_kl_exact,
    relation="==",
    size=lambda x: len(x["lam"]),
    # generic side: gaussian_kl forms eig(Σ_P⁻¹Σ_Q) − 1 = −σ²λ/(1+σ²λ) by subtraction, so log(1+σ²λ) carries an
    # absolute error ~eps·(1+σ²λ) ≤ 1e-16·1e7 per eigenvalue, plus eigh's eps·‖H‖ on the small λ (κ ≤ 1e6)
    rel_tol=1e-8,
    scale_floor=1e-6,  # KL ~ (σ²λ)²/4 can be tiny; compare absolutely below 1e-6
    extra_mutants=_kl_mutants,
    proof="Σ_Q = V diag(1/(λ_i + σ⁻²)) Vᵀ, so tr(Σ_P⁻¹Σ_Q) = Σ 1/(1+σ²λ_i) and log det Σ_P − log det Σ_Q = "
    "Σ log(1+σ²λ_i); substituting into the Gaussian KL gives the formula. Exact rational evaluation of the "
    "generic side agrees on every drawn case (no certified nonzero difference).",
)

# ----------------------------------------------------------------------------
# (c) the log-det identity
# ----------------------------------------------------------------------------


def _ld_derive(x):
    x["p"] = normalise_exact(x["lam"])
    return x


def _ld_canonical(x):
    if any(v <= 0 for v in x["lam"]):
        raise ValueError("eigenvalues must be > 0")
    return x


def _uniform(n):
    return [Fraction(1, n)] * n


def logdet_float(x):
    return float(np.sum(np.log(x["lam"])))


def logdet_identity_float(x, variant: str = "claim"):
    lam, p = x["lam"], x["p"]
    n = lam.size
    u = np.full(n, 1.0 / n)
    kl = kl_divergence(p, u) if variant == "KL(p‖u) instead of KL(u‖p)" else reverse_kl(p, u)
    factor = 1 if variant == "factor n on the KL dropped" else n
    return n * math.log(math.fsum(lam) / n) - factor * kl


def logdet_exact(x, B):
    return B.sum([B.log(B.num(v)) for v in x["lam"]])


def logdet_identity_exact(x, B, variant: str = "claim"):
    n = len(x["lam"])
    tr = sum(x["lam"], Fraction(0))
    if variant == "KL(p‖u) instead of KL(u‖p)":
        kl = kl_divergence_mp(x["p"], _uniform(n), backend=B)
    else:
        kl = reverse_kl_mp(x["p"], _uniform(n), backend=B)  # KL(u ‖ p)
    factor = 1 if variant == "factor n on the KL dropped" else n
    return n * B.log(B.num(tr / n)) - factor * kl


log_det_identity = Inequality(
    id="thm-3.4/log-det-identity",
    expected="holds",
    domain_check=D.positive_vector("lam", 1),
    title="Thm 3.4: Σ log λ_i = n log(tr H / n) − n·KL(u‖p)",
    claim="For a PD H with eigenvalues λ_i and p = λ/Σλ: Σ_i log λ_i = n log(tr H / n) − n·KL(u ‖ p) "
    "(the reverse KL, not the paper's entropy gap KL(p ‖ u)).",
    reading="tr H = Σλ_i; KL(u‖p) = numerics.divergence.reverse_kl(p, u); positive spectra with prescribed "
    "κ ≤ 1e8 and scale 10^±6 (numerics.strategies.spectra), n ≤ 40.",
    domain=spectra(2, 40).map(lambda lam: {"lam": lam}),
    derive=_ld_derive,
    canonical=_ld_canonical,
    lhs_float=logdet_float,
    rhs_float=logdet_identity_float,
    lhs_exact=logdet_exact,
    rhs_exact=logdet_identity_exact,
    relation="==",
    size=lambda x: x["lam"].size,
    rel_tol=1e-10,  # n·log terms up to ~40·30 cancel; float error ~ n·eps·max|log λ| ≈ 1e-12 absolute
    scale_floor=1.0,
    extra_mutants=lambda s: [
        s.mutant(v, rhs_float=functools.partial(logdet_identity_float, variant=v),
                 rhs_exact=functools.partial(logdet_identity_exact, variant=v))
        for v in ("KL(p‖u) instead of KL(u‖p)", "factor n on the KL dropped")
    ],
    proof="KL(u‖p) = Σ (1/n) log(1/(n p_i)) = −log n − (1/n) Σ log λ_i + log Σλ_j; multiply by n and rearrange.",
)

STATEMENTS = [kl_formula, bound, log_det_identity]
