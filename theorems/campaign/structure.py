"""Structure mixing and local search that stay inside a statement's domain.

Bounds on distributions and spectra are tight in thin regions: near-uniform,
few-valued (uniform on a support), balanced two-valued, one dominant entry with
many tiny ones. A generic domain such as ``distributions(1, 50)`` rarely lands
there. The campaign therefore learns the *shape* of a statement's raw draws from
its first examples and derives structured variants of every later draw:

* a **distribution** field (1-D, entries ≥ 0, summing to 1 in every sample) gets
  near-uniform ``u + t(p − u)``, few-valued (group means by rank, uniform on a
  support), balanced two-valued, tempered ``p^γ`` (extreme ratio) and
  dominant-entry variants, of the same length; zeros are used only if some
  sample had a zero;
* a **spectrum** field (1-D, entries > 0) gets two-valued (balanced, or each entry
  rounded to the nearer end), three-level and compressed ``lo·(λ/lo)^t`` variants,
  all inside ``[min λ, max λ]`` of the draw, so the condition number never grows;
* float **scalars** move only inside the range seen in the samples.

These are sub-domains of the generic ``distributions``/``spectra`` strategies, so a
certified counterexample found on a variant is one of the statement as written. The
same parameterisation gives the Nelder–Mead push a projection onto the domain
(softmax of log-weights, log-coordinates clipped to the box), which replaces the
old push on raw coordinates that left the simplex for n ≥ 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: samples needed before a first shape is inferred (re-inferred at 2, 4, ... samples): a generic draw
#: costs 10-40 ms of Hypothesis generation, and every inference errs on the safe side (only what
#: the draws showed: a zero is used only once one was drawn, a scalar moves only inside seen values)
SHAPE_SAMPLES = 1


@dataclass
class FieldShape:
    kind: str  # "dist", "spectrum", "scalar"
    positive: bool = False
    lo: float = 0.0
    hi: float = 0.0


@dataclass
class Shape:
    """What the engine may vary in a statement's raw draws (empty: nothing)."""

    fields: dict[str, FieldShape] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.fields


def _is_vector(v) -> bool:
    return isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind == "f" and v.size >= 1


def _is_scalar(v) -> bool:
    return isinstance(v, float) and not isinstance(v, bool)


def infer_shape(samples: list) -> Shape:
    """The fields common to all ``samples`` (raw draws) that keep one kind throughout."""
    if not samples or not all(isinstance(s, dict) for s in samples):
        return Shape()
    keys = set(samples[0])
    for s in samples[1:]:
        keys &= set(s)
    out = {}
    for k in sorted(keys):
        vals = [s[k] for s in samples]
        if all(_is_vector(v) for v in vals):
            if not all(np.all(np.isfinite(v)) for v in vals):
                continue
            if all(np.all(v >= 0) and abs(float(v.sum()) - 1.0) < 1e-9 for v in vals):
                out[k] = FieldShape("dist", positive=all(bool(np.all(v > 0)) for v in vals))
            elif all(np.all(v > 0) for v in vals):
                out[k] = FieldShape("spectrum", positive=True)
        elif all(_is_scalar(v) for v in vals):
            lo, hi = min(vals), max(vals)
            if math.isfinite(lo) and math.isfinite(hi) and lo < hi:
                out[k] = FieldShape("scalar", positive=lo > 0, lo=lo, hi=hi)
    return Shape(out)


# ----------------------------------------------------------------------------
# Structured variants
# ----------------------------------------------------------------------------

def _norm(w):
    s = w.sum()
    return w / s if s > 0 and math.isfinite(s) else None


