"""Steepest-descent directions (sign descent, Adam, the polar factor, the nuclear norm, Shampoo):
float64 against the mpmath twins, through the agreement registry (tests/numerics/agreement.py).

Vector- and matrix-valued twins are compared entry by entry: the strategy draws the input and the
index of the entry. The statements that use these functions (``seed-002/*``) and their own
comparisons are in tests/theorems/test_seed_002.py.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import strategies as st

from numerics import steepest_descent as sd
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps
#: condition numbers drawn for the polar factor and Shampoo (their float errors grow like κ and κ²)
MAX_KAPPA = 1e3


def _magnitudes(lo, hi):
    return st.floats(lo, hi).map(lambda e: 10.0**e)


@st.composite
def gradients(draw, min_exp: float = -100, max_exp: float = 100, max_n: int = 8):
    """Vectors with exact zeros, ±, magnitudes over 200 decades, or all entries equal in size."""
    n = draw(st.integers(1, max_n))
    kind = draw(st.sampled_from(["plain", "logmag", "equal"]))
    signs = draw(st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=n, max_size=n))
    if kind == "plain":
        mags = draw(st.lists(st.floats(1e-3, 1e3), min_size=n, max_size=n))
    elif kind == "logmag":
        mags = draw(st.lists(_magnitudes(min_exp, max_exp), min_size=n, max_size=n))
    else:
        mags = [draw(_magnitudes(min_exp, max_exp))] * n
    return np.array([s * m for s, m in zip(signs, mags)])


@st.composite
def with_index(draw, values):
    """(x, k): an input and the flat index of the output entry to compare."""
    x = draw(values)
    return x, draw(st.integers(0, x.size - 1))


# ----------------------------------------------------------------------------
# sign descent and Adam
# ----------------------------------------------------------------------------

@st.composite
def sign_args(draw):
    g, k = draw(with_index(gradients(min_exp=-323, max_exp=307)))
    return g, k


@st.composite
def adam_args(draw):
    """(g, eps, β₁, β₂, t, m_prev, v_prev, k) in the range where float64 represents v = g²
    (|g| in 1e-100..1e100, see adam_update's notes) and β·m_prev, β·v_prev (β = 0 or ≥ 1e-3: a
    β₁ of 1e-250 would underflow β₁·m_prev); m_prev has the signs of g, so that m does not cancel
    (a cancelling m has an absolute error ~eps·(|β₁m_prev| + |(1−β₁)g|), not a relative one)."""
    g = draw(gradients())
    eps = draw(st.one_of(st.just(0.0), _magnitudes(-200, 1)))
    b1 = draw(st.one_of(st.sampled_from([0.0, 0.5, 0.9, 0.999]), st.floats(1e-3, 0.999)))
    b2 = draw(st.one_of(st.sampled_from([0.0, 0.9, 0.999]), st.floats(1e-3, 0.999)))
    step = draw(st.integers(1, 50))
    m_prev = v_prev = None
    if draw(st.booleans()):
        mags = np.array(draw(st.lists(_magnitudes(-100, 100), min_size=g.size, max_size=g.size)))
        m_prev = np.where(g < 0, -mags, mags)
        v_prev = np.array(draw(st.lists(st.one_of(st.just(0.0), _magnitudes(-200, 200)),
                                        min_size=g.size, max_size=g.size)))
    if eps == 0.0:  # 0/0 where v̂ = 0: both sides raise ValueError (tested in test_seed_002)
        vp = np.zeros_like(g) if v_prev is None else v_prev
        g = np.where(b2 * vp + (1 - b2) * g * g == 0, 1.0, g)
    return g, eps, b1, b2, step, m_prev, v_prev, draw(st.integers(0, g.size - 1))


def _adam_entry(g, eps, b1, b2, step, m_prev, v_prev, k):
    return float(sd.adam_update(g, eps, b1, b2, step, m_prev, v_prev)[k])


def _adam_entry_mp(g, eps, b1, b2, step, m_prev, v_prev, k):
    return sd.adam_update_mp(g, eps, b1, b2, step, m_prev, v_prev)[k]


# ----------------------------------------------------------------------------
# matrices: the polar factor, the nuclear norm, Shampoo
# ----------------------------------------------------------------------------

def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@st.composite
def matrices(draw, max_kappa: float | None = MAX_KAPPA, max_dim: int = 4):
    """m × n matrices (m, n ≤ 4), scaled over ±100 decades:

    * ``plain``: i.i.d. entries in [−10, 10] (kept when κ ≤ max_kappa, else replaced by a
      prescribed spectrum);
    * ``spectrum``: U diag(σ) Vᵀ with random orthogonal U, V and κ = σ₁/σ_k log-uniform up to
      max_kappa (up to 1e12 when max_kappa is None), ends pinned;
    * ``repeated``: all singular values equal (U Vᵀ is still unique), or equal but the last;
    * ``low-rank``: products of small integer matrices, exactly of rank < min(m, n) (rank 0
      included), scaled by a power of 2 so that the rank stays exact.
    """
    m, n = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    k = min(m, n)
    kind = draw(st.sampled_from(["plain", "spectrum", "repeated", "low-rank"]))
    if kind == "low-rank" and k == 1:
        kind = "plain"
    if kind == "low-rank":
        r = draw(st.integers(0, k - 1))
        A = np.array(draw(st.lists(st.integers(-3, 3), min_size=m * r, max_size=m * r)), dtype=float).reshape(m, r)
        B = np.array(draw(st.lists(st.integers(-3, 3), min_size=r * n, max_size=r * n)), dtype=float).reshape(r, n)
        return np.ldexp(A @ B, draw(st.integers(-300, 300)))
    scale = 10.0 ** draw(st.floats(-100, 100))
    if kind == "plain":
        G = np.array(draw(st.lists(st.floats(-10, 10), min_size=m * n, max_size=m * n))).reshape(m, n)
        s = np.linalg.svd(G, compute_uv=False)
        if s[0] > 0 and (max_kappa is None or s[-1] >= s[0] / max_kappa):
            return G * scale
        kind = "spectrum"
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "spectrum":
        log_kappa = draw(st.floats(0.0, math.log(max_kappa if max_kappa is not None else 1e12)))
        t = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
        t[0], t[-1] = 0.0, 1.0
        sigma = np.sort(np.exp(-log_kappa * t))[::-1]
    else:
        sigma = np.ones(k)
        if k > 1 and draw(st.booleans()):
            sigma[-1] = draw(st.sampled_from([0.5, 2.0 / 3.0]))
    U, V = _orthogonal(rng, m)[:, :k], _orthogonal(rng, n)[:, :k]
    return (U * (sigma * scale)) @ V.T


def _polar_entry(G, k):
    return float(sd.polar_factor(G).flat[k])


def _polar_entry_mp(G, k):
    return sd.polar_factor_mp(G)[divmod(k, G.shape[1])]


@st.composite
def shampoo_args(draw):
    """(G, ε, k): ε = 0 (Moore–Penrose roots) or c·‖G‖₂² with c log-uniform in 1e-6..1e2."""
    G, k = draw(with_index(matrices()))
    top = float(np.linalg.norm(G, 2)) ** 2
    eps = 0.0 if top == 0 or draw(st.booleans()) else top * draw(_magnitudes(-6, 2))
    return G, eps, k


def _shampoo_entry(G, eps, k):
    return float(sd.shampoo_update(G, eps).flat[k])


def _shampoo_entry_mp(G, eps, k):
    return sd.shampoo_update_mp(G, eps)[divmod(k, G.shape[1])]


_META_G = np.array([[1.0, 2.0], [-3.0, 0.5]])

#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "sign_descent_direction[entry]", lambda g, k: float(sd.sign_descent_direction(g)[k]),
        lambda g, k: sd.sign_descent_direction_mp(g)[k], sign_args(),
        rtol=1e-16, atol=0.0,
        why="exact: both sides are −1, 0 or 1 (sign of ±0.0 and of subnormals included); rtol below half "
        "an ulp of 1 so that any deviation fails",
        meta_args=((np.array([2.0, -1e-300, 0.0]), 0), (np.array([2.0, -1e-300, 0.0]), 2)),
    ),
    Agreement(
        "adam_update[entry]", _adam_entry, _adam_entry_mp, adam_args(),
        rtol=2e3 * EPS, atol=0.0,
        why="m̂/(√v̂ + ε) with no cancellation (m_prev has g's signs; √v̂, ε ≥ 0): ≤ 10 roundings, plus "
        "1 − β^t, whose relative error is eps·β^t/(1 − β^t) ≤ eps/(1 − β) ≤ 1e3·eps for β ≤ 0.999 "
        "(halved under the square root for β₂): ≤ ~1.5e3·eps; measured worst 1.5e-14 (66·eps)",
        meta_args=((np.array([1.0, -2.0, 3.0]), 1e-8, 0.9, 0.999, 3, None, None, 1),
                   (np.array([1e-90, 0.0]), 1e-100, 0.0, 0.0, 1, None, None, 0)),
    ),
    Agreement(
        "polar_factor[entry]", _polar_entry, _polar_entry_mp, with_index(matrices()),
        rtol=1e-12, atol=1e-12,
        why="entries of U_r V_rᵀ are ≤ 1 and move by ≲ ‖δG‖₂/σ_r (σ_r: the smallest non-zero singular value) "
        "under a backward error ‖δG‖₂ ≤ c·eps·σ₁ of the SVD: ≤ c·κ·eps = 2.2e-13·c for κ ≤ 1e3, c ~ max(m, n) "
        "≤ 4; the exactly low-rank draws sit ≥ 2.5 times below the rank threshold max(m,n)·eps·σ₁ (measured "
        "over 2e5 integer products), so both sides agree on the rank; measured worst 2.6e-14",
        meta_factor=1e-6,
        meta_args=((_META_G, 0), (_META_G, 3)),
    ),
    Agreement(
        "nuclear_norm", sd.nuclear_norm, sd.nuclear_norm_mp, st.tuples(matrices(max_kappa=None)),
        rtol=100 * EPS, atol=0.0,
        why="singular values are perfectly conditioned: |δσ_i| ≤ ‖δG‖₂ ≤ c·eps·σ₁ for a backward stable SVD, "
        "so |δ Σσ_i| ≤ k·c·eps·σ₁ ≤ k·c·eps·‖G‖_* (k ≤ 4), plus k roundings of the sum; any κ (up to 1e12), "
        "rank 0 included; measured worst 5.2e-16",
        meta_args=((_META_G,), (np.ldexp(np.array([[1.0, 2.0], [2.0, 4.0]]), -200),)),
    ),
    Agreement(
        "shampoo_update[entry]", _shampoo_entry, _shampoo_entry_mp, shampoo_args(),
        rtol=1e-9, atol=1e-9,
        why="the float route squares κ (Gram matrices GGᵀ, GᵀG, eigh, inverse fourth roots): the entries "
        "(≤ 1 for exponent 1/4) are off by ~c·κ²·eps = 2.2e-10·c for κ ≤ 1e3, c ≲ 4; the Moore–Penrose "
        "threshold 1e-13·λ_max of the Gram eigenvalues sits far from both κ⁻² ≥ 1e-6 and the ~eps² noise of "
        "exactly zero singular values; measured worst 1.3e-12. Exponent 1/4 (Shampoo's); other exponents "
        "and extreme scales: test_shampoo_at_extreme_scales_and_other_exponents",
        meta_factor=1e-6,
        meta_args=((_META_G, 0.0, 0), (_META_G, 1e-3, 3)),
    ),
]
CASES = {c.name: c for c in AGREEMENTS}


@pytest.mark.parametrize("name, bad", [
    # the inverse transpose G⁻ᵀ = U Σ⁻¹ Vᵀ: the polar factor's singular vectors, not its singular values
    ("polar_factor[entry]", lambda G, k: float(np.linalg.inv(G).T.flat[k])),
    # inverse square roots instead of fourth roots: U Σ⁻¹ Vᵀ again
    ("shampoo_update[entry]", lambda G, eps, k: float(sd.shampoo_update(G, eps, 0.5).flat[k])),
])
def test_agreement_catches_a_wrong_direction(name, bad):
    """Meta-test beyond a small perturbation: a plausible wrong formula fails at the meta points."""
    case = CASES[name]
    wrong = replace(case, float_fn=bad)
    with pytest.raises(AssertionError):
        for args in case.meta_args:
            wrong.assert_agrees(args)


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1.0, 1e160, 1e200])
@pytest.mark.parametrize("exponent", [0.0, 0.125, 0.25, 0.5])
def test_shampoo_at_extreme_scales_and_other_exponents(scale, exponent):
    """The Gram matrices of a 1e-200 gradient underflow (it came back as the zero matrix) and those
    of a 1e200 one overflow: the rescaling by a power of 2 keeps every exponent p exact to ~1e-15,
    relative to the largest entry of (GGᵀ)^{−p} G (GᵀG)^{−p} = U Σ^{1−4p} Vᵀ."""
    G = _META_G * scale
    got = sd.shampoo_update(G, 0.0, exponent)
    want = np.array(sd.shampoo_update_mp(G, 0, Fraction(exponent)).tolist(), dtype=float)
    assert np.max(np.abs(got - want)) <= 1e-14 * np.max(np.abs(want))


@pytest.mark.parametrize("k", [-500, 500])
def test_damped_shampoo_is_scale_free(k):
    """ε scaling with G² leaves U diag(σ/√(σ² + ε)) Vᵀ unchanged (2^±500: ε = 1e-3·2^±1000 is a
    normal float, so the comparison is exact up to rounding)."""
    G, eps = np.ldexp(_META_G, k), math.ldexp(1e-3, 2 * k)
    np.testing.assert_allclose(sd.shampoo_update(G, eps), sd.shampoo_update(_META_G, 1e-3), rtol=1e-14, atol=1e-15)
    want = np.array(sd.shampoo_update_mp(G, eps).tolist(), dtype=float)
    np.testing.assert_allclose(sd.shampoo_update(G, eps), want, rtol=1e-14, atol=1e-15)
