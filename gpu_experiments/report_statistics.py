"""Tests behind the report's claims: exact permutation p-values, Holm's correction, signed rank correlations.

Grid runs of the same seed share the initialisation and the data order
(:mod:`gpu_experiments.training`), so two optimizers are compared **paired by
seed**: the differences ``d_s = a_s − b_s`` are tested with the exact sign-flip
permutation test (all ``2^k`` sign patterns; Fisher 1935, Pitman 1937), whose
two-sided p-value is exact for any ``k`` but can never be below ``2 / 2^k``
(0.25 for 3 seeds, 0.0625 for 5).  Without common seeds the exact two-sample
permutation test over all splits is used.  The paired t-test's p is shown beside
it for reference (it assumes normal differences, which 3-5 seeds cannot check).
Effect sizes: the mean difference with the SD of the differences, and
``d_z = mean(d) / SD(d)``.

Rank agreement between a measure and the accuracy: Kendall's τ-b (the paper's
choice) and Spearman's ρ, both **signed** (τ < 0: smaller values go with higher
accuracy), with exact permutation p-values over all ``k!`` orderings for up to
8 points (scipy's asymptotic values are meaningless at k = 4: they give p = 0 at
ρ = ±1, where the exact value is 2/4! = 0.083).

Multiple testing: Holm's step-down adjustment (Holm 1979) over the family of
tests in one report section.  A claim is decided only when its adjusted p is
below α; otherwise it is *inconclusive* -- which includes every tie (p = 1).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

ALPHA = 0.05
MAX_EXACT_PAIRS = 16  # 2^16 sign patterns
MAX_EXACT_RANKS = 8  # 8! orderings
MAX_EXACT_SPLITS = 200_000


# ----------------------------------------------------------------------------
# two groups
# ----------------------------------------------------------------------------


def sign_flip_p(d) -> float:
    """Two-sided exact p of ``mean(d) = 0`` by all ``2^k`` sign flips; 1 for all-zero differences.

    Raises:
        ValueError: more than :data:`MAX_EXACT_PAIRS` differences, or none.
    """
    d = np.asarray(d, dtype=np.float64)
    k = d.size
    if k == 0:
        raise ValueError("no differences to test")
    if k > MAX_EXACT_PAIRS:
        raise ValueError(f"exact sign-flip test enumerates 2^k patterns; k = {k} is too many")
    observed = abs(d.sum())
    if observed == 0:
        return 1.0
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=k)))
    sums = np.abs(signs @ d)
    return float(np.mean(sums >= observed * (1 - 1e-12)))


def two_sample_permutation_p(a, b) -> float:
    """Two-sided exact p of ``mean(a) = mean(b)`` over all splits of the pooled values."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    pooled = np.concatenate([a, b])
    n, k = pooled.size, a.size
    if math.comb(n, k) > MAX_EXACT_SPLITS:
        raise ValueError(f"exact two-sample test enumerates C({n}, {k}) splits: too many")
    observed = abs(a.mean() - b.mean())
    if observed == 0:
        return 1.0
    total = pooled.sum()
    hits = count = 0
    for idx in itertools.combinations(range(n), k):
        s = pooled[list(idx)].sum()
        diff = abs(s / k - (total - s) / (n - k))
        hits += diff >= observed * (1 - 1e-12)
        count += 1
    return hits / count


def compare_groups(a: dict, b: dict) -> dict:
    """Compare a metric of two optimizers given as ``{seed: value}``.

    Returns:
        ``test`` (name), ``k`` (pairs or sizes), ``diff`` (mean of a − mean of b),
        ``sd`` (SD of the paired differences, or pooled SD), ``effect`` (standardised:
        ``d_z`` paired, Cohen's d unpaired), ``p`` (exact), ``p_min`` (smallest
        attainable exact p), ``p_t`` (t-test, reference).
    """
    from scipy import stats

    common = sorted(set(a) & set(b))
    if common and len(common) == len(a) == len(b):
        d = np.array([a[s] - b[s] for s in common], dtype=np.float64)
        k = d.size
        sd = float(d.std(ddof=1)) if k > 1 else math.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            p_t = float(stats.ttest_1samp(d, 0.0).pvalue) if k > 1 and sd > 0 else math.nan
        return {"test": f"paired sign-flip permutation test over {k} seeds (exact)", "k": k,
                "diff": float(d.mean()), "sd": sd,
                "effect": float(d.mean() / sd) if sd and sd > 0 else math.nan, "effect_name": "d_z",
                "p": sign_flip_p(d), "p_min": 2.0 / 2**k if k else math.nan, "p_t": p_t, "t_name": "paired t"}
    x = np.array(list(a.values()), dtype=np.float64)
    y = np.array(list(b.values()), dtype=np.float64)
    pooled = math.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2)) \
        if x.size > 1 and y.size > 1 else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        p_t = float(stats.ttest_ind(x, y, equal_var=False).pvalue) if x.size > 1 and y.size > 1 else math.nan
    return {"test": f"two-sample permutation test, {x.size} vs {y.size} runs (exact)", "k": min(x.size, y.size),
            "diff": float(x.mean() - y.mean()), "sd": pooled,
            "effect": float((x.mean() - y.mean()) / pooled) if pooled and pooled > 0 else math.nan,
            "effect_name": "Cohen's d", "p": two_sample_permutation_p(x, y),
            "p_min": 1.0 / math.comb(x.size + y.size, x.size), "p_t": p_t, "t_name": "Welch t"}