def dist_variants(p: np.ndarray, positive: bool, rng: np.random.Generator) -> list[np.ndarray]:
    n = p.size
    if n < 2:
        return []
    u = np.full(n, 1.0 / n)
    out = []
    # near-uniform along the draw's own direction
    t = 10.0 ** rng.uniform(-8, -0.3)
    out.append(u + t * (p - u))
    # balanced (or random) two-valued split at ratio κ
    m = int(rng.choice([n // 2, (n + 1) // 2, rng.integers(1, n)])) or 1
    kappa = math.exp(rng.uniform(0, 14)) if rng.random() < 0.6 else 1 + 10.0 ** rng.uniform(-8, 0)
    w = np.ones(n)
    w[rng.permutation(n)[:m]] = kappa
    out.append(w)
    # few-valued: k rank groups replaced by their means (k = 1: uniform)
    k = int(rng.integers(1, 4))
    groups = np.argsort(np.argsort(p, kind="stable"), kind="stable") * k // n
    means = np.array([p[groups == g].mean() if np.any(groups == g) else 0.0 for g in range(k)])
    out.append(means[groups])
    # uniform on a support (needs zeros), often on n − 1 of n points
    if not positive:
        s = int(rng.choice([n - 1, max(n // 2, 1), rng.integers(1, n + 1)]))
        w = np.zeros(n)
        w[rng.permutation(n)[:s]] = 1.0
        out.append(w)
    # extreme ratio: tempering concentrates the draw; a dominant entry over tiny ones
    gamma = rng.uniform(1.5, 40.0)
    with np.errstate(all="ignore"):
        tp = p ** gamma
    if np.all(np.isfinite(tp)) and tp.sum() > 0 and (not positive or np.all(tp > 0)):
        out.append(tp)
    eps = 10.0 ** rng.uniform(-12, -0.5)
    w = np.full(n, eps)
    w[int(np.argmax(p))] = 1.0
    out.append(w)
    res = []
    for w in out:
        q = _norm(np.asarray(w, float))
        if q is not None and np.all(np.isfinite(q)) and np.all(q >= 0) and (not positive or np.all(q > 0)):
            res.append(q)
    return res


def spectrum_variants(lam: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    n = lam.size
    lo, hi = float(lam.min()), float(lam.max())
    if n < 2 or not lo < hi:
        return []
    out = []
    m = int(rng.choice([n // 2, (n + 1) // 2, rng.integers(1, n)])) or 1
    w = np.full(n, lo)
    w[rng.permutation(n)[:m]] = hi
    out.append(w)
    log_mid = (math.log(lo) + math.log(hi)) / 2  # lo·hi may under- or overflow
    mid = min(max(math.exp(log_mid), lo), hi)
    out.append(np.where(np.log(lam) > log_mid, hi, lo))  # each entry to its nearer end
    w = rng.choice([lo, mid, hi], size=n)
    w[0], w[-1] = lo, hi
    out.append(w)
    t = 10.0 ** rng.uniform(-6, -0.2)
    out.append(np.clip(lo * (lam / lo) ** t, lo, hi))
    # two-valued at a smaller condition number κ' = κ^u (still inside [lo, hi]), any split
    u = rng.uniform(0, 1)
    w = np.full(n, lo)
    w[rng.permutation(n)[:int(rng.integers(1, n))]] = min(lo * (hi / lo) ** u, hi)
    out.append(w)
    return [np.asarray(w, float) for w in out]


def variants(raw: dict, shape: Shape, rng: np.random.Generator, per_field: int = 1) -> list[dict]:
    """Structured variants of one raw draw (one vector field changed at a time)."""
    if shape.empty or not isinstance(raw, dict):
        return []
    out = []
    for k, fs in shape.fields.items():
        v = raw.get(k)
        if not _is_vector(v):
            continue
        for _ in range(per_field):
            if fs.kind == "dist":
                vs = dist_variants(v, fs.positive, rng)
            elif fs.kind == "spectrum":
                vs = spectrum_variants(v, rng)
            else:
                vs = []
            out += [{**raw, k: w} for w in vs]
    return out


# ----------------------------------------------------------------------------
# Projection for the local push
# ----------------------------------------------------------------------------

def parameterise(raw: dict, shape: Shape):
    """``(θ0, rebuild)``: free coordinates of ``raw`` and the map back into the domain.

    Distribution fields: log-weights of the non-zero entries, rebuilt by a softmax (zeros
    stay zero, positives stay positive); spectra: log-values clipped to the draw's
    ``[min, max]``; scalars: clipped to the range seen in the samples (log scale if positive).
    """
    if shape.empty or not isinstance(raw, dict):
        return np.zeros(0), None
    slots = []  # (key, kind, indices, bounds)
    theta = []
    for k, fs in shape.fields.items():
        v = raw.get(k)
        if fs.kind == "dist" and _is_vector(v):
            idx = np.flatnonzero(v > 0)
            if idx.size >= 2:
                slots.append((k, "dist", idx, None))
                theta += list(np.log(v[idx]))
        elif fs.kind == "spectrum" and _is_vector(v):
            lo, hi = float(v.min()), float(v.max())
            slots.append((k, "spectrum", np.arange(v.size), (math.log(lo), math.log(hi))))
            theta += list(np.log(v))
        elif fs.kind == "scalar" and _is_scalar(v):
            if fs.positive:
                slots.append((k, "scalar-log", None, (math.log(fs.lo), math.log(fs.hi))))
                theta.append(math.log(v))
            else:
                slots.append((k, "scalar", None, (fs.lo, fs.hi)))
                theta.append(v)
    theta0 = np.array(theta, float)

    def rebuild(th):
        y = dict(raw)
        i = 0
        for k, kind, idx, bounds in slots:
            if kind == "dist":
                t = th[i:i + idx.size]
                i += idx.size
                t = np.maximum(t - t.max(), -700.0)  # no underflow to 0: positives stay positive
                w = np.zeros_like(raw[k])
                w[idx] = np.exp(t)
                y[k] = w / w.sum()
            elif kind == "spectrum":
                t = np.clip(th[i:i + idx.size], *bounds)
                i += idx.size
                y[k] = np.exp(t)
            elif kind == "scalar-log":
                y[k] = float(math.exp(min(max(th[i], bounds[0]), bounds[1])))
                i += 1
            else:
                y[k] = float(min(max(th[i], bounds[0]), bounds[1]))
                i += 1
        return y

    return theta0, rebuild
