"""Near-miss mutants written as a new user would: the public ``Inequality`` API on generic domains.

Every statement below is FALSE, but only in a thin region of its domain: it is a true
inequality (Lemma 3.5/3.6, Rényi/Shannon orderings, Pinsker, the Thm 3.2 supremum,
Kantorovich, Jensen's χ² bound) with a constant tightened by 0.1–1 % or a slack
dropped. The domains are the generic :func:`numerics.strategies.distributions` and
:func:`numerics.strategies.spectra` strategies (no hand-picked two-valued draws), no
``canonical=``, no ``sized_domain=``: what someone writing their first statement does.

    python -m theorems fuzz --statement benchmarks/campaign_mutants.py:mutants --budget 60s

The thin region of each mutant is named in its ``reading`` (where the true bound is tight).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from numerics.divergence import kl_divergence, kl_divergence_mp, total_variation, total_variation_mp
from numerics.entropy import (
    entropy_gap,
    entropy_gap_mp,
    renyi_entropy,
    renyi_entropy_mp,
    shannon_entropy,
    shannon_entropy_mp,
)
from numerics.strategies import distributions, spectra
from theorems import Inequality, exactify, normalise_exact
from theorems.thm_3_2 import dimension_free_bound, dimension_free_bound_exact


def as_distribution(raw):
    """Exact input: the drawn floats as rationals, normalised exactly."""
    x = exactify(raw)
    x["p"] = normalise_exact(x["p"])
    return x


def as_pair(raw):
    x = exactify(raw)
    x["p"], x["q"] = normalise_exact(x["p"]), normalise_exact(x["q"])
    return x


def dist(min_n=2, max_n=40, positive=False):
    return distributions(min_n, max_n, positive=positive).map(lambda p: {"p": p})


def pairs(max_n=20):
    return st.integers(2, max_n).flatmap(
        lambda n: st.tuples(distributions(n, n), distributions(n, n, positive=True))
    ).map(lambda pq: {"p": pq[0], "q": pq[1]})


def spec(max_n=40):
    return spectra(2, max_n).map(lambda lam: {"lam": lam})


def _u(p):
    return [Fraction(1, len(p))] * len(p)


def tv_u(x):
    return total_variation(x["p"], np.full(x["p"].size, 1.0 / x["p"].size))


def tv_u_exact(x, B):
    return total_variation_mp(x["p"], _u(x["p"]), backend=B)


def sum_sq(x):
    return float(np.sum(x["p"] ** 2))


def sum_sq_exact(x, B):
    return B.num(sum((e * e for e in x["p"]), Fraction(0)))


def spectral_p(x):
    lam = x["lam"]
    return lam / lam.sum()


def spectral_p_exact(x):
    return normalise_exact(list(x["lam"]))


def kappa(x):
    return float(x["lam"].max() / x["lam"].min())


def kappa_exact(x):
    return max(x["lam"]) / min(x["lam"])


def _c(f):
    return Fraction(f).limit_denominator(10**6)


def ineq(id, title, reading, domain, lhs, rhs, lhs_exact, rhs_exact, prepare=as_distribution):
    return Inequality(id=id, title=title, claim=title, reading=reading, domain=domain, prepare=prepare,
                      lhs_float=lhs, rhs_float=rhs, lhs_exact=lhs_exact, rhs_exact=rhs_exact)


mutants = [
    # Lemma 3.6: KL(p‖u) ≤ log(1 + n TV); tight at point masses
    ineq("lemma-3.6 x0.99", "KL(p‖u) ≤ 0.99·log(1 + n·TV(p,u))", "tight near point masses",
         dist(), lambda x: entropy_gap(x["p"]), lambda x: 0.99 * math.log1p(x["p"].size * tv_u(x)),
         lambda x, B: entropy_gap_mp(x["p"], backend=B),
         lambda x, B: B.num(_c(0.99)) * B.log(1 + len(x["p"]) * tv_u_exact(x, B))),
    ineq("lemma-3.6 x0.999", "KL(p‖u) ≤ 0.999·log(1 + n·TV(p,u))", "tight near point masses",
         dist(), lambda x: entropy_gap(x["p"]), lambda x: 0.999 * math.log1p(x["p"].size * tv_u(x)),
         lambda x, B: entropy_gap_mp(x["p"], backend=B),
         lambda x, B: B.num(_c(0.999)) * B.log(1 + len(x["p"]) * tv_u_exact(x, B))),
    # Pinsker (q = u): 2 TV² ≤ KL(p‖u); tight as p → u along balanced two-valued directions
    ineq("pinsker x1.01", "2.02·TV(p,u)² ≤ KL(p‖u)", "tight near uniform, balanced two-valued",
         dist(), lambda x: 2.02 * tv_u(x) ** 2, lambda x: entropy_gap(x["p"]),
         lambda x, B: B.num(_c(2.02)) * tv_u_exact(x, B) ** 2, lambda x, B: entropy_gap_mp(x["p"], backend=B)),
    ineq("pinsker x1.001", "2.002·TV(p,u)² ≤ KL(p‖u)", "tight near uniform, balanced two-valued",
         dist(), lambda x: 2.002 * tv_u(x) ** 2, lambda x: entropy_gap(x["p"]),
         lambda x, B: B.num(_c(2.002)) * tv_u_exact(x, B) ** 2, lambda x, B: entropy_gap_mp(x["p"], backend=B)),
    # general Pinsker on pairs: 2 TV(p,q)² ≤ KL(p‖q)
    ineq("pinsker-pairs x1.01", "2.02·TV(p,q)² ≤ KL(p‖q)", "tight for q near p",
         pairs(), lambda x: 2.02 * total_variation(x["p"], x["q"]) ** 2, lambda x: kl_divergence(x["p"], x["q"]),
         lambda x, B: B.num(_c(2.02)) * total_variation_mp(x["p"], x["q"], backend=B) ** 2,
         lambda x, B: kl_divergence_mp(x["p"], x["q"], backend=B), prepare=as_pair),
    # Rényi ordering H_2 ≤ H: tight at uniform (on its support)
    ineq("renyi2<=shannon x0.999", "H_2(p) ≤ 0.999·H(p)", "tight at uniform on a support",
         dist(), lambda x: renyi_entropy(x["p"], 2.0), lambda x: 0.999 * shannon_entropy(x["p"]),
         lambda x, B: renyi_entropy_mp(x["p"], Fraction(2), backend=B),
         lambda x, B: B.num(_c(0.999)) * shannon_entropy_mp(x["p"], backend=B)),
    ineq("renyi3<=renyi2 x0.999", "H_3(p) ≤ 0.999·H_2(p)", "tight at uniform on a support",
         dist(), lambda x: renyi_entropy(x["p"], 3.0), lambda x: 0.999 * renyi_entropy(x["p"], 2.0),
         lambda x, B: renyi_entropy_mp(x["p"], Fraction(3), backend=B),
         lambda x, B: B.num(_c(0.999)) * renyi_entropy_mp(x["p"], Fraction(2), backend=B)),
    # min-entropy: H_∞ ≤ H_2, tight at uniform on a support
    ineq("minent<=renyi2 x0.995", "−log max p ≤ 0.995·H_2(p)", "tight at uniform on a support",
         dist(), lambda x: -math.log(float(x["p"].max())), lambda x: 0.995 * renyi_entropy(x["p"], 2.0),
         lambda x, B: -B.log(B.num(max(x["p"]))),
         lambda x, B: B.num(_c(0.995)) * renyi_entropy_mp(x["p"], Fraction(2), backend=B)),
    # H_2 ≤ 2 H_∞: tight for one dominant entry and many tiny ones (extreme ratio)
    ineq("renyi2<=2minent x0.99", "H_2(p) ≤ 1.98·(−log max p)", "tight for a dominant entry, many tiny ones",
         dist(), lambda x: renyi_entropy(x["p"], 2.0), lambda x: -1.98 * math.log(float(x["p"].max())),
         lambda x, B: renyi_entropy_mp(x["p"], Fraction(2), backend=B),
         lambda x, B: -B.num(_c(1.98)) * B.log(B.num(max(x["p"])))),
    # H ≤ log n: tight at uniform
    ineq("shannon<=logn x0.999", "H(p) ≤ 0.999·log n", "tight at uniform",
         dist(), lambda x: shannon_entropy(x["p"]), lambda x: 0.999 * math.log(x["p"].size),
         lambda x, B: shannon_entropy_mp(x["p"], backend=B),
         lambda x, B: B.num(_c(0.999)) * B.log(B.num(len(x["p"])))),
    # Jensen: KL(p‖u) ≤ log(n Σp²), tight at uniform on a support (zeros + equal entries)
    ineq("jensen-chi2 x0.99", "KL(p‖u) ≤ 0.99·log(n·Σp²)", "tight at uniform on a support",
         dist(), lambda x: entropy_gap(x["p"]), lambda x: 0.99 * math.log(x["p"].size * sum_sq(x)),
         lambda x, B: entropy_gap_mp(x["p"], backend=B),
         lambda x, B: B.num(_c(0.99)) * B.log(len(x["p"]) * sum_sq_exact(x, B))),
    # KL ≤ χ² = nΣp² − 1: KL/χ² → 1 only for uniform on n−1 of n points, n large
    ineq("kl<=chi2 x0.99", "KL(p‖u) ≤ 0.99·(n·Σp² − 1)", "uniform on n−1 of n points, n ≥ 60",
         dist(2, 100), lambda x: entropy_gap(x["p"]), lambda x: 0.99 * (x["p"].size * sum_sq(x) - 1),
         lambda x, B: entropy_gap_mp(x["p"], backend=B),
         lambda x, B: B.num(_c(0.99)) * (len(x["p"]) * sum_sq_exact(x, B) - 1)),
    # Lemma 3.5 (positive p): KL(p‖u)+KL(u‖p) ≤ TV·log(p_max/p_min); tight at balanced two-valued
    ineq("lemma-3.5 x0.99", "Σ(p_i − 1/n)log(n p_i) ≤ 0.99·TV·log(p_max/p_min)", "balanced two-valued",
         dist(2, 40, positive=True),
         lambda x: float(np.sum((x["p"] - 1 / x["p"].size) * np.log(x["p"].size * x["p"]))),
         lambda x: 0.99 * tv_u(x) * math.log(float(x["p"].max() / x["p"].min())),
         lambda x, B: B.sum([(B.num(e) - B.num(Fraction(1, len(x["p"])))) * B.log(len(x["p"]) * B.num(e))
                             for e in x["p"]]),
         lambda x, B: B.num(_c(0.99)) * tv_u_exact(x, B) * B.log(B.num(max(x["p"]) / min(x["p"])))),
    ineq("lemma-3.5 x0.999", "Σ(p_i − 1/n)log(n p_i) ≤ 0.999·TV·log(p_max/p_min)", "balanced two-valued",
         dist(2, 40, positive=True),
         lambda x: float(np.sum((x["p"] - 1 / x["p"].size) * np.log(x["p"].size * x["p"]))),
         lambda x: 0.999 * tv_u(x) * math.log(float(x["p"].max() / x["p"].min())),
         lambda x, B: B.sum([(B.num(e) - B.num(Fraction(1, len(x["p"])))) * B.log(len(x["p"]) * B.num(e))
                             for e in x["p"]]),
         lambda x, B: B.num(_c(0.999)) * tv_u_exact(x, B) * B.log(B.num(max(x["p"]) / min(x["p"])))),
    # Thm 3.2 supremum, dimension-free: gap(λ/Σλ) ≤ c − 1 − log c; tight at two-valued spectra,
    # a fraction ≈ (c−1)/(κ−1) at κ
    ineq("thm-3.2 sup x0.99", "gap(λ/Σλ) ≤ 0.99·(c − 1 − log c), c = κlogκ/(κ−1)", "two-valued spectra, best split",
         spec(), lambda x: entropy_gap(spectral_p(x)), lambda x: 0.99 * float(dimension_free_bound(kappa(x))),
         lambda x, B: entropy_gap_mp(spectral_p_exact(x), backend=B),
         lambda x, B: B.num(_c(0.99)) * dimension_free_bound_exact(kappa_exact(x), B), prepare=exactify),
    ineq("thm-3.2 sup x0.995", "gap(λ/Σλ) ≤ 0.995·(c − 1 − log c)", "two-valued spectra, best split, n large",
         spec(), lambda x: entropy_gap(spectral_p(x)), lambda x: 0.995 * float(dimension_free_bound(kappa(x))),
         lambda x, B: entropy_gap_mp(spectral_p_exact(x), backend=B),
         lambda x, B: B.num(_c(0.995)) * dimension_free_bound_exact(kappa_exact(x), B), prepare=exactify),
    # Kantorovich: mean(λ)·mean(1/λ) ≤ (1+κ)²/(4κ); tight at balanced two-valued spectra (n even)
    ineq("kantorovich x0.999", "mean(λ)·mean(1/λ) ≤ 0.999·(1+κ)²/(4κ)", "balanced two-valued spectra",
         spec(), lambda x: float(np.mean(x["lam"]) * np.mean(1 / x["lam"])),
         lambda x: 0.999 * (1 + kappa(x)) ** 2 / (4 * kappa(x)),
         lambda x, B: B.num(sum(x["lam"], Fraction(0)) * sum((1 / e for e in x["lam"]), Fraction(0))
                            / len(x["lam"]) ** 2),
         lambda x, B: B.num(_c(0.999) * (1 + kappa_exact(x)) ** 2 / (4 * kappa_exact(x))), prepare=exactify),
    # slack dropped: log(1 + n TV) → log(1 + (n − 1)·TV) (false near point masses, n small)
    ineq("lemma-3.6 n->n-1", "KL(p‖u) ≤ log(1 + (n − 1)·TV(p,u))", "point masses",
         dist(), lambda x: entropy_gap(x["p"]), lambda x: math.log1p((x["p"].size - 1) * tv_u(x)),
         lambda x, B: entropy_gap_mp(x["p"], backend=B),
         lambda x, B: B.log(1 + (len(x["p"]) - 1) * tv_u_exact(x, B))),
]
