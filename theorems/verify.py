"""Independent recomputation of a report's counterexamples.

Reads only the exact inputs stored in the JSON (never its numbers), evaluates
both sides in mpmath at 80 digits, and confirms the violation.
"""

from __future__ import annotations

from numerics.backends import MP
from theorems import registry
from theorems.statement import Inequality, inputs_from_strings


def _find(stmt_id: str):
    try:
        return registry.find(stmt_id)
    except KeyError:
        return None


def verify_report(doc: dict):
    """Yield ``(line, ok)`` for every refuted result with a counterexample."""
    for r in doc.get("results", []):
        cx = r.get("counterexample")
        if r.get("verdict") != "refuted" or not cx:
            continue
        s = _find(r["id"])
        if not isinstance(s, Inequality):
            verifier = getattr(s, "verify_counterexample", None)
            if verifier is None:
                yield f"{r['id']}: no independent verifier", False
                continue
            ok, line = verifier(cx)
            yield f"{r['id']}: {line}", ok
            continue
        x = inputs_from_strings(cx["inputs"])
        with MP(80) as B:
            lhs, rhs = s.exact_margin(x, B)
            d = rhs - lhs
        ok = d < 0 if s.relation == "<=" else abs(d) > 0
        yield f"{r['id']}: rhs − lhs = {str(d)[:30]} at 80 digits -> {'violation confirmed' if ok else 'NOT a violation'}", ok
