from fractions import Fraction

import mpmath
import pytest

from numerics.backends import MP, Arb, arb_to_ball, certified_sign, infinite_sign, to_fraction
from numerics.entropy import entropy_gap_mp


def test_to_fraction_is_exact():
    assert to_fraction(0.1) == Fraction(3602879701896397, 36028797018963968)
    assert to_fraction("1e-3") == Fraction(1, 1000)
    with pytest.raises(ValueError):
        to_fraction("abc")


def test_certified_sign_proves_and_refuses():
    # log 3 vs its nearest float: the sign must match a 60-digit mpmath evaluation
    f = 1.0986122886681098
    sign, ball = certified_sign(lambda B: B.log(B.num(3)) - B.exact_float(f))  # the float's binary value, on purpose
    with mpmath.workdps(60):
        want = mpmath.sign(mpmath.log(3) - mpmath.mpf(f))
    assert sign == want != 0
    assert ball.lower <= ball.upper < 0
    # an exact zero cannot be given a sign
    sign, _ = certified_sign(lambda B: B.num(Fraction(1, 3)) * 3 - 1)
    assert sign == 0


def test_arb_ball_contains_the_mpmath_value():
    p = [Fraction(1, 7), Fraction(2, 7), Fraction(4, 7)]
    with Arb(200) as B:
        ball = entropy_gap_mp(p, backend=B)
    with mpmath.workdps(60):
        want = entropy_gap_mp([mpmath.mpf(1) / 7, mpmath.mpf(2) / 7, mpmath.mpf(4) / 7], dps=60)
        assert ball.lower() <= float(want) <= ball.upper() or abs(float(ball.mid()) - float(want)) < 1e-40
    with MP(30) as B:
        assert abs(B.ncdf(B.num(0)) - mpmath.mpf(1) / 2) < mpmath.mpf(10) ** -29


def test_backends_are_reentrant_and_restore_global_precision():
    import flint

    prec0, dps0 = flint.ctx.prec, mpmath.mp.dps
    B = Arb(300)
    with B:
        with B:
            assert flint.ctx.prec == 300
        assert flint.ctx.prec == 300
    assert flint.ctx.prec == prec0
    M = MP(70)
    with M:
        with M:
            assert mpmath.mp.dps == 70
    assert mpmath.mp.dps == dps0


def test_certified_sign_of_an_undefined_value_is_unknown_not_a_crash():
    # log of an interval containing 0 is [+/- inf]: no sign can be proven
    sign, ball = certified_sign(lambda B: B.log(B.num(0) * B.log(B.num(2))) , precisions=(64,))
    assert sign == 0 and ball.upper == float("inf")


def test_an_exact_infinity_is_a_point_and_an_unbounded_ball_has_no_sign():
    import math

    import flint

    inf, third = flint.arb(math.inf), flint.arb(1) / 3
    assert [infinite_sign(v) for v in (inf, -inf, inf - third, third - inf)] == [1, -1, 1, -1]
    assert [infinite_sign(v) for v in (third, flint.arb("nan"), flint.arb(0, math.inf))] == [0, 0, 0]
    ball = arb_to_ball(inf - third, 64)
    assert ball.lower == ball.upper == math.inf and ball.enclosure == "+inf"
    assert arb_to_ball(flint.arb(0, math.inf), 64).lower == -math.inf  # no information either way
    sign, ball = certified_sign(lambda B: B.num(1) - inf, precisions=(64,))
    assert sign == -1 and ball.upper == -math.inf
