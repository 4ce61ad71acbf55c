"""Sign descent = steepest descent under ℓ∞ (seed 002, statement ``seed-002/sign-descent-linf``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import strategies as st
from scipy.optimize import linprog

from numerics import steepest_descent as sd
from numerics.backends import MP, fraction_str
from numerics.exact_linalg import F0, F1, _vec_from_str, _vec_str
from numerics.steepest_descent import _safe_norm, steepest_descent_l2, steepest_descent_lp
from theorems.seed_002.search import _certify, _condition, _fmt, _must, _num, _SearchStatement, _seed_of, _sgn

# ----------------------------------------------------------------------------
# Statement 1: sign descent = steepest descent under ℓ∞
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VecDirection:
    """A claimed maximiser d(g): float version and exact version against a backend B."""

    name: str
    float_fn: Callable
    exact_fn: Callable  # (g: list[Fraction], B) -> list of Fractions or B numbers


@dataclass(frozen=True)
class VecValue:
    """A claimed maximum value V(g)."""

    name: str
    float_fn: Callable
    exact_fn: Callable  # (g, B) -> Fraction or B number


def _l1(g):
    return sum((abs(x) for x in g), F0)


def _nnz(g) -> int:
    return sum(1 for x in g if x != 0)


# looked up at call time, so a broken library function (a mutation test) is what the statement checks
SIGN = VecDirection("sign(g)", lambda g: sd.sign_descent_direction(g), lambda g, B: [Fraction(_sgn(x)) for x in g])
NEG_SIGN = VecDirection("−sign(g)", lambda g: -np.sign(g), lambda g, B: [Fraction(-_sgn(x)) for x in g])
LINF_NORMALISED = VecDirection(
    "g/‖g‖∞", lambda g: g / np.max(np.abs(g)) if np.any(g) else np.zeros_like(g),
    lambda g, B: [x / max(abs(y) for y in g) for x in g] if any(g) else [F0] * len(g))
SIGN_L2 = VecDirection(
    "sign(g)/√nnz", lambda g: np.sign(g) / math.sqrt(max(np.count_nonzero(g), 1)),
    lambda g, B: [B.num(_sgn(x)) / B.sqrt(B.num(max(_nnz(g), 1))) for x in g])

L1_VALUE = VecValue("‖g‖₁", lambda g: float(np.sum(np.abs(g))), lambda g, B: _l1(g))
L2_VALUE = VecValue("‖g‖₂", lambda g: _safe_norm(g), lambda g, B: B.sqrt(B.num(sum((x * x for x in g), F0))))
SIGN_L2_VALUE = VecValue("‖g‖₁/√nnz", lambda g: float(np.sum(np.abs(g))) / math.sqrt(max(np.count_nonzero(g), 1)),
                         lambda g, B: B.num(_l1(g)) / B.sqrt(B.num(max(_nnz(g), 1))))


def _scaled_value(v: VecValue, c: Fraction) -> VecValue:
    return VecValue(f"{c}·{v.name}", lambda g: v.float_fn(g) * float(c),
                    lambda g, B: _num(B, v.exact_fn(g, B)) * B.num(c))


def _unique_iff_all_nonzero(g) -> bool:
    return all(x != 0 for x in g)


def _unique_always(g) -> bool:
    return True


def _unique_iff_nonzero_vector(g) -> bool:
    return any(x != 0 for x in g)


@st.composite
def gradient_vectors(draw, min_n: int = 1, max_n: int = 12, min_exp: float = -300, max_exp: float = 300,
                     kinds=("plain", "moderate", "zeros", "logmag", "equal", "all-zero", "tiny")):
    """Gradient vectors as exact Fractions of floats: plain, log-uniform over 10^±3, with exact zeros,
    magnitudes spread over 10^min_exp..10^max_exp, all-equal magnitudes, the zero vector, subnormals."""
    n = draw(st.integers(min_n, max_n))
    kind = draw(st.sampled_from(list(kinds)))
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    if kind in ("plain", "zeros"):
        vals = np.array(draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n)))
        # moderate magnitudes here (the extremes are the "logmag" and "tiny" kinds' job)
        vals = np.where(vals == 0, 0.0, np.copysign(np.maximum(np.abs(vals), 1e-3), vals))
    elif kind == "moderate":
        vals = signs * 10.0 ** np.array(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    elif kind == "logmag":
        vals = signs * 10.0 ** np.array(draw(st.lists(st.floats(min_exp, max_exp), min_size=n, max_size=n)))
    elif kind == "equal":
        vals = signs * draw(st.floats(1e-10, 1e10))
    elif kind == "tiny":
        vals = signs * np.array(draw(st.lists(st.sampled_from([5e-324, 1e-310, 1.0, 1e-300]), min_size=n, max_size=n)))
    else:
        vals = np.zeros(n)
    if kind == "zeros" or (kind == "logmag" and draw(st.booleans())):
        mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        mask[draw(st.integers(0, n - 1))] = True
        vals = np.where(mask, 0.0, vals)
    return [Fraction(float(v)) for v in vals]


@dataclass
class SteepestDescentVector(_SearchStatement):
    """``argmax_{‖d‖ ≤ 1} ⟨g, d⟩ = direction(g)``, ``max = value(g)``, unique iff ``unique(g)``."""

    ball: str = "linf"  # "linf" or "l2"
    direction: VecDirection = SIGN
    value: VecValue = L1_VALUE
    unique: Callable = _unique_iff_all_nonzero
    max_n: int = 12

    def mutants(self):
        return [] if "~" in self.id else _sign_descent_mutants(self)

    def _domain(self):
        return gradient_vectors(1, self.max_n).map(lambda g: {"g": g})

    def _explicit(self):
        cases = [(3.0, -1.0, 0.0, 2.0), (1.0, -1.0, 1.0), (0.0, 0.0, 0.0), (5e-324, -1.0, 1e300),
                 (-2.5,), (0.0,), (1.0, 2.0), (1e-300, 0.0, -7.0)]
        return [{"g": [Fraction(v) for v in c]} for c in cases]

    def _new_state(self):
        s = super()._new_state()
        s.update(lp_value_rel_err=0.0, face_width_unique=0.0, face_width_zero=math.inf,
                 second_maximisers=0, gap_identity=0, lp_sign_mismatch=0, max_n=0)
        return s

    # -- exact pieces ----------------------------------------------------------
    def _dual_bound(self, g, B):
        """Hölder: ⟨g,d⟩ ≤ ‖g‖₁‖d‖∞ (ℓ∞ ball), Cauchy–Schwarz ⟨g,d⟩ ≤ ‖g‖₂‖d‖₂ (ℓ2 ball)."""
        return _l1(g) if self.ball == "linf" else B.sqrt(B.num(sum((x * x for x in g), F0)))

    def _exact_feasible(self, d) -> bool:
        return all(abs(x) <= 1 for x in d) if self.ball == "linf" else sum((x * x for x in d), F0) <= 1

    def _witness(self, d_float: np.ndarray) -> list[Fraction] | None:
        """The solver's point as exact rationals, pulled into the ball exactly."""
        d = [Fraction(float(v)) for v in d_float]
        if self.ball == "linf":
            return [min(F1, max(-F1, x)) for x in d]
        for k in (52, 40, 30, 20):
            w = [x * Fraction(2**k - 1, 2**k) for x in d]
            if self._exact_feasible(w):
                return w
        return None

    def _solve(self, gf):
        return steepest_descent_lp(gf) if self.ball == "linf" else steepest_descent_l2(gf)

    def _second_maximiser(self, g):
        """Two distinct exact maximisers when they exist (a zero entry for ℓ∞; g = 0 for ℓ2)."""
        if self.ball == "linf":
            zeros = [i for i, x in enumerate(g) if x == 0]
            if not zeros:
                return None
            d1 = [Fraction(_sgn(x)) for x in g]
            d2 = d1[:]
            d2[zeros[0]] = F1
            return d1, d2
        if any(g):
            return None
        d2 = [F0] * len(g)
        d2[0] = F1
        return [F0] * len(g), d2

    # -- one case --------------------------------------------------------------
    def _case(self, x, state):
        g = x["g"]
        n = len(g)
        state["cases"] += 1
        state["max_n"] = max(state["max_n"], n)
        gf = np.array([float(v) for v in g])
        d_num, v_num = self._solve(gf)
        scale = max(float(np.sum(np.abs(gf))), 1e-300) if self.ball == "linf" else max(_safe_norm(gf), 1e-300)
        # HiGHS works to ~1e-7 relative: coordinates with |g_i| < 1e-6·max|g| may get either sign, which moves
        # the LP value by at most 2·Σ_small |g_i|; SLSQP (ℓ2) to ~1e-6. A float discrepancy counts only above
        # that; certification then decides exactly
        if self.ball == "linf":
            amax = float(np.max(np.abs(gf))) if n else 0.0
            tol = 2 * float(np.sum(np.abs(gf[np.abs(gf) < 1e-6 * amax]))) + 1e-9 * scale
        else:
            tol = 1e-6 * scale
        self._evidence_exact(g, gf, d_num, v_num, scale, state)

        inputs = {"g": _vec_str(g), "ball": self.ball}
        dc = self.direction.float_fn(gf)
        with MP(30) as B:
            de = np.array([float(_num(B, v)) for v in self.direction.exact_fn(g, B)])
        # the float direction against its exact twin: sign(g) is exact in float; normalised directions
        # (g/‖g‖∞, g/‖g‖₂) are a division or a square root away, ≤ 2 ulp of the largest entry
        _condition(state, "float_direction_vs_exact_rel", float(np.max(np.abs(dc - de), initial=0.0))
                   / max(float(np.max(np.abs(de), initial=0.0)), 1e-300), 4 * np.finfo(float).eps,
                   f"float {self.direction.name} vs its exact twin, relative to max|d|")
        vc = self.value.float_fn(gf)
        obj_c = float(gf @ dc)
        norm_c = float(np.max(np.abs(dc))) if self.ball == "linf" else _safe_norm(dc)
        attempts = []
        if norm_c > 1 + 1e-9:
            i = int(np.argmax(np.abs(dc))) if self.ball == "linf" else None
            attempts.append(lambda: _certify(
                "infeasible-direction", inputs,
                (lambda B: (abs(_num(B, self.direction.exact_fn(g, B)[i])), 1)) if self.ball == "linf" else
                (lambda B: (B.sum([_num(B, v) ** 2 for v in self.direction.exact_fn(g, B)]), 1)),
                "<=", n, f"the claimed maximiser {self.direction.name} lies outside the unit {self.ball} ball"))
        if vc > v_num + tol:
            attempts.append(lambda: _certify(
                "value-above-dual-bound", inputs, lambda B: (self.value.exact_fn(g, B), self._dual_bound(g, B)),
                "<=", n, f"claimed maximum {self.value.name} exceeds the dual-norm bound "
                f"{'‖g‖₁ (Hölder)' if self.ball == 'linf' else '‖g‖₂ (Cauchy–Schwarz)'} ≥ ⟨g,d⟩ for all feasible d"))
        witness = self._witness(d_num)
        if witness is not None and vc < v_num - tol:
            attempts.append(lambda: _certify(
                "value-below-feasible-witness", {**inputs, "witness": _vec_str(witness)},
                lambda B: (sum((a * b for a, b in zip(g, witness)), F0), self.value.exact_fn(g, B)),
                "<=", n,
                f"the {self.ball}-feasible witness (direct solver, exact) beats the claimed maximum {self.value.name}"))
        if witness is not None and obj_c < v_num - tol:
            attempts.append(lambda: _certify(
                "direction-beaten", {**inputs, "witness": _vec_str(witness)},
                lambda B: (sum((a * b for a, b in zip(g, witness)), F0),
                           B.sum([B.num(a) * _num(B, b) for a, b in zip(g, self.direction.exact_fn(g, B))])),
                "<=", n, f"a feasible witness (direct solver, exact) has ⟨g,w⟩ > ⟨g, {self.direction.name}⟩"))
        if abs(obj_c - vc) > tol:
            attempts.append(lambda: _certify(
                "maximiser-value-inconsistent", inputs,
                lambda B: (B.sum([B.num(a) * _num(B, b) for a, b in zip(g, self.direction.exact_fn(g, B))]),
                           self.value.exact_fn(g, B)),
                "==", n,
                f"the claimed maximiser {self.direction.name} does not attain the claimed maximum {self.value.name}"))
        pair = self._second_maximiser(g)
        if pair is not None and self.unique(g):
            d1, d2 = pair
            attempts.append(lambda: _certify(
                "not-unique", {**inputs, "d1": _vec_str(d1), "d2": _vec_str(d2)},
                lambda B: (max(abs(a - b) for a, b in zip(d1, d2)), 0), "<=", n,
                "claimed unique, but d1 ≠ d2 are both feasible and attain the dual-norm bound exactly, "
                "so both are maximisers"))
        for attempt in attempts:
            cx = attempt()
            if cx is not None:
                return cx
            state["artefacts"].append(f"uncertified float violation at g = {[float(v) for v in g]}")
        return None

    def _evidence_exact(self, g, gf, d_num, v_num, scale, state):
        """The true theorem's exact identities and the LP's picture of the face (evidence only)."""
        if self.ball != "linf":
            return
        s = [Fraction(_sgn(v)) for v in g]
        l1 = _l1(g)
        _must(sum((a * b for a, b in zip(g, s)), F0) == l1, "⟨g, sign g⟩ = ‖g‖₁ exactly")
        state["exact_identities"] += 1
        # gap identity on the LP's point (clipped exactly) and on a rational point of the box
        rng = np.random.default_rng(_seed_of(g))
        for d in (self._witness(d_num), [Fraction(int(k), 7) for k in rng.integers(-7, 8, len(g))]):
            gap = l1 - sum((a * b for a, b in zip(g, d)), F0)
            _must(gap == sum((abs(a) * abs(b - c) for a, b, c in zip(g, d, s)), F0) and gap >= 0,
                  "‖g‖₁ − ⟨g,d⟩ = Σ|g_i|·|d_i − sign g_i| ≥ 0")
            state["gap_identity"] += 1
        if l1 > 0:
            state["lp_value_rel_err"] = max(state["lp_value_rel_err"], abs(v_num - float(l1)) / float(l1))
            # HiGHS's default primal/dual feasibility tolerance is 1e-7 (relative, after our scaling)
            _condition(state, "lp_value_rel_error", abs(v_num - float(l1)) / float(l1), 1e-7,
                       "direct LP solution (HiGHS) vs the exact ‖g‖₁")
            gmax = float(np.max(np.abs(gf)))
            clear = np.abs(gf) > 1e-6 * gmax
            state["lp_sign_mismatch"] += int(np.sum(np.sign(np.round(d_num[clear], 6)) != np.sign(gf[clear])))
            if self._second_maximiser(g) is not None:
                state["second_maximisers"] += 1
        # the δ-optimal set {d in box : ⟨g,d⟩ ≥ OPT − δ} from two LPs (extent along w). By the gap identity it
        # lies within |d_i − sign g_i| ≤ δ/|g_i|, so its extent is ≤ 2δ·Σ|w_i|/|g_i| → 0 (unique maximiser)
        # when all g_i ≠ 0, while a zero entry leaves the whole [−1, 1] free whatever δ
        if scale > 1e-300 and np.any(gf):
            gn = gf / np.max(np.abs(gf))
            opt = float(np.sum(np.abs(gn)))
            delta = 1e-3 * opt  # well above HiGHS's ~1e-7 tolerances
            zero = gf == 0
            w = zero.astype(float) if zero.any() else rng.standard_normal(len(g))
            ext = []
            for sgn in (1, -1):
                r = linprog(-sgn * w, A_ub=[-gn], b_ub=[-(opt - delta)], bounds=[(-1, 1)] * len(g), method="highs")
                ext.append(sgn * -r.fun if r.status == 0 else math.nan)
            width = ext[0] - ext[1]
            if zero.any():
                state["face_width_zero"] = min(state["face_width_zero"], width / float(zero.sum()))
            elif np.min(np.abs(gn)) > 1e-6:
                bound = 2 * delta * float(np.sum(np.abs(w) / np.abs(gn)))
                state["face_width_unique"] = max(state["face_width_unique"], width / bound)

    def _evidence(self, state):
        if self.ball != "linf":
            return {}
        return {
            "lp_value_max_rel_error": _fmt(state["lp_value_rel_err"]),
            "lp_sign_mismatches_on_clear_coordinates": state["lp_sign_mismatch"],
            "gap_identity_checks": state["gap_identity"],
            "delta_optimal_width/bound_all_nonzero_max": _fmt(state["face_width_unique"]),
            "delta_optimal_width_per_zero_entry_min": _fmt(state["face_width_zero"]),
            "second_maximisers_exhibited": state["second_maximisers"],
            "largest_n": state["max_n"],
            "degenerate_cases": "zero entries: the maximiser set is a face (free coordinates in [−1,1]); "
            "sign(g) with sign 0 = 0 lies in it and attains ‖g‖₁; unique iff all g_i ≠ 0",
        }

    def _summary(self, state):
        return (f"{state['cases']} cases: ⟨g,sign g⟩ = ‖g‖₁ exact, "
                f"LP value rel. err ≤ {_fmt(state['lp_value_rel_err'])}, "
                f"δ-optimal set width ≤ {_fmt(state['face_width_unique'])}×(2δΣ|w_i|/|g_i|) if all g_i≠0, "
                f"≥ {_fmt(state['face_width_zero'])} per zero entry")

    # -- independent recomputation -------------------------------------------
    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        x = cx["inputs"]
        kind = x["kind"]
        g = _vec_from_str(x["g"])
        with MP(80) as B:
            def dot(d):
                return mpmath.fsum(B.num(a) * (B.num(b) if isinstance(b, (Fraction, int)) else b) for a, b in zip(g, d))

            dual = _l1(g) if x["ball"] == "linf" else mpmath.sqrt(B.num(sum((v * v for v in g), F0)))
            if kind == "infeasible-direction":
                d = [b if not isinstance(b, (Fraction, int)) else B.num(b) for b in self.direction.exact_fn(g, B)]
                nrm = max(abs(v) for v in d) if x["ball"] == "linf" else mpmath.sqrt(mpmath.fsum(v * v for v in d))
                ok = nrm > 1
                return ok, (f"‖{self.direction.name}‖ = {mpmath.nstr(nrm, 20)} at 80 digits "
                            f"-> {'infeasible' if ok else 'FEASIBLE'}")
            if kind == "value-above-dual-bound":
                v = _num(B, self.value.exact_fn(g, B))
                ok = v > _num(B, dual)
                return ok, (f"claimed max {mpmath.nstr(v, 20)} vs dual bound {mpmath.nstr(_num(B, dual), 20)} "
                            f"-> {'violation confirmed' if ok else 'NOT a violation'}")
            if kind in ("value-below-feasible-witness", "direction-beaten"):
                w = _vec_from_str(x["witness"])
                if not self._exact_feasible(w):
                    return False, "witness is not feasible (exact check)"
                best = sum((a * b for a, b in zip(g, w)), F0)
                claimed = (_num(B, self.value.exact_fn(g, B)) if kind.startswith("value")
                           else dot(self.direction.exact_fn(g, B)))
                ok = B.num(best) > claimed
                return ok, (f"feasible witness ⟨g,w⟩ = {mpmath.nstr(B.num(best), 20)} "
                            f"vs claimed {mpmath.nstr(claimed, 20)} "
                            f"-> {'violation confirmed' if ok else 'NOT a violation'}")
            if kind == "maximiser-value-inconsistent":
                a, b = dot(self.direction.exact_fn(g, B)), _num(B, self.value.exact_fn(g, B))
                ok = abs(a - b) > mpmath.mpf(10) ** -60 * (abs(a) + abs(b) + mpmath.mpf(10) ** -300)
                return ok, (f"⟨g,d_claimed⟩ = {mpmath.nstr(a, 20)} vs claimed max {mpmath.nstr(b, 20)} "
                            f"-> {'inconsistent' if ok else 'CONSISTENT'}")
            if kind == "not-unique":
                d1, d2 = _vec_from_str(x["d1"]), _vec_from_str(x["d2"])
                exact_dual = _l1(g) if x["ball"] == "linf" else (F0 if not any(g) else None)
                ok = (self._exact_feasible(d1) and self._exact_feasible(d2) and d1 != d2 and exact_dual is not None
                      and sum((a * b for a, b in zip(g, d1)), F0) == exact_dual
                      == sum((a * b for a, b in zip(g, d2)), F0)
                      and self.unique(g))
                dual_str = fraction_str(exact_dual) if exact_dual is not None else '?'
                return ok, (f"two distinct exact maximisers attaining the dual bound {dual_str} "
                            f"-> {'non-uniqueness confirmed' if ok else 'NOT confirmed'}")
        return False, f"unknown certificate kind {kind!r}"


