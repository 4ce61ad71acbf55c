"""Statements as executable objects, and their verdicts.

A :class:`Statement` carries its prose claim, the reading chosen where the
paper is ambiguous, and a ``check()`` that computes a :class:`Result` every run.
Most claims are inequalities ``lhs(x) ≤ rhs(x)`` (or identities) over a domain;
:class:`Inequality` implements those once:

1. **search** -- Hypothesis draws x from the statement's domain strategy (which
   mixes plain and structure-aware draws), ``target()`` pushes towards small
   margins, and a float violation stops the search so Hypothesis shrinks it;
2. **certify** -- the shrunk input is made exact (rationals) and
   ``rhs − lhs`` is evaluated in Arb ball arithmetic at rising precision; only
   a ball entirely below zero makes the verdict ``refuted``. mpmath at 60
   digits gives a second, independent value. A float violation that does not
   certify is recorded as a numerical artefact and the search goes on.
3. **holds** carries the number of cases, the smallest margin and its input.

Verdicts (definitions in THEOREMS.md): ``holds``, ``refuted``,
``approximate``, ``ill-posed``.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from fractions import Fraction
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from numerics.backends import MP, Arb, certified_sign, fraction_str, to_fraction


class Verdict(str, Enum):
    HOLDS = "holds"
    REFUTED = "refuted"
    APPROXIMATE = "approximate"
    ILL_POSED = "ill-posed"
    #: the evidence contradicts itself (float vs exact, Arb vs an independent evaluation,
    #: a non-finite margin): neither ``holds`` nor ``refuted`` can be claimed
    INCONSISTENT = "inconsistent"


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

    def mutants(self) -> list["Statement"]:
        """Broken variants that a working checker must refute (mutation meta-tests)."""
        return []

    def result(self, verdict: Verdict, evidence: dict, counterexample=None, t0: float | None = None) -> Result:
        return Result(
            id=self.id, title=self.title, verdict=verdict, claim=self.claim, reading=self.reading,
            evidence=evidence, counterexample=counterexample,
            seconds=round(time.perf_counter() - t0, 3) if t0 is not None else 0.0,
        )


# ----------------------------------------------------------------------------
# Exact inputs
# ----------------------------------------------------------------------------

def exactify(x: dict) -> dict:
    """Floats -> Fractions (exact), arrays/lists -> lists of Fractions; ints stay ints."""
    out = {}
    for k, v in x.items():
        if isinstance(v, (np.ndarray, list, tuple)):
            out[k] = [exactify({"_": e})["_"] for e in v]
        elif isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        elif isinstance(v, (int, np.integer)):
            out[k] = int(v)
        elif isinstance(v, str):
            out[k] = v
        else:
            out[k] = to_fraction(float(v) if isinstance(v, np.floating) else v)
    return out


def floatify(x: dict) -> dict:
    """The float64 view of an exact input (arrays for lists)."""
    out = {}
    for k, v in x.items():
        if isinstance(v, list):
            out[k] = np.array([float(e) for e in v])
        elif isinstance(v, Fraction):
            out[k] = float(v)
        else:
            out[k] = v
    return out


def normalise_exact(ws: list[Fraction]) -> list[Fraction]:
    total = sum(ws, Fraction(0))
    return [w / total for w in ws]


def inputs_to_strings(x: dict) -> dict:
    out = {}
    for k, v in x.items():
        if isinstance(v, list):
            out[k] = [fraction_str(e) for e in v]
        elif isinstance(v, Fraction):
            out[k] = fraction_str(v)
        else:
            out[k] = v
    return out


def inputs_from_strings(x: dict) -> dict:
    """Inverse of :func:`inputs_to_strings` (for independent recomputation from a JSON report)."""
    out = {}
    for k, v in x.items():
        if isinstance(v, list):
            out[k] = [Fraction(e) for e in v]
        elif isinstance(v, str):
            try:
                out[k] = Fraction(v)
            except ValueError:
                out[k] = v
        else:
            out[k] = v
    return out


# ----------------------------------------------------------------------------
# Inequalities and identities
# ----------------------------------------------------------------------------

class _FloatViolation(Exception):
    pass


@dataclass
class Inequality(Statement):
    """``lhs(x) ≤ rhs(x)`` for all x in the domain (``relation="=="`` for identities).

    Attributes:
        domain: strategy drawing a dict of floats / arrays (the raw input).
        prepare: raw input -> exact input (Fractions); default :func:`exactify`. This is
            what a counterexample stores.
        derive: adds fields computed exactly from the stored input (recomputed on verify).
        lhs_float, rhs_float: float64 sides, on the float view of the exact input.
        lhs_exact, rhs_exact: the same sides written against a backend ``B``
            (mpmath or Arb), on the exact input.
        size: the "size" of an input (n for distributions), minimised when shrinking.
        rel_tol: float margins above ``−rel_tol·scale`` count as rounding, not violation,
            with ``scale = max(|lhs|, |rhs|, scale_floor)``.
    """

    id: str = ""
    title: str = ""
    claim: str = ""
    reading: str = ""
    domain: Any = None
    lhs_float: Callable = None
    rhs_float: Callable = None
    lhs_exact: Callable = None
    rhs_exact: Callable = None
    relation: str = "<="
    prepare: Callable = exactify
    derive: Callable = lambda x: x  # exact input -> input with derived fields (κ, normalised p, ...)
    size: Callable = lambda x: 1
    sized_domain: Callable | None = None  # n -> strategy of inputs of size n, to shrink the size
    canonical: Callable = lambda x: x  # re-impose domain constraints after rounding (e.g. renormalise)
    rel_tol: float = 1e-11
    scale_floor: float = 1e-10  # sides below this are compared on an absolute scale
    quiet: float = 1e-3  # float margins are rounded to a grid of quiet·rel_tol·scale (see float_margin)
    quick_examples: int | None = None  # None: the active Hypothesis profile
    full_examples: int = 3000
    extra_mutants: Callable | None = None  # returns a list of (name, Inequality)
    proof: str = ""  # a proof sketch, quoted with "holds"

    # -- sides and margins ---------------------------------------------------
    def float_margin(self, xf: dict) -> tuple[float, float]:
        """``(margin, scale)`` in float; margin < 0 is a violation."""
        lhs, rhs = float(self.lhs_float(xf)), float(self.rhs_float(xf))
        scale = max(abs(lhs), abs(rhs), self.scale_floor)
        margin = -abs(rhs - lhs) if self.relation == "==" else rhs - lhs
        # Rounding noise far below the tolerance reads as exactly 0: a violation is unchanged, but
        # Hypothesis's target() no longer hill-climbs the ulps of tight cases (K = I, uniform p),
        # which made some quick checks take a minute instead of a second.
        q = self.rel_tol * scale * self.quiet
        if math.isfinite(margin) and q > 0:
            margin = round(margin / q) * q
        return margin, scale

    def exact_margin(self, x: dict, B):
        """Both sides of the stored (underived) exact input, in backend ``B``."""
        x = self.derive(dict(x))
        return self.lhs_exact(x, B), self.rhs_exact(x, B)

    # -- certification -------------------------------------------------------
    def certify(self, x: dict) -> Counterexample | None:
        """Prove ``lhs > rhs`` (or ``lhs ≠ rhs`` for identities) in Arb; None if it does not certify."""

        def margin(B):
            lhs, rhs = self.exact_margin(x, B)
            d = rhs - lhs
            return d if self.relation == "<=" else -abs(d)

        if self.relation == "==":
            sign, ball = certified_sign(lambda B: (lambda l, r: r - l)(*self.exact_margin(x, B)))
            if sign == 0:
                return None
        else:
            sign, ball = certified_sign(margin)
            if sign != -1:
                return None
        with Arb(ball.prec_bits) as B:
            lhs, rhs = self.exact_margin(x, B)
            d = rhs - lhs
            # a side may be an exact Python value (e.g. KL = inf when a q_i is 0)
            lhs_s, rhs_s, margin_s = (v.str(25, radius=True) if hasattr(v, "str") else str(v) for v in (lhs, rhs, d))
        with MP(60) as B:
            l60, r60 = self.exact_margin(x, B)
            mp60 = B.num(0) + (r60 - l60)
        upper = ball.upper if self.relation == "<=" else -abs(float(mp60))
        return Counterexample(
            inputs=inputs_to_strings(x), lhs=lhs_s, rhs=rhs_s, margin=margin_s,
            margin_upper=upper, margin_mp60=str(mp60),
            certificate=f"Arb ball arithmetic at {ball.prec_bits} bits (python-flint); "
            f"margin enclosure {ball.enclosure}",
            size=int(self.size(floatify(self.derive(dict(x))))),
        )

    # -- search ----------------------------------------------------------------
    def new_search_state(self) -> dict:
        return {"cases": 0, "min_rel_margin": math.inf, "argmin": None, "artefacts": 0}

    def search(self, state: dict, *, domain=None, max_examples: int | None = None, database=None,
               seed: int | None = None, shrink: bool = True, rel_tol: float | None = None) -> dict | None:
        """One Hypothesis run over ``domain``; returns the (shrunk) exact input of a float violation.

        ``state`` accumulates cases and the smallest relative margin across runs. With a
        ``database``, failing examples are stored under this statement's id, so a later
        run replays them first.
        """
        rel_tol = self.rel_tol if rel_tol is None else rel_tol
        last = {}

        def evaluate(raw):
            x = self.prepare(raw)
            margin, scale = self.float_margin(floatify(self.derive(dict(x))))
            state["cases"] += 1
            rel = margin / scale
            if rel < state["min_rel_margin"]:
                state["min_rel_margin"], state["argmin"] = rel, x
            target(-rel if math.isfinite(rel) else 0.0, label="negative relative margin")
            if rel < -rel_tol:
                last.setdefault("first", x)
                last["x"] = x
                raise _FloatViolation()

        kwargs = dict(database=database, deadline=None, suppress_health_check=list(HealthCheck))
        if max_examples:
            kwargs["max_examples"] = max_examples
        if not shrink:
            kwargs["phases"] = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
        test = given(domain if domain is not None else self.domain)(evaluate)
        test._hypothesis_internal_database_key = b"optinfo-statement:" + self.id.encode()
        if seed is not None:
            test = hypothesis_seed(seed)(test)
        try:
            settings(**kwargs)(test)()
        except BaseException as exc:  # Hypothesis may group the exceptions it saw
            if not _only_violations(exc):
                raise
        if "x" in last and last["first"] is not last["x"]:
            state["unshrunk"] = last["first"]  # shrinking can walk from a real violation to a float artefact
        return last.get("x")

    def certify_found(self, x: dict, state: dict) -> Counterexample | None:
        """Certify the shrunk violation, else the first (unshrunk) one of the same run."""
        cx = self.certify(x)
        first = state.pop("unshrunk", None)
        if cx is None and first is not None:
            cx = self.certify(first)
        return cx

    def check(self, effort: str = "quick", examples: int | None = None) -> Result:
        t0 = time.perf_counter()
        n_examples = examples or (self.full_examples if effort == "full" else self.quick_examples)
        state = self.new_search_state()
        counterexample = None
        rel_tol = self.rel_tol
        for attempt in range(3):
            x = self.search(state, max_examples=n_examples, shrink=attempt == 0, rel_tol=rel_tol)
            if x is None:
                break
            counterexample = self.certify_found(x, state)
            if counterexample is not None:
                break
            # a float-only violation: count it, and search again ignoring margins that small
            state["artefacts"] += 1
            rel_tol *= 100
        return self.finish(state, counterexample, t0)

    def finish(self, state: dict, counterexample: Counterexample | None, t0: float) -> Result:
        """Shrink and simplify a counterexample, and turn the search state into a Result."""
        if counterexample is not None and self.sized_domain is not None:
            counterexample = self._smaller(counterexample, state)
        if counterexample is not None:
            counterexample = self._simpler(counterexample)
        evidence = {
            "cases": state["cases"],
            "smallest_relative_margin": _fmt(state["min_rel_margin"]),
            "at": inputs_to_strings(state["argmin"]) if state["argmin"] is not None else None,
            "numerical_artefacts": state["artefacts"],
        }
        if counterexample is not None:
            evidence["summary"] = f"violated after {state['cases']} cases; shrunk to size {counterexample.size}"
            return self.result(Verdict.REFUTED, evidence, counterexample, t0)
        evidence["summary"] = f"{state['cases']} cases, smallest relative margin {_fmt(state['min_rel_margin'])}"
        if self.proof:
            evidence["proof"] = self.proof
        return self.result(Verdict.HOLDS, evidence, None, t0)

    def _smaller(self, cx: Counterexample, state: dict, per_size: int = 60, seconds: float = 15.0) -> Counterexample:
        """Look for a certified violation at each size below ``cx.size``, smallest first (time-boxed)."""
        t0 = time.perf_counter()
        for n in range(1, cx.size):
            if time.perf_counter() - t0 > seconds:
                break
            dom = self.sized_domain(n)
            if dom is None:
                continue
            x = self.search(state, domain=dom, max_examples=per_size)
            if x is not None:
                smaller = self.certify_found(x, state)
                if smaller is not None:
                    return smaller
        return cx

    def _simpler(self, cx: Counterexample) -> Counterexample:
        """Replace the inputs by rationals with small denominators while the violation still certifies."""
        x = inputs_from_strings(cx.inputs)
        for d in (1, 2, 4, 10, 100, 1000, 10**6):
            y = {k: ([e.limit_denominator(d) for e in v] if isinstance(v, list) and v and isinstance(v[0], Fraction)
                     else v.limit_denominator(d) if isinstance(v, Fraction) else v) for k, v in x.items()}
            try:
                y = self.canonical(y)
                simpler = self.certify(y)
            except (ValueError, ZeroDivisionError, KeyError):
                continue
            if simpler is not None and simpler.size <= cx.size:
                return simpler
        return cx

    # -- mutants ---------------------------------------------------------------
    def mutants(self) -> list["Inequality"]:
        """Constant off by 1 %, relation flipped, plus the statement's own term-level mutants."""
        out = []
        if self.relation == "<=":
            out.append(self.mutant(
                "rhs x 0.99", rhs_float=_scaled(self.rhs_float, 0.99),
                rhs_exact=_scaled_exact(self.rhs_exact, Fraction(99, 100)),
            ))
            out.append(self.mutant(
                "flipped", lhs_float=self.rhs_float, rhs_float=self.lhs_float,
                lhs_exact=self.rhs_exact, rhs_exact=self.lhs_exact,
            ))
        else:
            out.append(self.mutant(
                "rhs x 1.01", rhs_float=_scaled(self.rhs_float, 1.01),
                rhs_exact=_scaled_exact(self.rhs_exact, Fraction(101, 100)),
            ))
        if self.extra_mutants:
            out.extend(self.extra_mutants(self))
        return out

    def mutant(self, name: str, **changes) -> "Inequality":
        return replace(self, id=f"{self.id}~{name}", proof="", extra_mutants=None, **changes)


def _scaled(f, c):
    return lambda x: f(x) * c


def _scaled_exact(f, c: Fraction):
    return lambda x, B: f(x, B) * B.num(c)


def _fmt(v: float) -> str:
    return "inf" if v == math.inf else f"{v:.3e}"


def _only_violations(exc: BaseException) -> bool:
    if isinstance(exc, _FloatViolation):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_violations(e) for e in exc.exceptions)
    return False
