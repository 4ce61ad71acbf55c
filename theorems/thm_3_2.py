"""Theorem 3.2: the entropy gap of a PD spectrum versus its condition number.

Paper's claim: for H ≻ 0 with condition number κ and p = λ/Σλ,

    log n − H(p) ≤ B(n, κ) = κ log κ / (n − 1 + κ) − log((n − 1 + κ)/n),

the gap of the "extreme" spectrum (one eigenvalue at λ_max, n − 1 at λ_min).

What this module computes, every run:

* ``thm-3.2``: the paper's bound, searched over spectra (plain, clustered and
  two-valued with any split m); a violation is shrunk and certified in Arb.
* ``thm-3.2/supremum``: the exact supremum ``G*(n, κ) = max_m G(n, m, κ)``, the
  gap of the two-valued spectrum with m eigenvalues at κ and n − m at 1.
  Proof that it is the supremum: ``λ ↦ S·gap(λ/S) = Σ λ_i log(n λ_i / S)``
  (S = Σλ) is a relative entropy against the linear map ``λ ↦ (S/n)·1``,
  hence convex; so ``gap = (S·gap)/S`` has convex sublevel sets
  (quasi-convex), and its maximum over the box ``[1, κ]^n`` sits at a vertex,
  i.e. a two-valued spectrum. The checker also confirms numerically that no
  searched spectrum exceeds G*.
* ``thm-3.2/dimension-free``: ``gap ≤ c − 1 − log c`` with
  ``c = κ log κ / (κ − 1)``; writing m = f n, G depends on f only through
  ``s = 1 + f(κ − 1)`` as ``c(1 − 1/s) − log s``, maximal at s = c.
* ``thm-3.2/simple``: ``c − 1 − log c ≤ min((log κ)²/8, log κ)``.
* the thresholds κ_n above which the paper's bound is right (evidence of
  ``thm-3.2``), for n = 3..1000 with ``effort="full"`` or
  ``python -m theorems.thm_3_2 --table PATH``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from hypothesis import strategies as st

from numerics.entropy import entropy_gap, entropy_gap_mp
from numerics.entropy_gap_bounds import (  # noqa: F401  (re-exported: the closed forms the statements check)
    best_split,
    c_of_kappa,
    dimension_free_bound,
    dimension_free_bound_exact,
    paper_bound,
    supremum_gap,
    supremum_gap_exact,
    threshold_kappa,
    two_valued_gap,
    two_valued_gap_exact,
)
from numerics.strategies import spectra
from theorems import domain_checks as D
from theorems.inequality import Inequality
from theorems.statement import exactify, normalise_exact

# ----------------------------------------------------------------------------
# Statements
# ----------------------------------------------------------------------------

def _derive(x):
    lam = x["eigenvalues"]
    x["p"] = normalise_exact(lam)
    x["kappa"] = max(lam) / min(lam)
    x["n"] = len(lam)
    return x


def _size(xf):
    return xf["eigenvalues"].size


@st.composite
def _optimal_two_valued(draw, max_n=400, min_n=2):
    """Two-valued spectra at the gap-maximising split: where G* and c − 1 − log c are tight."""
    n = draw(st.integers(min_n, max_n))
    kappa = float(np.exp(draw(st.floats(1e-3, 30))))
    m = best_split(n, kappa)
    lam = np.ones(n)
    lam[:m] = kappa
    return lam


domain = st.one_of(
    spectra(2, 60, 1e8),
    spectra(4, 400, 10.0),
    _optimal_two_valued(),
).map(lambda lam: {"eigenvalues": lam})


def _sized_domain(n: int):
    if n < 2:
        return None
    return st.one_of(spectra(n, n, 1e8), spectra(n, n, 10.0), _optimal_two_valued(n, n)).map(
        lambda lam: {"eigenvalues": lam}
    )


def _distance_to_two_valued(xf) -> float:
    """max_i |λ_(i)/λ_min − e_i| / κ against the extremiser e: m* eigenvalues at κ, n − m* at 1 (sorted)."""
    lam = np.sort(np.asarray(xf["eigenvalues"], float) / float(np.min(xf["eigenvalues"])))[::-1]
    kappa = float(lam[0])
    m = best_split(lam.size, kappa)
    ext = np.concatenate([np.full(m, kappa), np.ones(lam.size - m)])
    return float(np.max(np.abs(lam - ext)) / kappa)


def _gap_float(x):
    return entropy_gap(x["p"])


def _gap_exact(x, B):
    return entropy_gap_mp(x["p"], backend=B)


def _thresholds(ns) -> dict[int, float | None]:
    return {int(n): threshold_kappa(int(n)) for n in ns}


def _n3_evidence() -> dict:
    """At n = 3 the only vertices are m = 1, 2; compare them in mpmath down to κ − 1 = 1e-12."""
    import mpmath

    with mpmath.workdps(60):
        diffs = {}
        for e in ("1e-12", "1e-6", "1e-3", "0.1", "1", "10", "1e6"):
            k = 1 + mpmath.mpf(e)
            d = (two_valued_gap_exact(3, 1, k, _MPB) - two_valued_gap_exact(3, 2, k, _MPB))
            diffs[f"kappa=1+{e}"] = mpmath.nstr(d, 5)
        positive = all(mpmath.mpf(v) > 0 for v in diffs.values())
    return {"G(3,1,κ) − G(3,2,κ)": diffs,
            "note": "positive at every κ tried: at n = 3 the paper's bound is the supremum (quasi-convexity)"
            if positive else "NEGATIVE somewhere: the paper's bound also fails at n = 3"}


class _MPBackend:
    num = staticmethod(lambda v: v)
    log = staticmethod(__import__("mpmath").log)


_MPB = _MPBackend()


def _paper_from_the_text(x):
    """Both sides of Thm 3.2 as the paper writes them, in mpmath (no library code):
    log n − H(λ/Σλ) and κ log κ/(n−1+κ) − log((n−1+κ)/n)."""
    import mpmath

    lam = [mpmath.mpf(v.numerator) / v.denominator for v in x["eigenvalues"]]
    n, total = len(lam), mpmath.fsum(lam)
    p = [v / total for v in lam]
    kappa = max(lam) / min(lam)
    gap = mpmath.log(n) + mpmath.fsum(v * mpmath.log(v) for v in p)
    return gap, kappa * mpmath.log(kappa) / (n - 1 + kappa) - mpmath.log((n - 1 + kappa) / n)


class PaperBound(Inequality):
    """The paper's Inequality, plus the κ_n table as evidence."""

    def check(self, effort: str = "quick", examples: int | None = None):
        r = super().check(effort, examples)
        ns = range(3, 1001) if effort == "full" else (3, 4, 5, 10, 30, 100, 300, 1000)
        t = time.perf_counter()
        table = _thresholds(ns)
        r.evidence["threshold_kappa_n"] = {n: (None if k is None else round(k, 6)) for n, k in table.items()}
        r.evidence["threshold_note"] = (
            "κ_n: for κ > κ_n the paper's bound equals the true supremum G*(n,κ); for 1 < κ < κ_n some split "
            "m ≥ 2 has a larger gap, so the bound fails there. None: m = 1 is optimal on the whole grid."
        )
        r.evidence["threshold_seconds"] = round(time.perf_counter() - t, 2)
        r.evidence["n=3"] = _n3_evidence()
        return r


