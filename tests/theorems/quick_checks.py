"""One quick check per registry statement (and per mutant) in a test session.

Several test modules need the quick verdict of the same registry statement or mutant:
the expected-verdict table, the mutant sample, and the modules that inspect a statement's
evidence or verify its mutants' counterexamples. A quick check is a seeded, deterministic
search, so they share one run instead of repeating it.

Only pass objects taken unmodified from :mod:`theorems.registry` or from :func:`mutants_of`.
A test that changes a statement (``dataclasses.replace``, a monkeypatched library function)
must call ``.check()`` itself: the cache would hand it the unchanged result.
"""

from __future__ import annotations

from theorems.statement import Result

# keyed by id(); the object is kept alongside so that its id cannot be reused by another object
_MUTANTS: dict[int, tuple[object, list]] = {}
_RESULTS: dict[int, tuple[object, Result]] = {}


def mutants_of(stmt) -> list:
    """``stmt.mutants()``, built once, so that every test sees the same mutant objects."""
    key = id(stmt)
    if key not in _MUTANTS:
        _MUTANTS[key] = (stmt, stmt.mutants())
    return _MUTANTS[key][1]


def quick_check(stmt) -> Result:
    """``stmt.check(effort="quick")``, run once per session."""
    key = id(stmt)
    if key not in _RESULTS:
        _RESULTS[key] = (stmt, stmt.check(effort="quick"))
    return _RESULTS[key][1]
