"""Statement domains as predicates on exact inputs.

A statement's search draws from a Hypothesis strategy; the *domain* is what the
claim quantifies over. ``verify`` and certification check a stored counterexample
against these predicates, so an input outside the domain (κ < 1, a spectrum with a
zero, p not summing to exactly 1) is never reported as a counterexample. Each
predicate returns None inside the domain and raises ``ValueError`` naming the
violated condition outside.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from numbers import Integral, Rational


def _exact(v, name: str) -> Fraction:
    if isinstance(v, bool) or not isinstance(v, Rational):
        raise ValueError(f"{name} must be an exact rational, got {type(v).__name__} {v!r}")
    return Fraction(v)


def interval(name: str, lo=None, hi=None, *, lo_open: bool = False, hi_open: bool = False,
             allow: tuple = ()) -> Callable[[dict], None]:
    """``lo ≤ x[name] ≤ hi`` (open ends as asked); values in ``allow`` (e.g. ``"inf"``) pass too."""
    def check(x: dict) -> None:
        if name not in x:
            raise ValueError(f"missing input {name!r}")
        if x[name] in allow:
            return
        v = _exact(x[name], name)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise ValueError(f"{name} = {v} must be {'>' if lo_open else '≥'} {lo}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise ValueError(f"{name} = {v} must be {'<' if hi_open else '≤'} {hi}")
    return check


def integer(name: str, lo: int | None = None, hi: int | None = None) -> Callable[[dict], None]:
    """``x[name]`` is an integer in ``[lo, hi]``."""
    def check(x: dict) -> None:
        v = x.get(name)
        if isinstance(v, bool) or not isinstance(v, Integral):
            raise ValueError(f"{name} must be an integer, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ValueError(f"{name} = {v} must lie in [{lo}, {hi}]")
    return check


def positive_vector(name: str, min_n: int = 1, allow_zero: bool = False) -> Callable[[dict], None]:
    """``x[name]`` is a list of at least ``min_n`` rationals, all > 0 (≥ 0 with ``allow_zero``, not all 0)."""
    def check(x: dict) -> None:
        v = x.get(name)
        if not isinstance(v, (list, tuple)) or len(v) < min_n:
            raise ValueError(f"{name} must be a list of at least {min_n} numbers, got {v!r:.80}")
        vals = [_exact(e, f"{name}[{i}]") for i, e in enumerate(v)]
        bad = [i for i, e in enumerate(vals) if e < 0 or (e == 0 and not allow_zero)]
        if bad:
            i = bad[0]
            raise ValueError(f"{name}[{i}] = {vals[i]} must be {'≥' if allow_zero else '>'} 0")
        if not any(vals):
            raise ValueError(f"{name} is all zero")
    return check


def distribution(name: str = "p", min_n: int = 1, positive: bool = False) -> Callable[[dict], None]:
    """``x[name]`` is a probability vector on at least ``min_n`` points: entries ≥ 0 (> 0), sum exactly 1."""
    nonneg = positive_vector(name, min_n, allow_zero=not positive)

    def check(x: dict) -> None:
        nonneg(x)
        total = sum((Fraction(e) for e in x[name]), Fraction(0))
        if total != 1:
            raise ValueError(f"{name} sums to {total}, not exactly 1")
    return check


def sums_to_length(name: str) -> Callable[[dict], None]:
    """``Σ x[name] = len(x[name])`` exactly (a spectrum normalised to trace n, as for K_ii = 1)."""
    def check(x: dict) -> None:
        total = sum((Fraction(e) for e in x[name]), Fraction(0))
        if total != len(x[name]):
            raise ValueError(f"{name} sums to {total}, not exactly n = {len(x[name])}")
    return check


def order(name: str) -> Callable[[dict], None]:
    """A Rényi order: an exact rational > 0, or the string ``"inf"``."""
    return interval(name, 0, lo_open=True, allow=("inf",))


_RULES = ("threshold", "interval", "logistic")


def channel_rule(x: dict) -> None:
    """A classifier of the channel's observation, as the statements store it."""
    kind = x.get("rule")
    if kind not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {kind!r}")
    if kind == "threshold":
        _exact(x.get("t"), "t")
        if not isinstance(x.get("reverse"), bool):
            raise ValueError("a threshold rule needs a bool 'reverse'")
    elif kind == "interval":
        edges = [_exact(e, "edges[i]") for e in x.get("edges", [])]
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("interval rule: edges must be strictly increasing")
        probs = [_exact(e, "probs[i]") for e in x.get("probs", [])]
        if len(probs) != len(edges) + 1 or any(not 0 <= q <= 1 for q in probs):
            raise ValueError("interval rule: probs needs len(edges) + 1 values in [0, 1]")
    else:
        _exact(x.get("slope"), "slope")
        _exact(x.get("intercept"), "intercept")


def all_of(*checks: Callable[[dict], None]) -> Callable[[dict], None]:
    """Every predicate holds (the first failure's message is raised)."""
    def check(x: dict) -> None:
        for c in checks:
            c(x)
    return check


def that(predicate: Callable[[dict], bool], message: str) -> Callable[[dict], None]:
    """A condition of the statement's own (``predicate(x)`` must be True)."""
    def check(x: dict) -> None:
        if not predicate(x):
            raise ValueError(message)
    return check


#: the Gaussian binary channel X | Y = ±1 ~ N(±μ, σ²): μ any rational, σ > 0
gaussian_channel = all_of(interval("mu"), interval("sigma", 0, lo_open=True))
