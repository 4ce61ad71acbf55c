"""The n → ∞ limit of the entropy gap of normalised i.i.d. weights (Theorem 3.7).

For X_1..X_n i.i.d. positive with mean μ, p_i = X_i/ΣX_j, the law of large numbers gives
``log n − H(p) = Σ p_i log(n p_i) → E[Y log Y]``, ``Y = X/μ``; the paper's CV²/2 is the
second-order Taylor term of that limit. This module computes both.

Stability notes:

* ``E[Y log Y] = E[φ(Y)]`` with ``φ(y) = y log y − y + 1 ≥ 0`` (E[Y − 1] = 0): a non-negative
  integrand, so a small limit (low CV) is not the difference of O(CV) numbers; near y = 1,
  ``φ(e^t) = Σ_{k≥2} (k−1) t^k / k!`` avoids the cancellation.
* The integral is taken by a vectorised adaptive Gauss–Kronrod 7/15 rule (quadpack's QAG rule and
  error heuristic, one numpy call per refinement round: :mod:`numerics.quadrature`) over
  ``t = log y`` (density ``f_Y(e^t) e^t``), which turns power-law and lognormal tails and
  x^{a−1} spikes at 0 into smooth, at worst exponentially decaying integrands; breakpoints sit
  at quantiles 10^-k (ppf and isf), so a narrow bulk (CV = 1e-8) and a tail spanning 300 decades
  are both resolved.
* Below ``y = 1e-30`` the contribution is ``P(Y < 1e-30)·(1 + O(1e-28))`` (φ ≈ 1 there) and is
  added in closed form. Beyond the isf(1e-300) quantile the tail is dropped; if the dropped part
  could exceed 1e-17 of the result (tails so heavy that E[Y log Y] has mass beyond 1e300, e.g.
  Pareto with b ≈ 1) a ``ValueError`` points to the mpmath twin instead.

References: Tan & Huang (2025), Thm 3.7 (statements ``thm-3.7`` and ``thm-3.7/limit`` in
docs/statements.md); Cover & Thomas (2006) ch. 2 (KL to uniform).
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
from scipy import stats

from numerics.quadrature import adaptive_gauss_kronrod, mp_quad_pieces

#: quantile probabilities used as breakpoints (both tails)
_PROBS = (1e-300, 1e-200, 1e-100, 1e-50, 1e-30, 1e-20, 1e-15, 1e-10, 1e-7, 1e-5, 1e-3, 1e-2, 0.05, 0.15, 0.3, 0.5)
_Y_LOW = 1e-30
#: quadpack's summed error estimate must stay below this fraction of the result, or we raise
QUAD_ACCEPT = 1e-11


# ----------------------------------------------------------------------------
# float64
# ----------------------------------------------------------------------------

def _phi_of_log(t: float) -> float:
    """``φ(e^t) = t e^t − expm1(t)`` (= y log y − y + 1 at y = e^t), series for |t| < 0.5."""
    if abs(t) < 0.5:
        # Σ_{k≥2} (k−1) t^k / k!: 0.5^22/22! < 1e-27
        acc, term = 0.0, t
        for k in range(2, 24):
            term *= t / k
            acc += (k - 1) * term
        return acc
    return t * math.exp(t) - math.expm1(t)


def _phi_of_log_array(t: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_phi_of_log`."""
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    small = np.abs(t) < 0.5
    ts = t[small]
    acc = np.zeros_like(ts)
    for k in range(23, 1, -1):  # Horner form of t² Σ_{k≥2} (k−1)/k! t^{k−2}
        acc = acc * ts + (k - 1) / math.factorial(k)
    out[small] = acc * ts * ts
    tl = t[~small]
    out[~small] = tl * np.exp(tl) - np.expm1(tl)
    return out


