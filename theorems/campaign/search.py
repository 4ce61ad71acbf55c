"""One time slice of one statement's search: what a worker (local process or Dask) runs.

A slice is a single long Hypothesis run (generate phase only, no database, no
``target()``; it is stopped at the slice's deadline) over the statement's own domain.
Every draw is evaluated, then structured variants of it (:mod:`.structure`), and a
Nelder–Mead push projected onto the domain starts from the best input so far
(including the best of earlier slices, sent in by the client). A float violation is
certified at once with :meth:`Inequality.certify`; only what ``certify`` returns
counts as a counterexample. It is then simplified (rounder inputs that still
certify, and smaller sizes where the statement has a ``sized_domain``) for a few
seconds at most.

Errors: an exception raised by the statement on a draw from its *own domain*
(``prepare``, ``derive``, a side) or by ``certify`` ends the statement's search
with an error row; an exception on an engine-made variant only counts that
variant as invalid (the variant may be at fault).

Time: the loop checks the clock before every evaluation, so a slice overruns its
deadline by at most one evaluation plus one certification (measured and reported).
"""

from __future__ import annotations

import math
import time
import traceback
from fractions import Fraction

import numpy as np

from theorems.campaign.loading import Spec, load_spec
from theorems.campaign.structure import SHAPE_SAMPLES, Shape, infer_shape, parameterise, variants
from theorems.inequality import Inequality
from theorems.statement import floatify, inputs_to_strings

#: at most this long is spent simplifying a certified counterexample
SIMPLIFY_SECONDS = 3.0
#: rounds of structured variants made from each Hypothesis draw: one in a statement's first
#: slice (where plain draws already kill the easy statements), then three
VARIANT_ROUNDS = (1, 3)
#: time cap of one certification inside a slice (at least; longer slices allow up to their length)
CERTIFY_SECONDS = 5.0


class _Stop(Exception):
    """Ends the Hypothesis run of a slice (deadline, counterexample or error)."""


class _Worker:
    """What a process keeps about a statement between its slices (its domain's shape)."""

    def __init__(self, stmt):
        self.stmt = stmt
        try:
            import inspect

            self.timed_certify = "seconds" in inspect.signature(stmt.certify).parameters
        except (AttributeError, TypeError, ValueError):  # statements with a bespoke check have no certify
            self.timed_certify = False
        self.samples: list = []
        self.shape: Shape | None = None
        self.trivial = getattr(stmt, "trivial", None)

    def observe(self, raw):
        # the shape is first inferred from a few draws and re-inferred as more arrive (up to 64·SHAPE_SAMPLES):
        # more samples can only drop a field, allow zeros that were seen, or widen a seen range
        if len(self.samples) < 64 * SHAPE_SAMPLES:
            self.samples.append(raw)
            k = len(self.samples) // SHAPE_SAMPLES
            if len(self.samples) % SHAPE_SAMPLES == 0 and k & (k - 1) == 0:  # at 1, 2, 4, ... × SHAPE_SAMPLES
                self.shape = infer_shape(self.samples)


_WORKERS: dict[str, _Worker] = {}


def _worker_for(spec: Spec) -> _Worker:
    key = spec.cache_key()
    if key not in _WORKERS:
        _WORKERS[key] = _Worker(load_spec(spec))
    return _WORKERS[key]


# ----------------------------------------------------------------------------
# Raw inputs as JSON (the best input travels between slices and into the state file)
# ----------------------------------------------------------------------------

def raw_to_json(raw):
    if not isinstance(raw, dict):
        return None
    out = {}
    for k, v in raw.items():
        if isinstance(v, np.ndarray) and v.dtype.kind in "fi":
            out[k] = {"__array__": v.tolist(), "dtype": v.dtype.str}
        elif isinstance(v, (bool, int, float, str)) or v is None:
            out[k] = v
        elif isinstance(v, (np.floating, np.integer)):
            out[k] = v.item()
        elif isinstance(v, Fraction):
            out[k] = {"__fraction__": f"{v.numerator}/{v.denominator}"}
        elif isinstance(v, (list, tuple)) and all(isinstance(e, (int, float, str)) for e in v):
            out[k] = {"__list__": list(v), "tuple": isinstance(v, tuple)}
        else:
            return None
    return out


def raw_from_json(obj):
    if not isinstance(obj, dict):
        return None
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict) and "__array__" in v:
            out[k] = np.array(v["__array__"], dtype=np.dtype(v.get("dtype", "<f8")))
        elif isinstance(v, dict) and "__fraction__" in v:
            out[k] = Fraction(v["__fraction__"])
        elif isinstance(v, dict) and "__list__" in v:
            out[k] = tuple(v["__list__"]) if v.get("tuple") else list(v["__list__"])
        else:
            out[k] = v
    return out


