"""Theorem 4.2: the Bayes (MAP) classifier of the Gaussian binary channel is ``sign(μx)``.

Channel (Definition 4.1): ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``.

What this module computes, every run:

* ``thm-4.2``: for every ``(μ, σ, x)`` the label ``ŷ = sign(μx)`` (ties μx = 0 broken
  to +1; both labels are MAP there) has posterior at least that of the other label,
  ``P(Y = −ŷ | x) ≤ P(Y = ŷ | x)``. The posterior is Bayes' theorem on the Gaussian
  densities, ``P(y | x) = φ((x−yμ)/σ) / (φ((x−μ)/σ) + φ((x+μ)/σ))``. The exact sides
  evaluate exactly that (the squares ``(x ∓ μ)²`` from the rational inputs, in Arb or
  mpmath); the float sides use the algebraically equal ``expit(2yμx/σ²)``
  (difference of squares), because ``(x−μ)² − (x+μ)²`` cancels catastrophically in
  float when |x| ≫ |μ|. Domain: plain, extreme magnitudes, x = 0, x near 0, between
  the class means and near ±μ, μ = 0.

That the MAP rule minimises the error probability, and that its error is
``Φ(−|μ|/σ)``, is Thm 4.3 (``thm-4.3``), checked against arbitrary classifiers.

Reference: Tan & Huang (2025), Section 4, Thm 4.2 (statement ``thm-4.2`` in docs/statements.md);
Cover & Thomas (2006) §2 (Bayes rule).
"""

from __future__ import annotations

from fractions import Fraction

from scipy import special

from theorems import domain_checks as D
from theorems.channel_rules import QUICK_EXAMPLES, canonical_channel, check_channel
from theorems.inequality import Inequality
from theorems.strategies import channel_observations


def _sign(v) -> int:
    return 1 if v >= 0 else -1


def bayes_label(x: dict) -> int:
    """``ŷ = sign(μx)``, +1 at a tie."""
    return _sign(Fraction(x["mu"]) * Fraction(x["x"]))


def posterior_float(x: dict, y: int) -> float:
    """``P(Y = y | x) = 1/(1 + e^{−2yμx/σ²})`` (the Gaussian density ratio, difference of squares)."""
    mu, sigma, obs = float(x["mu"]), float(x["sigma"]), float(x["x"])
    return float(special.expit(2.0 * y * (mu / sigma) * (obs / sigma)))


def posterior_exact(x: dict, y: int, B):
    """``φ((x−yμ)/σ) / (φ((x−μ)/σ) + φ((x+μ)/σ))`` from the exact inputs (no simplification)."""
    check_channel(x)
    mu, sigma, obs = Fraction(x["mu"]), Fraction(x["sigma"]), Fraction(x["x"])

    def log_density(label):  # up to the common factor 1/(σ√(2π))
        return -B.num(((obs - label * mu) / sigma) ** 2) / 2

    num = B.exp(log_density(y))
    return num / (B.exp(log_density(1)) + B.exp(log_density(-1)))


def _rule_mutant(s, name, label_fn):
    """Claim: the MAP label is ``label_fn(x)`` instead of sign(μx)."""
    return s.mutant(
        name,
        lhs_float=lambda x: posterior_float(x, -label_fn(x)),
        rhs_float=lambda x: posterior_float(x, label_fn(x)),
        lhs_exact=lambda x, B: posterior_exact(x, -label_fn(x), B),
        rhs_exact=lambda x, B: posterior_exact(x, label_fn(x), B),
    )


def _mutants(s):
    return [
        _rule_mutant(s, "sign(x) (μ's sign ignored)", lambda x: _sign(Fraction(x["x"]))),
        _rule_mutant(s, "threshold at the class mean: sign(μ(x − μ))",
                     lambda x: _sign(Fraction(x["mu"]) * (Fraction(x["x"]) - Fraction(x["mu"])))),
        _rule_mutant(s, "sign(μx − σ²) (threshold shifted by σ²/μ)",
                     lambda x: _sign(Fraction(x["mu"]) * Fraction(x["x"]) - Fraction(x["sigma"]) ** 2)),
    ]


map_rule = Inequality(
    id="thm-4.2",
    expected="holds",
    domain_check=D.all_of(D.gaussian_channel, D.interval("x")),
    title="Thm 4.2: the Bayes classifier is sign(μx)",
    claim="For Y uniform on {±1} and X|Y ~ N(Yμ, σ²), the label sign(μx) maximises the posterior "
    "P(Y = y | X = x) for every x (so sign(μX) is the Bayes classifier).",
    reading="Pointwise MAP: P(Y = −ŷ | x) ≤ P(Y = ŷ | x) with ŷ = sign(μx), ties (μx = 0) broken to +1 "
    "(both labels then have posterior ½); posterior by Bayes' theorem on the Gaussian densities.",
    quick_examples=QUICK_EXAMPLES,
    domain=channel_observations(),
    canonical=canonical_channel,
    lhs_float=lambda x: posterior_float(x, -bayes_label(x)),
    rhs_float=lambda x: posterior_float(x, bayes_label(x)),
    lhs_exact=lambda x, B: posterior_exact(x, -bayes_label(x), B),
    rhs_exact=lambda x, B: posterior_exact(x, bayes_label(x), B),
    scale_floor=1e-300,
    extra_mutants=_mutants,
    proof="P(+1|x)/P(−1|x) = φ((x−μ)/σ)/φ((x+μ)/σ) = exp(((x+μ)² − (x−μ)²)/(2σ²)) = exp(2μx/σ²), "
    "≥ 1 iff μx ≥ 0.",
)

STATEMENTS = [map_rule]
