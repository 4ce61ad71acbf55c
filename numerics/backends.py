"""Arithmetic backends for writing a formula once and evaluating it three ways.

A formula is written against a small namespace ``B`` (``B.num``, ``B.log``,
``B.exp``...), and evaluated with

* ``MP``  -- mpmath at a chosen working precision (the oracle for float code),
* ``Arb`` -- python-flint ball arithmetic (Arb): every result is an interval
  that provably contains the exact value, which is what certifies a
  counterexample.

Inputs are exact: ``fractions.Fraction``, ``int`` or decimal strings. The mpmath
backend also takes floats and mpmath numbers (it is an oracle, not a proof). The
Arb backend refuses them: a ball is only ever made from an exact input or by an
Arb operation, so a certificate never rests on a number that was rounded on its
way in (:class:`InexactInputError`). A float that *is* the exact input (a drawn
test point) enters through :func:`exactify`-style conversion to ``Fraction`` first,
or explicitly through ``B.exact_float(x)``.

Reference: F. Johansson, "Arb: efficient arbitrary-precision midpoint-radius
interval arithmetic", IEEE Trans. Computers 66 (2017).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass
from fractions import Fraction

import flint
import mpmath


class InexactInputError(TypeError):
    """A non-exact number (float, mpmath, numpy) reached the Arb backend."""


def _is_exact(x) -> bool:
    return isinstance(x, (numbers.Rational, str, flint.fmpq, flint.fmpz))


def to_fraction(x) -> Fraction:
    """Exact rational value of ``x`` (float, int, Fraction, or decimal string like ``'1e-3'``)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, float)):
        return Fraction(x)  # exact for floats: the stored binary rational
    if isinstance(x, str):
        return Fraction(x)
    if isinstance(x, mpmath.mpf) and mpmath.isfinite(x):
        man, exp = x.man_exp  # the binary value itself, not its rounding to 53 bits
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    if isinstance(x, numbers.Real) and not isinstance(x, mpmath.mpf):
        return Fraction(float(x))  # numpy floats: exact binary values
    raise ValueError(f"cannot read {x!r} ({type(x).__name__}) as an exact number")


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

    @staticmethod
    def inf(sign: int = 1):
        """An exactly infinite value (e.g. a KL divergence against a zero probability)."""
        return mpmath.inf if sign > 0 else -mpmath.inf

    @staticmethod
    def exact_float(x: float):
        return mpmath.mpf(x)

    @staticmethod
    def max(a, b):
        return mpmath.mpf(a) if a >= b else mpmath.mpf(b)

    @staticmethod
    def min(a, b):
        return mpmath.mpf(a) if a <= b else mpmath.mpf(b)


def _refuse_inexact(other):
    if isinstance(other, (float, complex, mpmath.mpf, mpmath.mpc)) or (
            hasattr(other, "dtype") and getattr(other.dtype, "kind", "") in "fc"):
        raise InexactInputError(
            f"an Arb ball met {type(other).__module__}.{type(other).__name__} {other!r} in arithmetic: "
            "its value was rounded before it got here. Use an exact constant (Fraction, int, decimal "
            "string through B.num) or compute it with B's functions")
    return other


def _exact(r):
    return r if type(r) is not flint.arb else ExactBall(r)