def _describe(exc: BaseException, raw=None) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
    text = f"{type(exc).__name__}: {exc}{where}"
    if raw is not None:
        js = raw_to_json(raw)
        text += f" (input {str(js)[:300]})"
    return text


# ----------------------------------------------------------------------------
# The slice
# ----------------------------------------------------------------------------

class _Slice:
    def __init__(self, w: _Worker, seconds: float, seed: int, best_rel: float, best_raw, rel_tol: float,
                 index: int = 0):
        self.w, self.stmt = w, w.stmt
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()  # CPU seconds: the load-independent measure on a shared machine
        self.cpu_ttc = None
        self.deadline = self.t0 + seconds
        self.slice_s = seconds
        self.rounds = VARIANT_ROUNDS[0] if index == 0 else VARIANT_ROUNDS[1]
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.rel_tol = rel_tol
        self.best_rel, self.best_raw, self.best_x = best_rel, best_raw, None
        self.start_best = best_rel
        self.cases = self.invalid = self.artefacts = self.nonfinite = 0
        self.counterexample = None
        self.ttc = None  # seconds into the slice when the counterexample certified
        self.error = None
        self.last_push = self.t0

    def expired(self) -> bool:
        return time.perf_counter() >= self.deadline

    def done(self) -> bool:
        return self.counterexample is not None or self.error is not None

    # -- one evaluation -----------------------------------------------------
    def consider(self, raw, own: bool) -> float:
        """Evaluate ``raw``; returns the rank used for the push (relative margin, degenerate points last).

        ``own``: ``raw`` came from the statement's domain, so an exception is the statement's error.
        """
        stmt = self.stmt
        try:
            x = stmt.prepare(raw)
            xf = floatify(stmt.derive(dict(x)))
            margin, scale = stmt.float_margin(xf)
            trivial = scale <= stmt.scale_floor or bool(self.w.trivial is not None and self.w.trivial(xf))
        except Exception as exc:  # noqa: BLE001 - anything the user's code raises
            if own:
                self.error = "the statement raised on a draw from its domain: " + _describe(exc, raw)
                raise _Stop from None
            self.invalid += 1
            return math.inf
        self.cases += 1
        rel = margin / scale
        if not math.isfinite(rel):
            self.nonfinite += 1
            return math.inf
        # both sides below scale_floor (e.g. exactly uniform p) or a statement's trivial case: no
        # information about how tight the bound is, and its float margin is rounding noise of either
        # sign; such points rank after every informative one, so the push is never pulled to them
        # (target() on the relative margin pulled the search to exactly uniform p)
        rank = 1.0 + abs(rel) if trivial else rel
        if rank < self.best_rel:
            self.best_rel, self.best_raw, self.best_x = rank, raw, x
        if rel < -self.rel_tol:
            self._certify(x, raw, rel)
        return rank

    def _certify(self, x, raw, rel):
        try:
            if self.w.timed_certify:
                # a slice must not overrun by the statement's full certification cap (30 s by default)
                cap = min(getattr(self.stmt, "certify_seconds", 30.0), max(CERTIFY_SECONDS, self.slice_s))
                cx = self.stmt.certify(x, seconds=cap)
            else:
                cx = self.stmt.certify(x)
        except Exception as exc:  # noqa: BLE001
            self.error = "certify raised: " + _describe(exc, raw)
            raise _Stop from None
        if cx is None:
            # a float-only violation: ignore margins this small from now on (sent back, so resumes agree)
            self.artefacts += 1
            self.rel_tol = max(self.rel_tol * 10, 2 * abs(rel))
            return
        self.ttc = time.perf_counter() - self.t0
        self.cpu_ttc = time.process_time() - self.cpu0
        self.counterexample = _simplify(self.stmt, cx, raw, self.rng)
        raise _Stop

    # -- the local push -------------------------------------------------------
    def push(self, max_evals: int = 300):
        shape = self.w.shape
        if self.best_raw is None or shape is None or shape.empty:
            return
        theta0, rebuild = parameterise(self.best_raw, shape)
        if theta0.size == 0 or theta0.size > 200:
            return
        from scipy.optimize import minimize

        def objective(theta):
            if self.expired():
                raise _Stop
            try:
                y = rebuild(theta)
            except (ValueError, FloatingPointError, OverflowError):
                return math.inf
            return self.consider(y, own=False)

        start = theta0 + self.rng.normal(0, 0.05, theta0.size) * (self.rng.random() < 0.5)
        with np.errstate(all="ignore"):
            minimize(objective, start, method="Nelder-Mead",
                     options={"maxfev": max_evals, "xatol": 1e-12, "fatol": 1e-16, "adaptive": True})
        self.last_push = time.perf_counter()

    # -- the Hypothesis run -----------------------------------------------------
    def run(self):
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis.errors import Unsatisfiable

        stmt, w = self.stmt, self.w
        try:
            if self.best_raw is not None:
                # the best input of earlier slices: re-evaluate it, then push from it
                self.best_rel = math.inf
                self.consider(self.best_raw, own=False)
                if self.best_rel < math.inf:
                    self.push()
        except _Stop:
            return
        period = max(0.05, 0.4 * (self.deadline - self.t0))

        def test(raw):
            if self.done() or self.expired():
                raise _Stop
            w.observe(raw)
            self.consider(raw, own=True)
            if w.shape is not None:
                # variants cost a margin evaluation each (well under a millisecond) where a generic
                # Hypothesis draw costs 10-40 ms: several rounds of them per draw
                try:
                    made = variants(raw, w.shape, self.rng, per_field=self.rounds)
                except (ValueError, ArithmeticError, FloatingPointError):  # the engine's fault, not the statement's
                    made = []
                    self.invalid += 1
                for v in made:
                    if self.expired():
                        raise _Stop
                    self.consider(v, own=False)
                if time.perf_counter() - self.last_push > period:
                    self.push(max_evals=150)

        rounds = 0
        while not self.done() and not self.expired():
            run = given(stmt.domain)(test)
            run = hypothesis_seed(self.seed * 1009 + rounds)(run)
            run = settings(max_examples=10**9, database=None, deadline=None, phases=[Phase.generate],
                           suppress_health_check=list(HealthCheck), report_multiple_bugs=False)(run)
            rounds += 1
            try:
                run()  # returns only when Hypothesis exhausts a small domain
            except _Stop:
                pass
            except BaseExceptionGroup as exc:
                if not _only_stops(exc):
                    raise
            except Unsatisfiable as exc:
                self.error = f"the domain cannot generate inputs: {exc}"
            except Exception as exc:  # noqa: BLE001 - e.g. the domain strategy itself raised
                if not self.done():
                    self.error = "the domain or statement raised: " + _describe(exc)


