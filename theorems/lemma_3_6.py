"""Lemma 3.6: the entropy gap is at most log(1 + n·TV(p, u)); Pinsker gives the matching lower bound."""

from __future__ import annotations

from hypothesis import strategies as st

from numerics.divergence import total_variation, total_variation_mp
from numerics.entropy import entropy_gap, entropy_gap_mp
from numerics.strategies import distributions, near_uniform, two_valued
from theorems import domain_checks as D
from theorems.exact_inputs import exact_distribution, uniform_exact
from theorems.inequality import Inequality
from theorems.statement import normalise_exact

domain = st.one_of(
    distributions(2, 60).map(lambda p: {"p": p}),
    st.integers(2, 200).flatmap(lambda n: two_valued(n)).map(lambda p: {"p": p}),
    st.integers(2, 100).flatmap(lambda n: near_uniform(n, 0.5)).map(lambda p: {"p": p}),
)


def _tv(x):
    p = x["p"]
    return total_variation(p, [1.0 / p.size] * p.size)


def _tv_exact(x, B):
    return total_variation_mp(x["p"], uniform_exact(len(x["p"])), backend=B)


def _square(t):
    # t * t, not t ** 2: python-flint's power of a ball that contains 0 is NaN (TV = 0 at p = u)
    return t * t


def _drop_n(s):
    """Mutant: drop the factor n inside the log (KL ≤ log(1 + TV))."""
    import math

    return [s.mutant(
        "dropped factor n",
        rhs_float=lambda x: math.log1p(_tv(x)),
        rhs_exact=lambda x, B: B.log(1 + _tv_exact(x, B)),
    )]


upper = Inequality(
    id="lemma-3.6",
    # TV(p, u) of near-uniform p is computed by cancellation: its float error is absolute (≤ eps/2 from
    # rounding 1/n, times n ≤ 200 inside log(1 + n·TV)), not relative; 1e-13 is 4x that bound
    side_atol=1e-13,
    expected="holds",
    domain_check=D.distribution("p", 1),
    title="Lemma 3.6: entropy gap ≤ log(1 + n·TV(p,u))",
    claim="For a distribution p on n points, KL(p‖u) = log n − H(p) ≤ log(1 + n·TV(p, u)).",
    reading="TV(p,u) = ½ Σ|p_i − 1/n|; natural logs; p any distribution (zeros allowed).",
    domain=domain,
    prepare=exact_distribution,
    canonical=lambda x: {**x, "p": normalise_exact(x["p"])},
    lhs_float=lambda x: entropy_gap(x["p"]),
    rhs_float=lambda x: __import__("math").log1p(x["p"].size * _tv(x)),
    lhs_exact=lambda x, B: entropy_gap_mp(x["p"], backend=B),
    rhs_exact=lambda x, B: B.log(1 + len(x["p"]) * _tv_exact(x, B)),
    size=lambda x: x["p"].size,
    extra_mutants=_drop_n,
    proof="KL(p‖u) = Σ p log(np) ≤ log Σ p·np = log(n Σp²) (Jensen), and n Σp² ≤ 1 + n·TV... "
    "(the chi-square bound); checked numerically here.",
)

pinsker = Inequality(
    id="lemma-3.6/pinsker",
    # TV(p, u) of near-uniform p is computed by cancellation: its float error is absolute (≤ eps/2 from
    # rounding 1/n, times n ≤ 200 inside log(1 + n·TV)), not relative; 1e-13 is 4x that bound
    side_atol=1e-13,
    expected="holds",
    domain_check=D.distribution("p", 1),
    title="Pinsker: 2·TV(p,u)² ≤ entropy gap",
    claim="The matching lower bound of Lemma 3.6: 2·TV(p, u)² ≤ KL(p‖u).",
    reading="Pinsker's inequality with natural logs, specialised to q = u.",
    domain=domain,
    prepare=exact_distribution,
    canonical=lambda x: {**x, "p": normalise_exact(x["p"])},
    lhs_float=lambda x: 2 * _tv(x) ** 2,
    rhs_float=lambda x: entropy_gap(x["p"]),
    lhs_exact=lambda x, B: 2 * _square(_tv_exact(x, B)),
    rhs_exact=lambda x, B: entropy_gap_mp(x["p"], backend=B),
    size=lambda x: x["p"].size,
    proof="Pinsker's inequality (Cover & Thomas, Lemma 11.6.1); the constant 2 is sharp as TV → 0.",
    extra_mutants=lambda s: [s.mutant(
        "factor 2 -> 4", lhs_float=lambda x: 4 * _tv(x) ** 2, lhs_exact=lambda x, B: 4 * _square(_tv_exact(x, B)),
    )],
)

STATEMENTS = [upper, pinsker]
