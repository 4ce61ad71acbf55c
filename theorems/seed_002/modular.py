"""Seed 002: norms by role, the max-of-norms duality, per-layer dualisation, and the step size.

Bernstein & Newhouse (arXiv:2409.20325) propose assigning each tensor a norm by its role (a vector
under ℓ∞, a linear layer under the spectral norm, an embedding under the ℓ1→ℓ2 operator norm) and
metrizing the network by the max of the (scaled) tensor norms. Four claims, as inequalities over
small networks (:mod:`numerics.modular_norm`; 2×2 linear layers, so the spectral quantities have closed
forms in square roots and every side is exact in Arb):

* ``seed-002/modular-dual``: ⟨G, D⟩ ≤ Σ_l s_l ‖G_l‖_(l)* for every D with max_l ‖D_l‖_(l)/s_l ≤ 1
  (the dual of the max of norms is the scaled sum of the duals);
* ``seed-002/per-layer-dualisation``: the per-layer dualised D_l = s_l·argmax_{‖d‖_(l)≤1}⟨G_l, d⟩
  attains it, ⟨G, D⟩ = Σ_l s_l ‖G_l‖_(l)* ...
* ``seed-002/per-layer-dualisation/unit-norm``: ... with ‖D‖ ≤ 1, so it *is* steepest descent under the
  max norm across layers;
* ``seed-002/steepest-step`` and ``/value``: with sharpness λ, Δ* = −(‖G‖_*/λ)·D* minimises the model
  ⟨G,Δ⟩ + (λ/2)‖Δ‖² (the step size is the dual norm over the sharpness), and model(Δ*) = −‖G‖_*²/(2λ).

The direction D is drawn near the per-layer maximiser (and at random) and pulled exactly into the
ball, so the search probes the tight region; mutants (the sum-of-norms' dual max_l, Frobenius
dualisation of a linear layer, layers without their scales, half / primal-norm / unit steps) must be
refuted with certified counterexamples.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from numerics import modular_norm as mn
from theorems.inequality import Inequality
from theorems.statement import exactify

LAYOUTS = ["linf:1", "linf:4", "spectral:2x2", "columns:2x3", "columns:3x1", "linf:3;spectral:2x2",
           "spectral:2x2;spectral:2x2", "linf:2;spectral:2x2;columns:2x3", "columns:2x2;linf:2"]
SCALES = [1.0, 0.5, 2.0, 0.25, 3.0]
GRADIENT_KINDS = ["normal", "integers", "zeros", "rank-one", "all-zero", "wide-range"]


def _gradient(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "integers":
        return rng.integers(-5, 6, n).astype(float)
    if kind == "all-zero":
        return np.zeros(n)
    if kind == "wide-range":
        return rng.standard_normal(n) * 10.0 ** rng.integers(-6, 7, n)
    g = rng.standard_normal(n)
    if kind == "zeros":
        g[rng.random(n) < 0.4] = 0.0
    if kind == "rank-one":
        g = np.round(g, 1)
    return g


@st.composite
def _network_inputs(draw, point: str):
    """Raw input: layout, scales, gradient, sharpness, and a point (D in the ball, or a step Δ)."""
    layout = draw(st.sampled_from(LAYOUTS))
    tensors = mn.parse_layout(layout)
    n = sum(t.size for t in tensors)
    scales = [draw(st.sampled_from(SCALES)) for _ in tensors]
    kind = draw(st.sampled_from(GRADIENT_KINDS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    g = _gradient(rng, kind, n)
    if kind == "rank-one":  # every spectral block rank one: det = 0 exactly
        i = 0
        for t in tensors:
            if t.role == "spectral":
                u, v = rng.integers(-3, 4, 2), rng.integers(-3, 4, 2)
                g[i:i + 4] = np.outer(u, v).ravel()
            i += t.size
    lam = draw(st.sampled_from([1.0, 0.5, 4.0, 1e-3, 1e3, 0.3]))
    noise = draw(st.sampled_from([0.0, 0.0, 1e-9, 1e-4, 1e-2, 1.0]))
    d_star = mn.per_layer_direction(g, layout, scales)
    if point == "direction":
        mode = draw(st.sampled_from(["maximiser", "maximiser", "random"]))
        d = d_star if mode == "maximiser" else rng.standard_normal(n)
        d = d + noise * rng.standard_normal(n)
        return {"layout": layout, "scales": scales, "g": g, "d": d}
    c = draw(st.sampled_from([1.0, 1.0, 0.5, 2.0, 0.9, 1.1]))
    delta = c * mn.steepest_descent_step(g, lam, layout, scales) + noise * rng.standard_normal(n)
    return {"layout": layout, "scales": scales, "g": g, "lam": lam, "delta": delta}


def feasible_exact(d: list, layout: str, scales: list) -> bool:
    """``max_l ‖D_l‖_(l)/s_l ≤ 1`` decided in rationals (squared norms; Sylvester for 2×2)."""
    for x, t, s in zip(mn.split(d, layout), mn.parse_layout(layout), scales):
        if t.role == "linf":
            if any(abs(v) > s for v in x):
                return False
        elif t.role == "columns":
            if any(sum((r[j] ** 2 for r in x), Fraction(0)) > s * s for j in range(len(x[0]))):
                return False
        else:  # s²I − DᵀD ⪰ 0  ⇔  trace ≥ 0 and det ≥ 0 (2×2)
            (a, b), (c, e) = x
            m11, m22 = s * s - a * a - c * c, s * s - b * b - e * e
            m12 = -(a * b + c * e)
            if m11 + m22 < 0 or m11 * m22 - m12 * m12 < 0:
                return False
    return True


def _into_ball(d: list, layout: str, scales: list) -> list:
    """``d / r`` with a rational r ≥ ‖d‖ (barely): exactly feasible and within ~1e-12 of the boundary."""
    nrm = mn.network_norm(np.array([float(v) for v in d]), layout, [float(s) for s in scales])
    if nrm == 0:
        return d
    r = Fraction(nrm) * (1 + Fraction(1, 2**40))
    while not feasible_exact([v / r for v in d], layout, scales):
        r *= 1 + Fraction(1, 2**20)
    return [v / r for v in d]


def _prepare_direction(raw):
    x = exactify(raw)
    x["d"] = _into_ball(x["d"], x["layout"], x["scales"])
    return x


def _check_direction_domain(x):
    mn.parse_layout(x["layout"])
    if any(s <= 0 for s in x["scales"]):
        raise ValueError("scales must be > 0")
    if not feasible_exact(x["d"], x["layout"], x["scales"]):
        raise ValueError("D lies outside the max-norm unit ball")


def _check_step_domain(x):
    mn.parse_layout(x["layout"])
    if any(s <= 0 for s in x["scales"]) or x["lam"] <= 0:
        raise ValueError("scales and the sharpness λ must be > 0")


def _size(x):
    return len(x["g"])


# -- the dual of the max of norms ------------------------------------------------------------------


def _max_dual(x):
    return max(s * mn.tensor_dual_norm(p, t.role) for p, t, s in
               zip(mn.split(x["g"], x["layout"]), mn.parse_layout(x["layout"]), x["scales"]))


def _max_dual_b(x, B):
    out = None
    for p, t, s in zip(mn.split(x["g"], x["layout"]), mn.parse_layout(x["layout"]), x["scales"]):
        v = B.num(s) * mn.tensor_dual_norm_b(p, t.role, B)
        out = v if out is None else B.max(out, v)
    return out


def _frobenius_dual(x):
    return sum(s * (float(np.linalg.norm(p)) if t.role == "spectral" else mn.tensor_dual_norm(p, t.role))
               for p, t, s in zip(mn.split(x["g"], x["layout"]), mn.parse_layout(x["layout"]), x["scales"]))


def _frobenius_dual_b(x, B):
    return B.sum([B.num(s) * (B.sqrt(B.num(sum((v * v for r in p for v in r), Fraction(0)))) if t.role == "spectral"
                              else mn.tensor_dual_norm_b(p, t.role, B))
                  for p, t, s in zip(mn.split(x["g"], x["layout"]), mn.parse_layout(x["layout"]), x["scales"])])


def _dual(x):
    return mn.network_dual_norm(x["g"], x["layout"], x["scales"])


def _dual_b(x, B):
    return mn.network_dual_norm_b(x["g"], x["layout"], x["scales"], B)


_direction_domain = _network_inputs("direction")

modular_dual = Inequality(
    id="seed-002/modular-dual",
    title="Max-of-norms duality: ⟨G,D⟩ ≤ Σ_l s_l‖G_l‖_(l)* on the ball max_l ‖D_l‖_(l)/s_l ≤ 1",
    claim="For a network metrized by ‖W‖ = max_l ‖W_l‖_(l)/s_l with norms chosen by role (vector: ℓ∞, linear "
    "layer: spectral, embedding: ℓ1→ℓ2), the dual norm is ‖G‖_* = Σ_l s_l ‖G_l‖_(l)*: ⟨G, D⟩ ≤ Σ_l s_l‖G_l‖_(l)* "
    "for every D in the unit ball (attainment: seed-002/per-layer-dualisation).",
    reading="Roles and norms as in the anthology's examples; linear layers 2×2 here (closed forms), scales s_l > 0; "
    "D exactly inside the ball (pulled in by a rational factor ≥ its norm).",
    domain=_direction_domain,
    prepare=_prepare_direction,
    domain_check=_check_direction_domain,
    lhs_float=lambda x: float(x["g"] @ x["d"]),
    rhs_float=_dual,
    lhs_exact=lambda x, B: mn.inner_b(x["g"], x["d"], B),
    rhs_exact=_dual_b,
    size=_size,
    quick_examples=60,
    full_examples=1500,
    extra_mutants=lambda s: [
        s.mutant("dual is max over layers", rhs_float=_max_dual, rhs_exact=_max_dual_b),
        s.mutant("linear layer dualised with Frobenius", rhs_float=_frobenius_dual, rhs_exact=_frobenius_dual_b),
    ],
    proof="⟨G,D⟩ = Σ_l ⟨G_l,D_l⟩ ≤ Σ_l ‖G_l‖_(l)*‖D_l‖_(l) ≤ Σ_l s_l‖G_l‖_(l)* (Hölder per layer, ‖D_l‖_(l) ≤ s_l).",
    expected="holds",
)


# -- per-layer dualisation attains it, inside the ball -----------------------------------------------


def _pl_inner(dualisation="dual", scaled=True):
    def f(x):
        g, lay, s = x["g"], x["layout"], x["scales"]
        if dualisation == "dual" and scaled:  # the claim: the library's per-layer dualisation
            d = mn.per_layer_direction(g, lay, s)
            return float(g @ d), mn.network_norm(d, lay, s)
        d = []
        for p, t, sl in zip(mn.split(g, lay), mn.parse_layout(lay), s):
            if dualisation == "frobenius":
                nf = float(np.linalg.norm(p))
                v = p / nf if nf > 0 else np.zeros_like(p)
            else:
                v = mn.tensor_direction(p, t.role)
            d.append((sl if scaled else 1.0) * v.ravel())
        d = np.concatenate(d)
        return float(g @ d), mn.network_norm(d, lay, s)

    def b(x, B):
        return mn.per_layer_inner_norm_b(x["g"], x["layout"], x["scales"], B, dualisation, scaled)

    return f, b


_inner_f, _inner_b = _pl_inner()
_frob_f, _frob_b = _pl_inner("frobenius")
_unscaled_f, _unscaled_b = _pl_inner(scaled=False)

per_layer = Inequality(
    id="seed-002/per-layer-dualisation",
    title="Per-layer dualisation attains the max-norm dual: ⟨G, D_pl⟩ = Σ_l s_l‖G_l‖_(l)*",
    claim="Dualising the gradient layer by layer, D_l = s_l·argmax_{‖d‖_(l)≤1}⟨G_l,d⟩ (sign g for ℓ∞, U Vᵀ for "
    "spectral, normalised columns for ℓ1→ℓ2), gives ⟨G, D⟩ = ‖G‖_* = Σ_l s_l‖G_l‖_(l)*, so with "
    "seed-002/modular-dual and /unit-norm it is steepest descent under the max norm across layers.",
    reading="As seed-002/modular-dual; sign 0 = 0, zero columns and a zero linear layer map to 0.",
    domain=_direction_domain,
    prepare=exactify,
    domain_check=lambda x: _check_step_domain({**x, "lam": 1}),
    relation="==",
    lhs_float=lambda x: _inner_f(x)[0],
    rhs_float=_dual,
    lhs_exact=lambda x, B: _inner_b(x, B)[0],
    rhs_exact=_dual_b,
    size=_size,
    quick_examples=60,
    full_examples=1500,
    extra_mutants=lambda s: [
        s.mutant("linear layer dualised with Frobenius", lhs_float=lambda x: _frob_f(x)[0],
                 lhs_exact=lambda x, B: _frob_b(x, B)[0]),
        s.mutant("layers without their scales", lhs_float=lambda x: _unscaled_f(x)[0],
                 lhs_exact=lambda x, B: _unscaled_b(x, B)[0]),
    ],
    proof="⟨G_l, s_l d_l⟩ = s_l‖G_l‖_(l)* by the definition of the dual norm (attained: sign, polar factor, "
    "normalised columns); sum over layers.",
    expected="holds",
)

per_layer_unit = Inequality(
    id="seed-002/per-layer-dualisation/unit-norm",
    title="Per-layer dualisation lies in the max-norm unit ball: max_l ‖D_l‖_(l)/s_l ≤ 1",
    claim="The per-layer dualised direction has network norm max_l ‖D_l‖_(l)/s_l ≤ 1 (= 1 unless G = 0).",
    reading="As seed-002/per-layer-dualisation.",
    domain=_direction_domain,
    prepare=exactify,
    domain_check=lambda x: _check_step_domain({**x, "lam": 1}),
    lhs_float=lambda x: _inner_f(x)[1],
    rhs_float=lambda x: 1.0,
    lhs_exact=lambda x, B: _inner_b(x, B)[1],
    rhs_exact=lambda x, B: B.num(1),
    size=_size,
    quick_examples=60,
    full_examples=1500,
    trivial=lambda x: False,
    extra_mutants=lambda s: [
        s.mutant("layers without their scales", lhs_float=lambda x: _unscaled_f(x)[1],
                 lhs_exact=lambda x, B: _unscaled_b(x, B)[1]),
    ],
    proof="‖s_l d_l‖_(l)/s_l = ‖d_l‖_(l) = 1 for G_l ≠ 0 (0 otherwise).",
    expected="holds",
)


# -- the step size: dual norm over sharpness --------------------------------------------------------

_step_domain = _network_inputs("step")


def _step_float(scale):
    """Model value at Δ = −c·D* with c = scale(dual, x)/λ."""

    def f(x):
        g, lay, s, lam = x["g"], x["layout"], x["scales"], x["lam"]
        dual = mn.network_dual_norm(g, lay, s)
        if scale is None:
            delta = mn.steepest_descent_step(g, lam, lay, s)
        else:
            delta = -(scale(dual, x) / lam) * mn.per_layer_direction(g, lay, s)
        return mn.model_value(g, delta, lam, lay, s)

    return f


def _step_exact(scale_b):
    def b(x, B):
        step = None if scale_b is None else (lambda dual, B: scale_b(dual, x, B) / B.num(x["lam"]))
        return mn.model_value_at_step_b(x["g"], x["lam"], x["layout"], x["scales"], B, step)

    return b


_HALF = (lambda dual, x: dual / 2, lambda dual, x, B: dual / 2)
_PRIMAL = (lambda dual, x: mn.network_norm(x["g"], x["layout"], x["scales"]),
           lambda dual, x, B: mn.network_norm_b(x["g"], x["layout"], x["scales"], B))
_UNIT = (lambda dual, x: 1.0, lambda dual, x, B: B.num(1))

def _neg(f):
    return lambda *a: -f(*a)


steepest_step = Inequality(
    id="seed-002/steepest-step",
    title="Step size of steepest descent: Δ* = −(‖G‖_*/λ)·D* minimises ⟨G,Δ⟩ + (λ/2)‖Δ‖²",
    claim="Under the network norm with sharpness λ > 0, the steepest-descent step is the direction D* "
    "(per-layer dualised) scaled by the dual norm of the gradient over the sharpness: Δ* = −(‖G‖_*/λ)·D* "
    "minimises the model ⟨G, Δ⟩ + (λ/2)‖Δ‖² over all Δ, i.e. the decrease −model(Δ) ≤ −model(Δ*) for every Δ.",
    reading="‖·‖ the max-of-norms of seed-002/modular-dual (one tensor: plain ℓ∞ / spectral / ℓ1→ℓ2); the model "
    "is the anthology's ⟨g, Δ⟩ + (λ/2)‖Δ‖²; Δ drawn near c·Δ* (c ∈ {½, 0.9, 1, 1.1, 2}) and at random. Written "
    "as decreases (lhs: any Δ, rhs: Δ*) so that both sides are ≥ 0 at the optimum.",
    domain=_step_domain,
    prepare=exactify,
    domain_check=_check_step_domain,
    lhs_float=lambda x: -mn.model_value(x["g"], x["delta"], x["lam"], x["layout"], x["scales"]),
    rhs_float=_neg(_step_float(None)),
    lhs_exact=lambda x, B: -mn.model_value_b(x["g"], x["delta"], x["lam"], x["layout"], x["scales"], B),
    rhs_exact=_neg(_step_exact(None)),
    size=_size,
    quick_examples=60,
    full_examples=1500,
    extra_mutants=lambda s: [
        s.mutant("half step ‖G‖_*/(2λ)", rhs_float=_neg(_step_float(_HALF[0])), rhs_exact=_neg(_step_exact(_HALF[1]))),
        s.mutant("primal-norm step ‖G‖/λ", rhs_float=_neg(_step_float(_PRIMAL[0])),
                 rhs_exact=_neg(_step_exact(_PRIMAL[1]))),
        s.mutant("unit step 1/λ", rhs_float=_neg(_step_float(_UNIT[0])), rhs_exact=_neg(_step_exact(_UNIT[1]))),
    ],
    proof="⟨G,Δ⟩ ≥ −‖G‖_*‖Δ‖, so model(Δ) ≥ min_t (−‖G‖_* t + λt²/2) = −‖G‖_*²/(2λ) at t = ‖G‖_*/λ, attained by "
    "Δ = −t·D* since ⟨G,D*⟩ = ‖G‖_* and ‖D*‖ = 1.",
    expected="holds",
)

steepest_step_value = Inequality(
    id="seed-002/steepest-step/value",
    title="Steepest-descent model decrease: model(Δ*) = −‖G‖_*²/(2λ)",
    claim="At Δ* = −(‖G‖_*/λ)·D*: ⟨G,Δ*⟩ + (λ/2)‖Δ*‖² = −‖G‖_*²/(2λ).",
    reading="As seed-002/steepest-step.",
    domain=_step_domain,
    prepare=exactify,
    domain_check=_check_step_domain,
    relation="==",
    lhs_float=_step_float(None),
    rhs_float=lambda x: -_dual(x) ** 2 / (2 * x["lam"]),
    lhs_exact=_step_exact(None),
    rhs_exact=lambda x, B: -_dual_b(x, B) * _dual_b(x, B) / (2 * B.num(x["lam"])),
    size=_size,
    quick_examples=40,
    full_examples=1000,
    extra_mutants=lambda s: [
        s.mutant("dropped ½: −‖G‖_*²/λ", rhs_float=lambda x: -_dual(x) ** 2 / x["lam"],
                 rhs_exact=lambda x, B: -_dual_b(x, B) * _dual_b(x, B) / B.num(x["lam"])),
        s.mutant("dual not squared: −‖G‖_*/(2λ)", rhs_float=lambda x: -_dual(x) / (2 * x["lam"]),
                 rhs_exact=lambda x, B: -_dual_b(x, B) / (2 * B.num(x["lam"]))),
    ],
    proof="−(‖G‖_*/λ)‖G‖_* + (λ/2)(‖G‖_*/λ)² = −‖G‖_*²/(2λ).",
    expected="holds",
)

STATEMENTS = [modular_dual, per_layer, per_layer_unit, steepest_step, steepest_step_value]