def _only_stops(exc) -> bool:
    if isinstance(exc, _Stop):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_stops(e) for e in exc.exceptions)
    return False


# ----------------------------------------------------------------------------
# Simplifying a certified counterexample
# ----------------------------------------------------------------------------

def _exact_sums(x) -> dict:
    return {k: sum(v, Fraction(0)) == 1 for k, v in x.items()
            if isinstance(v, list) and v and all(isinstance(e, Fraction) for e in v)}


def _round_sig(v: float, d: int) -> float:
    if v == 0 or not math.isfinite(v):
        return v
    return float(f"{v:.{d}g}")


def _simplify(stmt: Inequality, cx, raw, rng, seconds: float = SIMPLIFY_SECONDS):
    """Rounder (and, with ``sized_domain``, smaller) inputs that still certify; ``cx`` if none.

    Rounding acts on the raw draw, which goes through the statement's own ``prepare``;
    a candidate is kept only if every list that summed exactly to 1 still does and no
    zero pattern changed (it stays in the same domain).
    """
    t0 = time.perf_counter()
    best = cx
    if isinstance(raw, dict):
        try:
            x0 = stmt.prepare(raw)
            sums0 = _exact_sums(x0)
        except Exception:  # noqa: BLE001
            sums0 = None
        for d in (1, 2, 3, 6):
            if sums0 is None or time.perf_counter() - t0 > seconds:
                break
            y = {}
            for k, v in raw.items():
                if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                    y[k] = np.array([_round_sig(float(e), d) for e in v])
                elif isinstance(v, float):
                    y[k] = _round_sig(v, d)
                else:
                    y[k] = v
            try:
                if any(isinstance(v, np.ndarray) and np.any((v == 0) != (raw[k] == 0)) for k, v in y.items()
                       if isinstance(raw[k], np.ndarray)):
                    continue
                xy = stmt.prepare(y)
                if _exact_sums(xy) != sums0:
                    continue
                c = stmt.certify(xy)
            except Exception:  # noqa: BLE001 - a rounded input may leave the domain: just skip it
                continue
            if c is not None and c.size <= best.size:
                best = c
                break
    if stmt.sized_domain is not None:
        smaller = _smaller(stmt, best, seconds - (time.perf_counter() - t0), rng)
        if smaller is not None:
            best = smaller
    return best


