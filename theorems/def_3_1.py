"""Definition 3.1 (α-order matrix entropy): the properties the paper relies on, as checkable statements.

For K ∈ R^{n×n} PSD with K_ii = 1 (so tr K = n) the paper defines

    H_α(K) = 1/(1−α) · log tr((K/n)^α),      H_1(K) = −tr((K/n) log(K/n))  (von Neumann),

and, for a PSD Hessian, the entropy gap ``log n − H(p) = KL(p‖u)`` of the
normalised spectrum ``p_i = λ_i / Σλ_j``.  Sub-statements (ids ``def-3.1/<name>``):

* ``range``             0 ≤ H_α(K) ≤ log n,
* ``monotone``          α ≤ β ⇒ H_β(K) ≤ H_α(K),
* ``von-neumann-limit`` |H_α(K) − H_1(K)| ≤ |α − 1|·(log κ)²/8 (so H_α → von Neumann as α → 1),
* ``spectral-form``     H_α(K) equals the Rényi entropy of the normalised spectrum,
* ``gap-is-kl``         log n − H(p) = KL(p‖u) for p the normalised spectrum,
* ``gap-nonneg``        ‖p − u‖²/(2 p_max) ≤ KL(p‖u): the gap is ≥ 0, and 0 only at p = u.

How the checks see a matrix: the exact eigenvalues λ (rationals, Σλ = n) are drawn
first; the float side builds a matrix with exactly that spectrum up to rounding and
unit diagonal (a random orthogonal similarity followed by the Bendel–Mickey Givens
sweep, :func:`unit_diagonal_matrix`) and runs the library's matrix entropies on it;
the exact side (Arb / mpmath) works on λ, which is what lets Arb certify.  The
matrix is rebuilt deterministically from ``(λ, seed)``, so a counterexample stores
only exact numbers.

References: Tan & Huang (2025), Def. 3.1; A. Rényi (1961); R. B. Bendel and
M. R. Mickey, "Population correlation matrices for sampling experiments",
Commun. Statist. B 7 (1978); P. I. Davies and N. J. Higham, "Numerically stable
generation of correlation matrices and their factors", BIT 40 (2000).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from numerics.divergence import kl_divergence_mp
from numerics.entropy import entropy_gap_mp, renyi_entropy, shannon_entropy
from numerics.spectrum import matrix_renyi_entropy, normalize_spectrum, spectral_entropy_gap, von_neumann_entropy
from numerics.strategies import near_uniform, spectra
from numerics.validation import as_float_vector
from theorems import domain_checks as D
from theorems.inequality import Inequality
from theorems.statement import exactify
from theorems.strategies import (
    INF,
    balanced_escort_spectra,
    ordered_orders,
    orders,
    orders_near_one,
    psd_spectra,
)

# ----------------------------------------------------------------------------
# Matrices with a prescribed spectrum and unit diagonal
# ----------------------------------------------------------------------------

def unit_diagonal_matrix(lam, seed: int) -> np.ndarray:
    """A symmetric PSD matrix with eigenvalues ``lam`` and ``K_ii = 1`` (Def. 3.1's setting).

    ``A = Q diag(λ) Qᵀ`` with Q Haar-random from ``seed``, then at most n − 1 Givens
    rotations ``A ← Gᵀ A G`` in a plane (i, j) with ``a_ii < 1 < a_jj`` chosen so the
    new ``a_ii = 1`` (Bendel & Mickey 1978; the root of
    ``t²(a_jj − 1) + 2t a_ij + (a_ii − 1) = 0`` is taken in the cancellation-free form
    of Davies & Higham 2000).  Rotations keep the spectrum; each fixes one diagonal entry.

    Args:
        lam: eigenvalues, ≥ 0, summing to n (within 1e-12 relative).
        seed: seed of the random orthogonal matrix.

    Raises:
        ValueError: lam empty, non-finite, negative, or not summing to n.
    """
    lam = as_float_vector(lam, "lam")  # non-empty, 1-D, finite
    if np.any(lam < 0):
        raise ValueError("lam has a negative eigenvalue: a unit-diagonal PSD matrix needs λ ≥ 0")
    n = lam.size
    if abs(math.fsum(lam) - n) > 1e-12 * n:
        raise ValueError(f"eigenvalues sum to {math.fsum(lam)!r}, not n = {n} (K_ii = 1 forces tr K = n)")
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    q = q * np.sign(np.diag(r))  # Haar measure (Mezzadri 2007)
    a = (q * lam) @ q.T
    a = (a + a.T) / 2
    # entries within a few ulps of 1 count as settled (a rotation leaves its entry at 1 ± eps); a looser
    # tolerance would let fill_diagonal below move the spectrum by as much
    tol = 8 * np.finfo(float).eps
    for _ in range(n):  # each rotation settles one entry for good: at most n − 1 are needed
        d = np.diag(a)
        below, above = np.flatnonzero(d < 1.0 - tol), np.flatnonzero(d > 1.0 + tol)
        if below.size == 0 or above.size == 0:
            break
        i, j = int(below[0]), int(above[0])
        aii, ajj, aij = d[i], d[j], a[i, j]
        disc = math.sqrt(max(aij * aij - (aii - 1.0) * (ajj - 1.0), 0.0))
        # roots t = (1 − a_ii)/(a_ij ± disc): take the sign of a_ij so the denominator does not cancel
        t = (1.0 - aii) / (aij + math.copysign(disc, aij))
        c = 1.0 / math.sqrt(1.0 + t * t)
        s = c * t
        # A ← Gᵀ A G with G the rotation e_i → c e_i + s e_j, e_j → −s e_i + c e_j (rows, then columns)
        ri, rj = a[i, :].copy(), a[j, :].copy()
        a[i, :], a[j, :] = c * ri + s * rj, -s * ri + c * rj
        ci, cj = a[:, i].copy(), a[:, j].copy()
        a[:, i], a[:, j] = c * ci + s * cj, -s * ci + c * cj
        a = (a + a.T) / 2
    off = float(np.max(np.abs(np.diag(a) - 1.0)))
    if off > 1e-9:  # pragma: no cover - would be a bug in the sweep
        raise RuntimeError(f"unit-diagonal sweep left |K_ii − 1| = {off:.2e}")
    np.fill_diagonal(a, 1.0)  # the sweep leaves |a_ii − 1| ~ eps; set it exactly
    return a


_MATRICES: dict = {}


def _matrix(x) -> np.ndarray:
    key = (x["lam"].tobytes(), x["seed"])
    if key not in _MATRICES:
        if len(_MATRICES) > 256:
            _MATRICES.clear()
        _MATRICES[key] = unit_diagonal_matrix(x["lam"], x["seed"])
    return _MATRICES[key]


# ----------------------------------------------------------------------------
# Exact Rényi entropies of a spectrum (backend B: mpmath or Arb)
# ----------------------------------------------------------------------------

def _alpha_float(a) -> float:
    return math.inf if a == INF else float(a)


def _p_exact(lam: list[Fraction]) -> list[Fraction]:
    total = sum(lam, Fraction(0))
    return [v / total for v in lam]


def renyi_of_spectrum_exact(lam: list[Fraction], alpha, B):
    """``H_α(λ/Σλ) = log Σ p_i^α / (1−α)`` in backend B (α = 1: Shannon; α = "inf": −log max p)."""
    p = [v for v in _p_exact(lam) if v != 0]
    if alpha == INF:
        return -B.log(B.num(max(p)))
    if alpha == 1:
        return -B.sum([B.num(v) * B.log(B.num(v)) for v in p])
    a = B.num(alpha)
    return B.log(B.sum([B.exp(a * B.log(B.num(v))) for v in p])) / (1 - a)


def _log_kappa_exact(lam, B):
    return B.log(B.num(max(lam) / min(lam)))


# ----------------------------------------------------------------------------
# Domains
# ----------------------------------------------------------------------------

def _matrix_draw(spectrum_strategy, alphas):
    return st.fixed_dictionaries({
        "lam": spectrum_strategy, "seed": st.integers(0, 2**32 - 1), "alpha": alphas,
    })


def _matrix_input_check(*more, min_n: int = 1, allow_zero: bool = True):
    """Domain of the matrix statements: a spectrum summing to n (K_ii = 1), a seed, and ``more``."""
    return D.all_of(D.positive_vector("lam", min_n, allow_zero=allow_zero), D.sums_to_length("lam"),
                    D.integer("seed", 0), *more)


def _prepare(raw):
    """Exact eigenvalues scaled to Σλ = n (K_ii = 1), α exact; the matrix is rebuilt from (λ, seed)."""
    x = exactify({k: v for k, v in raw.items() if k not in ("alpha", "beta")})
    n = len(x["lam"])
    total = sum(x["lam"], Fraction(0))
    x["lam"] = [n * v / total for v in x["lam"]]
    for k in ("alpha", "beta"):
        if k in raw:
            x[k] = raw[k]
    return x


def _n(x) -> int:
    return len(x["lam"])


def _H_float(x, key="alpha"):
    return matrix_renyi_entropy(_matrix(x), _alpha_float(x[key]), policy="clip")


# ----------------------------------------------------------------------------
# def-3.1/range
# ----------------------------------------------------------------------------

def _range_mutants(s):
    # a dimension lost: H_α(K) ≤ log(n − 1) (false at K = I)
    return [s.mutant(
        "log n -> log(n-1)",
        lhs_float=lambda x: abs(_H_float(x) - 0.5 * math.log(max(_n(x) - 1, 1))),
        rhs_float=lambda x: 0.5 * math.log(max(_n(x) - 1, 1)),
        lhs_exact=lambda x, B: abs(
            renyi_of_spectrum_exact(x["lam"], x["alpha"], B) - B.log(B.num(max(_n(x) - 1, 1))) / 2
        ),
        rhs_exact=lambda x, B: B.log(B.num(max(_n(x) - 1, 1))) / 2,
    )]


range_ = Inequality(
    id="def-3.1/range",
    # float sides are H_α of a rotated matrix through eigh: eigenvalue errors ~n·eps·‖K‖ absolute,
    # amplified by p^(α−1) for α < 1 at small eigenvalues (measured: 6.2e-8 relative at κ = 3e10,
    # α = 1/10) and absolute ~eps where the sides are tiny; a 1 % library error is still 1e4x beyond
    side_tol=1e-6,
    side_atol=1e-13,
    expected="holds",
    domain_check=_matrix_input_check(D.order("alpha")),
    title="Def 3.1: 0 ≤ H_α(K) ≤ log n",
    claim="For K PSD with K_ii = 1 and every order α ∈ (0, ∞], 0 ≤ H_α(K) ≤ log n.",
    reading="Written as |H_α − ½ log n| ≤ ½ log n (both bounds at once). Float side: "
    "numerics.spectrum.matrix_renyi_entropy on a unit-diagonal matrix with the drawn spectrum "
    "(policy 'clip': the matrix is PSD by construction, eigh round-off negatives count as 0); "
    "exact side: Rényi entropy of λ/n in Arb.",
    domain=_matrix_draw(psd_spectra(1, 10), orders()),
    prepare=_prepare,
    lhs_float=lambda x: abs(_H_float(x) - 0.5 * math.log(_n(x))),
    rhs_float=lambda x: 0.5 * math.log(_n(x)),
    lhs_exact=lambda x, B: abs(renyi_of_spectrum_exact(x["lam"], x["alpha"], B) - B.log(B.num(_n(x))) / 2),
    rhs_exact=lambda x, B: B.log(B.num(_n(x))) / 2,
    size=_n,
    extra_mutants=_range_mutants,
    proof="p = λ/n is a distribution: Σ p^α ≤ 1 for α > 1 and ≥ 1 for α < 1 gives H_α ≥ 0; "
    "Jensen (power mean) gives Σ p^α ≥ n^{1−α} for α > 1 (≤ for α < 1), i.e. H_α ≤ log n; "
    "equality at K = I (upper) and rank one (lower).",
)


# ----------------------------------------------------------------------------
# def-3.1/monotone
# ----------------------------------------------------------------------------

def _monotone_domain():
    return st.tuples(_matrix_draw(psd_spectra(1, 10), st.just(None)), ordered_orders()).map(
        lambda t: {**t[0], "alpha": t[1][0], "beta": t[1][1]}
    )


def _ratio(x):
    """α/β as an exact number (0 when β = ∞)."""
    if x["beta"] == INF:
        return Fraction(0) if x["alpha"] != INF else Fraction(1)
    return Fraction(x["alpha"]) / Fraction(x["beta"])


def _monotone_mutants(s):
    # a false "scaling law" H_β ≤ (α/β)·H_α (false at K = I, where H_α = H_β = log n)
    return [s.mutant(
        "rhs x alpha/beta",
        rhs_float=lambda x: float(_ratio(x)) * _H_float(x, "alpha"),
        rhs_exact=lambda x, B: B.num(_ratio(x)) * renyi_of_spectrum_exact(x["lam"], x["alpha"], B),
    )]


monotone = Inequality(
    id="def-3.1/monotone",
    # float sides are H_α of a rotated matrix through eigh: eigenvalue errors ~n·eps·‖K‖ absolute,
    # amplified by p^(α−1) for α < 1 at small eigenvalues (measured: 6.2e-8 relative at κ = 3e10,
    # α = 1/10) and absolute ~eps where the sides are tiny; a 1 % library error is still 1e4x beyond
    side_tol=1e-6,
    side_atol=1e-13,
    expected="holds",
    domain_check=_matrix_input_check(
        D.order("alpha"), D.order("beta"),
        D.that(lambda x: x["beta"] == "inf" or (x["alpha"] != "inf" and x["alpha"] <= x["beta"]),
               "alpha ≤ beta required")),
    title="Def 3.1: H_α(K) is nonincreasing in α",
    claim="For K PSD with K_ii = 1 and 0 < α ≤ β ≤ ∞: H_β(K) ≤ H_α(K).",
    reading="Orders drawn from a grid (incl. α = 1 and ∞) and from [0.05, 20]; float sides from "
    "matrix_renyi_entropy on the unit-diagonal matrix, exact sides on the spectrum.",
    domain=_monotone_domain(),
    prepare=_prepare,
    lhs_float=lambda x: _H_float(x, "beta"),
    rhs_float=lambda x: _H_float(x, "alpha"),
    lhs_exact=lambda x, B: renyi_of_spectrum_exact(x["lam"], x["beta"], B),
    rhs_exact=lambda x, B: renyi_of_spectrum_exact(x["lam"], x["alpha"], B),
    size=_n,
    extra_mutants=_monotone_mutants,
    proof="(1−α)H_α = log Σ p^α =: φ(α) is convex (log-sum-exp of α log p_i) with φ(1) = 0, so "
    "H_α = −(φ(α) − φ(1))/(α − 1), minus a chord slope of a convex function, is nonincreasing "
    "(Rényi 1961); equality for all α iff p is uniform on its support.",
)


# ----------------------------------------------------------------------------
# def-3.1/von-neumann-limit
# ----------------------------------------------------------------------------

def _vn_domain():
    return st.one_of(
        # α = 1 itself is excluded: both sides are 0 there, a flat target that stalls Hypothesis' optimiser
        _matrix_draw(
            psd_spectra(2, 10, positive=True),
            st.one_of(orders_near_one(), orders(allow_inf=False).filter(lambda a: a != 1)),
        ),
        _matrix_draw(balanced_escort_spectra(), orders_near_one()),
    )


def _vn_lhs_float(x):
    K = _matrix(x)
    return abs(matrix_renyi_entropy(K, _alpha_float(x["alpha"]), policy="clip") - von_neumann_entropy(K, policy="clip"))


def _vn_rhs_float(x):
    lam = x["lam"]
    return abs(float(x["alpha"]) - 1.0) * math.log(float(lam.max()) / float(lam.min())) ** 2 / 8


def _vn_lhs_exact(x, B):
    return abs(renyi_of_spectrum_exact(x["lam"], x["alpha"], B) - renyi_of_spectrum_exact(x["lam"], 1, B))


def _vn_rhs_exact(x, B):
    u = _log_kappa_exact(x["lam"], B)
    return abs(B.num(x["alpha"]) - 1) * (u * u) / 8  # u * u: python-flint's u ** 2 is NaN when u's ball holds 0


von_neumann_limit = Inequality(
    id="def-3.1/von-neumann-limit",
    expected="holds",
    domain_check=_matrix_input_check(D.interval("alpha", 0, lo_open=True), min_n=2, allow_zero=False),
    title="Def 3.1: H_α(K) → von Neumann entropy as α → 1, with |H_α − H_1| ≤ |α−1|(log κ)²/8",
    claim="For K positive definite with K_ii = 1 and condition number κ: "
    "|H_α(K) − H_1(K)| ≤ |α − 1|·(log κ)²/8 for every α > 0; in particular lim_{α→1} H_α(K) "
    "is the von Neumann entropy −tr((K/n) log(K/n)).",
    reading="The paper states the limit without a rate; this is the quantitative form (it implies the "
    "limit and is sharp: the ratio → 1 as α → 1 for spectra whose escort distribution puts mass ½ on "
    "each of two values). Float sides compare numerics.spectrum.matrix_renyi_entropy(K, α) with "
    "von_neumann_entropy(K). Tolerance: absolute 1e-11 (scale_floor 1): both entropies are "
    "O(log n) with a few-ulp error, so their difference has ~1e-15 absolute error.",
    domain=_vn_domain(),
    prepare=_prepare,
    lhs_float=_vn_lhs_float,
    rhs_float=_vn_rhs_float,
    lhs_exact=_vn_lhs_exact,
    rhs_exact=_vn_rhs_exact,
    size=_n,
    scale_floor=1.0,
    extra_mutants=lambda s: [s.mutant(
        "constant 1/8 -> 1/16",
        rhs_float=lambda x: _vn_rhs_float(x) / 2,
        rhs_exact=lambda x, B: _vn_rhs_exact(x, B) / 2,
    )],
    proof="φ(α) = log Σ p^α is convex with φ(1) = 0, φ'(1) = −H_1 and φ''(α) = Var_{escort}(log p) "
    "≤ (log κ)²/4 (Popoviciu: log p ranges over an interval of length log κ). Taylor: "
    "φ(α) = −H_1(α−1) + R with 0 ≤ R ≤ (α−1)²(log κ)²/8, and H_α − H_1 = R/(1−α).",
)


# ----------------------------------------------------------------------------
# def-3.1/spectral-form
# ----------------------------------------------------------------------------

def _spectral_rhs_float(x):
    p, _ = normalize_spectrum(x["lam"])
    return renyi_entropy(p, _alpha_float(x["alpha"]))


def _trace_form_exact(x, B):
    """The definition read literally: log tr((K/n)^α)/(1−α) with tr f(K) = Σ f(λ_i) and n = dim."""
    n = _n(x)
    lam = [v / n for v in x["lam"]]  # tr K = n, so K/n has eigenvalues λ/n (a distribution)
    a = x["alpha"]
    nz = [v for v in lam if v != 0]
    if a == 1:
        return -B.sum([B.num(v) * B.log(B.num(v)) for v in nz])
    A = B.num(a)
    return B.log(B.sum([B.exp(A * B.log(B.num(v))) for v in nz])) / (1 - A)


def _raw_power_float(x):
    """Mutant: the spectrum not divided by n, log Σ λ^α/(1−α) (α = 1: −Σ λ log λ)."""
    lam = x["lam"][x["lam"] > 0]
    a = float(x["alpha"])
    if a == 1.0:
        return float(-np.sum(lam * np.log(lam)))
    return math.log(float(np.sum(lam**a))) / (1 - a)


def _raw_power_exact(x, B):
    nz = [v for v in x["lam"] if v != 0]
    a = x["alpha"]
    if a == 1:
        return -B.sum([B.num(v) * B.log(B.num(v)) for v in nz])
    A = B.num(a)
    return B.log(B.sum([B.exp(A * B.log(B.num(v))) for v in nz])) / (1 - A)


def _spectral_mutants(s):
    return [
        s.mutant(
            "factor 1/(1-alpha) dropped",  # log tr((K/n)^α) alone; at α = 1 this is log tr(K/n) = 0
            lhs_float=lambda x: (1 - float(x["alpha"])) * _H_float(x),
            lhs_exact=lambda x, B: (1 - B.num(x["alpha"])) * _trace_form_exact(x, B),
        ),
        s.mutant("K not divided by n", lhs_float=_raw_power_float, lhs_exact=_raw_power_exact),
    ]


spectral_form = Inequality(
    id="def-3.1/spectral-form",
    expected="holds",
    # cheap exact sides: compare every case, so the rarer α = 1 (Shannon) branch is always among them
    exact_samples=200,
    domain_check=_matrix_input_check(D.interval("alpha", 0, lo_open=True), min_n=2, allow_zero=False),
    title="Def 3.1: H_α(K) is the Rényi entropy of the normalised spectrum",
    claim="For K PSD with K_ii = 1 and eigenvalues λ: H_α(K) = 1/(1−α) log tr((K/n)^α) equals "
    "H_α(p) = 1/(1−α) log Σ p_i^α with p = λ/Σλ (α = 1: von Neumann = Shannon of p).",
    reading="Identity. Float: matrix_renyi_entropy of the unit-diagonal matrix vs renyi_entropy of "
    "normalize_spectrum(λ) for the drawn λ; exact: the trace form Σ(λ_i/n)^α (n = dimension, using "
    "tr K = n) vs the Rényi entropy of λ/Σλ. Orders in [0.05, 20] (finite; ∞ is covered by range and "
    "monotone); condition numbers ≤ 1e6 (beyond, eigh cannot resolve λ_min and the float side is not "
    "the matrix's entropy to 1e-9 -- a limit of float64, not of the identity). "
    "Tolerance: 1e-9 absolute (scale_floor 1): eigh's backward error n·eps·‖K‖ moves "
    "an eigenvalue λ_min/n by ~n·eps·κ relative; with κ ≤ 1e6 and α ≥ 0.05 the entropy moves ≤ 1e-9.",
    domain=_matrix_draw(psd_spectra(2, 10, positive=True, max_kappa=1e6), orders(allow_inf=False)),
    prepare=_prepare,
    lhs_float=_H_float,
    rhs_float=_spectral_rhs_float,
    lhs_exact=_trace_form_exact,
    rhs_exact=lambda x, B: renyi_of_spectrum_exact(x["lam"], x["alpha"], B),
    relation="==",
    size=_n,
    rel_tol=1e-9,
    scale_floor=1.0,
    quiet=0.1,  # eigh's error (up to ~1e-11 here) is noise the optimiser should not climb
    extra_mutants=_spectral_mutants,
    proof="Spectral theorem: K = QΛQᵀ, so (K/n)^α = Q(Λ/n)^αQᵀ and tr((K/n)^α) = Σ(λ_i/n)^α; "
    "tr K = Σλ = n makes λ/n the normalised spectrum.",
)


# ----------------------------------------------------------------------------
# def-3.1/gap-is-kl and def-3.1/gap-nonneg: the entropy gap of a normalised spectrum
# ----------------------------------------------------------------------------

def _spectrum_domain(positive: bool = False):
    return st.one_of(
        psd_spectra(1, 40, positive=positive),
        st.integers(2, 60).flatmap(lambda n: near_uniform(n, 1e-3)),
        st.floats(-6, 6).flatmap(lambda e: spectra(2, 40, 1e8).map(lambda lam: lam * 10.0**e)),
    ).map(lambda lam: {"lam": lam})


def _prepare_lam(raw):
    return exactify(raw)


def _u(n):
    return [Fraction(1, n)] * n


def _gap_lhs_float(x):
    p, _ = normalize_spectrum(x["lam"])
    return math.log(p.size) - shannon_entropy(p)


def _gap_lhs_exact(x, B):
    p = _p_exact(x["lam"])
    return B.log(B.num(len(p))) + B.sum([B.num(v) * B.log(B.num(v)) for v in p if v != 0])


def _gap_rhs_exact(x, B):
    p = _p_exact(x["lam"])
    return kl_divergence_mp(p, _u(len(p)), backend=B)


gap_is_kl = Inequality(
    id="def-3.1/gap-is-kl",
    expected="holds",
    domain_check=D.positive_vector("lam", 1, allow_zero=True),
    title="Def 3.1: entropy gap log n − H(p) = KL(p‖u)",
    claim="For the normalised spectrum p_i = λ_i/Σλ_j of a PSD matrix, log n − H(p) = KL(p‖u).",
    reading="Identity. Float: log n − shannon_entropy(p) (textbook) vs "
    "numerics.spectrum.spectral_entropy_gap(λ) (the library's cancellation-free form); exact: "
    "log n + Σ p log p vs Σ p log(p/(1/n)) (numerics.divergence.kl_divergence_mp in Arb). "
    "Tolerance 1e-11 absolute (scale_floor 1): log n − H cancels to ~eps·log n absolute.",
    domain=_spectrum_domain(),
    prepare=_prepare_lam,
    lhs_float=_gap_lhs_float,
    rhs_float=lambda x: spectral_entropy_gap(x["lam"]),
    lhs_exact=_gap_lhs_exact,
    rhs_exact=_gap_rhs_exact,
    relation="==",
    size=lambda x: x["lam"].size,
    scale_floor=1.0,
    extra_mutants=lambda s: [
        s.mutant(  # the gap against log(n − 1)
            "log n -> log(n-1)",
            lhs_float=lambda x: _gap_lhs_float(x) - math.log(x["lam"].size) + math.log(max(x["lam"].size - 1, 1)),
            lhs_exact=lambda x, B: (
                _gap_lhs_exact(x, B) - B.log(B.num(len(x["lam"]))) + B.log(B.num(max(len(x["lam"]) - 1, 1)))
            ),
        ),
        s.mutant(  # the reverse divergence KL(u‖p) (the one in Thm 3.4's log-det identity)
            "KL(p||u) -> KL(u||p)",
            rhs_float=lambda x: _reverse_kl_float(x),
            rhs_exact=lambda x, B: kl_divergence_mp(_u(len(x["lam"])), _p_exact(x["lam"]), backend=B),
        ),
    ],
    proof="KL(p‖u) = Σ p log(p n) = log n + Σ p log p = log n − H(p).",
)


def _reverse_kl_float(x):
    from numerics.divergence import kl_divergence

    p, _ = normalize_spectrum(x["lam"])
    return kl_divergence(np.full(p.size, 1.0 / p.size), p)


def _l2_over_pmax_float(x):
    p, _ = normalize_spectrum(x["lam"])
    d = p - 1.0 / p.size
    return float(np.dot(d, d)) / (2 * float(p.max()))


def _l2_over_pmax_exact(x, B):
    p = _p_exact(x["lam"])
    n = len(p)
    return B.num(sum(((v - Fraction(1, n)) ** 2 for v in p), Fraction(0)) / (2 * max(p)))


gap_nonneg = Inequality(
    id="def-3.1/gap-nonneg",
    expected="holds",
    domain_check=D.positive_vector("lam", 1, allow_zero=True),
    title="Def 3.1: entropy gap ≥ ‖p − u‖²/(2 p_max) ≥ 0, zero only at p = u",
    claim="For the normalised spectrum p of a PSD matrix, KL(p‖u) = log n − H(p) ≥ 0 with equality "
    "iff p is uniform; quantitatively KL(p‖u) ≥ ‖p − u‖₂²/(2 p_max).",
    reading="The quantitative form makes 'equality iff uniform' checkable (the bound is > 0 unless "
    "p = u, and sharp as p → u: KL ≈ (n/2)‖p − u‖² and p_max → 1/n). Float: "
    "spectral_entropy_gap(λ); exact: entropy_gap_mp(λ, backend=Arb), the lhs in exact rationals. "
    "Spectra with zeros (PSD, not PD) are included.",
    domain=_spectrum_domain(),
    prepare=_prepare_lam,
    lhs_float=_l2_over_pmax_float,
    rhs_float=lambda x: spectral_entropy_gap(x["lam"]),
    lhs_exact=_l2_over_pmax_exact,
    rhs_exact=lambda x, B: entropy_gap_mp(x["lam"], backend=B),
    size=lambda x: x["lam"].size,
    extra_mutants=lambda s: [s.mutant(
        "factor 1/2 dropped",
        lhs_float=lambda x: 2 * _l2_over_pmax_float(x),
        lhs_exact=lambda x, B: 2 * _l2_over_pmax_exact(x, B),
    )],
    proof="KL(p‖u) = (1/n) Σ f(n p_i) with f(t) = t log t − t + 1 ≥ (t − 1)²/(2 max(t, 1)) "
    "(for t ≥ 1 the difference has value and slope 0 at 1 and second derivative 1/t − 1/t³ ≥ 0; "
    "for t ≤ 1, f(t) − (t−1)²/2 is decreasing since log t ≤ t − 1). With max(n p_i, 1) ≤ n p_max: "
    "KL ≥ n Σ (p_i − 1/n)²/(2 n p_max).",
)

STATEMENTS = [range_, monotone, von_neumann_limit, spectral_form, gap_is_kl, gap_nonneg]
