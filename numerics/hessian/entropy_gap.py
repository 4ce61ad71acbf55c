"""Entropy gap by deflated SLQ: budget allocation, and an error budget for the interval.

The estimate (:func:`entropy_gap_estimate`) spends a budget of ``N`` products on a
deflation run and then on ``m`` SLQ probes of depth ``s``.  Default
(``allocation="fixed"``): ``m = max(3, min(6, (N − d) // 60))`` probes of equal depth
(3 × 66 at ``N = 300``; 2 when fewer than 30 products are left).  ``allocation="adaptive"`` runs the three phases below.
Measured on the digits Hessians (``reports/hessian/report.md``, 20-30 seeds), the
adaptive rule chose the fixed split (3 × 66) on outlier-dominated spectra and 4 × 30 on
the bulk-dominated MLP at 300 products (1.36 % vs 1.34 % median error: no gain), and at
60 products it chose depths of 5-13 whose quadrature bias (30 % on the MLP at
initialisation) neither the bracket nor the half-depth change detected -- hence
it is not the default.  Fewer, longer probes did better on the bulk-dominated
spectra (10 seeds, 300 products, ``num_probes=2``: 2 × 100 after the deflation run):
MLP at initialisation 0.79 % vs 1.34 % median error, BN-CNN partially trained 0.34 %
vs 0.33 %, ViT at initialisation 1.52 % vs 1.34 % -- but two probes give no interval
from the probes (one degree of freedom), so the default keeps three.  Phases of the
adaptive rule:

1. **Deflation** -- ``d = round(deflation_fraction · N)`` Lanczos steps; the
   converged Ritz pairs of largest magnitude are taken exactly
   (:func:`~numerics.hessian.krylov.deflation_pairs`).
2. **Pilot** -- two deflated SLQ probes of depth ``s₀ = ⌊(N − d)/3⌋``.  From them:

   * the *quadrature error* at every depth ``j ≤ s₀``: Laurie's averaged rule is
     ``(G_{j−1} + A_j)/2`` and the Gauss and anti-Gauss errors have opposite signs,
     so ``|gap(G_{j−1}) − gap(A_j)|/2`` bounds the error of the averaged rule
     whenever that bracketing holds (Laurie 1996; Calvetti, Reichel & Sgallari
     2000); as the bracket can be tight by accident at small depth, ``Δ(j)`` is the
     larger of it and half the change of the averaged rule from depth ``⌈j/2⌉`` to
     ``j``, made monotone as ``max_{i ≥ j} Δ(i)``;
   * the *probe variance*: by the delta method the gap ``log n + S/T − log T``
     moves with the probe average of ``h(λ) = c_T g(λ) + c_S g(λ) log g(λ)``,
     ``c_T = −(S/T + 1)/T``, ``c_S = 1/T``; for a Rademacher probe
     ``Var vᵀh(A)v = 2(‖h(A)‖_F² − Σ h(A)_ii²) ≤ 2 tr h(A)²`` (Hutchinson 1989;
     Avron & Toledo 2011), and ``tr h(A)²`` comes from the pilot's quadrature.

3. **Allocation** -- the depth ``s ≤ s₀`` minimising ``Δ(s) + σ/√m(s)`` with
   ``m(s) = 2 + ⌊(N − d − 2 s₀)/s⌋`` probes; the pilot runs are truncated to ``s``
   (a prefix of a Lanczos run is a Lanczos run) and count among the ``m`` probes.

Interval (``Estimate.ci_low/ci_high``): the sum of three half-widths, all reported
in ``details``:

* probe noise: jackknife standard error times ``t_{m−1}``; with ``m < 3`` probes
  (one degree of freedom or none) no interval is claimed -- the half-width is
  infinite;
* quadrature: ``Δ(s)`` measured on the final runs;
* deflation: ``Σ_i |∂gap/∂v_i| r_i`` with ``r_i`` the residual of the deflated pair
  ``i`` (``|λ_i − θ_i| ≤ r_i``), ``∂gap/∂v_i = (log v_i)/T − S/T²``.

Memory (``memory=``): ``"standard"`` stores the deflation basis (``d`` vectors),
then one probe's basis at a time (``s`` vectors) plus the ``k`` kept Ritz
vectors: peak ``≈ (max(d, s) + k + c) · n`` numbers.  ``"low"`` caps the deflation
run at :data:`LOW_MEMORY_DEFLATION_STEPS` stored vectors and runs the probes
without re-orthogonalisation (three-term recurrence, three vectors): peak
``≈ (min(d, 32) + k + c) · n``.  Measured (``benchmarks/hessian_memory.py``, n = 10⁶,
300 products, peak RSS): ``c ≈ 3`` (standard, 125 vectors for d = 100, k = 22) and
``c ≈ 17`` (low, 59 vectors; work vectors of the probe runs and allocator slack);
the engine before this model kept all ``d`` Ritz vectors next to the basis (214
vectors).  Its accuracy cost is measured in
``reports/hessian/report.md`` (fewer outliers deflated; ghost Ritz values do not
bias the quadrature of continuous ``f``, Knizhnerman 1996).
"""

