"""Library-level mutation testing: perturb a float function of ``numerics``, see which verdicts move.

A statement-level mutant (a constant off by 1 %, a flipped inequality) shows that a
checker can refute a wrong *claim*. This shows that it notices a wrong *library*:
each public float function a statement calls is replaced, in every module that
holds it, by the same function times ``1 + δ``, and every statement that used it
and read ``holds`` is checked again. A checker that still reads ``holds`` has let a
library bug through.

    python -m theorems.library_mutants --json reports/theorems/library_mutants.json \
        --md reports/theorems/library_mutants.md
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import sys
import time
from pathlib import Path

import numpy as np

from theorems import registry
from theorems.statement import Verdict, seeded_run

#: the float libraries the statements are written against
MODULES = ("numerics.entropy", "numerics.divergence", "numerics.spectrum", "numerics.channel",
           "numerics.gaussian", "numerics.cv_limit", "numerics.steepest_descent", "numerics.modular_norm",
           "numerics.prodigy", "numerics.sharpness", "numerics.sam", "numerics.rmed")

#: exact twins and helpers that return no float quantity
_NOT_FLOAT = ("_mp", "_b", "_exact")
_HELPERS = ("check_", "parse_", "split")


def float_functions() -> dict[str, object]:
    """``"module.name" -> function`` for every public float function (``_mp`` twins excluded)."""
    out = {}
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for attr, fn in vars(mod).items():
            if (attr.startswith(("_",) + _HELPERS) or attr.endswith(_NOT_FLOAT) or not inspect.isfunction(fn)
                    or not (fn.__module__ == name or fn.__module__.startswith(name + "."))):
                continue
            out[f"{name}.{attr}"] = fn
    return out


@contextlib.contextmanager
def patched(original, replacement):
    """Replace ``original`` by ``replacement`` in every loaded module that holds a reference to it."""
    holders = [(m, k) for m in list(sys.modules.values()) if m is not None
               for k, v in list(getattr(m, "__dict__", {}).items()) if v is original]
    for m, k in holders:
        setattr(m, k, replacement)
    try:
        yield len(holders)
    finally:
        for m, k in holders:
            setattr(m, k, original)


def clear_caches() -> None:
    """Empty every ``functools`` cache in the project's modules."""
    for name, m in list(sys.modules.items()):
        if m is None or not name.startswith(("numerics", "theorems")):
            continue
        for v in list(vars(m).values()):
            if callable(getattr(v, "cache_clear", None)):
                v.cache_clear()


def scaled(fn, factor: float):
    def wrong(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(_scale(v, factor) for v in out)
        return _scale(out, factor)
    return wrong


def _scale(v, factor):
    if isinstance(v, (float, int, np.floating, np.ndarray)) and not isinstance(v, bool):
        return v * factor
    return v


def usage(statements, functions: dict) -> tuple[dict, dict]:
    """Which float functions each statement's check calls, and the unpatched verdicts."""
    calls: dict[str, set] = {}
    verdicts = {}
    current = {"id": None}

    def counting(name, fn):
        def wrapper(*a, **k):
            calls.setdefault(current["id"], set()).add(name)
            return fn(*a, **k)
        return wrapper

    with contextlib.ExitStack() as stack:
        for name, fn in functions.items():
            stack.enter_context(patched(fn, counting(name, fn)))
        for s in statements:
            current["id"] = s.id
            clear_caches()
            verdicts[s.id] = s.check().verdict
    return calls, verdicts


def sweep(factor: float = 1.01, ids=None, progress=print) -> dict:
    statements = registry.get(ids)
    functions = float_functions()
    with seeded_run(0):
        calls, baseline = usage(statements, functions)
        rows = []
        for name, fn in functions.items():
            users = [s for s in statements if name in calls.get(s.id, ()) and baseline[s.id] is Verdict.HOLDS]
            if not users:
                continue
            with patched(fn, scaled(fn, factor)):
                for s in users:
                    clear_caches()  # a cached study would replay the unpatched numbers
                    t = time.perf_counter()
                    try:
                        v = s.check().verdict.value
                    except Exception as exc:  # a crash also moves the verdict off holds
                        v = f"error ({type(exc).__name__})"
                    rows.append({"function": name, "statement": s.id, "verdict": v,
                                 "seconds": round(time.perf_counter() - t, 2)})
                    progress(f"  {name} x {factor} -> {s.id}: {v}")
    moved = [r for r in rows if r["verdict"] != "holds"]
    per_function = {}
    for r in rows:
        f = per_function.setdefault(r["function"], {"statements": 0, "moved": 0})
        f["statements"] += 1
        f["moved"] += r["verdict"] != "holds"
    return {"factor": factor, "functions": len(per_function), "mutant_runs": len(rows), "moved_off_holds": len(moved),
            "per_function": per_function, "rows": rows,
            "unused_functions": sorted(set(functions) - {n for c in calls.values() for n in c})}


def to_markdown(doc: dict) -> str:
    lines = ["# Library-level mutants", "",
             f"Every public float function of {', '.join(f'`{m}`' for m in MODULES)} that a statement "
             f"calls was multiplied by {doc['factor']} in every module holding it; each statement that used it "
             "and read `holds` was checked again (`python -m theorems.library_mutants`).", "",
             f"**{doc['moved_off_holds']} of {doc['mutant_runs']} (function, statement) runs moved off `holds`**, "
             f"over {doc['functions']} perturbed functions.", "",
             "| function | statement | verdict with the function ×" + f"{doc['factor']} |", "|---|---|---|"]
    for r in doc["rows"]:
        flag = "" if r["verdict"] != "holds" else " ⚠"
        lines.append(f"| `{r['function']}` | `{r['statement']}` | {r['verdict']}{flag} |")
    lines += ["", "Float functions no statement calls (not exercised here): "
              + (", ".join(f"`{n}`" for n in doc["unused_functions"]) or "none"), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    from theorems.report import atomic_write_text

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--factor", type=float, default=1.01)
    ap.add_argument("--json")
    ap.add_argument("--md")
    a = ap.parse_args(argv)
    doc = sweep(a.factor, a.ids or None, progress=lambda s: print(s, file=sys.stderr))
    import json

    if a.json:
        atomic_write_text(Path(a.json), json.dumps(doc, indent=1))
    if a.md:
        atomic_write_text(Path(a.md), to_markdown(doc))
    print(f"{doc['moved_off_holds']} of {doc['mutant_runs']} runs moved off holds ({doc['functions']} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
