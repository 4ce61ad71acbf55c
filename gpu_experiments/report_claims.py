"""The paper's qualitative claims and the measure ranking, decided by tests (:mod:`.report_statistics`).

Claims, at the final checkpoint, per architecture:

* *premise*: SGD beats Adam on ResNet-18, Adam beats SGD on the ViT (test accuracy);
* *the better optimizer has the smaller* entropy gap / deviation among blocks
  (CV of block traces, CV of block entropy gaps);
* *sharpness (trace) alone does not explain the ranking*: supported when, on
  some architecture, the better optimizer has the larger trace.

Every comparison is SGD − Adam paired by seed (exact sign-flip test); every
rank view over all optimizers is Kendall's τ (and Spearman's ρ) between the
optimizers' mean accuracy and mean metric (exact permutation p).  All p-values
of the section form one family, adjusted with Holm's method; a part of a claim
is decided only when its adjusted p is below α, otherwise it is
*inconclusive*.  "Better optimizer" needs a decided accuracy difference: equal
or statistically indistinguishable accuracies (ties) name no better optimizer.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from .report_records import ARCH_ORDER, OPT_LABELS, OPT_ORDER, RANKING_MEASURES, _sorted_keys, label_of
from .report_statistics import ALPHA, compare_groups, decide, holm, rank_agreement

EXPECTED_PREMISE = {"resnet18": "sgd", "vit": "adam"}
METRIC_CLAIMS = (
    ("entropy_gap", "the better optimizer per architecture has the smaller entropy gap"),
    ("deviation_trace", "the better optimizer per architecture has the smaller deviation among blocks "
                        "(CV of block traces)"),
    ("deviation_entropy_gap", "the better optimizer per architecture has the smaller deviation among blocks "
                              "(CV of block entropy gaps)"),
)
PREMISE = "premise: SGD beats Adam on ResNet, Adam beats SGD on ViT (final test accuracy)"
SHARPNESS = "sharpness (trace) alone does not explain the ranking"


def by_seed(rows: list[dict], key: str, percent) -> dict:
    """``{(arch, optimizer): {seed: value}}`` of the finite values of ``key`` at one checkpoint."""
    out: dict = defaultdict(dict)
    for r in rows:
        if r["percent"] == percent:
            v = r.get(key)
            if v is not None and isinstance(v, (int, float)) and math.isfinite(v):
                out[(r["arch"], r["optimizer"])][r["seed"]] = float(v)
    return dict(out)


def _best_by_accuracy(means: dict) -> list[str]:
    top = max(means.values())
    return sorted(o for o, v in means.items() if v == top)


def _rank_view(acc: dict, val: dict, arch: str) -> dict | None:
    """Kendall τ / Spearman ρ between the optimizers' mean accuracy and mean metric on one architecture."""
    opts = _sorted_keys([o for (a, o) in acc if a == arch and (a, o) in val
                         and set(acc[(a, o)]) == set(val[(a, o)])], OPT_ORDER)
    if len(opts) < 3:
        return None
    accs = [float(np.mean(list(acc[(arch, o)].values()))) for o in opts]
    vals = [float(np.mean(list(val[(arch, o)].values()))) for o in opts]
    ra = rank_agreement(accs, vals)
    best = _best_by_accuracy(dict(zip(opts, accs)))
    smallest = sorted(o for o, v in zip(opts, vals) if v == min(vals))
    return {"optimizers": opts, "accuracy": dict(zip(opts, accs)), "metric": dict(zip(opts, vals)),
            "best_by_accuracy": best, "smallest_metric": smallest, **ra,
            "test": f"Kendall τ over {len(opts)} optimizer means, exact permutation p"}


