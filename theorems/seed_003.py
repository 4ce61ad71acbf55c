"""Seed 003: Adam steers trajectories to small R_med, SGD with momentum to comparatively large R_med.

K. Jiang, D. Malik & Y. Li, "How Does Adaptive Optimization Impact Local Neural Network Geometry?"
(NeurIPS 2023, arXiv:2211.02254). The seed (the abstract) says: for the iterates of an optimiser OPT,
R^OPT_med is "a statistic that is analogous to the condition number of the loss Hessian evaluated at the
iterates"; Adam biases trajectories towards small R^Adam_med, SGD with momentum towards comparatively
large R^SGD_med; a theorem shows this for a two-layer linear network.

Reading (the seed gives no formula; :mod:`numerics.rmed` states the reconstruction): at an iterate w_t,
``R_med(w_t) = max_i |H_ii| / median_i |H_ii|`` over the Hessian diagonal of a block of parameters;
R^OPT_med of a run is the median of R_med(w_t) over the recorded iterates of the second half of training
(the trajectory statistic, not a single end point). The comparison is per seed (same data and
initialisation for both optimisers) on log R_med, so "small vs comparatively large" is a ratio claim.

Two experiments, CPU-sized (numpy, float64, exact closed-form Hessian diagonals):

* ``seed-003/adam-small-rmed``: a two-layer tanh network (width 8) fitting a noisy tanh teacher with
  minibatches of 16 -- the paper's language-model experiments scaled down to what a CPU check runs;
* ``seed-003/two-layer-linear``: the theorem's simplified setting, a two-layer linear network
  ``f(x) = w₂ᵀW₁x`` trained full-batch from a small initialisation on a linear target; R_med over the
  first layer, whose Hessian diagonal is ``w₂[i]²·Σ_jj`` -- the mechanism: Adam grows every hidden unit
  at the same rate (sign-like steps), SGD amplifies the units with the largest initial alignment.

Controls: swapped optimiser labels, and a null comparison of one optimiser with itself on independent
seeds (data order / initialisation), see :mod:`theorems.empirical`.
"""

from __future__ import annotations

import time

import numpy as np

from numerics import small_networks as sn
from numerics.rmed import r_med
from theorems.empirical import controls, decide, n_seeds, one_sided
from theorems.statement import Statement, run_seed

_RMED_READING = ("R_med(w) = max_i |H_ii(w)| / median_i |H_ii(w)| (Hessian diagonal of the stated block, exact); "
                 "R^OPT_med = median over the iterates recorded in the second half of training; the seed gives "
                 "only 'analogous to the condition number of the loss Hessian evaluated at the iterates' -- the "
                 "max/median-of-the-diagonal form is a reconstruction (numerics.rmed).")


class _RMedExperiment(Statement):
    empirical = True
    expected = "holds"
    few_mutants_reason = ("empirical verdict: the controls (swapped optimiser labels, a null comparison of one "
                          "optimiser with itself) show the test can come out the other way")
    lr = {"sgdm": 0.01, "adam": 3e-3}
    steps = 1500

    def mutants(self):
        return []

    def _run(self, seed: int, opt: str, init_seed: int | None = None) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, effort: str = "quick"):
        t0 = time.perf_counter()
        n = n_seeds(effort)
        base = 1000 * run_seed()
        seeds = [base + i for i in range(n)]
        adam = np.array([self._run(s, "adam") for s in seeds])
        sgd = np.array([self._run(s, "sgdm") for s in seeds])
        # null: SGD on the same problems but an independent optimiser seed (init / minibatch order)
        sgd2 = np.array([self._run(s, "sgdm", init_seed=s + 500_000) for s in seeds])
        main = one_sided(adam, sgd, "R_med^Adam", "R_med^SGD", seed=base)
        ctrl = controls(adam, sgd, "R_med^Adam", "R_med^SGD", null_a=sgd, null_b=sgd2, seed=base,
                        null_name="R_med^SGD")
        verdict, why = decide([main], ctrl)
        ev = {"summary": f"{verdict.value}: {main['line']}; null SGD vs SGD p = "
                         f"{min(ctrl['null_same_arm']['p_less'], ctrl['null_same_arm']['p_greater']):.2g}",
              "reason": why, "test": main, "controls": ctrl, "n_seeds": n,
              "R_med_adam": [round(float(v), 3) for v in adam], "R_med_sgd": [round(float(v), 3) for v in sgd],
              "setting": self.setting, "learning_rates": self.lr, "steps": self.steps}
        return self.result(verdict, ev, None, t0)


