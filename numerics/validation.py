"""Input checks shared by every numerics function.

Each check raises ``ValueError`` with a message that names the problem, so a
user never sees a NaN or a traceback from deep inside numpy.
"""

from __future__ import annotations

import math

import numpy as np

#: Largest allowed ``|sum(p) - 1|`` for a probability vector.  Float sums of
#: 10^6 entries are off by ~1e-10; anything beyond 1e-6 is a caller's mistake.
SUM_TOLERANCE = 1e-6


def as_float_array(x, name: str = "input", ndim: int | None = None) -> np.ndarray:
    """Return ``x`` as a float64 array, rejecting non-numeric, empty and non-finite input.

    Args:
        x: array-like of real numbers.
        name: what the caller calls ``x`` (used in the messages).
        ndim: the required number of dimensions, or None for any.

    Raises:
        ValueError: naming the problem (not real numbers, wrong ``ndim``, empty, NaN or inf with
            the index of the first one).
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty" + (f" (shape {arr.shape})" if arr.ndim > 1 else ""))
    finite = np.isfinite(arr)
    if not finite.all():
        nan = np.isnan(arr)
        bad = "NaN" if nan.any() else "inf"
        where = np.argwhere(nan if nan.any() else ~finite)[0]
        index = int(where[0]) if arr.ndim == 1 else tuple(int(i) for i in where)
        raise ValueError(f"{name} contains {bad} (at index {index})")
    return arr


def as_float_vector(x, name: str = "input") -> np.ndarray:
    """Return ``x`` as a 1-D float64 array, rejecting empty, non-finite and non-1-D input."""
    return as_float_array(x, name, ndim=1)


def as_symmetric_matrix(x, name: str = "matrix", n: int | None = None) -> np.ndarray:
    """``(A + Aᵀ)/2`` of a finite, square real matrix that is symmetric up to ``1e-10 · max|A|``.

    Args:
        x: array-like matrix.
        name: what the caller calls ``x`` (used in the messages).
        n: the required size, or None for any square size.

    Raises:
        ValueError: naming the problem (not real numbers, not 2-D, empty, NaN or inf, not square or
            not ``n × n``, not symmetric).
    """
    A = as_float_array(x, name, ndim=2)
    if A.shape[0] != A.shape[1] or (n is not None and A.shape != (n, n)):
        want = f"shape ({n}, {n})" if n is not None else "a square shape"
        raise ValueError(f"{name} must have {want}, got {A.shape}")
    scale = float(np.max(np.abs(A))) or 1.0
    if float(np.max(np.abs(A - A.T))) > 1e-10 * scale:
        raise ValueError(f"{name} is not symmetric (|A − Aᵀ| > 1e-10 · max|A|)")
    return (A + A.T) / 2


def check_positive(value, name: str) -> float:
    """A positive finite real number as a float; ``ValueError`` naming ``name`` otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def as_distribution(p, name: str = "p") -> np.ndarray:
    """Return ``p`` as a probability vector: 1-D, finite, non-negative, summing to 1.

    The entries are used as given (not renormalised), so the float result and the
    mpmath oracle see exactly the same numbers.
    """
    arr = as_float_vector(p, name)
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{name} has a negative entry {arr[i]!r} at index {i}")
    total = math.fsum(arr)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(
            f"{name} sums to {total!r}, not 1 (tolerance {SUM_TOLERANCE}); normalise it first "
            "(numerics.spectrum.normalize_spectrum does this for eigenvalues)"
        )
    return arr


def same_length(p: np.ndarray, q: np.ndarray, names: str = "p and q") -> None:
    if p.shape != q.shape:
        raise ValueError(f"{names} must have the same length, got {p.size} and {q.size}")


def check_alpha(alpha: float) -> float:
    """Rényi order: a real number > 0 (``math.inf`` allowed)."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a real number, got {alpha!r}") from None
    if math.isnan(a) or a <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    return a