def evaluate_claims(rows: list[dict], percent=100, alpha: float = ALPHA) -> dict:
    """Every claim with its tests; see the module docstring for the rules.

    Returns:
        ``{"alpha", "correction", "family", "tests": [...], "claims": {text: {"verdict", "per_arch"}}}``;
        each test has ``id``, ``test``, ``k``, ``diff``, ``sd``, ``effect``, ``p``, ``p_min``, ``p_t``,
        ``p_holm``, ``decided``.
    """
    archs = _sorted_keys({r["arch"] for r in rows}, ARCH_ORDER)
    acc = by_seed(rows, "test_accuracy", percent)
    metrics = [m for m, _ in METRIC_CLAIMS] + ["trace"]
    vals = {m: by_seed(rows, m, percent) for m in metrics}
    tests: list[dict] = []

    def add(entry: dict) -> dict:
        entry["id"] = len(tests)
        tests.append(entry)
        return entry

    pair_acc, pair_metric, views = {}, defaultdict(dict), defaultdict(dict)
    for a in archs:
        if (a, "sgd") in acc and (a, "adam") in acc:
            pair_acc[a] = add({"what": f"{a}: test accuracy, SGD − Adam", "unit": "points",
                               **compare_groups(acc[(a, "sgd")], acc[(a, "adam")])})
        for m in metrics:
            v = vals[m]
            if (a, "sgd") in v and (a, "adam") in v and pair_acc.get(a):
                pair_metric[m][a] = add({"what": f"{a}: {m}, SGD − Adam", "unit": "",
                                         **compare_groups(v[(a, "sgd")], v[(a, "adam")])})
            view = _rank_view(acc, v, a)
            if view is not None:
                views[m][a] = add({"what": f"{a}: Kendall τ(mean accuracy, mean {m}) over optimizers", **view,
                                   "p": view["p_tau"]})
    for t, p in zip(tests, holm([t["p"] for t in tests])):
        t["p_holm"] = p
        t["decided"] = decide(p, alpha)

    def better_of(a):
        t = pair_acc.get(a)
        if t is None or not t["decided"]:
            return None
        return "sgd" if t["diff"] > 0 else "adam"

    claims: dict = {}
    per_arch = {}
    for a in archs:
        t = pair_acc.get(a)
        if t is None or a not in EXPECTED_PREMISE:
            continue
        b = better_of(a)
        verdict = "inconclusive" if b is None else ("supported" if b == EXPECTED_PREMISE[a] else "contradicted")
        per_arch[a] = {"verdict": verdict, "expected_better": EXPECTED_PREMISE[a], "tests": [t["id"]],
                       "reason": ("accuracy difference not significant after Holm" if b is None
                                  else f"{label_of(b, OPT_LABELS)} is more accurate")}
    claims[PREMISE] = {"verdict": _overall([e["verdict"] for e in per_arch.values()]), "per_arch": per_arch}

    for m, text in METRIC_CLAIMS + (("trace", SHARPNESS),):
        if not vals[m]:
            continue
        per_arch = {}
        for a in archs:
            entry: dict = {"tests": []}
            if a in views[m]:
                entry["tests"].append(views[m][a]["id"])
            tm = pair_metric[m].get(a)
            if tm is None:
                entry["verdict"] = "n/a"
                entry["reason"] = "SGD and Adam runs (or the metric) missing"
            else:
                entry["tests"] = [pair_acc[a]["id"], tm["id"], *entry["tests"]]
                b = better_of(a)
                if b is None:
                    entry["verdict"] = "inconclusive"
                    entry["reason"] = "no better optimizer: the accuracy difference is not significant after Holm"
                elif not tm["decided"]:
                    entry["verdict"] = "inconclusive"
                    entry["reason"] = f"{m} difference not significant after Holm"
                else:
                    better_smaller = (tm["diff"] < 0) == (b == "sgd")
                    entry["verdict"] = "supported" if better_smaller else "contradicted"
                    entry["reason"] = (f"the more accurate {label_of(b, OPT_LABELS)} has the "
                                       f"{'smaller' if better_smaller else 'larger'} {m}")
            per_arch[a] = entry
        if m == "trace":
            verdicts = [e["verdict"] for e in per_arch.values() if e["verdict"] != "n/a"]
            if not verdicts:
                verdict = "n/a"
            elif "contradicted" in verdicts:  # a better optimizer with a larger trace: trace alone cannot explain
                verdict = "supported"
            elif all(v == "supported" for v in verdicts):
                verdict = "not supported (smaller trace goes with the better optimizer on every architecture)"
            else:
                verdict = "inconclusive"
            claims[text] = {"verdict": verdict, "metric": m, "per_arch": per_arch,
                            "rule": "supported when, on some architecture, the better optimizer has the larger "
                                    "trace (both differences significant after Holm)"}
        else:
            claims[text] = {"verdict": _overall([e["verdict"] for e in per_arch.values()]), "metric": m,
                            "per_arch": per_arch}
    return {"alpha": alpha, "correction": "Holm", "family": sum(1 for t in tests if t["p"] == t["p"]),
            "tests": tests, "claims": claims}