paper = PaperBound(
    id="thm-3.2",
    expected="refuted",
    domain_check=D.positive_vector("eigenvalues", 2),
    title="Thm 3.2: entropy gap ≤ κ log κ/(n−1+κ) − log((n−1+κ)/n)",
    claim="For H ≻ 0 with condition number κ and p = λ/Σλ: log n − H(p) ≤ κ log κ/(n−1+κ) − log((n−1+κ)/n).",
    reading="p is the normalised spectrum; κ = λ_max/λ_min of the same spectrum; natural logs.",
    domain=domain,
    derive=_derive,
    sized_domain=_sized_domain,
    lhs_float=_gap_float,
    rhs_float=lambda x: float(paper_bound(x["n"], x["kappa"])),
    lhs_exact=_gap_exact,
    rhs_exact=lambda x, B: two_valued_gap_exact(x["n"], 1, x["kappa"], B),
    independent=_paper_from_the_text,
    size=_size,
)

paper.few_mutants_reason = (
    "the paper's bound is itself refuted, so its mutants prove little; the mutation tests that matter are "
    "those of the corrected bounds thm-3.2/supremum and thm-3.2/dimension-free (3 mutants each)"
)

supremum = Inequality(
    id="thm-3.2/supremum",
    expected="holds",
    domain_check=D.positive_vector("eigenvalues", 2),
    title="Thm 3.2 corrected: entropy gap ≤ G*(n,κ) = max_m G(n,m,κ)",
    claim="The exact supremum of the gap over n-spectra with condition number κ is the two-valued gap "
    "max_{m=1..n−1} G(n,m,κ), G = mκ log κ/(mκ+n−m) + log(n/(mκ+n−m)).",
    reading="This suite's correction of Thm 3.2: the exact supremum over n-spectra.",
    domain=domain,
    derive=_derive,
    sized_domain=_sized_domain,
    lhs_float=_gap_float,
    rhs_float=lambda x: supremum_gap(x["n"], x["kappa"]),
    lhs_exact=_gap_exact,
    rhs_exact=lambda x, B: supremum_gap_exact(x["n"], x["kappa"], B),
    extremiser_distance=_distance_to_two_valued,
    size=_size,
    proof="λ ↦ Σλ_i log(nλ_i/S) is convex (relative entropy against a linear map), so the gap is "
    "quasi-convex in λ and attains its maximum over the box [1,κ]^n at a two-valued vertex.",
    extra_mutants=lambda s: [s.mutant(
        "paper's m = 1 only", rhs_float=paper.rhs_float, rhs_exact=paper.rhs_exact,
    )],
)