sign_descent = SteepestDescentVector(
    id="seed-002/sign-descent-linf",
    expected="holds",
    title="Sign descent = steepest descent under ℓ∞: argmax_{‖d‖∞≤1} ⟨g,d⟩ = sign(g)",
    claim="For g ∈ ℝⁿ: max_{‖d‖∞ ≤ 1} ⟨g, d⟩ = ‖g‖₁, attained at d = sign(g); the maximiser is unique iff "
    "every g_i ≠ 0; with zero entries the maximiser set is the face {d_i = sign g_i for g_i ≠ 0, "
    "d_i ∈ [−1,1] for g_i = 0}, which contains sign(g) (sign 0 = 0).",
    reading="Steepest ascent direction (descent steps along −d); sign(0) = 0; n ≥ 1, g any real vector "
    "(zero vector included: every d is a maximiser, value 0).",
    proof="⟨g,d⟩ = Σ g_i d_i ≤ Σ|g_i||d_i| ≤ ‖g‖₁ with equality iff d_i = sign(g_i) wherever g_i ≠ 0; "
    "exactly: ‖g‖₁ − ⟨g,d⟩ = Σ|g_i|·|d_i − sign g_i| for d in the box (checked in rationals).",
)


def _sign_descent_mutants(s: SteepestDescentVector):
    return [
        s.mutant("l2 steepest descent is sign(g)", ball="l2", direction=SIGN_L2, value=SIGN_L2_VALUE,
                 unique=_unique_iff_nonzero_vector),
        s.mutant("value ‖g‖₂", value=L2_VALUE),
        s.mutant("value x 1.01", value=_scaled_value(L1_VALUE, Fraction(101, 100))),
        s.mutant("value x 0.99", value=_scaled_value(L1_VALUE, Fraction(99, 100))),
        s.mutant("flipped: argmax −sign(g)", direction=NEG_SIGN),
        s.mutant("argmax g/‖g‖∞", direction=LINF_NORMALISED),
        s.mutant("unique even with zero entries", unique=_unique_always),
    ]
