"""The evidence an Inequality's search leaves: how close it came to the tight region, as report fields.

Reads the search state of :meth:`theorems.inequality.Inequality.new_search_state` (cases, the smallest
relative margin ``(rhs − lhs) / max(|lhs|, |rhs|, scale_floor)`` over all and over non-trivial cases,
the largest ``lhs / rhs``, near-equality hits, non-finite sides) and the float-vs-exact comparisons of
:meth:`~theorems.inequality.Inequality.exact_comparisons`. A tight inequality shows ``max lhs/rhs → 1``
and relative margins → 0 at its cases of equality: these fields (step 4 of :mod:`theorems.inequality`)
say whether the search reached that region, not only that it found no violation.
"""

from __future__ import annotations

import math

from theorems.exact_inputs import inputs_to_strings


def fmt(v: float) -> str:
    """``v`` in 3-digit scientific notation, ``inf`` / ``-inf`` spelled out (report fields are strings)."""
    if v == math.inf:
        return "inf"
    if v == -math.inf:
        return "-inf"
    return f"{v:.3e}"


def search_evidence(state: dict, comparisons: dict | None, *, relation: str, side_tol: float,
                    extremiser_distance=None) -> dict:
    """The evidence fields of a search.

    Args:
        state: the search state (cases, margins, their arguments as exact inputs).
        comparisons: the float-vs-exact comparisons, or None where none were made.
        relation: ``"<="`` (the lhs/rhs ratio is reported) or ``"=="``.
        side_tol: the float-vs-exact tolerance the comparisons were judged against.
        extremiser_distance: optional stored exact input -> distance to the known extremiser,
            reported at the largest lhs/rhs.
    """
    ev = {
        "relation": relation,
        "cases": state["cases"],
        "nontrivial_cases": state.get("nontrivial", 0),
        "smallest_relative_margin": fmt(state["min_rel_margin"]),
        "at": inputs_to_strings(state["argmin"]) if state["argmin"] is not None else None,
        "smallest_nontrivial_relative_margin": fmt(state.get("min_rel_nontrivial", math.inf)),
        "nontrivial_at": (inputs_to_strings(state["argmin_nontrivial"])
                          if state.get("argmin_nontrivial") is not None else None),
        "near_equality_hits": state.get("near_hits", 0),
        "numerical_artefacts": state["artefacts"],
        "nonfinite_cases": state.get("nonfinite", 0),
    }
    if relation == "<=" and state.get("argmax_ratio") is not None:
        ev["max_lhs_over_rhs"] = float(f"{state['max_ratio']:.9g}")
        ev["max_ratio_at"] = inputs_to_strings(state["argmax_ratio"])
        if extremiser_distance is not None:
            d = extremiser_distance(state["argmax_ratio"])
            ev["distance_to_extremiser"] = float(f"{d:.6g}")
    if comparisons is not None:
        ev["exact_comparisons"] = comparisons["made"]
        ev["max_float_exact_deviation"] = fmt(comparisons["max_deviation"])
        ev["side_tolerance"] = side_tol
        if comparisons["findings"]:
            ev["float_exact_disagreements"] = comparisons["findings"][:5]
    if state.get("nonfinite_inputs"):
        ev["nonfinite_inputs"] = [inputs_to_strings(x) for x in state["nonfinite_inputs"][:3]]
    return ev


def holds_summary(state: dict, comparisons: dict | None, *, relation: str) -> str:
    """The one-line summary of a ``holds`` verdict: cases, max lhs/rhs, tightest margin, comparisons."""
    parts = [f"{state['cases']} cases ({state.get('nontrivial', 0)} non-trivial)"]
    if relation == "<=" and state.get("argmax_ratio") is not None:
        parts.append(f"max lhs/rhs {state['max_ratio']:.6g}")
    parts.append(f"smallest non-trivial margin {fmt(state.get('min_rel_nontrivial', math.inf))}")
    parts.append(f"{state.get('near_hits', 0)} near-equality hits")
    if comparisons is not None:
        parts.append(f"{comparisons['made']} exact comparisons (max dev {fmt(comparisons['max_deviation'])})")
    return ", ".join(parts)
