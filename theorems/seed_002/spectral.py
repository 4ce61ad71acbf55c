"""Shampoo without accumulation = steepest descent under the spectral norm (``seed-002/shampoo-spectral``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import strategies as st

from numerics import steepest_descent as sd
from numerics.backends import MP, fraction_str
from numerics.exact_linalg import (
    F0,
    F1,
    Mat,
    _cayley,
    _frob2,
    _inner,
    _mat,
    _mat_from_str,
    _mat_str,
    _mm,
    _mT,
    _nullspace,
    _rank,
    _vec_from_str,
    _vec_str,
)
from numerics.spectral_certificates import (
    NuclearEnclosure,
    nuclear_enclosure,
    shampoo_frobenius2,
    verify_enclosure_inputs,
)
from numerics.steepest_descent import (
    _mp_matrix,
    _mpf,
    _project_spectral_ball,
    _safe_norm,
    _svd_rank,
    nuclear_norm_dual_bfgs,
    nuclear_norm_mp,
    polar_factor_mp,
    shampoo_update_mp,
    spectral_steepest_descent_pga,
    svd_error_bound_mp,
)
from theorems.seed_002.search import _certify, _condition, _fmt, _must, _SearchStatement, _seed_of

# ----------------------------------------------------------------------------
# Statement 3: Shampoo without accumulation = steepest descent under the spectral norm
# ----------------------------------------------------------------------------


@dataclass
class SpectralCase:
    """Exact input G (rational) plus, when drawn as one, its exact SVD G = U diag(t²) Vᵀ."""

    G: Mat
    kind: str
    U: Mat | None = None
    V: Mat | None = None
    t: list | None = None  # singular values are t_i² (so Shampoo's fourth roots are rational)


def _rational_svd_case(m, n, KU, KV, t, kind="rational-svd") -> SpectralCase:
    U, V = _cayley(KU), _cayley(KV)
    k = min(m, n)
    S = [[(t[i] ** 2 if i == j and i < k else F0) for j in range(n)] for i in range(m)]
    return SpectralCase(G=_mm(_mm(U, S), _mT(V)), kind=kind, U=U, V=V, t=list(t))


def _skew(ints, k) -> Mat:
    K = [[F0] * k for _ in range(k)]
    it = iter(ints)
    for i in range(k):
        for j in range(i + 1, k):
            v = Fraction(next(it))
            K[i][j], K[j][i] = v, -v
    return K


@st.composite
def gradient_matrices(draw, max_dim: int = 4):
    """Gradient matrices: plain floats over ±20 decades of scale, exact rational SVDs (Cayley factors)
    with repeated / zero / widely spread singular values, integer low-rank products."""
    m, n = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    k = min(m, n)
    kind = draw(st.sampled_from(["plain", "rational-svd", "repeated", "low-rank", "ill-conditioned"]))
    if kind == "plain":
        scale = 10.0 ** draw(st.integers(-20, 20))
        vals = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=m * n, max_size=m * n))
        vals = [v if abs(v) >= 1e-6 else 0.0 for v in vals]  # exact zeros, but no subnormal entries
        return SpectralCase(G=[[Fraction(vals[i * n + j] * scale) for j in range(n)] for i in range(m)], kind="plain")
    if kind == "low-rank":
        r = draw(st.integers(0, k - 1))
        A = draw(st.lists(st.integers(-3, 3), min_size=m * r, max_size=m * r))
        Bv = draw(st.lists(st.integers(-3, 3), min_size=n * r, max_size=n * r))
        G = [[sum((Fraction(A[i * r + q] * Bv[j * r + q]) for q in range(r)), F0) for j in range(n)] for i in range(m)]
        return SpectralCase(G=G, kind="low-rank")
    KU = _skew(draw(st.lists(st.integers(-2, 2), min_size=m * (m - 1) // 2, max_size=m * (m - 1) // 2)), m)
    KV = _skew(draw(st.lists(st.integers(-2, 2), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2)), n)
    pool = [F0, Fraction(1, 3), Fraction(1, 2), F1, Fraction(2), Fraction(3)]
    if kind == "repeated":
        v = draw(st.sampled_from(pool[1:]))
        t = [v] * k
        if k > 1 and draw(st.booleans()):
            t[-1] = draw(st.sampled_from(pool))
    elif kind == "ill-conditioned":
        e = draw(st.integers(1, 6))
        t = [F1] + [Fraction(1, 10**e)] * (k - 1)
    else:
        t = sorted(draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k)), reverse=True)
    return _rational_svd_case(m, n, KU, KV, t, kind=kind)


@dataclass(frozen=True)
class MatDirection:
    """Claimed maximiser: ``c·U_rV_rᵀ`` (``polar_multiple = c``) or the raw gradient G (``None``)."""

    name: str
    polar_multiple: Fraction | None


@dataclass(frozen=True)
class MatValue:
    """Claimed maximum: ``c·‖G‖_*`` (kind "nuclear") or ``c·‖G‖_F`` (kind "frobenius")."""

    name: str
    kind: str
    c: Fraction = F1


POLAR = MatDirection("U Vᵀ", F1)
HALF_POLAR = MatDirection("U Vᵀ/2", Fraction(1, 2))
NEG_POLAR = MatDirection("−U Vᵀ", -F1)
RAW_GRADIENT = MatDirection("G = U S Vᵀ", None)
NUCLEAR = MatValue("‖G‖_*", "nuclear")
FROBENIUS = MatValue("‖G‖_F", "frobenius")
NUCLEAR_101 = MatValue("1.01·‖G‖_*", "nuclear", Fraction(101, 100))


def _unique_iff_full_rank(rank, m, n) -> bool:
    return rank == min(m, n)


def _unique_always_mat(rank, m, n) -> bool:
    return True


@dataclass
class SpectralSteepestDescent(_SearchStatement):
    """``argmax_{‖D‖₂≤1} ⟨G,D⟩ = direction(G)``, ``max = value(G)``, unique iff ``unique(rank, m, n)``,
    and ``(GGᵀ)^{-p} G (GᵀG)^{-p} = UVᵀ`` for full-rank G (p = ``shampoo_exponent``)."""

    direction: MatDirection = POLAR
    value: MatValue = NUCLEAR
    unique: Callable = _unique_iff_full_rank
    shampoo_exponent: Fraction = Fraction(1, 4)
    quick_examples: int = 30
    max_dim: int = 4
    mp_dps: int = 50

    def mutants(self):
        return [] if "~" in self.id else _spectral_mutants(self)

    def _domain(self):
        return gradient_matrices(self.max_dim).map(lambda c: {"case": c})

    def _explicit(self):
        cases = [
            SpectralCase(G=[[F0, F0, F0], [F0, F0, F0]], kind="zero"),
            SpectralCase(G=[[Fraction(-3)]], kind="1x1"),
            SpectralCase(G=[[Fraction(2), F0], [F0, Fraction(2)]], kind="repeated"),
            _rational_svd_case(3, 3, _skew([1, 2, -1], 3), _skew([0, 1, 1], 3), [F1, F1, F0],
                               kind="repeated+rank-deficient"),
            _rational_svd_case(2, 3, _skew([1], 2), _skew([1, -1, 2], 3), [Fraction(2), Fraction(1, 2)],
                               kind="rational-svd"),
            SpectralCase(G=_mat([[1, 2, 3], [2, 4, 6], [-1, -2, -3]]), kind="low-rank"),
            SpectralCase(G=_mat([[1, 0], [0, 2], [1, 1]]), kind="tall"),
            _rational_svd_case(2, 2, _skew([2], 2), _skew([-1], 2), [F1, Fraction(1, 1000)], kind="ill-conditioned"),
        ]
        return [{"case": c} for c in cases]

    def _new_state(self):
        s = super()._new_state()
        s.update(enclosure_rel_width=0.0, mp_nuclear_bound=0.0, mp_polar_identity=0.0, mp_in_enclosure=0,
                 pga_rel_gap=0.0, dual_rel_gap=0.0, shampoo_mp_err=0.0, shampoo_pinv_err=0.0, shampoo_float_err=0.0,
                 damped_mp_err=0.0,
                 exact_polar=0, exact_shampoo=0, float_polar_vs_exact=0.0, float_polar_vs_exact_repeated=0.0,
                 null_pairs=0, full_rank=0, rank_deficient=0, qg_min_ratio=math.inf, kinds={}, max_kappa=1.0,
                 shapes=set())
        return s

    # -- claimed objects -------------------------------------------------------
    def _direction_float(self, Gf, P):
        c = self.direction.polar_multiple
        return Gf.copy() if c is None else float(c) * P

    def _direction_mp(self, G, dps):
        c = self.direction.polar_multiple
        if c is None:
            with mpmath.workdps(dps):
                return _mp_matrix(G)
        P = polar_factor_mp(G, dps)
        with mpmath.workdps(dps):
            return P * _mpf(c)

    def _direction_objective(self, G, enc: NuclearEnclosure):
        """Certified (lo, hi) of ⟨G, D_claimed⟩: c·‖G‖_* (⟨G,UVᵀ⟩ = Σσ) or ‖G‖_F² (exact)."""
        c = self.direction.polar_multiple
        if c is None:
            v = _frob2(G)
            return lambda B: (v, v)
        return (lambda B: (B.num(c) * B.num(enc.L), B.num(c) * enc.U(B))) if c >= 0 else \
            (lambda B: (B.num(c) * enc.U(B), B.num(c) * B.num(enc.L)))

    def _value_float(self, Gf, nuc):
        return float(self.value.c) * (nuc if self.value.kind == "nuclear" else _safe_norm(Gf))

    def _value_bounds(self, G, enc: NuclearEnclosure):
        c = self.value.c
        if self.value.kind == "nuclear":
            return lambda B: (B.num(c) * B.num(enc.L), B.num(c) * enc.U(B))
        f2 = _frob2(G)
        return lambda B: (B.num(c) * B.sqrt(B.num(f2)), B.num(c) * B.sqrt(B.num(f2)))

    def _value_mp(self, G, dps):
        with mpmath.workdps(dps):
            base = nuclear_norm_mp(G, dps) if self.value.kind == "nuclear" else mpmath.sqrt(_mpf(_frob2(G)))
            return base * _mpf(self.value.c)

    # -- one case --------------------------------------------------------------
    def _case(self, x, state):
        case: SpectralCase = x["case"]
        G = case.G
        m, n = len(G), len(G[0])
        k = min(m, n)
        state["cases"] += 1
        state["kinds"][case.kind] = state["kinds"].get(case.kind, 0) + 1
        state["shapes"].add(f"{m}x{n}")
        Gf = np.array([[float(v) for v in row] for row in G])
        rank = _rank(G)
        zero = rank == 0
        state["full_rank" if rank == k else "rank_deficient"] += 1
        seed = _seed_of(_mat_str(G))
        U, s, Vt = np.linalg.svd(Gf, full_matrices=False)
        r_num = _svd_rank(s, Gf.shape)
        P = U[:, :r_num] @ Vt[:r_num]
        nuc = float(s.sum())
        if r_num:
            state["max_kappa"] = max(state["max_kappa"], float(s[0] / s[r_num - 1]))
        D_pga, v_pga = spectral_steepest_descent_pga(Gf, seed=seed)
        A_dual, v_dual = nuclear_norm_dual_bfgs(Gf, seed=seed)
        if nuc > 0:
            state["pga_rel_gap"] = max(state["pga_rel_gap"], (nuc - v_pga) / nuc)
            state["dual_rel_gap"] = max(state["dual_rel_gap"], (v_dual - nuc) / nuc)
            # the direct solvers are verdict conditions too: a feasible point (PGA) cannot beat ‖G‖_*, and the
            # factorised dual (BFGS, gradient tolerance 1e-10 relative) matches it to ~1e-12 (1e-6 leaves room
            # for κ up to 1e6)
            _condition(state, "pga_value_above_nuclear_rel", (v_pga - nuc) / nuc, 1e-9,
                       "projected gradient ascent (feasible points) never exceeds the nuclear norm")
            _condition(state, "dual_bfgs_vs_nuclear_rel", abs(v_dual - nuc) / nuc, 1e-6,
                       "factorised dual min ½‖A‖_F² + ½‖A⁻¹G‖_F² (BFGS) equals the nuclear norm")
        best_lower = max(v_pga, float(np.sum(Gf * P)))
        best_upper = min(v_dual, nuc) if not zero else 0.0
        D_best = D_pga if v_pga >= float(np.sum(Gf * P)) else P
        enc = nuclear_enclosure(G, Gf, D_best, A_dual)
        if enc is None:
            state["artefacts"].append(f"no exact enclosure witness ({case.kind} {m}x{n})")
        inputs = {"G": _mat_str(G), "shape": [m, n]}
        tol = 1e-9 * max(nuc, 1e-300)
        size = m * n

        # -- the claim, component by component (float detection, Arb certificate) --
        Dc = self._direction_float(Gf, P)
        obj_c = float(np.sum(Gf * Dc))
        vc = self._value_float(Gf, nuc)
        norm_c = float(np.linalg.norm(Dc, 2)) if Dc.size else 0.0
        attempts = []
        if norm_c > 1 + 1e-9 and self.direction.polar_multiple is None:
            xv = _mat([[v] for v in Vt[0]])  # top right singular vector, as an exact column
            lhs, rhs = _frob2(_mm(G, xv)), _frob2(xv)
            attempts.append(lambda: _certify(
                "infeasible-direction", {**inputs, "x": _vec_str([r[0] for r in xv])},
                lambda B: (lhs, rhs), "<=", size,
                f"the claimed maximiser {self.direction.name} has ‖Gx‖² > ‖x‖² for the exact vector x, so ‖D‖₂ > 1"))
        if enc is not None:
            if vc > best_upper + tol:
                vb = self._value_bounds(G, enc)
                attempts.append(lambda: _certify(
                    "value-above-upper-certificate", {**inputs, **enc.inputs()}, lambda B: (vb(B)[0], enc.U(B)), "<=",
                    size,
                    f"claimed maximum {self.value.name} exceeds U = Σ‖a_i‖‖b_i‖ for the exact factorisation "
                    f"X = A·(A⁻¹X), and ⟨G,D⟩ = Σ a_iᵀDb_i ≤ U for every ‖D‖₂ ≤ 1 "
                    f"(also ‖G‖_* ≤ U by the triangle inequality)"))
            if vc < best_lower - tol:
                vb = self._value_bounds(G, enc)
                attempts.append(lambda: _certify(
                    "value-below-feasible-witness", {**inputs, **enc.inputs()}, lambda B: (enc.L, vb(B)[1]), "<=", size,
                    f"the exact witness D (‖D‖₂ < 1 by Sylvester's criterion on I − DᵀD) has ⟨G,D⟩ > claimed maximum "
                    f"{self.value.name} (‖G‖_* ≥ ⟨G,D⟩ by von Neumann's trace inequality)"))
            if obj_c < best_lower - tol and norm_c <= 1 + 1e-9:
                ob = self._direction_objective(G, enc)
                attempts.append(lambda: _certify(
                    "direction-beaten", {**inputs, **enc.inputs()}, lambda B: (enc.L, ob(B)[1]), "<=", size,
                    f"the exact feasible witness D has ⟨G,D⟩ above ⟨G, {self.direction.name}⟩ "
                    f"(= c·‖G‖_* ≤ c·U, or ‖G‖_F² exactly)"))
            if abs(obj_c - vc) > tol:
                ob, vb = self._direction_objective(G, enc), self._value_bounds(G, enc)
                hi_side = obj_c > vc
                attempts.append(lambda: _certify(
                    "maximiser-value-inconsistent", {**inputs, **enc.inputs()},
                    (lambda B: (ob(B)[0], vb(B)[1])) if hi_side else (lambda B: (vb(B)[0], ob(B)[1])), "<=", size,
                    f"⟨G, {self.direction.name}⟩ and the claimed maximum {self.value.name} "
                    f"have disjoint certified enclosures"))
        if rank < k and self.unique(rank, m, n):
            a = _nullspace(_mT(G))[0]
            b = _nullspace(G)[0]
            attempts.append(lambda: _certify(
                "not-unique", {**inputs, "a": _vec_str(a), "b": _vec_str(b)}, lambda B: (1, 0), "<=", size,
                "claimed unique, but aᵀG = 0 and Gb = 0 exactly: for any maximiser D, D₀ = P_col D P_row is one too, "
                "and D₀ + âb̂ᵀ (unit â, b̂) has norm ≤ 1, the same value and distance 1 from D₀"))
        p = self.shampoo_exponent
        if rank == k and not zero:
            kappa = float(s[0] / s[-1])
            M = None
            if kappa <= 1e4:
                M = sd.shampoo_update(Gf, exponent=float(p))
                err = float(np.linalg.norm(M - P))
                if p == Fraction(1, 4):
                    state["shampoo_float_err"] = max(state["shampoo_float_err"], err)
                    # the float route squares κ (Gram matrices, eigh, inverse fourth roots): error ≈ c·κ²·ε_mach
                    # with c ≤ ~100 for these sizes; 1e-12·κ² leaves a factor ~50 above that
                    _condition(state, "shampoo_float_err/κ²", err / max(kappa, 1.0) ** 2, 1e-12,
                               "‖float Shampoo − UVᵀ‖_F over κ² (κ ≤ 1e4)")
                bad = err > 1e-12 * max(kappa, 1.0) ** 2 * 100
            else:
                dps = self.mp_dps + int(2 * math.log10(kappa))
                with mpmath.workdps(dps):
                    Mm = shampoo_update_mp(G, 0, p, dps)
                    err = float(mpmath.mnorm(Mm - polar_factor_mp(G, dps), "f"))
                bad = err > 1e-30
            if bad:
                fro = shampoo_frobenius2(G, p, enc, rank)
                if fro is not None:
                    attempts.append(lambda: _certify(
                        "shampoo-not-polar", inputs, lambda B: (fro(B)[0], rank), "==", size,
                        f"‖(GGᵀ)^{{-{p}}} G (GᵀG)^{{-{p}}}‖_F² = Σσ_i^(2−8p) (exact/certified) differs from "
                        f"‖UVᵀ‖_F² = rank = {rank}, so the two matrices differ"))
        for attempt in attempts:
            cx = attempt()
            if cx is not None:
                return cx
            state["artefacts"].append(f"uncertified float violation ({case.kind}, G = {Gf.tolist()})")

        self._evidence_case(case, G, Gf, rank, P, s, enc, seed, state)
        return None

    def _evidence_case(self, case, G, Gf, rank, P, s, enc, seed, state):
        """Certified enclosure, mpmath SVD with error bound, exact cases, uniqueness evidence."""
        m, n = len(G), len(G[0])
        k = min(m, n)
        # Shampoo goes through Gram matrices (condition number κ²): add 2·log10 κ guard digits
        kappa = float(s[0] / s[rank - 1]) if rank and s[rank - 1] > 0 else 1.0
        dps = self.mp_dps + int(2 * math.log10(max(kappa, 1.0)))
        info = svd_error_bound_mp(G, dps)
        with mpmath.workdps(dps + 10):
            nuc_mp, bound = info["nuclear"], info["nuclear_bound"]
            if nuc_mp > 0:
                state["mp_nuclear_bound"] = max(state["mp_nuclear_bound"], float(bound / nuc_mp))
            Pm = polar_factor_mp(G, dps)
            ip = mpmath.fsum(_mpf(G[i][j]) * Pm[i, j] for i in range(m) for j in range(n))
            polar_rel = float(abs(ip - nuc_mp) / max(nuc_mp, mpmath.mpf(10) ** -300))
            state["mp_polar_identity"] = max(state["mp_polar_identity"], polar_rel)
            if enc is not None:
                with MP(dps + 10) as B:
                    U_hi = enc.U(B)
                L = _mpf(enc.L)
                slack = bound + mpmath.mpf(10) ** -(dps + 5) * nuc_mp  # rounding of L, U at dps + 10 digits
                inside = L <= nuc_mp + slack and nuc_mp - slack <= U_hi
                state["mp_in_enclosure"] += int(inside)
                if not inside:
                    state["artefacts"].append(f"mpmath ‖G‖_* = {mpmath.nstr(nuc_mp, 20)} ± {mpmath.nstr(bound, 3)} "
                                              f"outside the "
                                              f"certified enclosure [{mpmath.nstr(L, 20)}, {mpmath.nstr(U_hi, 20)}] "
                                              f"({case.kind}, G = {_mat_str(G)})")
                if nuc_mp > 0:
                    state["enclosure_rel_width"] = max(state["enclosure_rel_width"], float((U_hi - L) / nuc_mp))
            if rank == k and rank > 0:
                M = shampoo_update_mp(G, 0, Fraction(1, 4), dps)
                state["shampoo_mp_err"] = max(state["shampoo_mp_err"], float(mpmath.mnorm(M - Pm, "f")))
                _condition(state, "shampoo_mp50_vs_polar_mp50", float(mpmath.mnorm(M - Pm, "f")), 1e-40,
                           "mpmath Shampoo vs mpmath polar factor (≥ 50 digits; κ² guard digits added)")
                # damped: U diag(σ/√(σ²+ε)) Vᵀ
                e_exact = Fraction(float(nuc_mp) ** 2 * 1e-6)  # ε ~ 1e-6·‖G‖_*², an exact rational
                e = _mpf(e_exact)
                Md = shampoo_update_mp(G, e_exact, Fraction(1, 4), dps)
                Uu, ss, Vv = info["U"], info["s"], info["V"]
                target = Uu * mpmath.diag([x / mpmath.sqrt(x * x + e) for x in ss]) * Vv
                state["damped_mp_err"] = max(state["damped_mp_err"], float(mpmath.mnorm(Md - target, "f")))
                _condition(state, "damped_shampoo_mp50_err", float(mpmath.mnorm(Md - target, "f")), 1e-40,
                           "mpmath damped Shampoo vs U diag(σ/√(σ²+ε)) Vᵀ")
            elif rank > 0:  # rank-deficient: pseudo-inverse roots give the thin polar factor U_rV_rᵀ
                M = shampoo_update_mp(G, 0, Fraction(1, 4), dps)
                state["shampoo_pinv_err"] = max(state["shampoo_pinv_err"], float(mpmath.mnorm(M - Pm, "f")))
        state["exact_identities"] += 1
        # exact SVD cases: polar factor, OPT and Shampoo in rationals
        if case.U is not None:
            t = case.t
            r = sum(1 for v in t if v != 0)
            Pe = [[sum((case.U[i][q] * case.V[j][q] for q in range(k) if t[q] != 0), F0) for j in range(n)]
                  for i in range(m)]
            _must(_rank(G) == r, "rank G = number of nonzero t_i")
            ptp = _mm(_mT(Pe), Pe)
            _must(_mm(ptp, ptp) == ptp, "partial isometry: ‖Pe‖₂ ≤ 1 exactly")
            opt = sum((v * v for v in t), F0)
            _must(_inner(G, Pe) == opt, "⟨G, U_rV_rᵀ⟩ = Σ t_i² = ‖G‖_* exactly")
            state["exact_polar"] += 1
            err = float(np.max(np.abs(P - np.array([[float(v) for v in row] for row in Pe])))) if Pe else 0.0
            # the polar factor's condition number is ~κ = σ_max/σ_min (σ_min over the nonzero ones), not 1/gap:
            # report the error in units of κ·ε_mach, separately for repeated singular values
            nz = [v * v for v in t if v != 0]
            kappa_r = float(max(nz) / min(nz)) if nz else 1.0
            key = "float_polar_vs_exact_repeated" if len(set(nz)) < r else "float_polar_vs_exact"
            state[key] = max(state[key], err / (kappa_r * np.finfo(float).eps))
            _condition(state, "float_polar_vs_exact/(κ·ε_mach)", err / (kappa_r * np.finfo(float).eps), 16.0,
                       "numpy SVD polar factor vs the exact rational U_rV_rᵀ, in units of κ·ε_mach")
            if r == k:
                tm = t + [F0] * (m - k)
                tn = t + [F0] * (n - k)
                P4 = _mm(_mm(case.U, [[tm[i] if i == j else F0 for j in range(m)] for i in range(m)]), _mT(case.U))
                Q4 = _mm(_mm(case.V, [[tn[i] if i == j else F0 for j in range(n)] for i in range(n)]), _mT(case.V))
                sq = _mm(P4, P4)
                _must(_mm(sq, sq) == _mm(G, _mT(G)), "P4 = (GGᵀ)^{1/4} (PSD root, unique)")
                sq = _mm(Q4, Q4)
                _must(_mm(sq, sq) == _mm(_mT(G), G), "Q4 = (GᵀG)^{1/4} (PSD root, unique)")
                P4p = _mm(_mm(case.U, [[(1 / tm[i] if tm[i] else F0) if i == j else F0 for j in range(m)]
                                       for i in range(m)]), _mT(case.U))
                Q4p = _mm(_mm(case.V, [[(1 / tn[i] if tn[i] else F0) if i == j else F0 for j in range(n)]
                                       for i in range(n)]), _mT(case.V))
                _must(_mm(_mm(P4p, G), Q4p) == Pe, "Shampoo = UVᵀ exactly")
                state["exact_shampoo"] += 1
        # uniqueness: null pair when rank-deficient, quadratic growth when full rank
        if rank < k:
            a, b = _nullspace(_mT(G))[0], _nullspace(G)[0]
            _must(all(v == 0 for v in _mm([a], G)[0]) and all(row[0] == 0 for row in _mm(G, [[v] for v in b])),
                  "aᵀG = 0 and Gb = 0")
            state["null_pairs"] += 1
        elif s.size and s[-1] > 0 and s[0] / s[-1] < 1e4:
            rng = np.random.default_rng(seed + 1)
            fro = _safe_norm(Gf)
            Gn, Pn = Gf / fro, P
            smin = s[-1] / fro
            nuc_n = s.sum() / fro
            for rho in (0.3, 0.05):
                for _ in range(4):
                    D = _project_spectral_ball(Pn + rho * rng.standard_normal(Gf.shape))
                    d2 = float(np.sum((D - Pn) ** 2))
                    if d2 > 1e-10:
                        gap = nuc_n - float(np.sum(Gn * D))
                        state["qg_min_ratio"] = min(state["qg_min_ratio"], gap / (smin / 2 * d2))

    def _evidence(self, state):
        return {
            "kinds": state["kinds"],
            "shapes": sorted(state["shapes"]),
            "full_rank_cases": state["full_rank"],
            "rank_deficient_cases": state["rank_deficient"],
            "largest_condition_number": _fmt(state["max_kappa"]),
            "certified_enclosure_max_rel_width": _fmt(state["enclosure_rel_width"]),
            "mp50_nuclear_inside_enclosure": state["mp_in_enclosure"],
            "mp50_svd_nuclear_rel_error_bound": _fmt(state["mp_nuclear_bound"]),
            "mp50_|⟨G,UVᵀ⟩−‖G‖_*|/‖G‖_*": _fmt(state["mp_polar_identity"]),
            "pga_max_rel_gap_below_nuclear": _fmt(state["pga_rel_gap"]),
            "dual_bfgs_max_rel_gap_above_nuclear": _fmt(state["dual_rel_gap"]),
            "shampoo_mp50_max_‖M−UVᵀ‖_F": _fmt(state["shampoo_mp_err"]),
            "shampoo_float_max_‖M−UVᵀ‖_F(κ≤1e4)": _fmt(state["shampoo_float_err"]),
            "shampoo_pinv_rank_deficient_mp50_max_‖M−U_rV_rᵀ‖_F": _fmt(state["shampoo_pinv_err"]),
            "damped_shampoo_mp50_max_err_vs_Udiag(σ/√(σ²+ε))Vᵀ": _fmt(state["damped_mp_err"]),
            "exact_svd_cases_polar_value": state["exact_polar"],
            "exact_svd_cases_shampoo_equals_UVᵀ": state["exact_shampoo"],
            "float_polar_vs_exact_max_err/(κ·ε_mach)": _fmt(state["float_polar_vs_exact"]),
            "float_polar_vs_exact_max_err/(κ·ε_mach)_repeated_sigma": _fmt(state["float_polar_vs_exact_repeated"]),
            "rank_deficient_null_pairs_exhibited": state["null_pairs"],
            "quadratic_growth_min_ratio": _fmt(state["qg_min_ratio"]),
            "degenerate_cases": "rank-deficient G: maximisers U_rV_rᵀ + U_⊥WV_⊥ᵀ (‖W‖₂ ≤ 1), not unique; repeated "
            "σ: U, V not unique, U_rV_rᵀ is; G = 0: every feasible D, value 0; Shampoo uses pseudo-inverse roots",
        }

    def _summary(self, state):
        return (f"{state['cases']} cases ({state['rank_deficient']} rank-deficient): ‖G‖_* in certified enclosure "
                f"(rel. width ≤ {_fmt(state['enclosure_rel_width'])}), "
                f"Shampoo−UVᵀ ≤ {_fmt(state['shampoo_mp_err'])} (mp50), "
                f"{state['exact_shampoo']} exact")

    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        x = cx["inputs"]
        kind = x["kind"]
        G = _mat_from_str(x["G"])
        m, n = len(G), len(G[0])
        with mpmath.workdps(80):
            if kind == "infeasible-direction":
                xs = _vec_from_str(x["x"])
                col = [[v] for v in xs]
                if self.direction.polar_multiple is not None:
                    return False, "infeasibility certificate only for the raw-gradient direction"
                ok = _frob2(_mm(G, col)) > _frob2(col)
                return ok, (f"‖Gx‖² = {fraction_str(_frob2(_mm(G, col)))[:30]} "
                            f"vs ‖x‖² = {fraction_str(_frob2(col))[:30]} "
                            f"-> {'‖G‖₂ > 1: infeasible' if ok else 'NOT infeasible'}")
            if kind == "not-unique":
                a, b = _vec_from_str(x["a"]), _vec_from_str(x["b"])
                ok = (any(a) and any(b) and all(v == 0 for v in _mm([a], G)[0])
                      and all(r[0] == 0 for r in _mm(G, [[v] for v in b])) and self.unique(_rank(G), m, n))
                return ok, (f"exact null pair aᵀG = 0, Gb = 0 (rank {_rank(G)} < {min(m, n)}) "
                            f"-> {'non-uniqueness confirmed' if ok else 'NOT confirmed'}")
            if kind == "shampoo-not-polar":
                p = self.shampoo_exponent
                M = shampoo_update_mp(G, 0, p, 80)
                Pm = polar_factor_mp(G, 80)
                diff = mpmath.mnorm(M - Pm, "f")
                ok = diff > mpmath.mpf(10) ** -40
                return ok, (f"‖(GGᵀ)^-{p} G (GᵀG)^-{p} − UVᵀ‖_F = {mpmath.nstr(diff, 15)} at 80 digits "
                            f"-> {'differ' if ok else 'EQUAL'}")
            enc = verify_enclosure_inputs(G, x)
            if enc is None:
                return False, "a stored witness fails its exact check"
            L, U = enc
            if kind == "value-above-upper-certificate":
                v = self._value_mp(G, 80)
                ok = v > U
                return ok, (f"claimed max {mpmath.nstr(v, 20)} > U = {mpmath.nstr(U, 20)} (exact factorisation) "
                            f"-> {'violation confirmed' if ok else 'NOT a violation'}")
            if kind == "value-below-feasible-witness":
                v = self._value_mp(G, 80)
                ok = _mpf(L) > v
                return ok, (f"feasible witness ⟨G,D⟩ = {mpmath.nstr(_mpf(L), 20)} > claimed max {mpmath.nstr(v, 20)} "
                            f"-> {'violation confirmed' if ok else 'NOT a violation'}")
            if kind in ("direction-beaten", "maximiser-value-inconsistent"):
                Dc = self._direction_mp(G, 80)
                obj = mpmath.fsum(_mpf(G[i][j]) * Dc[i, j] for i in range(m) for j in range(n))
                if kind == "direction-beaten":
                    ok = _mpf(L) > obj
                    return ok, (f"feasible witness ⟨G,D⟩ = {mpmath.nstr(_mpf(L), 20)} "
                                f"> ⟨G, {self.direction.name}⟩ = {mpmath.nstr(obj, 20)} "
                                f"-> {'violation confirmed' if ok else 'NOT a violation'}")
                v = self._value_mp(G, 80)
                ok = abs(obj - v) > mpmath.mpf(10) ** -60 * (abs(obj) + abs(v))
                return ok, (f"⟨G, {self.direction.name}⟩ = {mpmath.nstr(obj, 20)} vs claimed max {mpmath.nstr(v, 20)} "
                            f"-> {'inconsistent' if ok else 'CONSISTENT'}")
        return False, f"unknown certificate kind {kind!r}"


shampoo_spectral = SpectralSteepestDescent(
    id="seed-002/shampoo-spectral",
    expected="holds",
    title="Shampoo without accumulation = steepest descent under the spectral norm: U Vᵀ",
    claim="For G = U S Vᵀ (thin SVD): max_{‖D‖₂ ≤ 1} ⟨G, D⟩ = ‖G‖_*, attained at U_r V_rᵀ; the maximiser is unique "
    "iff rank G = min(m, n); and (GGᵀ)^{-1/4} G (GᵀG)^{-1/4} = U Vᵀ for full-rank G (Shampoo with one step, "
    "no accumulation); with damping ε: U diag(σ/√(σ²+ε)) Vᵀ.",
    reading="Real m×n G (1 ≤ m, n ≤ 4 here), spectral norm = largest singular value, Frobenius inner product; "
    "U_rV_rᵀ over the nonzero singular values (0 for G = 0); inverse roots of singular Gram matrices are "
    "Moore–Penrose (for rank-deficient G the Shampoo formula then gives U_rV_rᵀ).",
    proof="⟨G,D⟩ = Σσ_i u_iᵀDv_i ≤ Σσ_i (|u_iᵀDv_i| ≤ ‖D‖₂), equality at D = UVᵀ; if equality then Dv_i = u_i for "
    "σ_i > 0 (‖Dv_i − u_i‖² ≤ 2 − 2u_iᵀDv_i), which fixes D when V (or U) is square, and quadratic growth "
    "‖G‖_* − ⟨G,D⟩ ≥ σ_min/2·‖D − UVᵀ‖_F² follows; with null vectors aᵀG = 0 = Gb, UVᵀ + âb̂ᵀ is a second "
    "maximiser. Shampoo: (GGᵀ)^{-1/4} = U S^{-1/2} Uᵀ, so the product is U S^{-1/2} S S^{-1/2} Vᵀ = UVᵀ.",
)


def _spectral_mutants(s: SpectralSteepestDescent):
    return [
        s.mutant("direction G = U S Vᵀ", direction=RAW_GRADIENT),
        s.mutant("direction U Vᵀ/2", direction=HALF_POLAR),
        s.mutant("flipped: direction −U Vᵀ", direction=NEG_POLAR),
        s.mutant("value Frobenius ‖G‖_F", value=FROBENIUS),
        s.mutant("value x 1.01", value=NUCLEAR_101),
        s.mutant("unique for every G", unique=_unique_always_mat),
        s.mutant("Shampoo exponent −1/2", shampoo_exponent=Fraction(1, 2)),
    ]
