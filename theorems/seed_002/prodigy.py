"""Seed 002: Prodigy with the moving averages off is sign descent (steepest descent under ℓ∞).

Bernstein & Newhouse (arXiv:2409.20325) list Prodigy (Mishchenko & Defazio 2023) among the optimisers
that, "after switching off exponential moving averages", are steepest descent under a norm. With
β₁ = β₂ = 0 (so β₃ = √β₂ = 0) the reference recurrence (:mod:`numerics.prodigy`) gives, exactly,

    u = x_new − x = −lr·d'·g/(|g| + ε·d'/d),     d' = max(d_max, d̂),   d̂ = ⟨g, x₀ − x⟩/‖g‖₁,

so ``u/(lr·d') → −sign(g)`` as ε → 0 with ‖u/(lr·d') + sign g‖∞ = ε'/(min_{g_i≠0}|g_i| + ε'), ε' = ε·d'/d:
sign descent with the step size lr·d' set by Prodigy's running estimate. And d̂ ≤ ‖x − x₀‖∞ (Hölder):
the distance Prodigy estimates is measured in ℓ∞, the norm whose steepest direction it follows.

Inputs are states reached by running float Prodigy (β = 0) for 0-6 steps on random quadratics, with
zero gradient entries mixed in; each claim is checked on one step from that state, exactly.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from numerics import prodigy as pg
from theorems.inequality import Inequality
from theorems.statement import exactify


@st.composite
def _states(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 5))
    lr = draw(st.sampled_from([1.0, 0.5, 0.1]))
    eps = draw(st.sampled_from([1e-8, 1e-3, 0.1, 1.0]))
    d0 = draw(st.sampled_from([1e-6, 1e-3, 0.1, 1.0]))
    steps = draw(st.integers(0, 6))
    a = rng.uniform(0.2, 5.0, n)
    c = rng.standard_normal(n) * draw(st.sampled_from([1.0, 1e-3, 100.0]))
    x0 = rng.standard_normal(n)
    xs, state = pg.prodigy_run(x0, lambda x: a * (x - c), steps, lr=lr, betas=(0.0, 0.0), eps=eps, d0=d0)
    x = xs[-1]
    g = a * (x - c)
    if draw(st.booleans()):
        g[rng.random(n) < 0.3] = 0.0
    d, d_max = (d0, d0) if state is None else (state.d, state.d_max)
    return {"x0": x0, "x": x, "g": g, "d": d, "d0": d0, "d_max": d_max, "lr": lr, "eps": eps}


def _domain_check(x):
    if not (x["d"] > 0 and x["d0"] > 0 and x["d_max"] >= x["d"] and x["lr"] > 0 and x["eps"] > 0):
        raise ValueError("need d, d0, lr, eps > 0 and d_max ≥ d")
    if not (len(x["x0"]) == len(x["x"]) == len(x["g"]) >= 1):
        raise ValueError("x0, x, g must be vectors of one length ≥ 1")


def _float_step(x):
    """The float library's step from the stated state: (update, d before, d after, d̂)."""
    st_ = pg.ProdigyState(d=x["d"], d0=x["d0"], d_max=x["d_max"], x0=np.array(x["x0"]),
                          m=np.zeros(len(x["g"])), v=np.zeros(len(x["g"])), s=np.zeros(len(x["g"])))
    u, st_ = pg.prodigy_update(x["x"], x["g"], st_, lr=x["lr"], betas=(0.0, 0.0), eps=x["eps"], d0=x["d0"])
    return u, x["d"], st_.d, st_.d_hat


def _exact_step(x):
    return pg.prodigy_zero_beta_step_exact(x["x"], x["x0"], x["g"], x["d"], x["d0"], x["d_max"], x["lr"], x["eps"])


def _gap_float(normalise_old: bool = False):
    def f(x):
        u, d, d_new, _ = _float_step(x)
        if not np.any(x["g"]):
            return 0.0
        return float(np.max(np.abs(u / (x["lr"] * (d if normalise_old else d_new)) + np.sign(x["g"]))))

    return f


def _gap_exact(normalise_old: bool = False):
    def f(x, B):
        u, d_new = _exact_step(x)
        if u is None:
            return B.num(0)
        step = x["lr"] * (x["d"] if normalise_old else d_new)
        return B.num(max(abs(ui / step + ((gi > 0) - (gi < 0))) for ui, gi in zip(u, x["g"])))

    return f


def _law_float(same_eps: bool = False):
    def f(x):
        _, d, d_new, _ = _float_step(x)
        nz = np.abs(x["g"])[x["g"] != 0]
        if nz.size == 0:
            return 0.0
        e = x["eps"] if same_eps else x["eps"] * d_new / d
        return e / (float(np.min(nz)) + e)

    return f


def _law_exact(same_eps: bool = False):
    def f(x, B):
        u, d_new = _exact_step(x)
        nz = [abs(v) for v in x["g"] if v != 0]
        if u is None or not nz:
            return B.num(0)
        e = x["eps"] if same_eps else x["eps"] * d_new / x["d"]
        return B.num(e / (min(nz) + e))

    return f


