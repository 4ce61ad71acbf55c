"""Seed 004: a sharpness-aware (SAM) step lowers the measured sharpness compared with a plain step, at equal loss.

Foret, Kleiner, Mobahi & Neyshabur, "Sharpness-Aware Minimization for Efficiently Improving Generalization"
(ICLR 2021); the seed cites SAM and its variants through abstracts only ("minimizing a sharpness measure ...
can significantly reduce the generalization error"). The checkable core: SAM's update (the gradient taken at
θ + ρ g/‖g‖) drives training to flatter minima than the plain gradient step.

Setting: a diagonal linear network f(x) = ⟨u⊙v, x⟩ (d = 8, N = 4: a manifold of interpolating minima whose
sharpness λ_max(H) = λ_max(X diag(u² + v²) Xᵀ)/N varies along it), unbalanced initialisation (u ~ 1,
v ~ 0.1: plain gradient descent conserves u² − v² and keeps the imbalance), both runs with the same learning
rate 0.05 from the same initialisation, each stopped at the first step with training loss ≤ 1e-3 (equal loss);
sharpness = λ_max of the exact Hessian (closed form), also tr H. Claim tested: λ_max(SAM) < λ_max(GD), paired
by seed; null control: GD on the same data from an independently drawn initialisation.
"""

from __future__ import annotations

import time

import numpy as np

from numerics import small_networks as sn
from theorems.empirical import controls, decide, n_seeds, one_sided
from theorems.statement import Statement, Verdict, run_seed

STOP_LOSS = 1e-3  # SAM with a fixed ρ stalls at a loss floor of order ρ²·λ; 1e-3 is above it


def _problem(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, 8))
    w = np.zeros(8)
    w[:2] = rng.choice((-1.0, 1.0), 2)
    return sn.DiagonalLinear(X, X @ w)


def _init(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([1.0 + 0.1 * rng.standard_normal(8), 0.1 * rng.standard_normal(8)])


def _sharpness(model, theta) -> tuple[float, float]:
    H = model.hessian(theta)
    return float(np.linalg.eigvalsh(H)[-1]), float(np.trace(H))


class SamSharpness(Statement):
    id = "seed-004/sam-sharpness"
    title = "SAM reaches flatter minima than plain gradient steps at equal training loss (λ_max of H)"
    claim = ("Minimising a sharpness measure with sharpness-aware steps (SAM) lowers the sharpness of the solution "
             "found, compared with plain gradient steps, at equal training loss.")
    reading = ("SAM (ρ = 0.1) vs gradient descent, both lr 0.05, same initialisation, each stopped at training loss "
               "≤ 1e-3; sharpness λ_max of the exact Hessian (tr H reported too); diagonal linear network d = 8, "
               "N = 4, 2-sparse target, unbalanced initialisation; at most 5000 steps.")
    empirical = True
    expected = "holds"
    few_mutants_reason = ("empirical verdict: swapped labels and a null GD-vs-GD comparison from independent "
                          "initialisations are the controls")
    lr = 0.05
    rho = 0.1

    def mutants(self):
        return []

    def _run(self, seed: int, opt: str, init_seed: int):
        model = _problem(seed)
        theta, _, steps = sn.train(model, _init(init_seed), opt, self.lr, 5000, np.random.default_rng(seed),
                                   rho=self.rho, stop_loss=STOP_LOSS)
        lam, tr = _sharpness(model, theta)
        return lam, tr, model.loss(theta), steps

    def check(self, effort: str = "quick"):
        t0 = time.perf_counter()
        n = n_seeds(effort)
        base = 1000 * run_seed()
        seeds = [base + i for i in range(n)]
        sam = [self._run(s, "sam", s + 100) for s in seeds]
        gd = [self._run(s, "gd", s + 100) for s in seeds]
        gd2 = [self._run(s, "gd", s + 200_000) for s in seeds]
        lam = {k: np.array([r[0] for r in v]) for k, v in (("sam", sam), ("gd", gd), ("gd2", gd2))}
        main = one_sided(lam["sam"], lam["gd"], "λmax_SAM", "λmax_GD", seed=base)
        trace = one_sided(np.array([r[1] for r in sam]), np.array([r[1] for r in gd]), "trH_SAM", "trH_GD", seed=base)
        ctrl = controls(lam["sam"], lam["gd"], "λmax_SAM", "λmax_GD", null_a=lam["gd"], null_b=lam["gd2"], seed=base,
                        null_name="λmax_GD")
        verdict, why = decide([main], ctrl)
        unconverged = sum(1 for r in sam + gd if r[2] > STOP_LOSS)
        ev = {"summary": f"{verdict.value}: {main['line']}",
              "reason": why, "test": main, "trace_H": trace["line"], "controls": ctrl, "n_seeds": n,
              "steps_to_equal_loss": {"SAM_median": float(np.median([r[3] for r in sam])),
                                      "GD_median": float(np.median([r[3] for r in gd]))},
              "runs_not_reaching_the_loss": unconverged, "lr": self.lr, "rho": self.rho}
        if unconverged:  # the comparison is at equal loss only if both reached it
            ev["summary"] = f"undecided: {unconverged} run(s) did not reach loss {STOP_LOSS}"
            return self.result(Verdict.UNDECIDED, ev, None, t0)
        return self.result(verdict, ev, None, t0)


STATEMENTS = [SamSharpness()]
