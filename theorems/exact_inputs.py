"""Exact inputs: the rational numbers a counterexample stores, and their float view.

A search draws floats; a counterexample stores the exact rationals those floats
are (or an exact normalisation of them), so that anyone can recompute it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from numerics.backends import fraction_str, to_fraction


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


def exact_distribution(raw: dict, key: str = "p") -> dict:
    """A drawn input made exact (:func:`exactify`), with ``x[key]`` normalised exactly to sum 1."""
    x = exactify(raw)
    x[key] = normalise_exact(x[key])
    return x


def uniform_exact(n: int) -> list[Fraction]:
    """The uniform distribution on ``n`` points, exactly."""
    return [Fraction(1, n)] * n


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