def _overall(verdicts: list[str]) -> str:
    v = [x for x in verdicts if x != "n/a"]
    if not v:
        return "n/a"
    if "contradicted" in v:
        return "not supported"
    if all(x == "supported" for x in v):
        return "supported"
    return "inconclusive"


def measure_ranking(rows: list[dict], percent=100, alpha: float = ALPHA) -> dict:
    """How each measure ranks the optimizers (seed means) and the runs of an architecture by final accuracy.

    Per architecture and measure: signed Kendall τ and Spearman ρ over the optimizers'
    seed means (exact p; an optimizer counts only when every seed has a finite value)
    and over all runs (p exact up to 8 runs, else scipy's).  ``"all"`` pools the runs of
    every architecture (confounded by architecture; shown for completeness).

    ``best`` per architecture: the measures with the most negative τ over optimizer
    means (smaller value, higher accuracy; ties broken by ρ), with the exact p and the
    Holm-adjusted p over the measures of that architecture; empty when no measure has
    τ < 0.  Positive τ ranks a measure last, whatever its magnitude.
    """
    out: dict = {}
    archs = _sorted_keys({r["arch"] for r in rows}, ARCH_ORDER)
    final = [r for r in rows if r["percent"] == percent]
    for a in archs + ["all"]:
        sel = [r for r in final if a == "all" or r["arch"] == a]
        out[a] = {}
        for key in RANKING_MEASURES:
            ok = [r for r in sel if r.get(key) is not None and math.isfinite(r[key])]
            if len(ok) < 3:
                continue
            runs = rank_agreement([r["test_accuracy"] for r in ok], [r[key] for r in ok])
            entry = {"runs": runs["k"], "tau": runs["tau"], "p_tau": runs["p_tau"], "rho": runs["rho"],
                     "p_rho": runs["p_rho"], "p_method": runs["p_method"]}
            if a != "all":
                groups = defaultdict(list)
                for r in sel:
                    groups[r["optimizer"]].append((r["test_accuracy"], r.get(key)))
                groups = {o: vs for o, vs in groups.items()
                          if all(v is not None and math.isfinite(v) for _, v in vs)}
                if len(groups) >= 3:
                    accs = [float(np.mean([v[0] for v in vs])) for vs in groups.values()]
                    means = [float(np.mean([v[1] for v in vs])) for vs in groups.values()]
                    ra = rank_agreement(accs, means)
                    entry.update({"optimizers": ra["k"], "tau_optimizers": ra["tau"], "p_tau_optimizers": ra["p_tau"],
                                  "rho_optimizers": ra["rho"], "p_rho_optimizers": ra["p_rho"]})
            out[a][key] = entry
        if a == "all":
            continue
        keys = [k for k, e in out[a].items() if e.get("tau_optimizers") == e.get("tau_optimizers")
                and "tau_optimizers" in e]
        adjusted = dict(zip(keys, holm([out[a][k]["p_tau_optimizers"] for k in keys])))
        for k in keys:
            out[a][k]["p_tau_optimizers_holm"] = adjusted[k]
        negative = [k for k in keys if out[a][k]["tau_optimizers"] < 0]
        if negative:
            top = min((out[a][k]["tau_optimizers"], out[a][k]["rho_optimizers"]) for k in negative)
            names = sorted(k for k in negative if (out[a][k]["tau_optimizers"], out[a][k]["rho_optimizers"]) == top)
            e = out[a][names[0]]
            out[a]["best"] = {"measures": names, "tau": e["tau_optimizers"], "rho": e["rho_optimizers"],
                              "p": e["p_tau_optimizers"], "p_holm": adjusted[names[0]], "family": len(keys),
                              "significant": decide(adjusted[names[0]], alpha)}
        elif keys:
            out[a]["best"] = {"measures": [], "family": len(keys), "significant": False,
                              "note": "no measure has τ < 0 over the optimizer means"}
    return out
