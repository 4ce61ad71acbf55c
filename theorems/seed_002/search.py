"""The search engine of the seed-002 statements: explicit degenerate cases, then Hypothesis draws.

Each case either returns a counterexample certified in Arb ball arithmetic (:func:`_certify`) or None;
float disagreements that do not certify are recorded as artefacts, and the float-vs-exact accuracy
conditions each statement declares are verdict conditions (see :meth:`_SearchStatement.check`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

import mpmath
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from numerics.backends import MP, Arb, certified_sign
from theorems.statement import Counterexample, Statement, Verdict, run_seed


def _must(ok: bool, what: str) -> None:
    """An exact identity that the mathematics guarantees; failing means a bug here, so stop loudly."""
    if not ok:
        raise RuntimeError(f"exact identity failed: {what}")


def _sgn(x) -> int:
    return (x > 0) - (x < 0)


def _num(B, x):
    return B.num(x) if isinstance(x, (Fraction, int)) else x


def _seed_of(obj) -> int:
    return int.from_bytes(hashlib.sha256(repr(obj).encode()).digest()[:4], "little")


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{float(x):.3e}"


# ----------------------------------------------------------------------------
# Certificates: Arb-certified margins, stored with the exact inputs
# ----------------------------------------------------------------------------


def _certify(kind: str, inputs: dict, sides: Callable, relation: str, size: int, why: str) -> Counterexample | None:
    """Counterexample when ``sides(B) = (lhs, rhs)`` certifiably violates ``lhs <= rhs`` (or ``==``).

    The claim implies ``lhs ≤ rhs`` (``relation="<="``) or ``lhs = rhs`` (``"=="``); the sign of
    rhs − lhs is proven in Arb at rising precision. None when it does not certify.
    """

    def diff(B):
        lhs, rhs = sides(B)
        return _num(B, rhs) - _num(B, lhs)

    sign, ball = certified_sign(diff)
    if relation == "<=":
        if sign != -1:
            return None
        upper = ball.upper
    else:
        if sign == 0:
            return None
        upper = -ball.lower if sign > 0 else ball.upper
    with Arb(ball.prec_bits) as B:
        lhs, rhs = (_num(B, v) for v in sides(B))
        d = rhs - lhs
        margin = (-abs(d) if relation == "==" else d).str(25, radius=True)
        lhs_s, rhs_s = lhs.str(25, radius=True), rhs.str(25, radius=True)
    with MP(60) as B:
        lhs, rhs = (_num(B, v) for v in sides(B))
        d60 = rhs - lhs
        d60 = -abs(d60) if relation == "==" else d60
    return Counterexample(
        inputs={"kind": kind, **inputs}, lhs=lhs_s, rhs=rhs_s, margin=margin, margin_upper=float(upper),
        margin_mp60=mpmath.nstr(d60, 30), size=size,
        certificate=f"{why} [claim implies lhs {relation} rhs; rhs − lhs enclosed by Arb at "
        f"{ball.prec_bits} bits: {ball.enclosure}]",
    )


# ----------------------------------------------------------------------------
# The search engine shared by the statements
# ----------------------------------------------------------------------------


def _condition(state: dict, name: str, value, tol: float, why: str) -> None:
    """Record an accuracy condition ``value ≤ tol`` (the largest value seen is kept).

    The conditions are verdict conditions, not decoration: :meth:`_SearchStatement.check` reads
    ``holds`` only when every recorded value is finite and within its tolerance. A float library
    that drifts from its exact twin therefore cannot hide behind an exact-only proof.
    """
    v = float(value)
    c = state.setdefault("conditions", {}).setdefault(name, {"value": 0.0, "tol": float(tol), "why": why})
    if not math.isfinite(v) or not (c["value"] >= v):  # NaN sticks
        c["value"] = v if math.isfinite(v) else math.nan


class _Certified(Exception):
    def __init__(self, cx):
        super().__init__("certified violation")
        self.cx = cx


def _only_certified(exc: BaseException) -> bool:
    if isinstance(exc, _Certified):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_certified(e) for e in exc.exceptions)
    return False


@dataclass
class _SearchStatement(Statement):
    """Explicit degenerate cases, then Hypothesis draws; each case returns a certified violation or None."""

    id: str = ""
    title: str = ""
    claim: str = ""
    reading: str = ""
    proof: str = ""
    expected: str | None = None  # the verdict our evidence gives (mutants: None)
    quick_examples: int = 40
    full_examples: int = 400
    explicit_cases: bool = True  # False: Hypothesis draws only (used to test the search's own power)
    shrink: bool = True  # shrink a certified violation to a small one (Hypothesis's shrink phase)

    def _domain(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _explicit(self) -> list:
        return []

    def _case(self, x, state: dict) -> Counterexample | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _new_state(self) -> dict:
        return {"cases": 0, "explicit_cases": 0, "artefacts": [], "exact_identities": 0, "conditions": {}}

    def _evidence(self, state: dict) -> dict:
        return {}

    def check(self, effort: str = "quick", examples: int | None = None):
        t0 = time.perf_counter()
        state = self._new_state()
        state["effort"] = effort
        cx = None
        for x in self._explicit() if self.explicit_cases else []:
            state["explicit_cases"] += 1
            cx = self._case(x, state)
            if cx is not None:
                break
        if cx is None:
            n = examples or (self.full_examples if effort == "full" else self.quick_examples)
            found = {}

            def run(x):
                c = self._case(x, state)
                if c is not None:
                    found["cx"] = c
                    raise _Certified(c)

            try:
                phases = list(Phase) if self.shrink else [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
                test = settings(database=None, deadline=None, max_examples=n, phases=phases,
                                suppress_health_check=list(HealthCheck))(given(self._domain())(run))
                hypothesis_seed(_seed_of((self.id, run_seed())))(test)()
            except BaseException as exc:  # Hypothesis may group the exceptions it saw
                if not _only_certified(exc):
                    raise
            cx = found.get("cx")
        evidence = {"cases": state["cases"], "explicit_degenerate_cases": state["explicit_cases"],
                    "exact_identities_verified": state["exact_identities"],
                    "numerical_artefacts": len(state["artefacts"]),
                    "artefacts": state["artefacts"][:5]}
        evidence.update(self._evidence(state))
        conditions = state.get("conditions", {})
        failed = [k for k, c in conditions.items() if not c["value"] <= c["tol"]]
        evidence["accuracy_conditions"] = {
            k: f"{_fmt(c['value'])} ≤ {c['tol']:.1e}: {'ok' if k not in failed else 'FAILED'} ({c['why']})"
            for k, c in conditions.items()}
        if cx is not None:
            evidence["summary"] = f"{cx.inputs['kind']} after {state['cases']} cases (certified)"
            return self.result(Verdict.REFUTED, evidence, cx, t0)
        if failed:
            # the exact identities held, but a float library disagrees with its exact twin beyond its
            # stated accuracy: the evidence contradicts itself
            evidence["summary"] = "float vs exact beyond tolerance: " + "; ".join(
                f"{k} = {_fmt(conditions[k]['value'])} > {conditions[k]['tol']:.1e}" for k in failed)
            return self.result(Verdict.INCONSISTENT, evidence, None, t0)
        if state["artefacts"]:
            evidence["summary"] = (f"{len(state['artefacts'])} float violation(s) neither certified nor dismissed: "
                                   f"{state['artefacts'][0]}")
            return self.result(Verdict.UNDECIDED, evidence, None, t0)
        evidence["summary"] = self._summary(state)
        if self.proof:
            evidence["proof"] = self.proof
        return self.result(Verdict.HOLDS, evidence, None, t0)

    def _summary(self, state) -> str:
        return f"{state['cases']} cases, no violation"

    def mutant(self, name: str, **changes):
        return replace(self, id=f"{self.id}~{name}", proof="", expected=None, **changes)