def _check_frozen(dist):
    if hasattr(dist, "dist") and isinstance(dist.dist, stats.rv_discrete):
        raise TypeError(f"expected a continuous distribution, got the discrete {dist.dist.name}")
    if not (hasattr(dist, "dist") and hasattr(dist, "logpdf") and hasattr(dist, "support")):
        raise TypeError(f"expected a frozen scipy.stats distribution, got {type(dist).__name__}")
    if not isinstance(dist.dist, stats.rv_continuous):
        raise TypeError(f"expected a continuous distribution, got {dist.dist.name} (discrete)")
    a, b = (float(v) for v in dist.support())
    if math.isnan(a) or a < 0:
        raise ValueError(f"X must be positive: support of {dist.dist.name} starts at {a} < 0")
    if not b > 0:
        raise ValueError(f"X must be positive: support of {dist.dist.name} is [{a}, {b}]")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = float(dist.mean())
    if not math.isfinite(m):
        raise ValueError(
            f"{dist.dist.name}{dist.args} has infinite (or undefined) mean {m}: E[Y log Y] needs E[X] < inf"
        )
    if not m > 0:
        raise ValueError(f"mean of X must be > 0, got {m}")
    return a, b, m


def _quiet(fn, *args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def entropy_gap_limit(dist) -> float:
    """Exact limit ``E[Y log Y]``, Y = X/E[X], of the entropy gap ``log n − H(X_i/ΣX_j)`` (Thm 3.7).

    Args:
        dist: a frozen ``scipy.stats`` continuous distribution with support in [0, ∞) and a
            finite mean.

    Returns:
        ``E[Y log Y] = ∫ φ(y) f_Y(y) dy`` by adaptive quadrature in ``t = log y`` (see module
        notes); relative error ~1e-15 for the families tested (measured against
        :func:`entropy_gap_limit_mp`), limited by scipy's logpdf for very narrow bulks
        (gamma with a ~ 1e4: 2e-12). Examples: exponential 1 − γ ≈ 0.4228; lognormal
        shape s: s²/2 (2.0 at s = 2, where CV²/2 ≈ 26.8).

    Raises:
        TypeError: not a frozen continuous scipy distribution.
        ValueError: support reaching below 0, infinite mean, a tail too heavy for float64, or a
            density singular at a finite end of the support (the message points to the mpmath twin).
        ArithmeticError: the quadrature's error estimate exceeds 1e-11 of the result.

    Reference: Tan & Huang (2025), Thm 3.7 (statement ``thm-3.7/limit``).
    """
    a, b, m = _check_frozen(dist)
    log_m = math.log(m)
    x_low = m * _Y_LOW
    lower_tail = 0.0
    if a < x_low:
        lower_tail = float(_quiet(dist.cdf, x_low))  # φ = 1 + O(1e-28) below y = 1e-30
        x_start = x_low
    else:
        x_start = a
    qs = [float(q) for q in _quiet(dist.ppf, np.array(_PROBS))] + [float(q) for q in _quiet(dist.isf, np.array(_PROBS))]
    x_end = max((q for q in qs if math.isfinite(q)), default=b)
    x_end = min(b, x_end) if math.isfinite(b) else x_end
    if not math.isfinite(x_end) or x_end <= x_start:
        x_end = min(b, 1e300)
    pts = sorted({x_start, x_end, m} | {q for q in qs if math.isfinite(q) and x_start < q < x_end})

    underflow = []

    def integrand(t: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            x = np.exp(log_m + t)
            lp = np.asarray(_quiet(dist.logpdf, x), dtype=float)
            out = np.zeros_like(t)
            # +inf: x rounded onto a singular end of the support (see the end check below);
            # −inf inside the support: scipy's logpdf underflows for some families (pareto beyond
            # x ~ 1e150), what is lost is bounded by the tail check below
            lost = (lp == -np.inf) & (x > a) & (x < b) & (x > m)
            if lost.any():
                underflow.append(float(np.min(x[lost])))
            ok = np.isfinite(lp)
            hi = ok & (t > 1.0)  # φ(e^t) ~ e^t (t − 1): fold e^t into the exponent, no overflow
            th = t[hi]
            out[hi] = np.exp(lp[hi] + log_m + 2.0 * th + np.log(th - 1.0 + np.exp(-th)))
            lo = ok & ~hi
            out[lo] = np.exp(lp[lo] + log_m + t[lo]) * _phi_of_log_array(t[lo])
        return out

    ts = [math.log(x) - log_m for x in pts]
    total, err_total = adaptive_gauss_kronrod(integrand, ts)
    total += lower_tail
    # a density singular at a finite upper end (beta with b < 1) keeps mass within a few ulps of
    # it, where x = m e^t is rounded by as much as its distance to the end: that mass is integrated
    # with O(1) errors. The local power law f ~ d^{−γ} (d = distance to the end) is read off the
    # pdf at two distances; the mass within d1 beyond a bounded density's d1·f is d1·f·γ/(1 − γ).
    if math.isfinite(b):
        ulp = b - math.nextafter(b, 0.0)
        d1, d2 = 4.0 * ulp, 4.0 * ulp * 2.0**20
        f1, f2 = (float(_quiet(dist.pdf, b - d)) for d in (d1, d2))
        if f1 > 1.01 * f2 > 0:
            gamma_ = min(math.log(f1 / f2) / math.log(d2 / d1), 1.0 - 1e-3)
            excess = d1 * f1 * gamma_ / (1.0 - gamma_)
            if excess * max(1.0, _phi_of_log(math.log(b / m))) > 1e-15 * total:
                raise ValueError(
                    f"{dist.dist.name}{dist.args} is singular at the end of its support x = {b} (density ~ "
                    f"distance^-{gamma_:.2g}) and has mass ~{excess:.3g} within 4 ulp of it that float64 cannot "
                    "integrate; use entropy_gap_limit_mp"
                )
    # what lies beyond x_end: at least sf·φ(y_end), and for power tails up to b/(b−1) times that
    # (a factor 100 covers b/(b−1) down to b = 1.01); the same bound covers any stretch where
    # logpdf underflowed to −inf and was counted as 0
    x_cut = min(underflow + [x_end])
    y_end = x_cut / m
    sf_end = float(_quiet(dist.sf, x_cut)) if x_cut < b else 0.0
    if sf_end > 0 and 100.0 * sf_end * _phi_of_log(math.log(y_end)) > 1e-17 * total:
        where = f"{min(underflow):.3g} (logpdf underflows there)" if underflow else f"{x_end:.3g}"
        raise ValueError(
            f"the tail of {dist.dist.name}{dist.args} beyond x = {where} carries E[Y log Y] mass that "
            "float64 quadrature cannot reach; use entropy_gap_limit_mp"
        )
    if not err_total <= QUAD_ACCEPT * total:
        raise ArithmeticError(
            f"quadrature did not converge: {total!r} +/- {err_total!r} (for a very narrow bulk, "
            "scipy's logpdf itself may be this noisy; entropy_gap_limit_mp has no such limit)"
        )
    return total


def cv_squared_half(dist) -> float:
    """``CV²/2 = Var X / (2 (E X)²)``, the paper's claimed limit (Thm 3.7); inf if Var X = inf."""
    _, _, m = _check_frozen(dist)
    v = float(_quiet(dist.var))
    if math.isnan(v):
        raise ValueError(f"variance of {dist.dist.name}{dist.args} is undefined")
    return v / (2.0 * m * m)


# ----------------------------------------------------------------------------
# mpmath: exact densities by family name
# ----------------------------------------------------------------------------

#: scipy's names and the aliases accepted here
_ALIASES = {
    "gamma": "gamma", "exponential": "expon", "expon": "expon", "lognormal": "lognorm", "lognorm": "lognorm",
    "uniform": "uniform", "chi2": "chi2", "weibull": "weibull_min", "weibull_min": "weibull_min",
    "pareto": "pareto", "beta": "beta", "halfnorm": "halfnorm",
}
_SHAPES = {
    "gamma": ("a",), "expon": (), "lognorm": ("s",), "uniform": (), "chi2": ("df",),
    "weibull_min": ("c",), "pareto": ("b",), "beta": ("a", "b"), "halfnorm": (),
}


def _family(dist, params):
    """(name, shape dict, loc, scale) from a family name + params (also as one tuple
    ``("gamma", {"a": 2})``) or a frozen scipy distribution."""
    if isinstance(dist, tuple) and len(dist) == 2 and isinstance(dist[0], str) and params is None:
        dist, params = dist
    if isinstance(dist, str):
        name = _ALIASES.get(dist.lower())
        if name is None:
            raise ValueError(f"unknown family {dist!r}; known: {sorted(_ALIASES)}")
        params = dict(params or {})
        shapes = {}
        for k in _SHAPES[name]:
            if k not in params:
                raise ValueError(f"family {name} needs parameter {k!r}")
            shapes[k] = params.pop(k)
        loc, scale = params.pop("loc", 0), params.pop("scale", 1)
        if params:
            raise ValueError(f"unknown parameters for {name}: {sorted(params)}")
    elif hasattr(dist, "dist") and hasattr(dist, "args"):
        name = dist.dist.name
        if name not in _SHAPES:
            raise ValueError(f"no exact mpmath density for scipy's {name!r}; pass a density callable")
        names = list(_SHAPES[name]) + ["loc", "scale"]
        vals = dict(zip(names, dist.args))
        vals.update(dist.kwds)
        shapes = {k: vals[k] for k in _SHAPES[name]}
        loc, scale = vals.get("loc", 0), vals.get("scale", 1)
    else:
        raise TypeError("dist must be a family name, a frozen scipy distribution, or a density callable")
    for k, v in list(shapes.items()) + [("loc", loc), ("scale", scale)]:
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {k} must be a real number, got {v!r}") from None
        if not math.isfinite(fv):
            raise ValueError(f"parameter {k} must be finite, got {v!r}")
    if float(scale) <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    if float(loc) < 0:
        raise ValueError(f"X must be positive: loc = {loc} < 0 puts mass below 0")
    for k, v in shapes.items():
        if float(v) <= 0:
            raise ValueError(f"shape parameter {k} must be > 0, got {v}")
    return name, {k: mpmath.mpf(float(v)) for k, v in shapes.items()}, mpmath.mpf(float(loc)), mpmath.mpf(float(scale))


def _std_density(name, p):
    """(log-density of the standardised family as a function of (z, log z), support, mean, variance).

    Taking log z separately keeps ``1 − z = −expm1(log z)`` exact near the upper end of a beta and
    avoids forming e.g. z^{a−1} for a near 0.
    """
    inf = mpmath.inf
    if name == "gamma":
        a = p["a"]
        return (lambda z, lz: (a - 1) * lz - z - mpmath.loggamma(a)), (0, inf), a, a
    if name == "expon":
        return (lambda z, lz: -z), (0, inf), mpmath.mpf(1), mpmath.mpf(1)
    if name == "chi2":
        k = p["df"] / 2  # gamma(k) with scale 2
        ln2 = mpmath.log(2)
        return (lambda z, lz: (k - 1) * (lz - ln2) - z / 2 - mpmath.loggamma(k) - ln2), (0, inf), 2 * k, 4 * k
    if name == "lognorm":
        s = p["s"]
        c = mpmath.log(s * mpmath.sqrt(2 * mpmath.pi))
        return (lambda z, lz: -lz * lz / (2 * s * s) - lz - c), (0, inf), mpmath.exp(s * s / 2), \
            mpmath.exp(s * s) * mpmath.expm1(s * s)
    if name == "uniform":
        return (lambda z, lz: mpmath.mpf(0)), (0, 1), mpmath.mpf(1) / 2, mpmath.mpf(1) / 12
    if name == "weibull_min":
        c = p["c"]
        g1, g2 = mpmath.gamma(1 + 1 / c), mpmath.gamma(1 + 2 / c)
        return (lambda z, lz: mpmath.log(c) + (c - 1) * lz - mpmath.exp(c * lz)), (0, inf), g1, g2 - g1 * g1
    if name == "pareto":
        b = p["b"]
        mean = b / (b - 1) if b > 1 else inf
        var = b / ((b - 1) ** 2 * (b - 2)) if b > 2 else inf
        return (lambda z, lz: mpmath.log(b) - (b + 1) * lz), (1, inf), mean, var
    if name == "beta":
        a, b = p["a"], p["b"]
        lb = mpmath.log(mpmath.beta(a, b))
        return (lambda z, lz: (a - 1) * lz + (b - 1) * mpmath.log(-mpmath.expm1(lz)) - lb), (0, 1), \
            a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    if name == "halfnorm":
        c = mpmath.log(2 / mpmath.pi) / 2
        return (lambda z, lz: c - z * z / 2), (0, inf), mpmath.sqrt(2 / mpmath.pi), 1 - 2 / mpmath.pi
    raise ValueError(f"unknown family {name!r}")  # pragma: no cover


def _cutoff(g, t0, direction, ref):
    """Where an integrand g(t) in t = log x may be cut: walking outward from t0 in doubling steps,
    the first t at which g has become monotone decaying with ``g(t)/rate < 10^-(dps+5)·ref``
    (the tail of an exponentially decaying integrand; power-law tails in x are exponential in t,
    lighter tails decay faster). Quadrature to ±inf is avoided because tanh-sinh would evaluate
    e.g. exp(−e^{1e10}), which mpmath computes exactly and very slowly.

    The evaluated g can also become exactly 0 before that test passes: in the chart ``t = e ± e^w``
    of a finite end e, the node rounds onto e once e^w < ulp(e) and the density's support test
    reads 0 (a scale a few ulp from 1 puts e ~ 1e-15 and this edge near a probe); a density may
    also stop inside its declared support. The walk then goes back to unit steps from its last
    non-zero probe up to the edge (g(t) ≠ 0 = g(t + direction)), and :func:`_edge` decides.

    Raises:
        ArithmeticError: g does not decay (a divergent integral such as an infinite mean).
        ValueError: g drops to 0 where its tail is not negligible (:func:`_edge`).
    """
    tol = mpmath.mpf(10) ** (-(mpmath.mp.dps + 5)) * ref
    h = mpmath.mpf(1)
    t, g0 = t0, abs(g(t0))
    # each return to unit steps at least halves the distance to a zero probe: a few hundred
    # iterations reach the edge; 64 doublings without decay mean divergence
    for _ in range(4096):
        t1 = t + direction * h
        g1 = abs(g(t1))
        if g1 == 0:
            if h > 1:
                h = mpmath.mpf(1)
                continue
            return _edge(g, t, g0, direction, ref)
        g2 = abs(g(t1 + direction))
        if g2 == 0:
            return _edge(g, t1, g1, direction, ref)
        if g2 < g1:
            rate = mpmath.log(g1 / g2)  # 0 when g1/g2 rounds to 1: no decay to speak of
            if rate > 0 and g1 < tol * rate:
                return t1
        t, g0 = t1, g1
        h *= 2
        if h > 2**64:
            break
    raise ArithmeticError("the integrand does not decay: the integral diverges")


def _edge(g, t, gt, direction, ref):
    """The cut at an edge where the evaluated integrand stops: ``g(t) = gt ≠ 0`` and
    ``g(t + direction) = 0`` (or ``gt = 0``: nothing to integrate beyond t).

    What lies beyond t is bounded as in :func:`_cutoff` by ``gt/rate``, with the local decay rate
    ``log(g(t − direction)/gt)``. Below ``10^-(dps−8)·ref`` it is dropped: the callers carry 10
    guard digits, so the result keeps two digits more than it returns (a node rounded onto a
    bounded density's end loses ~ulp(e)·f(e), i.e. 1e-38 of the result at 40 digits). Above it,
    the density has mass closer to a finite end of its support than the working precision
    resolves (a scaled beta with b < 1), or it stops abruptly inside its declared support;
    dropping that mass would return a wrong number.

    Raises:
        ValueError: the tail beyond t is not negligible.
    """
    if gt == 0:
        return t
    g_in = abs(g(t - direction))
    rate = mpmath.log(g_in / gt) if g_in > gt else mpmath.mpf(0)
    if rate > 0 and gt < mpmath.mpf(10) ** (-(mpmath.mp.dps - 8)) * ref * rate:
        return t
    beyond = (f"~{mpmath.nstr(gt / rate / ref, 3)} of the integral's scale still beyond" if rate > 0
              else "where it does not decay yet")
    raise ValueError(
        f"the integrand drops to 0 between {mpmath.nstr(t, 12)} and {mpmath.nstr(t + direction, 12)} (in log x, "
        f"or in the log of the distance to a finite end of log x) {beyond}: the density has mass closer to an "
        f"end of its support than {mpmath.mp.dps} digits resolve (E[Y log Y] does not depend on the scale: with "
        "loc = 0 and scale = 1 the end log x = 0 is exact), or it stops inside its declared support (declare "
        "support=(a, b) where it ends)"
    )


def _log_breakpoints(center, width, lo, hi):
    """Breakpoints in t = log x around log(center) at multiples of the bulk width (and wide ones)."""
    c = mpmath.log(center)
    offs = (0, 1, -1, 4, -4, 16, -16)
    pts = {c + width * o for o in offs} | {c + o for o in (-40, -8, 8, 40)}
    return sorted(p for p in pts if lo < p < hi)


def _integrate_log_space(g, lo, hi, center, width):
    """``∫_lo^hi g(t) dt`` (t = log x) with breakpoints around log(center).

    Infinite ends are cut where the tail is below the working precision (:func:`_cutoff`). The
    piece next to a finite end e is taken in the chart ``t = e ∓ e^w``: an integrable endpoint
    singularity such as the beta density's (1 − x)^{b−1} at x = 1 puts mass within 1e-400 of
    the end when b = 0.1, beyond the reach of tanh-sinh nodes; in w it is an exponential tail.
    """
    inner = _log_breakpoints(center, width, lo, hi)
    if not inner:
        inner = [(lo + hi) / 2] if mpmath.isfinite(lo) and mpmath.isfinite(hi) else [mpmath.log(center)]
    ref = max(abs(g(t)) for t in inner) * min(width, 1)
    if ref == 0:
        ref = mpmath.mpf(1)
    pieces = []  # (integrand, a, b)
    if mpmath.isfinite(lo):
        gw = lambda w: g(lo + mpmath.exp(w)) * mpmath.exp(w)
        w0 = mpmath.log(inner[0] - lo)
        pieces.append((gw, _cutoff(gw, w0, -1, ref), w0))
    else:
        pieces.append((g, _cutoff(g, inner[0], -1, ref), inner[0]))
    pieces += [(g, a, b) for a, b in zip(inner[:-1], inner[1:])]
    if mpmath.isfinite(hi):
        gw = lambda w: g(hi - mpmath.exp(w)) * mpmath.exp(w)
        w0 = mpmath.log(hi - inner[-1])
        pieces.append((gw, _cutoff(gw, w0, -1, ref), w0))
    else:
        pieces.append((g, inner[-1], _cutoff(g, inner[-1], 1, ref)))
    return mp_quad_pieces(pieces, magnitude_degree=2)


def _phi_mp(y):
    """``y log y − y + 1`` (the caller supplies guard digits for y ≈ 1)."""
    return y * mpmath.log(y) - y + 1 if y != 0 else mpmath.mpf(1)


def entropy_gap_limit_mp(dist, params: dict | None = None, *, support=None, dps: int = 50):
    """Oracle for :func:`entropy_gap_limit`: ``E[φ(X/μ)]`` by tanh-sinh in t = log x with the
    exact density, at ``dps`` + guard digits.

    Args:
        dist: a family name (``"gamma"``, ``"exponential"``, ``"lognormal"``, ``"uniform"``,
            ``"chi2"``, ``"weibull"``, ``"pareto"``, ``"beta"``, ``"halfnorm"``) with ``params``
            (shape names as in scipy, plus optional ``loc``, ``scale``), e.g.
            ``("gamma", {"a": 2})``; or a frozen scipy distribution of one of these families;
            or an mpmath density callable together with ``support=(a, b)``, 0 ≤ a < b ≤ inf.

    Raises:
        ValueError: unknown family, bad parameters, support below 0, infinite mean.
    """
    with mpmath.workdps(dps + 10):
        density_t, (a, b), mean, var = _resolve_mp(dist, params, support)
        if not mpmath.isfinite(mean):
            raise ValueError("X has infinite mean: E[Y log Y] needs E[X] < inf")
        cv = mpmath.sqrt(var) / mean if mpmath.isfinite(var) else mpmath.mpf(1)
        # φ(1 + d) ≈ d²/2 is formed from O(1) terms: 2 log10(1/CV) digits cancel
        guard = max(0, int(-2 * float(mpmath.log10(cv)))) if cv > 0 else 0
    with mpmath.workdps(dps + 10 + guard):
        if guard:
            density_t, (a, b), mean, var = _resolve_mp(dist, params, support)
        lo = mpmath.log(a) if a > 0 else -mpmath.inf
        hi = mpmath.log(b) if b < mpmath.inf else mpmath.inf
        width = min(cv, mpmath.mpf(1)) if cv > 0 else mpmath.mpf(1)

        def f(t):
            return density_t(t) * _phi_mp(mpmath.exp(t) / mean)

        val = _integrate_log_space(f, lo, hi, mean, width)
    with mpmath.workdps(dps):
        return +val


def _resolve_mp(dist, params, support):
    """(density of log X as a function of t, support of X, mean, variance) in mpmath for any
    accepted form of ``dist``."""
    if callable(dist) and not hasattr(dist, "dist"):
        if support is None:
            raise ValueError("a density callable needs support=(a, b)")
        a, b = (mpmath.mpf(v) for v in support)
        if mpmath.isnan(a) or a < 0:
            raise ValueError(f"X must be positive: support starts at {a} < 0")
        if not b > a:
            raise ValueError(f"support must satisfy a < b, got ({a}, {b})")
        lo = mpmath.log(a) if a > 0 else -mpmath.inf
        hi = mpmath.log(b) if b < mpmath.inf else mpmath.inf
        # nothing is known about where the mass of a user density sits: breakpoints around x = 1
        # (or the geometric middle of a bounded support) with unit width in log x; the infinite
        # ends are cut where the integrand has decayed (_cutoff)
        finite = mpmath.isfinite(lo) and mpmath.isfinite(hi)
        center = mpmath.exp((lo + hi) / 2) if finite else mpmath.mpf(1)

        def moment(k):
            def g(t):  # density of log X times x^k
                return dist(mpmath.exp(t)) * mpmath.exp((k + 1) * t)

            return _integrate_log_space(g, lo, hi, center, mpmath.mpf(1))

        mass = moment(0)
        if abs(mass - 1) > mpmath.mpf(10) ** (-10):
            raise ValueError(f"density integrates to {mpmath.nstr(mass, 12)}, not 1")
        try:
            mean = moment(1)
        except ArithmeticError:
            mean = mpmath.inf  # the integral does not converge
        try:
            var = moment(2) - mean * mean if mpmath.isfinite(mean) else mpmath.inf
        except ArithmeticError:
            var = mpmath.inf
        return (lambda t: dist(mpmath.exp(t)) * mpmath.exp(t)), (a, b), mean, var
    name, shapes, loc, scale = _family(dist, params)
    logpdf, (sa, sb), smean, svar = _std_density(name, shapes)
    a = loc + scale * sa
    b = loc + scale * sb if sb != mpmath.inf else mpmath.inf
    log_scale = mpmath.log(scale)
    log_sa = mpmath.log(sa) if sa > 0 else -mpmath.inf
    log_sb = mpmath.log(sb) if sb != mpmath.inf else mpmath.inf

    def density_t(t):
        """density of log X at t: f_X(e^t) e^t"""
        if loc == 0:
            lz = t - log_scale  # exact: no e^t/scale rounding
            z = mpmath.exp(lz)
        else:
            z = (mpmath.exp(t) - loc) / scale
            if z <= 0:
                return mpmath.mpf(0)
            lz = mpmath.log(z)
        # support test on log z: z itself rounds to 1 within 1e-(dps) of a beta's upper end
        if (sa > 0 and lz <= log_sa) or (sb != mpmath.inf and lz >= log_sb):
            return mpmath.mpf(0)
        return mpmath.exp(logpdf(z, lz) - log_scale + t)

    return density_t, (a, b), loc + scale * smean, scale * scale * svar


def cv_squared_half_mp(dist, params: dict | None = None, *, support=None, dps: int = 50):
    """Oracle for :func:`cv_squared_half`: exact moments of the family (or quadrature for a density)."""
    with mpmath.workdps(dps + 10):
        _, _, mean, var = _resolve_mp(dist, params, support)
        if not mpmath.isfinite(mean):
            raise ValueError("X has infinite mean")
        val = var / (2 * mean * mean)
    with mpmath.workdps(dps):
        return +val


def entropy_gap_limit_closed_form(dist, params: dict | None = None, dps: int = 50):
    """``E[Y log Y]`` in closed form where it exists (loc = 0 unless uniform), as a second oracle.

    With ``M(p) = E[X^p]``, ``E[Y log Y] = (log M)'(1) − log M(1)``:

    * gamma(a): ``ψ(a+1) − log a``; exponential: ``1 − γ``; chi2(k): ``ψ(k/2+1) − log(k/2)``;
    * lognormal(s): ``s²/2``; Weibull(c): ``ψ(1+1/c)/c − log Γ(1+1/c)``;
    * Pareto(b > 1): ``1/(b−1) − log(b/(b−1))``; beta(a, b): ``ψ(a+1) − ψ(a+b+1) − log(a/(a+b))``;
    * uniform on [L, L+w], L ≥ 0, μ = L + w/2: ``[x² log(x/μ)/2 − x²/4]_L^{L+w} / (w μ)``.

    Returns None for families/locations without a closed form here (halfnorm, loc ≠ 0).
    """
    name, p, loc, scale = _family(dist, params)
    with mpmath.workdps(dps + 20):
        if name == "uniform":
            L, w = loc, scale
            mu = L + w / 2

            def F(x):  # antiderivative of (x/μ) log(x/μ) / w
                if x == 0:
                    return mpmath.mpf(0)
                return (x * x / 2 * mpmath.log(x / mu) - x * x / 4) / (mu * w)

            val = F(L + w) - F(L)
        elif loc != 0:
            return None
        elif name == "gamma":
            val = mpmath.digamma(p["a"] + 1) - mpmath.log(p["a"])
        elif name == "expon":
            val = 1 - mpmath.euler
        elif name == "chi2":
            k = p["df"] / 2
            val = mpmath.digamma(k + 1) - mpmath.log(k)
        elif name == "lognorm":
            val = p["s"] ** 2 / 2
        elif name == "weibull_min":
            c = p["c"]
            val = mpmath.digamma(1 + 1 / c) / c - mpmath.loggamma(1 + 1 / c)
        elif name == "pareto":
            b = p["b"]
            if b <= 1:
                raise ValueError("Pareto with b <= 1 has infinite mean")
            val = 1 / (b - 1) - mpmath.log(b / (b - 1))
        elif name == "beta":
            a, b = p["a"], p["b"]
            val = mpmath.digamma(a + 1) - mpmath.digamma(a + b + 1) - mpmath.log(a / (a + b))
        else:
            return None
    with mpmath.workdps(dps):
        return +val
