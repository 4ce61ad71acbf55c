"""Tests of ``theorems/evaluation_agreement.py``: the float-vs-exact deviation of a side and the
confirmation of an Arb-proven sign (each with a case that must be flagged)."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from numerics.backends import InexactInputError, certified_sign
from theorems.evaluation_agreement import InconsistentEvidence, confirm_sign, exact_view, side_deviation

THIRD = Fraction(1, 3)


def _third_and_log2(B):
    return B.num(THIRD), B.log(B.num(2))


def _deviation(lf, rf, sides=_third_and_log2, **kw):
    return side_deviation(lf, rf, sides, prec=64, **{"side_tol": 1e-12, "side_atol": 0.0, "scale_floor": 1e-10, **kw})


def test_float_sides_within_rounding_agree():
    c = _deviation(1 / 3, math.log(2))
    assert not c["bad"] and not c["unresolved"] and c["deviation"] <= 1e-16


def test_a_float_side_off_by_more_than_the_tolerance_is_flagged():
    c = _deviation(1 / 3 * (1 + 1e-9), math.log(2))
    assert c["bad"] and 1e-10 < c["deviation"] < 1e-8 and "float lhs" in c["note"]
    assert not _deviation(1 / 3 * (1 + 1e-9), math.log(2), side_atol=1e-8)["bad"]  # an absolute allowance


def test_infinities_and_nan():
    def minus_inf(B):  # an exact −inf on the right (e.g. a log of an exact 0)
        return B.num(0), B.inf(-1)

    assert not _deviation(0.0, -math.inf, minus_inf)["bad"]
    assert _deviation(0.0, -1e300, minus_inf)["bad"]
    assert _deviation(0.0, math.inf, minus_inf)["bad"]
    with pytest.raises(InexactInputError):  # a float inf may be an overflow: never read as exact
        _deviation(0.0, -math.inf, lambda B: (B.num(0), -math.inf))
    assert "undefined" in _deviation(0.0, 1.0, lambda B: (B.num(0), B.log(B.num(0))))["note"]  # Arb: NaN
    assert _deviation(math.nan, math.log(2))["deviation"] == math.inf


def test_exact_view_takes_the_floats_binary_value():
    xf = {"p": np.array([0.1, 0.2]), "a": 0.5, "n": 3, "big": math.inf}
    xd = {"p": [Fraction(1, 10), Fraction(1, 5)], "a": Fraction(1, 2), "n": 3, "big": Fraction(7)}
    x = exact_view(xf, xd)
    assert x["p"] == [Fraction(0.1), Fraction(0.2)] and x["p"][0] != Fraction(1, 10)
    assert x["a"] == Fraction(1, 2) and x["n"] == 3 and x["big"] == Fraction(7)


def _violated(B):  # lhs = 1/3 + 1e-30 > rhs = 1/3
    return B.num(THIRD) + B.num(Fraction(1, 10**30)), B.num(THIRD)


def test_a_proven_sign_is_confirmed():
    sign, ball = certified_sign(lambda B: _violated(B)[1] - _violated(B)[0])
    assert sign == -1
    out = confirm_sign(_violated, sign, ball, scale_floor=1e-10,
                       independent=lambda: (mpmath.mpf(1) / 3 + mpmath.mpf(10) ** -30, mpmath.mpf(1) / 3))
    assert out["mp"] < 0 and "independent formula" in out["by"]


def test_a_disagreeing_opinion_is_inconsistent():
    """Meta-test: an independent formula of the other sign, or a wrong Arb ball, is never confirmed."""
    sign, ball = certified_sign(lambda B: _violated(B)[1] - _violated(B)[0])
    with pytest.raises(InconsistentEvidence, match="independent formula gives") as exc:
        confirm_sign(_violated, sign, ball, scale_floor=1e-10, statement_id="demo", x={"a": THIRD},
                     independent=lambda: (mpmath.mpf(0), mpmath.mpf(1)))
    assert exc.value.details["inputs"] == {"a": "1/3"}
    with pytest.raises(InconsistentEvidence, match="mpmath gives"):
        confirm_sign(_violated, +1, ball, scale_floor=1e-10, x={})
    sign2, far = certified_sign(lambda B: B.num(-1))
    with pytest.raises(InconsistentEvidence, match="outside Arb's enclosure"):
        confirm_sign(_violated, sign2, far, scale_floor=1e-10, x={})
