"""Independent re-certification of a report's counterexamples.

Reads only the exact inputs stored in the JSON (never its numbers) and, for each
refuted inequality:

1. checks that the inputs lie in the statement's domain (its ``domain_check``);
2. proves the sign of ``rhs − lhs`` in Arb ball arithmetic at rising precision --
   an equality case, or a margin too close to zero to resolve, is rejected, not
   "confirmed" by the sign of a rounded number;
3. asks the independent opinions to agree: mpmath at a precision above the ball's,
   and the statement's second formula (``independent``) where it offers one.

Statements that are not inequalities verify through their own
``verify_counterexample``; empirical ones are recomputed by rerunning their seeded
experiment (``python -m theorems check ID --seed S``).
"""

from __future__ import annotations

from numerics.backends import certified_sign
from theorems import registry
from theorems.evaluation_agreement import InconsistentEvidence
from theorems.inequality import Inequality, OutOfDomainError
from theorems.statement import inputs_from_strings

#: time allowed to prove one sign (Arb at rising precision)
VERIFY_SECONDS = 120.0


def _find(stmt_id: str, user: dict):
    if stmt_id in user:
        return user[stmt_id]
    try:
        return registry.find(stmt_id)
    except KeyError:
        return None


def _check_exact(v, where: str) -> None:
    """Stored inputs are exact: ``"p/q"`` strings, integers, booleans, words, lists of those."""
    if isinstance(v, float):
        raise ValueError(f"{where} is the JSON number {v!r}: exact inputs are 'p/q' strings or integers")
    if isinstance(v, list):
        for i, e in enumerate(v):
            _check_exact(e, f"{where}[{i}]")
    elif not isinstance(v, (str, int, bool)):
        raise ValueError(f"{where} is {type(v).__name__}: exact inputs are 'p/q' strings or integers")


def verify_inequality(s: Inequality, cx: dict) -> tuple[bool, str]:
    """Re-certify one stored counterexample of ``s``; ``(ok, message)``."""
    try:
        inputs = cx["inputs"]
        if not isinstance(inputs, dict):
            raise ValueError(f"'inputs' is {type(inputs).__name__}, not an object")
        for k, v in inputs.items():
            _check_exact(v, k)
        x = inputs_from_strings(inputs)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        return False, f"REJECTED: the stored inputs cannot be read as exact numbers ({exc})"
    if s.domain_check is None:
        return False, ("REJECTED: the statement declares no domain predicate (domain_check), so the inputs "
                       "cannot be shown to lie in its domain")
    try:
        s.check_domain(x)
    except OutOfDomainError as exc:
        return False, f"REJECTED: {exc}"

    sign, ball = certified_sign(lambda B: s.signed_margin(x, B), seconds=VERIFY_SECONDS)
    if sign == 0:
        return False, (f"REJECTED: not a violation: rhs − lhs ∈ {ball.enclosure} at {ball.prec_bits} bits "
                       "contains 0 (an equality case, or too close to zero to resolve)")
    if s.relation == "<=" and sign > 0:
        return False, f"REJECTED: not a violation: rhs − lhs ∈ {ball.enclosure} is positive"
    try:
        confirmation = s.confirm_sign(x, sign, ball)
    except InconsistentEvidence as exc:
        return False, f"INCONSISTENT: {exc}"
    rel = "<" if s.relation == "<=" else "≠"
    what = "0" if s.relation == "<=" else "0 (identity fails)"
    return True, (f"rhs − lhs ∈ {ball.enclosure} {rel} {what} (Arb, {ball.prec_bits} bits); "
                  f"confirmed by {confirmation['by']} -> violation certified")


def verify_report(doc: dict, user_statements=()):
    """Yield ``(line, ok)`` for every refuted result of the report.

    Args:
        doc: the JSON report (``python -m theorems check --json``, or a campaign's).
        user_statements: the users' own statements the report may refer to.
    """
    user = {s.id: s for s in user_statements}
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, list):
        yield "REJECTED: not a verdict report (no 'results' list)", False
        return
    for r in results:
        if not isinstance(r, dict):
            yield f"REJECTED: a result that is not an object ({str(r)[:40]!r})", False
            continue
        if r.get("verdict") != "refuted":
            continue
        sid = r.get("id", "?")
        s = _find(sid, user)
        if s is None:
            yield (f"{sid}: REJECTED: unknown statement; for a statement of your own pass "
                   "--statement FILE.py:NAME"), False
            continue
        cx = r.get("counterexample")
        if getattr(s, "empirical", False):
            yield (f"{sid}: empirical verdict (a seeded experiment): rerun it with "
                   f"`python -m theorems check {sid} --seed {doc.get('meta', {}).get('seed', 0)}`"), True
            continue
        if not isinstance(cx, dict) or not cx:
            yield f"{sid}: REJECTED: refuted without a counterexample", False
            continue
        if isinstance(s, Inequality):
            ok, line = verify_inequality(s, cx)
            yield f"{sid}: {line}", ok
            continue
        verifier = getattr(s, "verify_counterexample", None)
        if verifier is None:
            yield f"{sid}: REJECTED: no independent verifier for this statement", False
            continue
        ok, line = verifier(cx)
        yield f"{sid}: {line}", ok