from __future__ import annotations

import math

import numpy as np

from .estimate import Estimate, check_confidence, t_quantile
from .krylov import QUADRATURES, deflation_pairs
from .lanczos import (
    _policy_fn,
    _resolve_policy,
    _xlogx,
    entropy_gap_from_slq,
    entropy_gap_from_traces,
    probe_runs,
    result_from_runs,
)
from .probes import check_count, make_generator
from .progress import EstimationInterrupted, check_on_interrupt, progress_bar, warn_partial

MEMORY_MODES = ("standard", "low")
ALLOCATIONS = ("adaptive", "fixed")
#: deflation steps (= stored vectors) of ``memory="low"``.
LOW_MEMORY_DEFLATION_STEPS = 32
#: probes of the pilot; the minimum number of probes for a finite interval.
PILOT_PROBES = 2
MIN_PROBES_FOR_INTERVAL = 3


def _traces(runs, steps, rule, n_defl_exact, g):
    """Mean over runs of ``(tr g, tr g log g)`` (deflated part included) under a rule at depth ``steps``."""
    T = S = 0.0
    for run in runs:
        r = run.truncated(steps)
        if rule == "gauss-1":
            r = run.truncated(max(1, steps - 1))
            theta, w = r.quadrature("gauss")
        else:
            theta, w = r.quadrature(rule)
        w = w * run.start_norm**2
        v = g(theta)
        T += float(np.sum(w * v))
        S += float(np.sum(w * _xlogx(v)))
    T /= len(runs)
    S /= len(runs)
    return T + n_defl_exact[0], S + n_defl_exact[1]