prodigy_sign = Inequality(
    id="seed-002/prodigy-sign",
    title="Prodigy with β₁ = β₂ = 0 is sign descent with step lr·d': ‖u/(lr·d') + sign g‖∞ = ε'/(min|g_i| + ε')",
    claim="Prodigy with its moving averages off (β₁ = β₂ = 0, β₃ = √β₂ = 0) steps u = −lr·d'·g/(|g| + ε·d'/d): "
    "sign descent (steepest descent under ℓ∞) with step size lr·d', exactly up to "
    "‖u/(lr·d') + sign g‖∞ = ε'/(min_{g_i≠0}|g_i| + ε') with ε' = ε·d'/d, which → 0 as ε → 0.",
    reading="The reference implementation's recurrence (prodigyopt, weight decay 0, no bias correction, growth "
    "rate ∞); one step from a state (x₀, x, d, d_max) reached by running it; d' the estimate after the step; "
    "sign 0 = 0; g = 0 takes no step (both sides 0).",
    domain=_states(),
    prepare=exactify,
    domain_check=_domain_check,
    relation="==",
    lhs_float=_gap_float(),
    rhs_float=_law_float(),
    lhs_exact=lambda x, B: _gap_exact()(x, B),
    rhs_exact=lambda x, B: _law_exact()(x, B),
    size=lambda x: len(x["g"]),
    # the float lhs is |u/(lr·d') + sign g|, a cancellation of O(1) numbers (absolute error a few 1e-16), so
    # sides below 1e-6 are compared on that absolute scale (tolerance 1e-9·1e-6 = 1e-15)
    scale_floor=1e-6,
    side_tol=1e-9,
    quick_examples=60,
    full_examples=1500,
    extra_mutants=lambda s: [
        s.mutant("same ε as Adam (ε' = ε)", rhs_float=_law_float(True), rhs_exact=lambda x, B: _law_exact(True)(x, B)),
        s.mutant("step lr·d (the estimate before the step)", lhs_float=_gap_float(True),
                 lhs_exact=lambda x, B: _gap_exact(True)(x, B)),
        s.mutant("exactly sign descent for ε > 0", rhs_float=lambda x: 0.0, rhs_exact=lambda x, B: B.num(0)),
    ],
    proof="β₂ = 0: v = d²g², √v = d|g|; β₁ = 0: x ← x − (d·lr)·d'·g/(d|g| + d'ε) = x − lr·d'·g/(|g| + ε d'/d); then "
    "u_i/(lr d') + sign g_i = sign(g_i)·ε'/(|g_i| + ε'), largest at the smallest nonzero |g_i|.",
    expected="holds",
)


def _dhat_float(x):
    return _float_step(x)[3] if np.any(x["g"]) else 0.0


def _dhat_exact(x, B):
    g = x["g"]
    l1 = sum((abs(v) for v in g), Fraction(0))
    if l1 == 0:
        return B.num(0)
    # r/‖s‖₁ of the recurrence: the common factor (d/d₀)·d·lr cancels, exactly
    return B.num(sum((a * (b - c) for a, b, c in zip(g, x["x0"], x["x"])), Fraction(0)) / l1)


prodigy_linf = Inequality(
    id="seed-002/prodigy-linf-estimate",
    title="Prodigy's distance estimate is an ℓ∞ distance: d̂ = ⟨g, x₀ − x⟩/‖g‖₁ ≤ ‖x − x₀‖∞",
    claim="With β₁ = β₂ = 0 Prodigy's estimate d̂ = r/‖s‖₁ reduces to ⟨g, x₀ − x⟩/‖g‖₁, at most ‖x − x₀‖∞ "
    "(Hölder, ℓ1/ℓ∞ duality): the step size lr·d' tracks the ℓ∞ distance travelled, the norm of sign descent.",
    reading="As seed-002/prodigy-sign; g = 0: no step, d̂ = 0 by convention.",
    domain=_states(),
    prepare=exactify,
    domain_check=_domain_check,
    lhs_float=_dhat_float,
    rhs_float=lambda x: float(np.max(np.abs(x["x"] - x["x0"]))),
    lhs_exact=_dhat_exact,
    rhs_exact=lambda x, B: B.num(max(abs(a - b) for a, b in zip(x["x"], x["x0"]))),
    size=lambda x: len(x["g"]),
    quick_examples=60,
    full_examples=1500,
    extra_mutants=lambda s: [
        s.mutant("estimate never exceeds the current d", rhs_float=lambda x: x["d"],
                 rhs_exact=lambda x, B: B.num(x["d"])),
    ],
    proof="⟨g, x₀ − x⟩ ≤ ‖g‖₁‖x₀ − x‖∞.",
    expected="holds",
)

STATEMENTS = [prodigy_sign, prodigy_linf]