dimension_free = Inequality(
    id="thm-3.2/dimension-free",
    expected="holds",
    domain_check=D.positive_vector("eigenvalues", 2),
    title="Thm 3.2 corrected: entropy gap ≤ c − 1 − log c, c = κ log κ/(κ−1)",
    claim="For every n: log n − H(p) ≤ c − 1 − log c with c = κ log κ/(κ − 1); sharp as n → ∞.",
    reading="The dimension-free bound implied by the supremum (n → ∞).",
    domain=domain,
    derive=_derive,
    sized_domain=_sized_domain,
    lhs_float=_gap_float,
    rhs_float=lambda x: float(dimension_free_bound(x["kappa"])),
    lhs_exact=_gap_exact,
    rhs_exact=lambda x, B: dimension_free_bound_exact(x["kappa"], B),
    size=_size,
    proof="With f = m/n and s = 1 + f(κ−1), G = c(1 − 1/s) − log s ≤ max_s = c − 1 − log c (at s = c ∈ [1, κ]).",
    extra_mutants=lambda s: [s.mutant(
        "dropped −1", rhs_float=lambda x: float(dimension_free_bound(x["kappa"])) - 1,
        rhs_exact=lambda x, B: dimension_free_bound_exact(x["kappa"], B) - 1,
    )],
)


def _kappa_domain():
    return st.one_of(
        st.floats(-9, 0).map(lambda e: 1.0 + 10.0**e),
        st.floats(1.0, 1e3, exclude_min=True),
        st.floats(0, 700).map(math.exp),
    ).filter(lambda k: k > 1).map(lambda k: {"kappa": k})


def _simple_rhs(x):
    u = math.log(x["kappa"])
    return min(u * u / 8, u)


def _min_ball(a, b):
    """min of two numbers; for Arb balls picked by midpoint (a certified lhs > pick implies lhs > min)."""
    return a if float(a.mid() if hasattr(a, "mid") else a) <= float(b.mid() if hasattr(b, "mid") else b) else b


def _simple_rhs_exact(x, B, denominator=8):
    u = B.log(B.num(x["kappa"]))
    return _min_ball(u * u / denominator, u)


simple = Inequality(
    id="thm-3.2/simple",
    expected="holds",
    domain_check=D.interval("kappa", 1),
    title="c − 1 − log c ≤ min((log κ)²/8, log κ)",
    claim="The dimension-free bound is at most min((log κ)²/8, log κ); the first is sharp as κ → 1.",
    reading="Two simpler closed forms that bound the dimension-free bound.",
    domain=_kappa_domain(),
    prepare=exactify,
    lhs_float=lambda x: float(dimension_free_bound(x["kappa"])),
    rhs_float=_simple_rhs,
    lhs_exact=lambda x, B: dimension_free_bound_exact(x["kappa"], B),
    rhs_exact=_simple_rhs_exact,
    extra_mutants=lambda s: [s.mutant(
        "(log κ)²/8 -> (log κ)²/9",
        rhs_float=lambda x: min(math.log(x["kappa"]) ** 2 / 9, math.log(x["kappa"])),
        rhs_exact=lambda x, B: _simple_rhs_exact(x, B, 9),
    )],
)


STATEMENTS = [paper, supremum, dimension_free, simple]


def write_threshold_table(path: str, ns=range(3, 1001)) -> None:
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["n", "kappa_n", "B(n,kappa_n)", "dimension_free(kappa_n)"])
        for n in ns:
            k = threshold_kappa(n)
            w.writerow([n, "" if k is None else f"{k:.10g}",
                        "" if k is None else f"{float(paper_bound(n, k)):.10g}",
                        "" if k is None else f"{float(dimension_free_bound(k)):.10g}"])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Thm 3.2: the table of thresholds κ_n")
    ap.add_argument("--table", required=True, help="CSV path")
    ap.add_argument("--max-n", type=int, default=1000)
    a = ap.parse_args()
    write_threshold_table(a.table, range(3, a.max_n + 1))