class ExactBall(flint.arb):
    """A ball that refuses to meet a float, numpy or mpmath number in arithmetic.

    python-flint silently takes ``ball * 0.1`` at the float's binary value; a formula that
    meant 1/10 would then be certified about the wrong number. Every ball the Arb backend
    makes is an ``ExactBall``, and so is every result of arithmetic and of the functions
    below, so a rounded number cannot enter a certified formula by an operator either.
    """

    __slots__ = ()

    def __add__(self, o):
        return _exact(flint.arb.__add__(self, _refuse_inexact(o)))

    def __radd__(self, o):
        return _exact(flint.arb.__radd__(self, _refuse_inexact(o)))

    def __sub__(self, o):
        return _exact(flint.arb.__sub__(self, _refuse_inexact(o)))

    def __rsub__(self, o):
        return _exact(flint.arb.__rsub__(self, _refuse_inexact(o)))

    def __mul__(self, o):
        return _exact(flint.arb.__mul__(self, _refuse_inexact(o)))

    def __rmul__(self, o):
        return _exact(flint.arb.__rmul__(self, _refuse_inexact(o)))

    def __truediv__(self, o):
        return _exact(flint.arb.__truediv__(self, _refuse_inexact(o)))

    def __rtruediv__(self, o):
        return _exact(flint.arb.__rtruediv__(self, _refuse_inexact(o)))

    def __pow__(self, o, mod=None):
        _refuse_inexact(o)
        if isinstance(o, int) and o >= 1:
            # by multiplication: python-flint's power of a ball containing 0 is NaN
            out, base, n = None, self, o
            while n:
                if n & 1:
                    out = base if out is None else out * base
                n >>= 1
                if n:
                    base = base * base
            return out
        return _exact(flint.arb.__pow__(self, o))

    def __rpow__(self, o):
        return _exact(flint.arb.__rpow__(self, _refuse_inexact(o)))

    def __neg__(self):
        return _exact(flint.arb.__neg__(self))

    def __pos__(self):
        return self

    def __abs__(self):
        return _exact(flint.arb.__abs__(self))

    def __getattribute__(self, name):
        attr = flint.arb.__getattribute__(self, name)
        if name not in _KEEP_EXACT:
            return attr

        def exact_method(*args):
            return _exact(attr(*(_refuse_inexact(a) for a in args)))

        return exact_method


#: ball -> ball functions whose results stay ExactBalls (mid, rad, upper, lower... stay plain)
_KEEP_EXACT = frozenset({
    "log", "log1p", "exp", "expm1", "sqrt", "rsqrt", "tanh", "sinh", "cosh", "atan", "atanh", "tan", "sin",
    "cos", "asin", "acos", "erf", "erfc", "max", "min", "union", "intersection", "root", "neg", "gamma", "lgamma",
    "digamma", "nonnegative_part", "sgn", "floor", "ceil",
})


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
        """A ball from an exact input (``Fraction``, ``int``, decimal string) or an Arb ball.

        Raises:
            InexactInputError: for floats, numpy scalars and mpmath numbers -- their value was
                rounded before it got here, so a ball around it would certify the wrong number.
        """
        if isinstance(x, flint.arb):
            return _exact(x)
        if isinstance(x, (flint.fmpq, flint.fmpz)):
            return ExactBall(x)
        if not _is_exact(x):
            raise InexactInputError(
                f"the Arb backend got {type(x).__module__}.{type(x).__name__} {x!r}: balls are made only from "
                "exact inputs (Fraction, int, decimal string) or Arb operations. Write the constant exactly "
                "(Fraction(1, 10), '0.1'), compute it with B.log/B.exp/... instead of mpmath or math, or use "
                "B.exact_float(x) if the float's binary value is meant exactly"
            )
        f = to_fraction(int(x) if isinstance(x, numbers.Integral) else x)
        return ExactBall(flint.fmpq(f.numerator, f.denominator))

    @staticmethod
    def exact_float(x: float):
        """The exact binary rational stored in the float ``x``, as a ball of radius 0."""
        if isinstance(x, bool) or not isinstance(x, (float, int)):
            raise InexactInputError(f"exact_float takes a Python float, got {type(x).__name__}")
        if not math.isfinite(x):
            raise ValueError(f"exact_float: {x} is not a finite number")
        f = Fraction(x)
        return ExactBall(flint.fmpq(f.numerator, f.denominator))

    @staticmethod
    def max(a, b):
        """A ball containing max(a, b) (sound for both directions of a certificate)."""
        return a.max(b)

    @staticmethod
    def min(a, b):
        return a.min(b)

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
    def inf(sign: int = 1):
        """An exactly infinite value as a point ball (``[inf ± 0]``): a float ``inf`` is refused, since
        float arithmetic also produces it by overflow."""
        return ExactBall(flint.arb(math.inf if sign > 0 else -math.inf))

    @staticmethod
    def expm1(x):
        return x.expm1()

    @staticmethod
    def sqrt(x):
        return x.sqrt()

    @staticmethod
    def tanh(x):
        return x.tanh()

    def sum(self, xs):
        total = ExactBall(0)
        for x in xs:
            total += x if isinstance(x, flint.arb) else self.num(x)  # python-flint would take a float silently
        return total

    @staticmethod
    def ncdf(x):
        return (-x / ExactBall(2).sqrt()).erfc() / 2

    @staticmethod
    def pi():
        return ExactBall(flint.arb.pi())


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


