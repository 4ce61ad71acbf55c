"""Paired comparisons over seeds: exact sign-flip permutation test, effect size, confidence interval.

For n paired differences ``d_i = a_i − b_i`` (one per seed, the two arms sharing the seed's data and
initialisation), the null hypothesis "the arms are exchangeable within a pair" makes every sign pattern
of the d_i equally likely. The one-sided p-value of the mean difference is the fraction of the 2ⁿ sign
patterns whose mean is ≥ the observed one -- exact for n ≤ 20 (enumerated), Monte Carlo with a seeded
generator above (the +1 estimator of Davison & Hinkley 1997, so p is never 0). Effect size: Cohen's
d_z = mean(d)/sd(d) and the median ratio a/b; the interval is the Student-t interval of the mean
difference.

Reference: E. J. G. Pitman, "Significance tests which may be applied to samples from any populations",
JRSS Suppl. 4 (1937); Good, *Permutation, Parametric and Bootstrap Tests of Hypotheses* (2005), §3.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

EXACT_MAX_N = 20


@dataclass
class PairedComparison:
    n: int
    mean_difference: float  # mean of a − b
    ci95: tuple[float, float]
    cohen_dz: float
    median_ratio: float  # median of a/b (NaN when some b ≤ 0)
    p_less: float  # one-sided p for "a < b" (mean difference < 0)
    p_greater: float  # one-sided p for "a > b"
    method: str
    wins: int  # pairs with a < b

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}

    def line(self, a: str = "a", b: str = "b") -> str:
        return (f"{a} < {b} in {self.wins}/{self.n} seeds, mean({a}−{b}) = {self.mean_difference:.3g} "
                f"[{self.ci95[0]:.3g}, {self.ci95[1]:.3g}], d_z = {self.cohen_dz:.2f}, median {a}/{b} = "
                f"{self.median_ratio:.3g}, p({a}<{b}) = {self.p_less:.2g} ({self.method})")


def _sign_flip_p(d: np.ndarray, seed: int) -> tuple[float, float, str]:
    n = d.size
    obs = float(d.mean())
    tol = 1e-12 * max(1.0, float(np.max(np.abs(d))))  # ties of the mean up to rounding count as ≥
    if n <= EXACT_MAX_N:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        means = signs @ d / n
        return (float(np.mean(means <= obs + tol)), float(np.mean(means >= obs - tol)),
                f"exact sign-flip permutation, 2^{n} patterns")
    rng = np.random.default_rng(seed)
    k = 100_000
    means = (rng.choice((1.0, -1.0), size=(k, n)) * d).mean(axis=1)
    return ((1 + int(np.sum(means <= obs + tol))) / (k + 1), (1 + int(np.sum(means >= obs - tol))) / (k + 1),
            f"Monte Carlo sign-flip permutation, {k} patterns")


def paired_comparison(a, b, seed: int = 0) -> PairedComparison:
    """Compare arm ``a`` with arm ``b`` over paired seeds (finite values, n ≥ 2)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of one length, got {a.shape} and {b.shape}")
    if a.size < 2:
        raise ValueError(f"need at least 2 pairs, got {a.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must be finite (a diverged run is a finding: report it, do not test it)")
    d = a - b
    n = d.size
    sd = float(d.std(ddof=1))
    mean = float(d.mean())
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    p_less, p_greater, method = _sign_flip_p(d, seed)
    ratio = float(np.median(a / b)) if np.all(b > 0) else math.nan
    return PairedComparison(n=n, mean_difference=mean, ci95=(mean - half, mean + half),
                            cohen_dz=mean / sd if sd > 0 else math.copysign(math.inf, mean) if mean else 0.0,
                            median_ratio=ratio, p_less=p_less, p_greater=p_greater, method=method,
                            wins=int(np.sum(d < 0)))


def kendall_tau(x, y) -> tuple[float, float]:
    """Kendall's τ_b and its one-sided p-value for τ > 0 (scipy: exact for small n without ties)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ValueError(f"x and y must be 1-D of one length ≥ 3, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    res = stats.kendalltau(x, y, alternative="greater")
    return float(res.statistic), float(res.pvalue)
