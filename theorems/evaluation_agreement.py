"""Do two evaluations of the same side agree? Float against its Arb enclosure, Arb's sign against mpmath.

An :class:`~theorems.inequality.Inequality` evaluates each side several ways; the verdict may only rest
on them where they agree:

* **float against exact** (:func:`side_deviation`): the float value f of a side against the Arb ball
  ``[m − r, m + r]`` of its exact twin, as the relative deviation ``max(0, |f − m| − r) / scale`` with
  ``scale = max(|m_lhs|, |m_rhs|, scale_floor)``; 0 when f lies in the ball, inf for a NaN float or a
  float/exact infinity mismatch. The exact sides are taken at the exact binary values of the float
  inputs (:func:`exact_view`), so the deviation measures the float library alone.
* **sign confirmation** (:func:`confirm_sign`): a sign that Arb proved for ``rhs − lhs`` must have the
  same sign in mpmath at ~20 digits above the ball's precision, and in the statement's independent
  formula where it has one; mpmath's value must lie in the ball up to its own rounding
  ``scale·10^{-(dps − 15)}``. A disagreement raises :class:`InconsistentEvidence`.

Ball arithmetic: F. Johansson, "Arb: efficient arbitrary-precision midpoint-radius interval arithmetic",
IEEE Transactions on Computers 66(8), 2017.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np

from numerics.backends import MP, Arb, as_ball, infinite_sign
from theorems.exact_inputs import inputs_to_strings


class InconsistentEvidence(Exception):
    """Two evaluations of the same exact quantity disagree (Arb vs mpmath vs independent formula)."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


def exact_view(xf: dict, xd: dict) -> dict:
    """The exact binary values of the float view ``xf`` (fields that are not floats keep ``xd``'s value)."""
    out = {}
    for k, v in xf.items():
        try:
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                out[k] = [Fraction(float(e)) for e in v]
            elif isinstance(v, (float, np.floating)):
                out[k] = Fraction(float(v))
            else:
                out[k] = xd[k]
        except (OverflowError, ValueError):  # ±inf / NaN: the exact field itself
            out[k] = xd[k]
    return out


def side_deviation(lf: float, rf: float, exact_sides, *, prec: int, side_tol: float, side_atol: float,
                   scale_floor: float) -> dict:
    """Float sides ``lf``, ``rf`` against their exact twins ``exact_sides(B) -> (lhs, rhs)`` in Arb.

    Args:
        lf, rf: the float sides.
        exact_sides: the exact sides in a backend ``B``, at the exact values of the float inputs.
        prec: the first Arb precision (bits); doubled up to 16× until each ball is narrow.
        side_tol, side_atol: the accepted relative / absolute deviation (beyond both: ``bad``).
        scale_floor: sides below this are compared on an absolute scale.

    Returns:
        ``deviation`` (max over the two sides of ``dist(float, ball) / scale``), ``bad``, ``note``
        and ``unresolved`` (a ball wider than the tolerance even at the highest precision).
    """
    sides = None
    for p in (prec, 2 * prec, 4 * prec, 8 * prec, 16 * prec):
        with Arb(p) as B:
            le, re = exact_sides(B)
            sides = [as_ball(le, B), as_ball(re, B)]
        # done when each side is a narrow ball or an exact infinity; a NaN ball (e.g. log of a
        # ball that straddles 0 near p = 1) asks for more precision
        if all(infinite_sign(s) != 0 if not s.is_finite()
               else float(s.rad().upper()) <= 1e-3 * side_tol * max(abs(float(s.mid())), scale_floor)
               for s in sides):
            break  # narrow enough to judge the float against side_tol
    mids = [float(s.mid()) if s.is_finite() else 0.0 for s in sides]
    scale = max([abs(m) for m in mids] + [scale_floor])
    worst, notes, bad = 0.0, [], False
    for name, f, s in (("lhs", lf, sides[0]), ("rhs", rf, sides[1])):
        if math.isnan(f):
            worst, notes = math.inf, notes + [f"float {name} is NaN (exact {s.str(10, radius=True)})"]
            continue
        if not s.is_finite():
            exact_inf = infinite_sign(s)
            if exact_inf == 0:
                worst = math.inf
                notes.append(f"exact {name} is undefined ({s.str(5, radius=True)}); float {f!r}")
            elif math.isinf(f) and math.copysign(1, f) == exact_inf:
                continue  # both +inf (e.g. KL with a zero) or both -inf: agree
            else:
                worst = math.inf
                notes.append(f"exact {name} is {'+' if exact_inf > 0 else '-'}inf, float {f!r}")
            continue
        if math.isinf(f):
            worst, notes = math.inf, notes + [f"float {name} is {f} but exact {name} ∈ {s.str(10, radius=True)}"]
            continue
        rad = float(s.rad().upper())
        if rad > side_tol * scale:
            notes.append(f"exact {name} unresolved: {s.str(10, radius=True)} is wider than the tolerance")
            return {"deviation": 0.0, "note": "; ".join(notes), "unresolved": True}
        dist = max(0.0, abs(f - float(s.mid())) - rad)
        dev = dist / scale
        worst = max(worst, dev)
        if dist > side_tol * scale + side_atol:
            bad = True
            notes.append(f"float {name} {f!r} vs exact {s.str(17, radius=True)}: relative deviation {dev:.3e}")
    return {"deviation": worst, "bad": bad or math.isinf(worst), "note": "; ".join(notes), "unresolved": False}


