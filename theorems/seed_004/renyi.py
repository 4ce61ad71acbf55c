"""Seed 004: Rényi sharpness -- reparametrisation invariance, and its rank correlation with generalisation.

Zhang, Sun, Zhang & Liu, "Rényi Sharpness: A Novel Sharpness that Strongly Correlates with Generalization"
(the seed's third abstract): Rényi sharpness is the negative Rényi entropy of the (normalised) loss Hessian
spectrum; the abstract invokes "the reparametrization invariance property of Rényi sharpness" and reports a
strong Kendall rank correlation with generalisation. The seed names no particular reparametrisation, so two
standard ones are checked on a two-layer linear network f(x) = w₂ᵀW₁x at an exact interpolating point
(zero residual, so H = JᵀJ/N is rational and H_2 = 2 log tr H − log tr H² is exact in Arb):

* ``seed-004/renyi-orthogonal-invariance``: mixing the hidden units by an orthogonal Q (W₁ → QW₁, w₂ → Qw₂;
  function unchanged, parameter map orthogonal, H → T H Tᵀ): the spectrum, hence every H_α, is unchanged;
* ``seed-004/renyi-rescaling-invariance``: the layer rescaling W₁ → αW₁, w₂ → w₂/α (function unchanged;
  Dinh et al. 2017's reparametrisation for sharpness) maps H → D⁻¹HD⁻¹, a congruence, not a similarity:
  the normalised spectrum, and H_α, change -- the invariance claim read for this reparametrisation is refuted
  with a certified counterexample.

``seed-004/renyi-kendall`` (empirical): over a population of small tanh networks trained on one data set with
different learning rates, batch sizes and initialisations, each to the same training loss, Kendall's τ between
Rényi sharpness (α = 2) and the generalisation gap (test − train loss) is positive (one-sided exact test), with a
shuffled-gap control. (Without the equal-loss stop, training progress confounds both: a first version with a
fixed step budget gave τ ≈ −0.3 to −0.4, driven by under-trained small-learning-rate models.)
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from numerics import small_networks as sn
from numerics.paired_stats import kendall_tau
from numerics.sharpness import spectral_renyi_entropy
from theorems.empirical import ALPHA, NULL_ALPHA, n_seeds
from theorems.inequality import Inequality
from theorems.statement import Statement, Verdict, exactify, run_seed

# -- exact two-layer linear network Hessians ---------------------------------------------------------


def _unflat(x):
    N, d, m = x["N"], x["d"], x["m"]
    X = [x["X"][i * d:(i + 1) * d] for i in range(N)]
    W1 = [x["W1"][i * d:(i + 1) * d] for i in range(m)]
    return X, W1, list(x["w2"])


def _jacobian(X, W1, w2):
    """Rows ∂f(x_n)/∂θ, θ = (W₁ row-major, w₂): (w₂[i]·x_n[j])_{ij}, then (W₁x_n)_i."""
    rows = []
    for xn in X:
        h = [sum((a * b for a, b in zip(row, xn)), 0 * xn[0]) for row in W1]
        rows.append([wi * xj for wi in w2 for xj in xn] + h)
    return rows


def _gauss_newton(J, N):
    P = len(J[0])
    return [[sum((J[n][i] * J[n][j] for n in range(len(J))), 0 * J[0][0]) / N for j in range(P)] for i in range(P)]


def _h2_exact(X, W1, w2, B):
    """H_2 of the normalised spectrum of H = JᵀJ/N: −log(tr H²/(tr H)²), exact rationals then one log each."""
    H = _gauss_newton(_jacobian(X, W1, w2), len(X))
    tr = sum((H[i][i] for i in range(len(H))), Fraction(0))
    tr2 = sum((H[i][j] * H[j][i] for i in range(len(H)) for j in range(len(H))), Fraction(0))
    return 2 * B.log(B.num(tr)) - B.log(B.num(tr2))


def _h2_float(X, W1, w2):
    X, W1, w2 = (np.asarray(v, dtype=np.float64) for v in (X, W1, w2))
    J = np.hstack([np.einsum("i,nj->nij", w2, X).reshape(X.shape[0], -1), X @ W1.T])
    return spectral_renyi_entropy(np.linalg.eigvalsh(J.T @ J / X.shape[0]), 2.0, policy="abs")


def _rescaled(W1, w2, a):
    return [[a * v for v in row] for row in W1], [v / a for v in w2]


def _rotation(t):
    """Cayley rotation ((1−t²), −2t; 2t, (1−t²))/(1+t²): rational and orthogonal for rational t."""
    c, s = (1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)
    return [[c, -s], [s, c]]


def _rotated(W1, w2, t):
    Q = _rotation(t)
    QW = [[sum((Q[i][k] * W1[k][j] for k in range(2)), 0 * W1[0][0]) for j in range(len(W1[0]))] for i in range(2)]
    return QW, [sum((Q[i][k] * w2[k] for k in range(2)), 0 * w2[0]) for i in range(2)]


@st.composite
def _points(draw):
    N, d = draw(st.integers(2, 4)), draw(st.integers(2, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rnd = draw(st.sampled_from([None, 1, 2]))  # rounded draws give small rationals (short certificates)

    def r(shape):
        v = rng.standard_normal(shape)
        return np.round(v, rnd) if rnd else v

    return {"N": N, "d": d, "m": 2, "X": r(N * d), "W1": r(2 * d), "w2": r(2),
            "alpha": draw(st.sampled_from([2.0, 0.5, 3.0, 0.25, 10.0, 1.5])),
            "t": draw(st.sampled_from([0.5, 1.0, 2.0, 0.25, 3.0, 0.1]))}


def _domain_check(x):
    if x["alpha"] <= 0:
        raise ValueError("the rescaling α must be > 0")
    X, W1, w2 = _unflat(x)
    if not any(any(v) for v in _jacobian(X, W1, w2)):
        raise ValueError("H = 0: the spectrum has no normalisation")


def _side(transform):
    def f(x):
        X, W1, w2 = _unflat(x)
        if transform is not None:
            W1, w2 = transform(W1, w2, x)
        return _h2_float(X, W1, w2)

    def b(x, B):
        X, W1, w2 = _unflat(x)
        if transform is not None:
            W1, w2 = transform(W1, w2, x)
        return _h2_exact(X, W1, w2, B)

    return f, b


def _resc(W1, w2, x):
    return _rescaled(W1, w2, x["alpha"])


def _rot(W1, w2, x):
    return _rotated(W1, w2, x["t"])


def _rot_rescaled(W1, w2, x):  # rotation followed by a layer rescaling by 2: function-preserving, not orthogonal
    return _rescaled(*_rotated(W1, w2, x["t"]), Fraction(2))


_base_f, _base_b = _side(None)
_resc_f, _resc_b = _side(_resc)
_rot_f, _rot_b = _side(_rot)
_rr_f, _rr_b = _side(_rot_rescaled)

_COMMON = dict(
    domain=_points(), prepare=exactify, domain_check=_domain_check, relation="==",
    lhs_float=_base_f, lhs_exact=_base_b, size=lambda x: x["N"] * x["d"],
    # float H_2 from eigvalsh of JᵀJ/N: eigenvalues carry absolute errors ~1e-16·λ_max, so H_2 is accurate to
    # ~1e-15 absolutely (a rank-one H gives 3e-16 instead of 0): values below 1e-3 are compared absolutely
    scale_floor=1e-3, side_tol=1e-9, quick_examples=40, full_examples=800,
)

renyi_orthogonal = Inequality(
    id="seed-004/renyi-orthogonal-invariance",
    title="Rényi sharpness (α = 2) is invariant under orthogonal mixing of hidden units",
    claim="Rényi sharpness −H_α(spectrum of H) is invariant under reparametrisations; here: W₁ → QW₁, w₂ → Qw₂ "
    "with Q orthogonal (a function-preserving, parameter-orthogonal map).",
    reading="Two-layer linear network f(x) = w₂ᵀW₁x, width 2, at an exact interpolating point (targets = f(X)), so "
    "H = JᵀJ/N (PSD); α = 2 (H_2 = −log Σp_i² = −log(tr H²/(tr H)²)); Q a rational Cayley rotation.",
    rhs_float=_rot_f, rhs_exact=_rot_b,
    extra_mutants=lambda s: [s.mutant("invariant under layer rescaling too", rhs_float=_resc_f, rhs_exact=_resc_b),
                             s.mutant("invariant under rotation then rescaling by 2", rhs_float=_rr_f,
                                      rhs_exact=_rr_b)],
    proof="The parameter map T = (Q ⊗ I) ⊕ Q is orthogonal and J' = J Tᵀ, so H' = T H Tᵀ is similar to H.",
    expected="holds",
    **_COMMON,
)

renyi_rescaling = Inequality(
    id="seed-004/renyi-rescaling-invariance",
    title="Rényi sharpness (α = 2) under the layer rescaling W₁ → αW₁, w₂ → w₂/α (function-preserving)",
    claim="Rényi sharpness is reparametrisation invariant; read for the function-preserving layer rescaling "
    "W₁ → αW₁, w₂ → w₂/α of a two-layer network (the reparametrisation behind the usual critique of sharpness).",
    reading="As seed-004/renyi-orthogonal-invariance, with α > 0 rational. The seed does not name its "
    "reparametrisations; this is the standard one for sharpness measures (Dinh et al., ICML 2017).",
    rhs_float=_resc_f, rhs_exact=_resc_b,
    proof="",
    expected="refuted",
    **_COMMON,
)


# -- Kendall τ between Rényi sharpness and generalisation -------------------------------------------


def _hessian_fd(model, theta, h: float = 1e-5) -> np.ndarray:
    """Full Hessian by central differences of the exact gradient (error O(h²) ≈ 1e-10), symmetrised."""
    P = theta.size
    H = np.empty((P, P))
    for i in range(P):
        e = np.zeros(P)
        e[i] = h
        H[i] = (model.grad(theta + e) - model.grad(theta - e)) / (2 * h)
    return 0.5 * (H + H.T)


#: every model of the population is trained to this training loss (the teacher's noise level is 0.3²/2 = 0.045)
TRAIN_LOSS = 0.02


class RenyiKendall(Statement):
    id = "seed-004/renyi-kendall"
    title = "Rényi sharpness (α = 2) rank-correlates with the generalisation gap (Kendall τ > 0)"
    claim = "Rényi sharpness strongly correlates with generalisation, measured by Kendall's rank correlation."
    reading = ("Population of two-layer tanh networks (4 inputs, width 8) fitting one noisy tanh teacher data set "
               "(N = 24), trained with SGD+momentum to the same training loss 0.02 (at most 20 000 steps), learning "
               "rate ∈ {0.001, 0.003, 0.01, 0.03}, batch ∈ {4, 24}, independent initialisations; Rényi sharpness "
               "= −H_2 of the normalised |spectrum| of the exact-gradient finite-difference "
               "Hessian at the end; generalisation gap = test loss (2000 fresh samples) − train loss; one-sided exact "
               "Kendall test of τ > 0 at α = 0.05 over 16 models (quick) / 48 (full). 'Strongly' is not quantified "
               "by the seed: the verdict is on the sign, τ is reported.")
    empirical = True
    expected = "undecided"
    few_mutants_reason = "empirical verdict: a shuffled-gap control must show no correlation"

    def mutants(self):
        return []

    def _data(self, rng: np.random.Generator):
        X = rng.standard_normal((24, 4))
        Wt, at = rng.standard_normal((3, 4)) / 2, rng.standard_normal(3)
        Xt = rng.standard_normal((2000, 4))
        y, yt = (np.tanh(Z @ Wt.T) @ at + 0.3 * rng.standard_normal(Z.shape[0]) for Z in (X, Xt))
        return X, y, Xt, yt

    def _model(self, k: int, data, rng: np.random.Generator):
        """Model k: one data set for the whole population; learning rate, batch size and initialisation vary;
        every model is trained to the same training loss, so the gap compares generalisation, not progress."""
        X, y, Xt, yt = data
        lr = (0.001, 0.003, 0.01, 0.03)[k % 4]
        batch = (4, 24)[(k // 4) % 2]
        model = sn.TwoLayerTanh(X, y, width=8)
        theta0 = rng.standard_normal(model.n_params) * 0.5
        theta, _, steps = sn.train(model, theta0, "sgdm", lr, 20_000, rng, batch=batch, stop_loss=TRAIN_LOSS)
        eig = np.linalg.eigvalsh(_hessian_fd(model, theta))
        sharp = -spectral_renyi_entropy(eig, 2.0, policy="abs")
        gap = model.loss(theta, Xt, yt) - model.loss(theta)
        return sharp, gap, {"lr": lr, "batch": batch, "steps": steps, "reached": model.loss(theta) <= TRAIN_LOSS}

    def check(self, effort: str = "quick"):
        t0 = time.perf_counter()
        n = 48 if effort == "full" else n_seeds(effort, quick=16)
        rng = np.random.default_rng(7919 * (run_seed() + 1))
        data = self._data(rng)
        rows = [self._model(k, data, rng) for k in range(n)]
        short = sum(1 for r in rows if not r[2]["reached"])
        sharp = np.array([r[0] for r in rows])
        gap = np.array([r[1] for r in rows])
        tau, p = kendall_tau(sharp, gap)
        shuffled = rng.permutation(gap)
        tau_c, p_c = kendall_tau(sharp, shuffled)
        _, p_c_neg = kendall_tau(-sharp, shuffled)
        control_ok = p_c >= NULL_ALPHA and p_c_neg >= NULL_ALPHA
        _, p_neg = kendall_tau(-sharp, gap)
        if short:  # the comparison is at equal training loss only if every model reached it
            verdict = Verdict.UNDECIDED
        elif not control_ok:
            verdict = Verdict.INCONSISTENT
        elif p < ALPHA:
            verdict = Verdict.HOLDS
        elif p_neg < ALPHA:
            verdict = Verdict.REFUTED
        else:
            verdict = Verdict.UNDECIDED
        ev = {"summary": f"{verdict.value}: Kendall τ = {tau:.3f}, one-sided p = {p:.2g} over {n} models; shuffled-gap "
                         f"control τ = {tau_c:.3f} (p = {p_c:.2g})",
              "test": "scipy.stats.kendalltau (τ_b), alternative='greater'", "n_models": n, "tau": tau, "p_greater": p,
              "p_less": p_neg, "control_shuffled_gap": {"tau": tau_c, "p_greater": p_c, "p_less": p_c_neg,
                                                        "ok": control_ok},
              "models_not_reaching_the_training_loss": short,
              "steps_median": float(np.median([r[2]["steps"] for r in rows])),
              "sharpness_range": [float(sharp.min()), float(sharp.max())],
              "gap_range": [float(gap.min()), float(gap.max())]}
        return self.result(verdict, ev, None, t0)


# a false identity (certified counterexample); its one mutant (rhs x 1.01) is refuted as well
renyi_rescaling.few_mutants_reason = "refuted claim: the certified counterexample is the evidence"

STATEMENTS = [renyi_orthogonal, renyi_rescaling, RenyiKendall()]
