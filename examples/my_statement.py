"""A user's own statements, fuzzed with `python -m theorems fuzz --statement examples/my_statement.py:claims`.

`renyi2_below_shannon` is true (Rényi entropies decrease in α); `shannon_below_renyi_half_over_2`
is a deliberately false claim, so the campaign shows a certified counterexample.
"""

from fractions import Fraction

from numerics.entropy import renyi_entropy, renyi_entropy_mp, shannon_entropy, shannon_entropy_mp
from numerics.strategies import distributions
from theorems import Inequality, exactify, normalise_exact
from theorems.domain_checks import distribution


def as_distribution(raw):
    """Exact input: the drawn floats as rationals, normalised exactly."""
    x = exactify(raw)
    x["p"] = normalise_exact(x["p"])
    return x


renyi2_below_shannon = Inequality(
    id="my/renyi-2<=shannon",
    title="H_2(p) ≤ H(p)",
    claim="The collision entropy never exceeds the Shannon entropy.",
    reading="natural logs; p any distribution on 1..50 points",
    domain=distributions(1, 50).map(lambda p: {"p": p}),
    prepare=as_distribution,
    domain_check=distribution("p"),  # what verify checks a counterexample against
    lhs_float=lambda x: renyi_entropy(x["p"], 2.0),
    rhs_float=lambda x: shannon_entropy(x["p"]),
    lhs_exact=lambda x, B: renyi_entropy_mp(x["p"], Fraction(2), backend=B),
    rhs_exact=lambda x, B: shannon_entropy_mp(x["p"], backend=B),
)

shannon_below_renyi_half_over_2 = Inequality(
    id="my/shannon<=H_half/2",
    title="H(p) ≤ H_½(p)/2 (false)",
    claim="A false claim, to see a counterexample certified.",
    reading="natural logs",
    domain=distributions(2, 20).map(lambda p: {"p": p}),
    prepare=as_distribution,
    domain_check=distribution("p"),
    lhs_float=lambda x: shannon_entropy(x["p"]),
    rhs_float=lambda x: renyi_entropy(x["p"], 0.5) / 2,
    lhs_exact=lambda x, B: shannon_entropy_mp(x["p"], backend=B),
    rhs_exact=lambda x, B: renyi_entropy_mp(x["p"], Fraction(1, 2), backend=B) / 2,
)

claims = [renyi2_below_shannon, shannon_below_renyi_half_over_2]