def _smaller(stmt, cx, seconds, rng):
    """A certified violation at a smaller size from ``sized_domain(n)``, smallest n first (time-boxed)."""
    if seconds <= 0:
        return None
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    t_end = time.perf_counter() + seconds
    per = seconds / max(cx.size - 1, 1)
    for n in range(1, cx.size):
        if time.perf_counter() > t_end:
            return None
        try:
            dom = stmt.sized_domain(n)
        except Exception:  # noqa: BLE001
            continue
        if dom is None:
            continue
        found = {}
        stop_at = time.perf_counter() + per

        def test(raw):
            if found or time.perf_counter() > stop_at:
                raise _Stop
            try:
                x = stmt.prepare(raw)
                margin, scale = stmt.float_margin(floatify(stmt.derive(dict(x))))
                if margin / scale < -stmt.rel_tol:
                    c = stmt.certify(x)
                    if c is not None and c.size < cx.size:
                        found["cx"] = c
                        raise _Stop
            except _Stop:
                raise
            except Exception:  # noqa: BLE001
                return

        run = settings(max_examples=200, database=None, deadline=None, phases=[Phase.generate],
                       suppress_health_check=list(HealthCheck))(given(dom)(test))
        try:
            hypothesis_seed(int(rng.integers(2**31)))(run)()
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
        if found:
            return found["cx"]
    return None


# ----------------------------------------------------------------------------
# Entry point for workers
# ----------------------------------------------------------------------------

def run_slice(spec: Spec, seconds: float, seed: int, best_rel: float = math.inf, best_raw_json=None,
              rel_tol: float | None = None, index: int = 0) -> dict:
    """Search ``spec``'s statement for ``seconds``; a plain dict comes back to the client."""
    t_load = time.perf_counter()
    out = {"ref": spec.ref, "seconds": 0.0, "cases": 0, "counterexample": None, "error": None,
           "time_to_counterexample_in_slice_s": None, "best_relative_margin": best_rel, "best_raw": best_raw_json,
           "best_input": None, "improved": False, "artefacts": 0, "invalid": 0, "nonfinite": 0,
           "rel_tol": rel_tol, "slice_s": seconds, "bespoke": None}
    try:
        w = _worker_for(spec)
        import hypothesis  # noqa: F401 - a fresh (Dask) worker pays its imports before the slice's clock starts
        import scipy.optimize  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        out.update(error="loading the statement failed: " + _describe(exc), seconds=time.perf_counter() - t_load)
        return out
    stmt = w.stmt
    t0 = time.perf_counter()
    out["load_s"] = t0 - t_load
    if not isinstance(stmt, Inequality):
        # statements with a bespoke check (rates, limits, existence) run their check once
        try:
            r = stmt.check(effort="quick")
            out["bespoke"] = {"verdict": r.verdict.value, "summary": r.summary(),
                              "counterexample": r.counterexample.__dict__ if r.counterexample else None}
        except Exception as exc:  # noqa: BLE001
            out["error"] = "check() raised: " + _describe(exc)
        out["seconds"] = time.perf_counter() - t0
        return out
    s = _Slice(w, seconds, seed, best_rel, raw_from_json(best_raw_json),
               stmt.rel_tol if rel_tol is None else rel_tol, index)
    try:
        s.run()
    except Exception as exc:  # noqa: BLE001 - never crash the campaign
        s.error = s.error or "the search raised: " + _describe(exc)
    out.update(
        seconds=time.perf_counter() - t0, cases=s.cases, error=s.error, artefacts=s.artefacts, invalid=s.invalid,
        nonfinite=s.nonfinite, rel_tol=s.rel_tol, best_relative_margin=s.best_rel,
        improved=s.best_rel < s.start_best,
        counterexample=s.counterexample.__dict__ if s.counterexample is not None else None,
        time_to_counterexample_in_slice_s=s.ttc, cpu_s=time.process_time() - s.cpu0,
        cpu_to_counterexample_in_slice_s=s.cpu_ttc,
    )
    if s.best_raw is not None:
        out["best_raw"] = raw_to_json(s.best_raw)
        if s.best_x is not None:
            try:
                out["best_input"] = inputs_to_strings(s.best_x)
            except Exception:  # noqa: BLE001
                pass
    return out
