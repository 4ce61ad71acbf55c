"""Claims ``lhs(x) ≤ rhs(x)`` (or identities) over a domain, checked so that the verdict cannot lie.

An :class:`Inequality` is checked in four steps, every run:

1. **search** -- Hypothesis draws x from the statement's domain strategy, ``target()``
   pushes towards small margins, and a float violation stops the search so Hypothesis
   shrinks it. Non-finite sides are recorded, never read as "holds".
2. **certify** -- a violation's exact input (rationals) must lie in the statement's
   domain (``domain_check``); ``rhs − lhs`` is then evaluated in Arb ball arithmetic at
   rising precision (time-capped), and only a ball entirely below zero counts. An
   independent evaluation -- mpmath at a precision matched to the ball, plus the
   statement's own second formula where it offers one (``independent``) -- must agree in
   sign (:mod:`theorems.evaluation_agreement`); if not, the verdict is ``inconsistent``, never ``refuted``.
3. **float against exact** -- the exact sides are evaluated (Arb) at the worst cases
   found and at a seeded sample of the cases searched. A float side that misses its
   exact twin by more than ``side_tol`` (relative) is a finding that keeps the
   statement from reading ``holds``: a wrong float library cannot hide behind
   "numerical artefacts" (the deviation: :func:`theorems.evaluation_agreement.side_deviation`).
4. **evidence** -- how close the search came to the tight region: the largest
   lhs/rhs and the smallest relative margin over non-trivial cases, near-equality
   hits, the distance to a known extremiser where one is declared, and the number of
   float-vs-exact comparisons made (:mod:`theorems.search_evidence`).

Verdicts: ``refuted`` (certified and confirmed counterexample), ``holds`` (no
violation, no disagreement), ``inconsistent`` (the evidence contradicts itself:
float vs exact, Arb vs the independent evaluation, a NaN side), ``undecided`` (a float
violation that could be neither certified nor dismissed within the time cap).
"""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import mpmath
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import seed as hypothesis_seed

from numerics.backends import Arb, CertificationTimeout, InexactInputError, as_ball, certified_sign, infinite_sign
from theorems.evaluation_agreement import InconsistentEvidence, confirm_sign, exact_view, side_deviation
from theorems.exact_inputs import exactify, floatify, inputs_from_strings, inputs_to_strings
from theorems.search_evidence import holds_summary, search_evidence
from theorems.statement import Counterexample, Result, Statement, Verdict, run_seed


class OutOfDomainError(ValueError):
    """An exact input outside the statement's domain."""


class _FloatViolation(Exception):
    pass


def _stable_seed(*parts) -> int:
    return zlib.crc32(":".join(str(p) for p in parts).encode())


