"""Arithmetic backends for writing a formula once and evaluating it three ways.

A formula is written against a small namespace ``B`` (``B.num``, ``B.log``,
``B.exp``...), and evaluated with

* ``MP``  -- mpmath at a chosen working precision (the oracle for float code),
* ``Arb`` -- python-flint ball arithmetic (Arb): every result is an interval
  that provably contains the exact value, which is what certifies a
  counterexample.

Inputs are exact: ``fractions.Fraction``, ``int``, decimal strings, or floats
(a float is the exact binary rational it stores).

Reference: F. Johansson, "Arb: efficient arbitrary-precision midpoint-radius
interval arithmetic", IEEE Trans. Computers 66 (2017).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import flint
import mpmath


def to_fraction(x) -> Fraction:
    """Exact rational value of ``x`` (float, int, Fraction, or decimal string like ``'1e-3'``)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, float)):
        return Fraction(x)  # exact for floats: the stored binary rational
    if isinstance(x, str):
        return Fraction(x)
    try:
        return Fraction(float(x))
    except (TypeError, ValueError):
        raise ValueError(f"cannot read {x!r} as an exact number") from None


def fraction_str(x: Fraction) -> str:
    """``'p/q'`` (or ``'p'``) for an exact rational."""
    x = to_fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


class MP:
    """mpmath backend: ``with MP(dps=50) as B: ...``."""

    def __init__(self, dps: int = 50):
        self.dps = dps
        self._ctx = []  # a stack: formulas re-enter the backend they were given

    def __enter__(self):
        ctx = mpmath.workdps(self.dps)
        ctx.__enter__()
        self._ctx.append(ctx)
        return self

    def __exit__(self, *exc):
        self._ctx.pop().__exit__(*exc)

    def num(self, x):
        if isinstance(x, mpmath.mpf):
            return x
        f = to_fraction(x)
        return mpmath.mpf(f.numerator) / f.denominator

    log = staticmethod(mpmath.log)
    log1p = staticmethod(mpmath.log1p)
    exp = staticmethod(mpmath.exp)
    expm1 = staticmethod(mpmath.expm1)
    sqrt = staticmethod(mpmath.sqrt)
    tanh = staticmethod(mpmath.tanh)

    @staticmethod
    def sum(xs):
        return mpmath.fsum(xs)

    @staticmethod
    def ncdf(x):
        return mpmath.ncdf(x)

    @staticmethod
    def pi():
        return +mpmath.pi


@dataclass
class Arb:
    """Arb ball arithmetic backend: ``with Arb(prec=256) as B: ...``.

    Results are ``flint.arb`` balls; ``ball.upper() < 0`` is a proof of negativity.
    """

    prec: int = 256

    def __enter__(self):
        self.__dict__.setdefault("_saved", []).append(flint.ctx.prec)  # a stack, as for MP
        flint.ctx.prec = self.prec
        return self

    def __exit__(self, *exc):
        flint.ctx.prec = self._saved.pop()

    def num(self, x):
        if isinstance(x, flint.arb):
            return x
        f = to_fraction(x)
        return flint.arb(flint.fmpq(f.numerator, f.denominator))

    @staticmethod
    def log(x):
        return x.log()

    @staticmethod
    def log1p(x):
        return x.log1p()

    @staticmethod
    def exp(x):
        return x.exp()

    @staticmethod
    def expm1(x):
        return x.expm1()

    @staticmethod
    def sqrt(x):
        return x.sqrt()

    @staticmethod
    def tanh(x):
        return x.tanh()

    @staticmethod
    def sum(xs):
        total = flint.arb(0)
        for x in xs:
            total += x
        return total

    @staticmethod
    def ncdf(x):
        return (-x / flint.arb(2).sqrt()).erfc() / 2

    @staticmethod
    def pi():
        return flint.arb.pi()


@dataclass(frozen=True)
class Ball:
    """A certified enclosure of an exact real number.

    ``enclosure`` is Arb's own decimal print ``[mid +/- rad]``, which Arb
    guarantees to contain the exact value; ``lower``/``upper`` are floats
    rounded outward from the ball's endpoints.
    """

    enclosure: str
    lower: float
    upper: float
    prec_bits: int


def arb_to_ball(x, prec: int) -> Ball:
    digits = max(15, int(prec * 0.30103) - 5)
    if not x.is_finite():  # e.g. log of a ball that contains 0: no information
        return Ball(enclosure=x.str(5, radius=True), lower=-math.inf, upper=math.inf, prec_bits=prec)
    lo = float(x.lower().mid().str(30, radius=False))
    hi = float(x.upper().mid().str(30, radius=False))
    return Ball(
        enclosure=x.str(digits, radius=True),
        lower=math.nextafter(math.nextafter(lo, -math.inf), -math.inf),
        upper=math.nextafter(math.nextafter(hi, math.inf), math.inf),
        prec_bits=prec,
    )


def certified_sign(formula, *, precisions=(64, 128, 256, 512, 1024, 2048)) -> tuple[int, Ball]:
    """Sign of an exact real given by ``formula(B)``, proven by Arb at rising precision.

    Args:
        formula: callable taking an ``Arb`` backend and returning an ``flint.arb``.
        precisions: working precisions (bits) to try in turn.

    Returns:
        ``(sign, ball)`` with sign in {-1, 0, +1}; 0 means the sign could not be
        proven even at the highest precision (the value may be exactly zero).
    """
    ball = None
    for prec in precisions:
        with Arb(prec) as B:
            x = formula(B)
            ball = arb_to_ball(x, prec)
            if x.upper() < 0:
                return -1, ball
            if x.lower() > 0:
                return 1, ball
    return 0, ball


def mp_value(formula, dps: int = 60):
    """Evaluate ``formula(B)`` with mpmath at ``dps`` digits (the second, independent opinion)."""
    with MP(dps) as B:
        return formula(B)
