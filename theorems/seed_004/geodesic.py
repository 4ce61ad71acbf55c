"""Seed 004: geodesic sharpness -- what can be stated concretely, and what cannot.

da Silva, Dangel & Oore, "Hide & Seek: Transformer Symmetries Obscure Sharpness & Riemannian Geometry Finds It"
(the seed's last abstract): sharpness should be measured on the quotient manifold that removes the network's
symmetries (a geodesic ball there); "approximating the geodesics ... up to first order yields existing adaptive
sharpness measures"; results on diagonal networks with synthetic data and on transformers.

* ``seed-004/geodesic-first-order`` (concrete): on a diagonal network f(x) = ⟨u⊙v, x⟩ the symmetry is
  (u, v) → (αu, v/α) (α > 0 per coordinate). Plain sharpness tr H changes under it, the first-order
  (adaptive, elementwise-scaled) sharpness tr(diag|θ| H diag|θ|) = Σ θ_i² H_ii does not: H transforms as
  T⁻¹HT⁻¹ with T = diag(α, 1/α), |θ'| = T|θ|. Checked as an exact identity at rational points, with the
  plain trace as a mutant that must be refuted (so the symmetry is not vacuous at the points drawn).
* ``seed-004/geodesic-correlation`` (ill-posed): "geodesic sharpness reveals strong correlation for real-world
  transformers" cannot be stated concretely from the seed: the abstract gives neither the quotient metric,
  the geodesic radius, the higher-order terms nor the correlation statistic; the reading and the reason are
  the evidence.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from theorems.inequality import Inequality
from theorems.statement import Statement, Verdict, exactify


@st.composite
def _points(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rnd = draw(st.sampled_from([None, 1]))

    def r(k):
        v = rng.standard_normal(k)
        return np.round(v, rnd) if rnd else v

    return {"d": d, "n": n, "X": r(n * d), "y": r(n), "u": r(d), "v": r(d),
            "alpha": rng.choice([0.5, 2.0, 3.0, 0.25, 1.5], d)}


def _unpack(x):
    d, n = x["d"], x["n"]
    X = [list(x["X"][i * d:(i + 1) * d]) for i in range(n)]
    return X, list(x["y"]), list(x["u"]), list(x["v"]), list(x["alpha"])


def _hess_diag(X, y, u, v):
    """diag H of L = 1/(2N)‖X(u⊙v) − y‖²: (v_i² Σ_ii, u_i² Σ_ii) (exact for any point)."""
    n = len(X)
    s = [sum((row[i] * row[i] for row in X), 0 * X[0][0]) / n for i in range(len(u))]
    return [vi * vi * si for vi, si in zip(v, s)] + [ui * ui * si for ui, si in zip(u, s)]


def _adaptive(X, y, u, v):
    theta = u + v
    return sum((t * t * h for t, h in zip(theta, _hess_diag(X, y, u, v))), 0 * theta[0])


def _plain(X, y, u, v):
    return sum(_hess_diag(X, y, u, v), 0 * u[0])


def _moved(u, v, a):
    return [ai * ui for ai, ui in zip(a, u)], [vi / ai for ai, vi in zip(a, v)]


def _sides(measure, moved: bool):
    def f(x):
        X, y, u, v, a = _unpack(x)
        if moved:
            u, v = _moved(u, v, a)
        return float(measure(np.array(X), y, list(np.asarray(u, float)), list(np.asarray(v, float))))

    def b(x, B):
        X, y, u, v, a = _unpack(x)
        if moved:
            u, v = _moved(u, v, a)
        return B.num(measure(X, y, u, v))

    return f, b


_af, _ab = _sides(_adaptive, False)
_amf, _amb = _sides(_adaptive, True)
_pf, _pb = _sides(_plain, False)
_pmf, _pmb = _sides(_plain, True)


def _abs_weighted(X, y, u, v):  # Σ|θ_i| H_ii: scaled by |θ| once, not twice -- not invariant
    theta = u + v
    return sum((abs(t) * h for t, h in zip(theta, _hess_diag(X, y, u, v))), 0 * theta[0])


_wf, _wb = _sides(_abs_weighted, False)
_wmf, _wmb = _sides(_abs_weighted, True)


def _check(x):
    if any(a <= 0 for a in x["alpha"]):
        raise ValueError("the symmetry's scales α must be > 0")


geodesic_first_order = Inequality(
    id="seed-004/geodesic-first-order",
    title="First-order (adaptive) sharpness Σθ_i²H_ii is invariant under the diagonal network's symmetry",
    claim="Approximating geodesic sharpness on the symmetry quotient to first order gives adaptive sharpness, "
    "which -- unlike plain sharpness -- does not change along the symmetry orbits; concretely for a diagonal "
    "network, Σ θ_i² H_ii at (αu, v/α) equals its value at (u, v).",
    reading="Diagonal linear network f(x) = ⟨u⊙v, x⟩, squared loss, any point (not only minima); the elementwise "
    "adaptive sharpness's quadratic form tr(diag|θ| H diag|θ|) = Σθ_i²H_ii (its trace version, exact in rationals); "
    "α a positive scale per coordinate.",
    domain=_points(), prepare=exactify, domain_check=_check, relation="==",
    lhs_float=_af, rhs_float=_amf, lhs_exact=_ab, rhs_exact=_amb,
    size=lambda x: x["d"], quick_examples=40, full_examples=800,
    extra_mutants=lambda s: [s.mutant("plain sharpness tr H invariant too", lhs_float=_pf, rhs_float=_pmf,
                                      lhs_exact=_pb, rhs_exact=_pmb),
                            s.mutant("Σ|θ_i|H_ii invariant", lhs_float=_wf, rhs_float=_wmf, lhs_exact=_wb,
                                     rhs_exact=_wmb)],
    proof="(αu_i)²·(v_i/α)²Σ_ii = u_i²v_i²Σ_ii and (v_i/α)²·(αu_i)²Σ_ii likewise: each term θ_i²H_ii is u_i²v_i²Σ_ii.",
    expected="holds",
)


class GeodesicCorrelation(Statement):
    id = "seed-004/geodesic-correlation"
    title = "Geodesic sharpness on the symmetry quotient correlates with generalisation (transformers)"
    claim = ("Sharpness redefined on the quotient manifold of the transformer symmetries (a geodesic ball) reveals "
             "strong correlation with generalisation; higher-order terms beyond the first-order (adaptive) "
             "approximation are crucial.")
    reading = ("Not stated concretely by the seed: it gives no quotient metric, geodesic radius, order of the "
               "approximation, correlation statistic or threshold for 'strong'. The one concrete consequence -- "
               "first-order sharpness is constant along symmetry orbits -- is seed-004/geodesic-first-order.")
    expected = "ill-posed"
    few_mutants_reason = "ill-posed: nothing to mutate"

    def mutants(self):
        return []

    def check(self, effort: str = "quick"):
        t0 = time.perf_counter()
        # a concrete illustration of the premise (symmetries obscure plain sharpness), computed each run
        X, y = [[Fraction(1), Fraction(2)], [Fraction(-1), Fraction(1)]], [Fraction(1), Fraction(0)]
        u, v = [Fraction(1), Fraction(1, 2)], [Fraction(1, 3), Fraction(2)]
        mu, mv = _moved(u, v, [Fraction(4), Fraction(1, 4)])
        plain = (float(_plain(X, y, u, v)), float(_plain(X, y, mu, mv)))
        adaptive = (float(_adaptive(X, y, u, v)), float(_adaptive(X, y, mu, mv)))
        ev = {"summary": "ill-posed: no quotient metric, radius or correlation statistic in the seed; "
                         f"premise shown: tr H {plain[0]:.4g} → {plain[1]:.4g} along a symmetry orbit, adaptive "
                         f"{adaptive[0]:.4g} → {adaptive[1]:.4g}",
              "missing_from_the_seed": ["quotient metric", "geodesic radius ρ", "approximation order",
                                        "correlation statistic and threshold", "models and data"],
              "premise_tr_H_before_after": plain, "premise_adaptive_before_after": adaptive}
        return self.result(Verdict.ILL_POSED, ev, None, t0)


STATEMENTS = [geodesic_first_order, GeodesicCorrelation()]