@dataclass
class Inequality(Statement):
    """``lhs(x) ≤ rhs(x)`` for all x in the domain (``relation="=="`` for identities).

    Attributes:
        domain: strategy drawing a dict of floats / arrays (the raw input).
        prepare: raw input -> exact input (Fractions); default :func:`exactify`. This is
            what a counterexample stores.
        derive: adds fields computed exactly from the stored input (recomputed on verify).
        domain_check: the domain as a predicate on the derived exact input: returns None
            inside, raises ``ValueError`` naming the violated condition outside. ``verify``
            refuses a counterexample outside it; certification never certifies one.
        lhs_float, rhs_float: float64 sides, on the float view of the exact input.
        lhs_exact, rhs_exact: the same sides written against a backend ``B``
            (mpmath or Arb), on the exact input.
        independent: optional second formula for the sides, written independently of
            ``lhs_exact``/``rhs_exact`` (e.g. straight from the paper): exact input ->
            ``(lhs, rhs)`` as mpmath numbers at the working precision. A refutation and
            ``verify`` require it to agree in sign.
        size: the "size" of an input (n for distributions), minimised when shrinking.
        rel_tol: float margins above ``−rel_tol·scale`` count as rounding, not violation,
            with ``scale = max(|lhs|, |rhs|, scale_floor)``.
        side_tol: largest accepted ``|float side − exact side| / scale`` (the float
            library's stated accuracy on this statement's inputs). Beyond it the float and
            exact twins disagree: a finding, verdict ``inconsistent``.
        side_atol: an absolute allowance on top (for sides computed by cancellation, whose
            float error is absolute, not relative: e.g. a total variation of near-uniform p).
        trivial: float (derived) input -> True for cases that say nothing (n = 1, both sides
            0); default: both sides below ``min(scale_floor, 1e-12)``.
        near_tol: a non-trivial case with ``rhs − lhs ≤ near_tol·max(|lhs|, |rhs|)`` is a
            near-equality hit (inequalities only).
        extremiser_distance: optional float (derived) input -> distance to the known
            extremiser of the bound (reported at the tightest case).
        exact_samples: how many searched cases (a seeded sample) are compared with the exact sides.
        certify_seconds: time cap of one certification (Arb at rising precision); a candidate
            still open when it runs out makes the verdict ``undecided``.
        check_seconds: time cap of all certification work in one check. (A single evaluation
            is not interrupted: the caps bound how many are started.)
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
    domain_check: Callable | None = None
    independent: Callable | None = None
    size: Callable = lambda x: 1
    sized_domain: Callable | None = None  # n -> strategy of inputs of size n, to shrink the size
    canonical: Callable = lambda x: x  # re-impose domain constraints after rounding (e.g. renormalise)
    rel_tol: float = 1e-11
    side_tol: float = 1e-10
    side_atol: float = 0.0
    scale_floor: float = 1e-10  # sides below this are compared on an absolute scale
    quiet: float = 1e-3  # float margins are rounded to a grid of quiet·rel_tol·scale (see float_margin)
    trivial: Callable | None = None
    near_tol: float = 1e-6
    extremiser_distance: Callable | None = None
    exact_samples: int = 30
    certify_seconds: float = 30.0
    check_seconds: float = 90.0
    quick_examples: int | None = None  # None: the active Hypothesis profile
    full_examples: int = 3000
    extra_mutants: Callable | None = None  # returns a list of (name, Inequality)
    proof: str = ""  # a proof sketch, quoted with "holds"
    expected: str | None = None

    def __post_init__(self):
        problems = []
        if not isinstance(self.id, str) or not self.id.strip():
            problems.append("id: a non-empty string naming the statement")
        if self.domain is None:
            problems.append("domain: a Hypothesis strategy drawing the raw inputs (a dict)")
        for name in ("lhs_float", "rhs_float", "lhs_exact", "rhs_exact"):
            if not callable(getattr(self, name)):
                problems.append(f"{name}: a function ({'x' if 'float' in name else 'x, B'}) -> number")
        if self.relation not in ("<=", "=="):
            problems.append(f"relation: '<=' or '==', not {self.relation!r}")
        for name, hi in (("rel_tol", 1), ("side_tol", 1), ("side_atol", 1), ("quiet", 0.5)):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 <= v < hi):
                problems.append(f"{name}: a number in [0, {hi}), not {v!r}")
        if not (isinstance(self.scale_floor, (int, float)) and 0 < self.scale_floor < math.inf):
            problems.append(f"scale_floor: a positive number, not {self.scale_floor!r}")
        if not (isinstance(self.exact_samples, int) and self.exact_samples >= 0):
            problems.append(f"exact_samples: a count ≥ 0, not {self.exact_samples!r}")
        if problems:
            who = f"Inequality {self.id!r}" if isinstance(self.id, str) and self.id else "Inequality"
            raise ValueError(f"{who} is missing or has invalid fields: " + "; ".join(problems))

    # -- sides and margins ---------------------------------------------------
    def float_sides(self, xf: dict) -> tuple[float, float]:
        return float(self.lhs_float(xf)), float(self.rhs_float(xf))

    def _raw_margin(self, lhs: float, rhs: float) -> tuple[float, float]:
        finite = [abs(v) for v in (lhs, rhs) if math.isfinite(v)]
        scale = max(finite + [self.scale_floor])
        return (-abs(rhs - lhs) if self.relation == "==" else rhs - lhs), scale

    def _margin_of(self, lhs: float, rhs: float) -> tuple[float, float]:
        margin, scale = self._raw_margin(lhs, rhs)
        # Rounding noise far below the tolerance reads as exactly 0: a violation is unchanged, but
        # Hypothesis's target() no longer hill-climbs the ulps of tight cases (K = I, uniform p),
        # which made some quick checks take a minute instead of a second.
        q = self.rel_tol * scale * self.quiet
        if math.isfinite(margin) and q > 0:
            margin = round(margin / q) * q
        return margin, scale

    def float_margin(self, xf: dict) -> tuple[float, float]:
        """``(margin, scale)`` in float; margin < 0 is a violation, NaN says nothing."""
        return self._margin_of(*self.float_sides(xf))

    def exact_margin(self, x: dict, B):
        """Both sides of the stored (underived) exact input, in backend ``B``."""
        x = self.derive(dict(x))
        return self.lhs_exact(x, B), self.rhs_exact(x, B)

    def check_domain(self, x: dict) -> dict:
        """The derived input if the stored exact input ``x`` lies in the domain, else :class:`OutOfDomainError`."""
        try:
            xd = self.derive(dict(x))
        except (ValueError, ZeroDivisionError, KeyError, TypeError, IndexError) as exc:
            raise OutOfDomainError(f"{self.id}: the input cannot be read ({type(exc).__name__}: {exc})") from None
        if self.domain_check is not None:
            try:
                self.domain_check(xd)
            except (ValueError, ZeroDivisionError, KeyError, TypeError, IndexError) as exc:
                raise OutOfDomainError(f"{self.id}: input outside the domain: {exc}") from None
        return xd

    # -- certification -------------------------------------------------------
    def signed_margin(self, x: dict, B):
        """``rhs − lhs`` of the stored exact input in backend ``B`` (negative: a violation)."""
        lhs, rhs = self.exact_margin(x, B)
        return rhs - lhs

    def certify(self, x: dict, seconds: float | None = None, strict: bool = False) -> Counterexample | None:
        """Prove ``lhs > rhs`` (``lhs ≠ rhs`` for identities) in Arb and confirm it independently.

        Returns None when x is outside the domain or the sign is not proven (with ``strict``,
        a time cap reached before the highest precision raises ``CertificationTimeout``
        instead: the candidate is undecided, not dismissed). Raises
        :class:`InconsistentEvidence` when Arb proves a violation that the independent
        evaluation contradicts.
        """
        try:
            self.check_domain(x)
        except OutOfDomainError:
            return None
        sign, ball = certified_sign(lambda B: self.signed_margin(x, B),
                                    seconds=self.certify_seconds if seconds is None else seconds,
                                    raise_on_timeout=strict)
        if sign == 0 and strict and not ball.upper - ball.lower <= 1e-100:
            # not even 2048 bits resolve it and the enclosure is wide: the exact side cancels
            # catastrophically, and the candidate can be neither certified nor dismissed
            raise CertificationTimeout(ball)
        if sign == 0 or (self.relation == "<=" and sign != -1):
            return None
        with Arb(ball.prec_bits) as B:
            lhs, rhs = (as_ball(v, B) for v in self.exact_margin(x, B))
            d = rhs - lhs
            lhs_s, rhs_s, margin_s = (_ball_str(v) for v in (lhs, rhs, d))
        confirmation = self.confirm_sign(x, sign, ball)
        upper = ball.upper if self.relation == "<=" else -abs(float(confirmation["mp"]))
        return Counterexample(
            inputs=inputs_to_strings(x), lhs=lhs_s, rhs=rhs_s, margin=margin_s,
            margin_upper=upper, margin_mp60=mpmath.nstr(confirmation["mp"], 30),
            certificate=f"Arb ball arithmetic at {ball.prec_bits} bits (python-flint); "
            f"margin enclosure {ball.enclosure}; confirmed by {confirmation['by']}",
            size=int(self.size(floatify(self.derive(dict(x))))),
        )

    def confirm_sign(self, x: dict, sign: int, ball) -> dict:
        """The independent opinions on the sign Arb proved: mpmath, and ``independent`` if given
        (:func:`theorems.evaluation_agreement.confirm_sign`)."""
        independent = None if self.independent is None else (lambda: self.independent(self.derive(dict(x))))
        return confirm_sign(lambda B: self.exact_margin(x, B), sign, ball, scale_floor=self.scale_floor,
                            independent=independent, statement_id=self.id, x=x)

    # -- float against exact -------------------------------------------------
    def compare_exact(self, x: dict, prec: int = 64) -> dict:
        """Float sides against their exact twins (Arb) at the stored exact input ``x``.

        Returns a dict with ``deviation`` (max over the two sides of
        ``dist(float, ball) / scale``, 0 when the float lies in the ball; inf for a NaN float
        or a float/exact infinity mismatch), ``comparable`` and a ``note``.
        """
        xd = self.derive(dict(x))
        xf = floatify(xd)
        lf, rf = self.float_sides(xf)
        # like with like: the exact sides at the exact values of the float inputs the float sides
        # saw, so the deviation measures the float library alone, not the rounding of its inputs
        xr = exact_view(xf, xd)
        return side_deviation(lf, rf, lambda B: (self.lhs_exact(xr, B), self.rhs_exact(xr, B)), prec=prec,
                              side_tol=self.side_tol, side_atol=self.side_atol, scale_floor=self.scale_floor)

    # -- search ----------------------------------------------------------------
    def new_search_state(self) -> dict:
        return {"cases": 0, "min_rel_margin": math.inf, "argmin": None, "artefacts": 0,
                "nontrivial": 0, "min_rel_nontrivial": math.inf, "argmin_nontrivial": None,
                "max_ratio": -math.inf, "argmax_ratio": None, "near_hits": 0,
                "nonfinite": 0, "nonfinite_inputs": [], "infinite_margin": 0,
                "sample": [], "sample_seen": 0, "sample_rng": random.Random(_stable_seed(self.id, run_seed())),
                "float_violations": [], "certify_seconds": 0.0, "out_of_domain": 0}

    def _record(self, state: dict, x: dict, xf: dict, lhs: float, rhs: float, rel: float) -> None:
        """Statistics of one searched case (for the evidence)."""
        state["cases"] += 1
        k = self.exact_samples
        state["sample_seen"] += 1
        if len(state["sample"]) < k:
            state["sample"].append(x)
        else:
            j = state["sample_rng"].randrange(state["sample_seen"])
            if j < k:
                state["sample"][j] = x
        if math.isnan(rel):
            state["nonfinite"] += 1
            if len(state["nonfinite_inputs"]) < 5:
                state["nonfinite_inputs"].append(x)
            return
        if math.isinf(lhs) or math.isinf(rhs):
            state["infinite_margin"] += 1
            if len(state["nonfinite_inputs"]) < 5:
                state["nonfinite_inputs"].append(x)  # compared with the exact sides later
        if rel < state["min_rel_margin"]:
            state["min_rel_margin"], state["argmin"] = rel, x
        trivial = self.trivial(xf) if self.trivial is not None else (
            max(abs(lhs), abs(rhs)) <= min(self.scale_floor, 1e-12))
        if trivial or not math.isfinite(rel):
            return
        state["nontrivial"] += 1
        if rel < state["min_rel_nontrivial"]:
            state["min_rel_nontrivial"], state["argmin_nontrivial"] = rel, x
        if self.relation == "<=" and rhs - lhs <= self.near_tol * max(abs(lhs), abs(rhs)):
            state["near_hits"] += 1  # relative to the sides themselves, not to scale_floor
        if self.relation == "<=" and rhs > 0 and lhs >= 0:
            ratio = lhs / rhs
            if ratio > state["max_ratio"]:
                state["max_ratio"], state["argmax_ratio"] = ratio, x

    def search(self, state: dict, *, domain=None, max_examples: int | None = None, database=None,
               seed: int | None = None, shrink: bool = True, rel_tol: float | None = None) -> dict | None:
        """One Hypothesis run over ``domain``; returns the (shrunk) exact input of a float violation.

        ``state`` accumulates cases and evidence across runs. With a ``database``, failing
        examples are stored under this statement's id, so a later run replays them first.
        """
        rel_tol = self.rel_tol if rel_tol is None else rel_tol
        last = {}

        def evaluate(raw):
            x = self.prepare(raw)
            xf = floatify(self.derive(dict(x)))
            lhs, rhs = self.float_sides(xf)
            margin, scale = self._margin_of(lhs, rhs)
            if math.isnan(margin):
                rel = math.nan
            elif math.isinf(margin):
                rel = math.copysign(math.inf, margin)  # an infinite lhs (overflow or exact) is a candidate
            else:
                rel = margin / scale
            raw, _ = self._raw_margin(lhs, rhs)
            # the evidence keeps the sign the quiet grid rounds away (a tiny real violation stays visible)
            self._record(state, x, xf, lhs, rhs, raw / scale if math.isfinite(raw) else rel)
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

    def _certify_timed(self, x: dict, state: dict) -> Counterexample | None:
        left = self.check_seconds - state["certify_seconds"]
        if left <= 0:
            raise _OutOfTime()
        t = time.perf_counter()
        try:
            return self.certify(x, seconds=min(self.certify_seconds, left), strict=True)
        except CertificationTimeout:
            raise _OutOfTime() from None
        finally:
            state["certify_seconds"] += time.perf_counter() - t

    def certify_found(self, x: dict, state: dict) -> Counterexample | None:
        """Certify the shrunk violation, else the first (unshrunk) one of the same run."""
        cx = self._certify_timed(x, state) if "certify_seconds" in state else self.certify(x)
        first = state.pop("unshrunk", None)
        if cx is None and first is not None:
            cx = self._certify_timed(first, state) if "certify_seconds" in state else self.certify(first)
        if cx is None:
            state.setdefault("float_violations", []).append(x)
        return cx

    def check(self, effort: str = "quick", examples: int | None = None) -> Result:
        t0 = time.perf_counter()
        n_examples = examples or (self.full_examples if effort == "full" else self.quick_examples)
        state = self.new_search_state()
        counterexample, problem = None, None
        rel_tol = self.rel_tol
        try:
            for attempt in range(3):
                x = self.search(state, max_examples=n_examples, shrink=attempt == 0, rel_tol=rel_tol,
                                seed=_stable_seed(self.id, run_seed(), attempt))
                if x is None:
                    break
                counterexample = self.certify_found(x, state)
                if counterexample is not None:
                    break
                # a float violation that does not certify: judged against the exact sides below;
                # search on, ignoring margins that small
                state["artefacts"] += 1
                rel_tol *= 100
            if counterexample is None:
                counterexample = self._certify_nonfinite(state)
            if counterexample is None:
                counterexample = self._certify_negative_margins(state)
        except InconsistentEvidence as exc:
            problem = ("inconsistent", str(exc), exc.details)
        except _OutOfTime:
            problem = ("undecided", "a float violation could not be certified or dismissed within the time cap "
                       f"({self.certify_seconds:g} s per certificate, {self.check_seconds:g} s per check)", {})
        return self.finish(state, counterexample, t0, problem=problem)

    def _certify_negative_margins(self, state: dict) -> Counterexample | None:
        """A negative float margin below the tolerance may still be a real violation (a claim off by
        1e-12, or with sides far below ``scale_floor``): where 128-bit Arb already proves the exact
        margin negative, certify it in full. Equalities and rounding noise do not resolve and cost
        one cheap evaluation."""
        for key in ("argmin", "argmin_nontrivial"):
            x = state.get(key)
            rel = state["min_rel_margin"] if key == "argmin" else state.get("min_rel_nontrivial", math.inf)
            if x is None or not rel < 0 or self.relation != "<=":
                continue
            try:
                self.check_domain(x)
            except OutOfDomainError:
                continue
            sign, _ = certified_sign(lambda B: self.signed_margin(x, B), precisions=(64, 128))
            if sign == -1:
                cx = self._certify_timed(x, state)
                if cx is not None:
                    return cx
        return None

    def _certify_nonfinite(self, state: dict) -> Counterexample | None:
        """An infinite float lhs may be a real violation the float could not represent: try to certify it."""
        for x in state["nonfinite_inputs"]:
            cx = self._certify_timed(x, state)
            if cx is not None:
                return cx
        return None

    def exact_comparisons(self, state: dict) -> dict:
        """Compare float and exact sides at the worst cases, the float violations and the seeded sample.

        The number of comparisons depends on the seed only, never on the clock (same seed, same report).
        """
        keyed = []
        for x in ([state.get("argmin"), state.get("argmin_nontrivial"), state.get("argmax_ratio")]
                  + state.get("float_violations", []) + state.get("nonfinite_inputs", []) + state.get("sample", [])):
            if x is None:
                continue
            key = repr(inputs_to_strings(x))
            if key not in {k for k, _ in keyed}:
                keyed.append((key, x))
        out = {"made": 0, "max_deviation": 0.0, "at": None, "findings": [], "unresolved": []}
        for _, x in keyed:
            try:
                c = self.compare_exact(x)
            except InexactInputError:
                raise
            except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
                c = {"deviation": math.inf, "note": f"exact side failed: {type(exc).__name__}: {exc}"}
            out["made"] += 1
            if c.get("unresolved"):
                out["unresolved"].append({"inputs": inputs_to_strings(x), "note": c["note"]})
                continue
            if c["deviation"] > out["max_deviation"] or out["at"] is None:
                out["max_deviation"], out["at"] = c["deviation"], inputs_to_strings(x)
            if c.get("bad", c["deviation"] > self.side_tol):
                out["findings"].append({"inputs": inputs_to_strings(x), "disagreement": c["note"]})
        return out

    def finish(self, state: dict, counterexample: Counterexample | None, t0: float, problem=None) -> Result:
        """Shrink and simplify a counterexample, compare float with exact, and turn the state into a Result."""
        try:
            if counterexample is not None and self.sized_domain is not None:
                counterexample = self._smaller(counterexample, state)
            if counterexample is not None:
                counterexample = self._simpler(counterexample)
        except InconsistentEvidence as exc:
            counterexample, problem = None, ("inconsistent", str(exc), exc.details)
        comparisons = self.exact_comparisons(state) if state.get("sample") is not None else None
        distance = None if self.extremiser_distance is None else (
            lambda x: self.extremiser_distance(floatify(self.derive(dict(x)))))
        evidence = search_evidence(state, comparisons, relation=self.relation, side_tol=self.side_tol,
                                   extremiser_distance=distance)
        if counterexample is not None:
            evidence["summary"] = f"violated after {state['cases']} cases; shrunk to size {counterexample.size}"
            return self.result(Verdict.REFUTED, evidence, counterexample, t0)
        if problem is not None:
            kind, message, details = problem
            evidence["problem"] = {"message": message, **details}
            evidence["summary"] = message
            verdict = Verdict.INCONSISTENT if kind == "inconsistent" else Verdict.UNDECIDED
            return self.result(verdict, evidence, None, t0)
        if comparisons is not None and comparisons["findings"]:
            f = comparisons["findings"][0]
            evidence["summary"] = (f"float and exact sides disagree at {len(comparisons['findings'])} of "
                                   f"{comparisons['made']} compared cases (tolerance {self.side_tol:g}): "
                                   f"{f['disagreement']}")
            return self.result(Verdict.INCONSISTENT, evidence, None, t0)
        if state.get("nonfinite"):
            evidence["summary"] = f"a float side was NaN in {state['nonfinite']} of {state['cases']} cases"
            return self.result(Verdict.INCONSISTENT, evidence, None, t0)
        if comparisons is not None and comparisons["unresolved"]:
            evidence["unresolved_exact_sides"] = comparisons["unresolved"][:3]
            evidence["summary"] = (f"the exact sides could not be resolved at {len(comparisons['unresolved'])} "
                                   f"compared cases: {comparisons['unresolved'][0]['note']}")
            return self.result(Verdict.UNDECIDED, evidence, None, t0)
        if state["cases"] and not state.get("nontrivial"):
            evidence["summary"] = (f"vacuous: all {state['cases']} cases were trivial (both sides below "
                                   f"{min(self.scale_floor, 1e-12):g}, or the statement's own trivial cases)")
            return self.result(Verdict.UNDECIDED, evidence, None, t0)
        if state.get("float_violations") and comparisons is None:
            evidence["summary"] = "float violations that were not certified and not compared with the exact sides"
            return self.result(Verdict.UNDECIDED, evidence, None, t0)
        evidence["summary"] = holds_summary(state, comparisons, relation=self.relation)
        if self.proof:
            evidence["proof"] = self.proof
        return self.result(Verdict.HOLDS, evidence, None, t0)

    def _smaller(self, cx: Counterexample, state: dict, per_size: int = 60, sizes: int = 12) -> Counterexample:
        """Look for a certified violation at each size below ``cx.size``, smallest first.

        Bounded by a count of sizes (not by the clock), so the same seed finds the same counterexample.
        """
        for n in range(1, min(cx.size, sizes + 1)):
            dom = self.sized_domain(n)
            if dom is None:
                continue
            x = self.search(state, domain=dom, max_examples=per_size, seed=_stable_seed(self.id, run_seed(), "size", n))
            if x is not None:
                try:
                    smaller = self.certify_found(x, state)
                except _OutOfTime:
                    break
                if smaller is not None:
                    return smaller
        return cx

    def _simpler(self, cx: Counterexample) -> Counterexample:
        """Replace the inputs by rationals with small denominators while the violation still certifies."""
        if self.domain_check is None:  # without a domain predicate a rounded input could leave the domain
            return cx
        x = inputs_from_strings(cx.inputs)
        for d in (1, 2, 4, 10, 100, 1000, 10**6):
            y = {k: ([e.limit_denominator(d) for e in v] if isinstance(v, list) and v and isinstance(v[0], Fraction)
                     else v.limit_denominator(d) if isinstance(v, Fraction) else v) for k, v in x.items()}
            try:
                y = self.canonical(y)
                simpler = self.certify(y, seconds=min(self.certify_seconds, 10.0))
            except (ValueError, ZeroDivisionError, KeyError):
                continue
            if simpler is not None and simpler.size <= cx.size:
                return simpler
        return cx

    # -- mutants ---------------------------------------------------------------
    def mutants(self) -> list[Inequality]:
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

    def mutant(self, name: str, **changes) -> Inequality:
        # a mutant has no independent formula: it is a different claim from the one that formula states
        return replace(self, id=f"{self.id}~{name}", proof="", extra_mutants=None, independent=None,
                       expected=None, **changes)


class _OutOfTime(Exception):
    pass


def _scaled(f, c):
    return lambda x: f(x) * c


def _scaled_exact(f, c: Fraction):
    return lambda x, B: f(x, B) * B.num(c)


def _only_violations(exc: BaseException) -> bool:
    if isinstance(exc, _FloatViolation):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_violations(e) for e in exc.exceptions)
    return False


def _ball_str(v) -> str:
    """A ball with 25 digits; an exact infinity as ``+inf`` / ``-inf`` (flint prints ``[+/- inf]``)."""
    sign = infinite_sign(v)
    return f"{math.copysign(math.inf, sign):+}" if sign else v.str(25, radius=True)
