"""Statistical verdicts for empirical claims: paired seeds, a one-sided test, and controls.

A claim "arm A gives a smaller statistic than arm B" is tested on n seeds, each seed running both arms
on the same data and initialisation (paired), with the exact sign-flip permutation test of
:mod:`numerics.paired_stats` on the paired differences of log-statistics (scale-free: a ratio claim).

Outcome of one test at level α = 0.05: ``holds`` (p(A < B) < α), ``refuted`` (p(A > B) < α: significant
in the opposite direction), ``undecided`` (neither). Every statement also runs controls showing that the
test can come out the other way:

* **swapped labels** -- the same numbers with the arms' labels exchanged must not read ``holds``;
* **null** -- two runs of the *same* arm with different seeds (data order, label noise, or
  initialisation) must not differ significantly at α/5 in either direction; a significant null means the
  test is anti-conservative on this experiment, and the verdict is ``inconsistent``.

Verdict: ``holds`` / ``refuted`` when every component agrees and the controls pass; ``undecided`` when a
component is not significant; ``inconsistent`` when a control fails. Randomness derives from
:func:`theorems.statement.run_seed`, so a run is reproducible.
"""

from __future__ import annotations

import numpy as np

from numerics.paired_stats import paired_comparison
from theorems.statement import Verdict

ALPHA = 0.05
NULL_ALPHA = ALPHA / 5


def n_seeds(effort: str, quick: int = 10, full: int = 30) -> int:
    return full if effort == "full" else quick


def one_sided(a, b, a_name: str, b_name: str, seed: int = 0, log: bool = True) -> dict:
    """Test "a < b" on paired values (log-transformed by default); returns the outcome and the numbers."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if log:
        if np.any(a <= 0) or np.any(b <= 0):
            raise ValueError(f"log comparison needs positive values ({a_name}: min {a.min()}, {b_name}: min {b.min()})")
        pa, pb = np.log(a), np.log(b)
    else:
        pa, pb = a, b
    c = paired_comparison(pa, pb, seed=seed)
    if log:  # the ratio of the statistics themselves, not of their logs
        c.median_ratio = float(np.median(a / b))
    outcome = "holds" if c.p_less < ALPHA else "refuted" if c.p_greater < ALPHA else "undecided"
    return {"claim": f"{a_name} < {b_name}", "outcome": outcome,
            "test": f"one-sided paired {c.method} on {'log ' if log else ''}values, α = {ALPHA}",
            "n_seeds": c.n, "p_less": c.p_less, "p_greater": c.p_greater, "wins": f"{c.wins}/{c.n}",
            "effect_mean_log_ratio" if log else "effect_mean_difference": round(c.mean_difference, 4),
            "ci95": [round(v, 4) for v in c.ci95], "cohen_dz": round(c.cohen_dz, 3),
            f"median_{a_name}": float(np.median(a)), f"median_{b_name}": float(np.median(b)),
            "line": c.line(a_name, b_name)}


def controls(a, b, a_name: str, b_name: str, null_a=None, null_b=None, seed: int = 0, log: bool = True,
             null_name: str | None = None) -> dict:
    """The swapped-label control (always) and the null control (when two runs of one arm, named ``null_name``,
    are given)."""
    out = {}
    sw = one_sided(b, a, a_name, b_name, seed, log)  # labels exchanged: "a" now holds b's numbers
    main_holds = one_sided(a, b, a_name, b_name, seed, log)["outcome"] == "holds"
    out["swapped_labels"] = {"outcome": sw["outcome"], "p_less": sw["p_less"],
                             "ok": sw["outcome"] != "holds" or not main_holds}
    if null_a is not None:
        nm = null_name or a_name
        nl = one_sided(null_a, null_b, f"{nm}(seeds 1)", f"{nm}(seeds 2)", seed, log)
        out["null_same_arm"] = {"p_less": nl["p_less"], "p_greater": nl["p_greater"],
                                "ok": nl["p_less"] >= NULL_ALPHA and nl["p_greater"] >= NULL_ALPHA,
                                "line": nl["line"]}
    return out


def decide(components: list[dict], ctrl: dict) -> tuple[Verdict, str]:
    """Verdict and one-line reason from the component tests and the controls."""
    failed = [k for k, v in ctrl.items() if not v["ok"]]
    if failed:
        return Verdict.INCONSISTENT, f"control(s) failed: {', '.join(failed)}"
    outcomes = [c["outcome"] for c in components]
    if any(o == "refuted" for o in outcomes):
        bad = [c["claim"] for c in components if c["outcome"] == "refuted"]
        return Verdict.REFUTED, f"significant in the opposite direction: {'; '.join(bad)}"
    if all(o == "holds" for o in outcomes):
        return Verdict.HOLDS, "every component significant in the claimed direction; controls pass"
    weak = [c["claim"] for c in components if c["outcome"] == "undecided"]
    return Verdict.UNDECIDED, f"not significant at α = {ALPHA}: {'; '.join(weak)}"