# ----------------------------------------------------------------------------
# multiple testing
# ----------------------------------------------------------------------------


def holm(pvalues) -> list[float]:
    """Holm-adjusted p-values, same order; NaN entries stay NaN and do not count in the family."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.size, math.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


# ----------------------------------------------------------------------------
# rank correlation
# ----------------------------------------------------------------------------


def _constant(v) -> bool:
    v = np.asarray(v, dtype=np.float64)
    return bool(np.all(v == v[0]))


def spearman(x, y) -> float:
    """Spearman's ρ (NaN for fewer than 3 points or a constant input)."""
    from scipy.stats import spearmanr

    if len(x) < 3 or _constant(x) or _constant(y):
        return math.nan
    return float(spearmanr(x, y).statistic)


def kendall(x, y) -> float:
    """Kendall's τ-b (NaN for fewer than 3 points or a constant input)."""
    from scipy.stats import kendalltau

    if len(x) < 3 or _constant(x) or _constant(y):
        return math.nan
    return float(kendalltau(x, y).statistic)


_PERMUTATIONS: dict = {}


def _permutations(k: int) -> np.ndarray:
    """All ``k!`` orderings of ``range(k)`` as a ``(k!, k)`` array (cached)."""
    if k not in _PERMUTATIONS:
        _PERMUTATIONS[k] = np.array(list(itertools.permutations(range(k))), dtype=np.intp)
    return _PERMUTATIONS[k]


def _all_orderings(x, y, statistic) -> tuple[float, np.ndarray]:
    """``statistic(x, y)`` and its value for every reordering of ``y`` (vectorised for τ-b and ρ)."""
    from scipy.stats import rankdata

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    P = _permutations(x.size)
    if statistic is spearman:  # Pearson correlation of the (average) ranks; ties keep their ranks
        rx, ry = rankdata(x), rankdata(y)
        rx, ry = rx - rx.mean(), ry - ry.mean()
        scale = math.sqrt(float(rx @ rx) * float(ry @ ry))
        return float(rx @ ry) / scale, (ry[P] @ rx) / scale
    if statistic is kendall:  # τ-b = (C − D) / sqrt((n0 − n1)(n0 − n2)); reordering y keeps n1 and n2
        i, j = np.triu_indices(x.size, 1)
        sx = np.sign(x[i] - x[j])
        sy = np.sign(y[i] - y[j])
        scale = math.sqrt(float(np.abs(sx).sum()) * float(np.abs(sy).sum()))
        yp = y[P]
        return float(sx @ sy) / scale, (np.sign(yp[:, i] - yp[:, j]) @ sx) / scale
    observed = statistic(x, y)
    return observed, np.array([statistic(x, y[list(p)]) for p in P])


def exact_rank_p(x, y, statistic) -> float:
    """Two-sided exact permutation p of a rank statistic (``spearman`` or ``kendall``), all ``k!`` orderings."""
    k = len(x)
    if k > MAX_EXACT_RANKS:
        raise ValueError(f"exact rank p-value enumerates k! orderings; k = {k} is too many")
    if statistic(x, y) != statistic(x, y):
        return math.nan  # a constant input has no correlation
    observed, values = _all_orderings(x, y, statistic)
    return float(np.mean(np.abs(values) >= abs(observed) - 1e-12))


def rank_agreement(x, y) -> dict:
    """Signed Kendall τ and Spearman ρ of ``(x, y)`` with p-values (exact up to 8 points, else scipy's)."""
    from scipy.stats import kendalltau, spearmanr

    k = len(x)
    tau, rho = kendall(x, y), spearman(x, y)
    if k <= MAX_EXACT_RANKS:
        p_tau, p_rho, how = exact_rank_p(x, y, kendall), exact_rank_p(x, y, spearman), "exact"
    else:
        p_tau = float(kendalltau(x, y).pvalue) if tau == tau else math.nan
        p_rho = float(spearmanr(x, y).pvalue) if rho == rho else math.nan
        how = "asymptotic"
    return {"k": k, "tau": tau, "p_tau": p_tau, "rho": rho, "p_rho": p_rho, "p_method": how}


def spearman_exact_p(x, y) -> float:
    """Two-sided exact permutation p of Spearman's ρ (``k ≤ 8``)."""
    return exact_rank_p(x, y, spearman)


def decide(p_adjusted: float, alpha: float = ALPHA) -> bool:
    """A test decides when its (adjusted) p is below α; NaN never decides."""
    return bool(p_adjusted == p_adjusted and p_adjusted < alpha)
