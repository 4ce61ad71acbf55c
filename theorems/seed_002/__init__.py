"""Seed 002: optimisers as steepest descent under a norm (sign descent, Adam, Shampoo, Prodigy, modular norms).

Bernstein & Newhouse, "Old Optimizer, New Norm: An Anthology", arXiv:2409.20325 (2024):
with the exponential moving averages switched off, each optimiser's update is

    argmax_{‖d‖ ≤ 1} ⟨g, d⟩      (steepest ascent direction; descent steps along −d)

for a particular norm. Statements, each checked every run (one module each):

* ``seed-002/sign-descent-linf``: for g ∈ ℝⁿ, max_{‖d‖∞≤1} ⟨g,d⟩ = ‖g‖₁, attained at sign(g); the
  maximiser set is the face {d : d_i = sign(g_i) where g_i ≠ 0, d_i ∈ [−1, 1] where g_i = 0}, so
  sign(g) (with sign 0 = 0) is always a maximiser and is the unique one iff every g_i ≠ 0.
  Exact identity behind it: ‖g‖₁ − ⟨g,d⟩ = Σ|g_i|·|d_i − sign g_i| for every d in the box.
* ``seed-002/adam-no-momentum-sign``: Adam (Kingma & Ba 2015) with β₁ = β₂ = 0 has m = g, v = g²
  and update m̂/(√v̂ + ε) = g/(|g| + ε); exactly sign(g_i) − u_i = sign(g_i)·ε/(|g_i| + ε), so
  ‖u_ε − sign g‖∞ = ε/(min_{g_i≠0}|g_i| + ε) → 0 (rate ε, not uniform in g); zero entries give 0 for
  every ε > 0. With ε = 0 the update is sign(g) exactly where g_i ≠ 0 and 0/0 where g_i = 0.
* ``seed-002/shampoo-spectral``: for G = U S Vᵀ (thin SVD, rank r), max_{‖D‖₂≤1} ⟨G,D⟩ = ‖G‖_* (nuclear
  norm), attained at the polar factor U_r V_rᵀ; the maximiser is unique iff rank G = min(m, n)
  (quadratic growth: ‖G‖_* − ⟨G,D⟩ ≥ σ_min/2·‖D − UVᵀ‖_F²); otherwise U_rV_rᵀ + a bᵀ is another one for
  unit null vectors aᵀG = 0, Gb = 0. Repeated singular values make U, V non-unique but not U_rV_rᵀ.
  Shampoo (Gupta, Koren & Singer 2018) without accumulation: (GGᵀ)^{-1/4} G (GᵀG)^{-1/4} = U_rV_rᵀ
  (pseudo-inverse roots; = UVᵀ for full rank), and with damping (GGᵀ+εI)^{-1/4}G(GᵀG+εI)^{-1/4} =
  U diag(σ/√(σ²+ε)) Vᵀ.

Norms by role, the max-of-norms ("modular") duality, per-layer dualisation and the step size
(dual norm over sharpness) are in :mod:`theorems.seed_002.modular`; Prodigy in
:mod:`theorems.seed_002.prodigy`.

How they are checked (quick: explicit degenerate cases, then Hypothesis draws):

* a direct numerical solution of the norm-constrained problem: ``scipy.optimize.linprog`` (ℓ∞),
  SLSQP (ℓ2), projected gradient ascent on the spectral-norm ball (primal, lower bound) and BFGS on
  the factorised dual min_A ½‖A‖_F² + ½‖A⁻¹G‖_F² (upper bound, = ‖G‖_*);
* exact sides: rationals for ℓ∞ and Adam (the identities above hold exactly); for the spectral norm an
  exact certified enclosure L ≤ OPT ≤ U (L = ⟨G, D_w⟩ with D_w rational and ‖D_w‖₂ < 1 proven by
  Sylvester's criterion on I − D_wᵀD_w; U = Σ‖a_i‖‖b_i‖ for an exact factorisation G = ABᵀ), mpmath
  ``svd_r`` at 50 digits with an a-posteriori error bound, and G = U S Vᵀ built from rational
  orthogonal (Cayley) factors where the polar factor, OPT and the Shampoo update are exact rationals.

A claim component that a draw violates is refuted only with a certificate evaluated in Arb ball
arithmetic (``Counterexample``), and ``verify_counterexample`` recomputes it from the exact inputs alone
(Fractions + mpmath at 80 digits). Mutants (false claims of the same shape) must be refuted.
"""

from __future__ import annotations

from theorems.seed_002 import modular, prodigy
from theorems.seed_002.adam import adam_sign
from theorems.seed_002.sign import sign_descent
from theorems.seed_002.spectral import shampoo_spectral

STATEMENTS = [sign_descent, adam_sign, shampoo_spectral, *modular.STATEMENTS, *prodigy.STATEMENTS]