class AdamSmallRMed(_RMedExperiment):
    id = "seed-003/adam-small-rmed"
    title = "Adam's trajectories have small R_med, SGD with momentum's comparatively large (tanh network)"
    claim = ("Adaptive methods such as Adam bias the trajectories towards regions where R^Adam_med is small; SGD "
             "with momentum towards regions where R^SGD_med is comparatively large.")
    reading = (_RMED_READING + " Setting: two-layer tanh network (6 inputs, width 8, 56 parameters, R_med over "
               "all of them), noisy tanh teacher, N = 128, minibatch 16, 1500 steps, Adam lr 3e-3 vs heavy-ball "
               "momentum 0.9 lr 0.01 (both reach training loss ≈ noise level); paired by seed.")
    setting = "two-layer tanh, d=6, m=8, N=128, batch 16, teacher noise 0.1"

    def _run(self, seed, opt, init_seed=None):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((128, 6))
        Wt, at = rng.standard_normal((4, 6)) / np.sqrt(6), rng.standard_normal(4)
        y = np.tanh(X @ Wt.T) @ at + 0.1 * rng.standard_normal(128)
        model = sn.TwoLayerTanh(X, y, width=8)
        irng = rng if init_seed is None else np.random.default_rng(init_seed)
        theta0 = irng.standard_normal(model.n_params) * 0.3
        _, recs, _ = sn.train(model, theta0, opt, self.lr[opt], self.steps,
                              np.random.default_rng(seed + 1 if init_seed is None else init_seed + 1),
                              batch=16, record_every=25, record=lambda th: r_med(model.hessian_diagonal(th)))
        return float(np.median(recs[len(recs) // 2:]))


class TwoLayerLinearRMed(_RMedExperiment):
    id = "seed-003/two-layer-linear"
    title = "Two-layer linear network: R_med^Adam small, R_med^SGD comparatively large"
    claim = ("In a two-layer linear network (the simplified setting of the seed's theorem), Adam's trajectory has "
             "small R_med and SGD with momentum's comparatively large R_med.")
    reading = (_RMED_READING + " Setting: f(x) = w₂ᵀW₁x, 10 inputs, width 10, N = 64 Gaussian inputs, linear "
               "target of unit norm, initialisation N(0, 1e-4), full batch, 1500 steps, Adam lr 3e-3 vs heavy-ball "
               "momentum 0.9 lr 0.02 (both fit to ~1e-30); R_med over the first layer W₁ (diagonal w₂[i]²Σ_jj). "
               "The theorem's exact assumptions are not in the seed; this is the setting its abstract names.")
    setting = "two-layer linear, d=10, m=10, N=64, init scale 1e-2, full batch"
    lr = {"sgdm": 0.02, "adam": 3e-3}

    def _run(self, seed, opt, init_seed=None):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((64, 10))
        beta = rng.standard_normal(10)
        beta /= np.linalg.norm(beta)
        model = sn.TwoLayerLinear(X, X @ beta, width=10)
        irng = rng if init_seed is None else np.random.default_rng(init_seed)
        theta0 = irng.standard_normal(model.n_params) * 1e-2
        block = model.first_layer()
        _, recs, _ = sn.train(model, theta0, opt, self.lr[opt], self.steps, np.random.default_rng(seed + 1),
                              record_every=25, record=lambda th: r_med(model.hessian_diagonal(th)[block]))
        return float(np.median(recs[len(recs) // 2:]))


STATEMENTS = [AdamSmallRMed(), TwoLayerLinearRMed()]