def confirm_sign(exact_sides, sign: int, ball, *, scale_floor: float, independent=None, statement_id: str = "",
                 x: dict | None = None) -> dict:
    """The independent opinions on the sign Arb proved for ``rhs − lhs``: mpmath, and ``independent`` if given.

    mpmath runs at ~20 digits more than the ball's precision (at least 60), so a true
    margin the ball resolved is resolved by mpmath too; its value must have Arb's sign
    and lie within the ball up to mpmath's own rounding.

    Args:
        exact_sides: ``B -> (lhs, rhs)``, evaluated in mpmath.
        sign: the sign Arb proved; ``ball``: its enclosure (a :class:`numerics.backends.Ball`).
        scale_floor: the smallest scale of mpmath's rounding allowance.
        independent: optional ``() -> (lhs, rhs)``, a second formula evaluated at mpmath's precision.
        statement_id, x: name the statement and its exact input in a disagreement's report.

    Returns:
        ``{"mp": mpmath's rhs − lhs, "by": a description of the confirmations}``.

    Raises:
        InconsistentEvidence: an opinion has another sign, is NaN, or mpmath lies outside the ball.
    """
    dps = max(60, int(ball.prec_bits * 0.30103) + 20)
    with MP(dps) as B:
        lhs, rhs = exact_sides(B)
        mp = B.num(0) + (rhs - lhs)
        scale = max(abs(mpmath.mpf(lhs)) if mpmath.isfinite(lhs) else 0,
                    abs(mpmath.mpf(rhs)) if mpmath.isfinite(rhs) else 0, mpmath.mpf(scale_floor))
        slack = scale * mpmath.mpf(10) ** (-(dps - 15))
        opinions = {"mpmath": mp}
        if independent is not None:
            il, ir = independent()
            opinions["independent formula"] = B.num(0) + (ir - il)
    problems = []
    for name, v in opinions.items():
        if mpmath.isnan(v) or mpmath.sign(v) != sign:
            problems.append(f"{name} gives {mpmath.nstr(v, 12)} where Arb proved sign {sign:+d} "
                            f"({ball.enclosure})")
    if math.isfinite(ball.lower) and math.isfinite(ball.upper) and mpmath.isfinite(mp):
        lo, hi = mpmath.mpf(ball.lower) - slack, mpmath.mpf(ball.upper) + slack
        if not lo <= mp <= hi:
            problems.append(f"mpmath value {mpmath.nstr(mp, 20)} lies outside Arb's enclosure {ball.enclosure}")
    if problems:
        raise InconsistentEvidence(
            f"{statement_id}: Arb and the independent evaluation disagree: " + "; ".join(problems),
            {"inputs": inputs_to_strings(x) if x is not None else None, "arb": ball.enclosure,
             **{k: mpmath.nstr(v, 20) for k, v in opinions.items()}, "problems": problems},
        )
    by = f"mpmath at {dps} digits ({mpmath.nstr(mp, 8)})"
    if "independent formula" in opinions:
        by += f" and the independent formula ({mpmath.nstr(opinions['independent formula'], 8)})"
    return {"mp": mp, "by": by}
