"""Exact rationals between Python ``Fraction`` and python-flint ``fmpq`` / ``fmpq_mat``.

The statement checkers keep their exact inputs as ``Fraction`` (JSON-friendly, hashable) and do
exact matrix products, inverses and determinants in python-flint's ``fmpq_mat`` (FLINT's
multi-modular arithmetic: far faster than pure-Python Fractions beyond 3x3). These are the
conversions, written once.

Reference: the FLINT documentation, ``fmpq_mat`` (https://flintlib.org).
"""

from __future__ import annotations

from fractions import Fraction

import flint


def to_fmpq(v) -> flint.fmpq:
    """``v`` (int, Fraction, or a float, taken exactly) as an ``fmpq``."""
    q = Fraction(v)
    return flint.fmpq(q.numerator, q.denominator)


def to_fraction(q: flint.fmpq) -> Fraction:
    """An ``fmpq`` as a ``Fraction``."""
    return Fraction(int(q.p), int(q.q))


def fmpq_matrix(rows: int, cols: int, entries) -> flint.fmpq_mat:
    """The ``rows × cols`` matrix of ``entries`` in row-major order, exactly.

    Raises:
        ValueError: the number of entries is not ``rows * cols``.
    """
    entries = list(entries)
    if len(entries) != rows * cols:
        raise ValueError(f"a {rows}x{cols} matrix needs {rows * cols} entries, got {len(entries)}")
    return flint.fmpq_mat(rows, cols, [to_fmpq(e) for e in entries])


def identity(k: int) -> flint.fmpq_mat:
    """The ``k × k`` identity as an ``fmpq_mat``."""
    return flint.fmpq_mat(k, k, [1 if i == j else 0 for i in range(k) for j in range(k)])
