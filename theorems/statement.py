"""Statements as executable objects, and their verdicts.

A :class:`Statement` carries its prose claim, the reading chosen where the
paper is ambiguous, and a ``check()`` that computes a :class:`Result` every run.
Most claims are inequalities ``lhs(x) ≤ rhs(x)`` (or identities) over a domain;
:class:`theorems.inequality.Inequality` implements those once (search, certify,
float-against-exact comparison, evidence).

Verdicts:

* ``holds`` -- no violation found, and the float sides agree with their exact twins
  wherever they were compared (or a proof, for statements that carry one);
* ``refuted`` -- a counterexample proven in Arb ball arithmetic from exact inputs
  and confirmed by an independent evaluation (or, for ``empirical`` statements, a
  seeded experiment whose statistics reject the claim);
* ``approximate`` -- true up to a measured error; ``ill-posed`` -- the claim cannot
  be stated concretely; the reading chosen is in the evidence;
* ``inconsistent`` -- the evidence contradicts itself (float vs exact, Arb vs the
  independent evaluation, a NaN side): a finding, never ``holds`` or ``refuted``;
* ``undecided`` -- a float violation could be neither certified nor dismissed in time;
* ``error`` / ``not run`` -- the checker failed / was not reached (interrupted run).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from numerics.backends import fraction_str  # noqa: F401  (re-exported for statement modules)
from theorems.exact_inputs import (  # noqa: F401  (re-exported: the public exact-input helpers)
    exactify,
    floatify,
    inputs_from_strings,
    inputs_to_strings,
    normalise_exact,
)


class Verdict(str, Enum):
    HOLDS = "holds"
    REFUTED = "refuted"
    APPROXIMATE = "approximate"
    ILL_POSED = "ill-posed"
    #: the evidence contradicts itself (float vs exact, Arb vs an independent evaluation,
    #: a non-finite margin): neither ``holds`` nor ``refuted`` can be claimed
    INCONSISTENT = "inconsistent"
    #: a float violation could be neither certified nor dismissed within the time cap
    UNDECIDED = "undecided"
    #: the checker itself failed (an exception in the statement's code)
    ERROR = "error"
    #: not checked in this run (interrupted before it started)
    NOT_RUN = "not run"


_RUN_SEED: ContextVar[int] = ContextVar("optinfo_run_seed", default=0)


def run_seed() -> int:
    """The seed of the current ``check`` run (``python -m theorems check --seed S``; default 0).

    Every source of randomness in a checker derives from it, so two runs with the same
    seed give the same report apart from timings.
    """
    return _RUN_SEED.get()


@contextmanager
def seeded_run(seed: int):
    """Run checks with ``run_seed() == seed``."""
    token = _RUN_SEED.set(int(seed))
    try:
        yield
    finally:
        _RUN_SEED.reset(token)


@dataclass
class Counterexample:
    """A certified violation: exact inputs, both sides as Arb enclosures, the margin."""

    inputs: dict[str, Any]  # exact: "p/q" strings or lists of them
    lhs: str
    rhs: str
    margin: str  # rhs − lhs (negative: violated), Arb enclosure
    margin_upper: float  # certified upper bound of the margin (< 0)
    margin_mp60: str  # rhs − lhs by mpmath at 60 digits (independent second value)
    certificate: str
    size: int


@dataclass
class Result:
    id: str
    title: str
    verdict: Verdict
    claim: str
    reading: str
    evidence: dict[str, Any]
    counterexample: Counterexample | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        """One line of key evidence for the verdict table."""
        ev = self.evidence
        if self.counterexample is not None:
            c = self.counterexample
            if c.margin_upper < 0 and ev.get("relation") == "==":
                return f"certified counterexample (size {c.size}): |rhs − lhs| ≥ {-c.margin_upper:.3g}"
            if c.margin_upper < 0:
                return f"certified counterexample (size {c.size}): margin ≤ {c.margin_upper:.3g}"
            return f"certified counterexample (size {c.size}): {ev.get('summary', c.certificate)}"
        return ev.get("summary") or ", ".join(f"{k}={v}" for k, v in list(ev.items())[:3])

    def to_json(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return d


class Statement:
    """Base class: subclasses set the class attributes and implement :meth:`check`."""

    id: str = ""
    title: str = ""
    claim: str = ""
    reading: str = ""
    #: the verdict our evidence gives (a change is a failure to investigate, not to paper over)
    expected: str | None = None
    #: True when the verdict is statistical (seeded experiments), not a mathematical certificate
    empirical: bool = False

    def check(self, effort: str = "quick") -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def mutants(self) -> list[Statement]:
        """Broken variants that a working checker must refute (mutation meta-tests)."""
        return []

    def result(self, verdict: Verdict, evidence: dict, counterexample=None, t0: float | None = None) -> Result:
        return Result(
            id=self.id, title=self.title, verdict=verdict, claim=self.claim, reading=self.reading,
            evidence=evidence, counterexample=counterexample,
            seconds=round(time.perf_counter() - t0, 3) if t0 is not None else 0.0,
        )