def quadrature_error(runs, steps, n, defl_values, g) -> float:
    """``|gap(G_{s−1}) − gap(A_s)|/2`` over the mean of the runs (module docstring)."""
    if steps < 2 or any(run.breakdown and run.steps <= steps for run in runs):
        return 0.0  # a run that broke down is exact under Gauss
    dv = g(defl_values)
    exact = (float(np.sum(dv)), float(np.sum(_xlogx(dv))))
    gG = entropy_gap_from_traces(n, *_traces(runs, steps, "gauss-1", exact, g))
    gA = entropy_gap_from_traces(n, *_traces(runs, steps, "anti", exact, g))
    # the Gauss/anti-Gauss bracket can be tight by accident at small depth; the change of the
    # averaged rule from depth ⌈s/2⌉ to s (which overestimates the error at s) guards it
    half = max(2, (steps + 1) // 2)
    gs = entropy_gap_from_traces(n, *_traces(runs, steps, "averaged", exact, g))
    gh = entropy_gap_from_traces(n, *_traces(runs, half, "averaged", exact, g)) if half < steps else gs
    return max(abs(gG - gA) / 2, abs(gs - gh) / 2)


def probe_std(runs, steps, n, defl_values, g) -> float:
    """Delta-method standard deviation of one probe's gap, ``sqrt(2 tr h(A)²)`` (module docstring)."""
    dv = g(defl_values)
    exact = (float(np.sum(dv)), float(np.sum(_xlogx(dv))))
    T, S = _traces(runs, steps, "gauss", exact, g)
    if not T > 0:
        return math.inf
    cT, cS = -(S / T + 1) / T, 1 / T
    tr_h2 = 0.0
    for run in runs:
        theta, w = run.truncated(steps).quadrature("gauss")
        v = g(theta)
        tr_h2 += float(np.sum(w * run.start_norm**2 * (cT * v + cS * _xlogx(v)) ** 2))
    return math.sqrt(2 * tr_h2 / len(runs))


def deflation_error(values, residuals, T, S, g) -> float:
    """``Σ_i |(log v_i)/T − S/T²| r_i`` (first order in the eigenvalue errors ``|λ_i − θ_i| ≤ r_i``)."""
    if values.size == 0 or not T > 0:
        return 0.0
    v = g(values)
    logv = np.log(np.where(v > 0, v, 1.0))
    return float(np.sum(np.abs(logv / T - S / T**2) * residuals))


def choose_depth(runs, s0, extra, n, defl_values, g, min_steps: int = 4) -> tuple[int, dict]:
    """Depth ``s ≤ s0`` minimising ``Δ(s) + σ/√m(s)``, ``m(s) = len(runs) + ⌊extra/s⌋``."""
    candidates = sorted({s for s in np.unique(np.geomspace(min(min_steps, s0), s0, 12).astype(int)) if s >= 1} | {s0})
    deltas = {s: quadrature_error(runs, s, n, defl_values, g) for s in candidates}
    monotone, worst = {}, 0.0
    for s in reversed(candidates):
        worst = max(worst, deltas[s])
        monotone[s] = worst
    sigma = probe_std(runs, s0, n, defl_values, g)
    score = {s: monotone[s] + sigma / math.sqrt(len(runs) + extra // s) for s in candidates}
    best = min(candidates, key=lambda s: (score[s], -s))
    return best, {"pilot_sigma": sigma, "pilot_quadrature_error": monotone[best], "pilot_scores": score}


def entropy_gap_estimate(
    op,
    num_hvps: int = 300,
    *,
    policy: str = "abs",
    deflation_fraction: float = 1 / 3,
    num_probes: int | None = None,
    deflation_tol: float = 1e-5,
    seed=None,
    confidence: float = 0.95,
    reorthogonalize: bool | None = None,
    memory: str = "standard",
    allocation: str = "fixed",
    progress=False,
    on_interrupt: str = "partial",
    quadrature: str | None = None,
) -> Estimate:
    """Entropy gap of the normalised ``policy(spectrum)`` by deflated SLQ within ``num_hvps`` products.

    Args:
        policy: ``"abs"`` (``|λ|``), ``"clip"`` (``max(λ, 0)``) or ``"ggn"`` (operator must be PSD,
            e.g. :class:`~numerics.hessian.operators.GGNOperator`; round-off negatives are clipped).
        deflation_fraction: share of the budget for the deflation run (0: plain SLQ).
        num_probes: fix the number of probes (then ``allocation="fixed"``: ``m`` runs of
            ``⌊(N − d)/m⌋`` steps, no pilot).
        allocation: ``"fixed"`` (default: ``num_probes``, default ``max(3, min(6, (N − d) // 60))``,
            of equal depth) or ``"adaptive"`` (pilot, module docstring; measured no better).
        memory: ``"standard"`` or ``"low"`` (module docstring: peak memory and its cost).
        reorthogonalize: full re-orthogonalisation of the probe runs (default: ``True``
            unless ``memory="low"``).
        quadrature: ``"gauss"``, ``"averaged"`` or ``None`` (averaged Gauss for
            ``"abs"``/``"clip"``, whose kink at 0 lies inside the spectrum; Gauss for ``"ggn"``).

    Returns:
        :class:`Estimate` with the jackknife value and the interval of the module
        docstring; ``details`` holds the budget split and the three half-widths.
    """
    policy = _resolve_policy(op, policy)
    if quadrature is None:
        quadrature = "gauss" if policy == "ggn" else "averaged"
    if quadrature not in QUADRATURES:
        raise ValueError(f"unknown quadrature rule {quadrature!r}; choose one of {QUADRATURES}")
    if memory not in MEMORY_MODES:
        raise ValueError(f"unknown memory mode {memory!r}; choose one of {MEMORY_MODES}")
    if allocation not in ALLOCATIONS:
        raise ValueError(f"unknown allocation {allocation!r}; choose one of {ALLOCATIONS}")
    num_hvps = check_count("num_hvps", num_hvps, 4)
    confidence = check_confidence(confidence)
    check_on_interrupt(on_interrupt)
    if not 0 <= deflation_fraction < 1:
        raise ValueError(f"deflation_fraction must lie in [0, 1), got {deflation_fraction}")
    if num_probes is not None:
        num_probes = check_count("num_probes", num_probes, 1)
        allocation = "fixed"
    if reorthogonalize is None:
        reorthogonalize = memory == "standard"
    g_fn = _policy_fn(policy)
    gen = make_generator(seed, op)
    n = op.shape[0]
    start_count = op.hvp_count
    d = int(round(deflation_fraction * num_hvps))
    if memory == "low":
        d = min(d, LOW_MEMORY_DEFLATION_STEPS)
    pairs = None
    if d > 0:
        try:
            pairs = deflation_pairs(op, d, tol=deflation_tol, seed=gen, progress=progress)
        except KeyboardInterrupt as exc:
            raise EstimationInterrupted("entropy-gap estimate interrupted during deflation") from exc
    Q = pairs.vectors if pairs is not None and pairs.values.size else None
    defl_vals = np.asarray(pairs.values, dtype=np.float64) if Q is not None else np.zeros(0)
    defl_res = np.asarray(pairs.residual_norms, dtype=np.float64) if Q is not None else np.zeros(0)
    rest = num_hvps - (op.hvp_count - start_count)
    details: dict = {"deflation_steps": d, "memory": memory, "allocation": allocation}
    with progress_bar(rest, "entropy gap (SLQ)", progress) as advance:
        if allocation == "fixed":
            # 3 probes at least (an interval needs 2 degrees of freedom) unless the runs would be shorter than 10
            m = num_probes if num_probes is not None else (max(3, min(6, rest // 60)) if rest >= 30 else 2)
            steps = rest // m
            if steps < 1:
                raise ValueError(f"num_hvps={num_hvps} leaves no Lanczos steps for {m} probes after deflation")
            runs, interrupted = probe_runs(op, m, steps, Q, gen, "rademacher", reorthogonalize, advance)
        else:
            s0 = rest // 3
            if s0 < 2:
                raise ValueError(f"num_hvps={num_hvps} leaves too few products for a pilot after deflation")
            m = None
            runs, interrupted = probe_runs(op, PILOT_PROBES, s0, Q, gen, "rademacher", reorthogonalize, advance)
            steps = s0
            if not interrupted:
                extra = rest - PILOT_PROBES * s0
                steps, info = choose_depth(runs, s0, extra, n, defl_vals, g_fn)
                details.update({k: v for k, v in info.items() if k != "pilot_scores"})
                more, interrupted = probe_runs(op, extra // steps, steps, Q, gen, "rademacher", reorthogonalize,
                                               advance)
                runs += more
    planned = m if m is not None else len(runs)
    if interrupted:
        if on_interrupt == "raise" or not runs:
            raise EstimationInterrupted(f"entropy-gap estimate interrupted after {len(runs)} probes")
        warn_partial("entropy-gap estimate", len(runs), planned)
    res = result_from_runs(n, runs, quadrature, pairs, op.hvp_count - start_count, steps, interrupted)
    est = entropy_gap_from_slq(res, policy, confidence)
    # error budget: probe noise (t · jackknife se, none below 3 probes) + quadrature + deflation
    m_used = res.num_probes
    probe_hw = t_quantile(confidence, m_used - 1) * est.stderr if m_used >= MIN_PROBES_FOR_INTERVAL else math.inf
    quad_hw = quadrature_error(runs, steps, n, defl_vals, g_fn) if quadrature == "averaged" else math.nan
    if quadrature != "averaged":  # Gauss alone: its error is bracketed by Gauss vs anti-Gauss at the same depth
        quad_hw = 2 * quadrature_error(runs, steps, n, defl_vals, g_fn)
    T = est.details["trace_policy"]
    S = float(np.mean(res.probe_traces(lambda x: _xlogx(g_fn(x)))))
    defl_hw = deflation_error(defl_vals, defl_res, T, S, g_fn)
    hw = probe_hw + quad_hw + defl_hw
    details.update(est.details, probes=m_used, probe_steps=steps, quadrature=quadrature,
                   probe_half_width=probe_hw, quadrature_half_width=quad_hw, deflation_half_width=defl_hw,
                   num_deflated=int(defl_vals.size))
    return Estimate(est.value, est.value - hw, est.value + hw, confidence, est.stderr, res.hvp_count, m_used,
                    "deflated-slq-entropy-gap" if d else "slq-entropy-gap", est.interrupted, details)