def infinite_sign(s) -> int:
    """+1 / −1 for a ball that is exactly ±inf, 0 for any other (finite, NaN or unbounded) ball.

    In Arb a ball with an infinite midpoint and a finite radius is that infinity (``inf − 3`` is
    ``inf``), while an infinite radius means "any extended real": no sign.
    """
    if not s.rad().is_finite():
        return 0
    m = s.mid()
    if m.is_finite():
        return 0
    return 1 if m > 0 else (-1 if m < 0 else 0)  # a NaN midpoint compares neither way


def arb_to_ball(x, prec: int) -> Ball:
    digits = max(15, int(prec * 0.30103) - 5)
    if not x.is_finite():
        sign = infinite_sign(x)
        if sign:  # an exact infinity (a KL against a zero): a point, not a lack of information
            v = math.copysign(math.inf, sign)
            return Ball(enclosure=f"{v:+}", lower=v, upper=v, prec_bits=prec)
        # e.g. log of a ball that contains 0: no information
        return Ball(enclosure=x.str(5, radius=True), lower=-math.inf, upper=math.inf, prec_bits=prec)
    lo = float(x.lower().mid().str(30, radius=False))
    hi = float(x.upper().mid().str(30, radius=False))
    return Ball(
        enclosure=x.str(digits, radius=True),
        lower=math.nextafter(math.nextafter(lo, -math.inf), -math.inf),
        upper=math.nextafter(math.nextafter(hi, math.inf), math.inf),
        prec_bits=prec,
    )


def as_ball(x, B: Arb):
    """An Arb result as a ball: a ball passes, an exact Python value (``Fraction``, ``int``) becomes one.

    A float is refused even when it is ``inf``: overflow produces that too. An exactly infinite value
    is ``B.inf()``.
    """
    if isinstance(x, flint.arb):
        return x
    return B.num(x)


class CertificationTimeout(Exception):
    """The time allowed ran out before the sign was proven or the precisions were exhausted."""

    def __init__(self, ball: Ball):
        super().__init__(f"sign not proven within the time allowed (last enclosure {ball.enclosure} "
                         f"at {ball.prec_bits} bits)")
        self.ball = ball


def certified_sign(formula, *, precisions=(64, 128, 256, 512, 1024, 2048),
                   seconds: float | None = None, raise_on_timeout: bool = False) -> tuple[int, Ball]:
    """Sign of an exact real given by ``formula(B)``, proven by Arb at rising precision.

    Args:
        formula: callable taking an ``Arb`` backend and returning an ``flint.arb``.
        precisions: working precisions (bits) to try in turn.
        seconds: time allowed. Each doubling of the precision costs at least twice the last
            evaluation, so a precision whose predicted end lies past the limit is not started.
        raise_on_timeout: raise :class:`CertificationTimeout` when the time runs out before the
            precisions are exhausted, instead of returning sign 0 (which then means only "zero or
            too close to zero to resolve at the highest precision").

    Returns:
        ``(sign, ball)`` with sign in {-1, 0, +1}; 0 means the sign could not be
        proven (the value may be exactly zero, or the time ran out).
    """
    ball = None
    t0 = time.perf_counter()
    last = 0.0
    for prec in precisions:
        if seconds is not None and ball is not None and time.perf_counter() - t0 + 2 * last > seconds:
            if raise_on_timeout:
                raise CertificationTimeout(ball)
            break
        t1 = time.perf_counter()
        with Arb(prec) as B:
            x = as_ball(formula(B), B)
            ball = arb_to_ball(x, prec)
            if x.upper() < 0:
                return -1, ball
            if x.lower() > 0:
                return 1, ball
        last = time.perf_counter() - t1
    return 0, ball


def mp_value(formula, dps: int = 60):
    """Evaluate ``formula(B)`` with mpmath at ``dps`` digits (the second, independent opinion)."""
    with MP(dps) as B:
        return formula(B)
