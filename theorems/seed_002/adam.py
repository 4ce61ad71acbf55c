"""Adam with β₁ = β₂ = 0 and ε → 0 is sign descent (``seed-002/adam-no-momentum-sign``)."""

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
from numerics.exact_linalg import F0, F1, _vec_from_str, _vec_str
from numerics.steepest_descent import _safe_norm
from theorems.seed_002.search import _certify, _condition, _fmt, _must, _num, _SearchStatement, _sgn
from theorems.seed_002.sign import LINF_NORMALISED, gradient_vectors

# ----------------------------------------------------------------------------
# Statement 2: Adam with β₁ = β₂ = 0 → sign descent as ε → 0
# ----------------------------------------------------------------------------


def _exact_sqrt(q: Fraction) -> Fraction:
    """√q for a rational square (v = g² when β₂ = 0); ValueError otherwise."""
    if q < 0:
        raise ValueError("negative")
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if a * a != q.numerator or b * b != q.denominator:
        raise ValueError(f"{q} is not a rational square")
    return Fraction(a, b)


def adam_update_exact(g: list[Fraction], eps: Fraction, beta1=F0, beta2=F0, step: int = 1) -> list[Fraction]:
    """Adam's recurrence (from m = v = 0) in exact rationals; needs v̂ to be a rational square (β₂ = 0)."""
    out = []
    for gi in g:
        m = (1 - beta1) * gi
        v = (1 - beta2) * gi * gi
        m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
        denom = _exact_sqrt(v_hat) + eps
        if denom == 0:
            raise ValueError("0/0: zero gradient entry with eps = 0")
        out.append(m_hat / denom)
    return out


@dataclass(frozen=True)
class Limit:
    name: str
    float_fn: Callable
    exact_fn: Callable  # (g, B) -> list


@dataclass(frozen=True)
class ErrorLaw:
    """Claimed ‖u_ε − sign g‖∞ as an exact rational function of (g, ε); ``relation`` "==" or "<="."""

    name: str
    relation: str
    exact_fn: Callable  # (g, eps) -> Fraction


def _gmin(g):
    nz = [abs(x) for x in g if x != 0]
    return min(nz) if nz else None


SIGN_LIMIT = Limit("sign(g), sign 0 = 0", lambda g: np.sign(g), lambda g, B: [Fraction(_sgn(x)) for x in g])
L2_LIMIT = Limit("g/‖g‖₂", lambda g: g / _safe_norm(g) if np.any(g) else np.zeros_like(g),
                 lambda g, B: [B.num(x) / B.sqrt(B.num(sum((y * y for y in g), F0))) if any(g) else F0 for x in g])
LINF_LIMIT = Limit("g/‖g‖∞", LINF_NORMALISED.float_fn, LINF_NORMALISED.exact_fn)
SIGN_PLUS_LIMIT = Limit("sign(g) with sign 0 = +1", lambda g: np.where(g >= 0, 1.0, -1.0),
                        lambda g, B: [Fraction(1 if x >= 0 else -1) for x in g])

TRUE_ERROR = ErrorLaw("ε/(min|g_i≠0| + ε)", "==", lambda g, e: F0 if _gmin(g) is None else e / (_gmin(g) + e))
DROPPED_EPS_ERROR = ErrorLaw("ε/min|g_i≠0|", "==", lambda g, e: F0 if _gmin(g) is None else e / _gmin(g))
ZERO_ERROR = ErrorLaw("0 (update = sign g for every ε)", "==", lambda g, e: F0)
UNIFORM_ERROR = ErrorLaw("≤ ε (uniform in g)", "<=", lambda g, e: e)
SCALED_ERROR = ErrorLaw("0.99·ε/(min|g_i≠0| + ε)", "==",
                        lambda g, e: F0 if _gmin(g) is None else Fraction(99, 100) * e / (_gmin(g) + e))


@st.composite
def adam_inputs(draw):
    """(g, ε): g with zeros / spread magnitudes within float Adam's safe range 1e-150..1e150; ε from
    1e-200..1e3, PyTorch's 1e-8, ε equal to some |g_i|, or ε = 0 when g has no zero entry."""
    g = draw(gradient_vectors(1, 10, -150, 150, kinds=("plain", "moderate", "zeros", "logmag", "equal", "all-zero")))
    # float Adam squares g: keep nonzero magnitudes where g² neither under- nor overflows
    g = [x if x == 0 else (1 if x > 0 else -1) * min(max(abs(x), Fraction(1e-150)), Fraction(1e150)) for x in g]
    nz = [abs(x) for x in g if x != 0]
    choices = [st.floats(-200, 3).map(lambda e: 10.0**e), st.just(1e-8)]
    if nz:
        choices.append(st.sampled_from([float(v) for v in nz]))
    if len(nz) == len(g):
        choices.append(st.just(0.0))
    eps = draw(st.one_of(*choices))
    return {"g": g, "eps": Fraction(eps)}


@dataclass
class AdamSignLimit(_SearchStatement):
    """Adam(β₁ = β₂ = 0) update u_ε = g/(|g|+ε): ``lim_{ε→0⁺} u_ε = limit(g)`` and ``‖u_ε − sign g‖∞ = error(g, ε)``."""

    limit: Limit = SIGN_LIMIT
    error: ErrorLaw = TRUE_ERROR

    def mutants(self):
        return [] if "~" in self.id else _adam_mutants(self)

    def _domain(self):
        return adam_inputs()

    def _explicit(self):
        cases = [((1.0, -2.0, 0.0), 1e-8), ((1e-150, 1.0), 1e-160), ((3.0,), 0.0), ((2.0, -3.0), 2.0),
                 ((0.0, 0.0), 1.0), ((1e150, -1e-150, 0.0), 1e-3), ((0.5, -0.25), 1e-200)]
        return [{"g": [Fraction(v) for v in g], "eps": Fraction(e)} for g, e in cases]

    def _new_state(self):
        s = super()._new_state()
        s.update(float_max_ulps=0.0, torch_max_ulps=0.0, torch_cases=0, slopes=[], lp_agree=0,
                 zero_entries=0, eps_zero_cases=0, final_limit_distance=0.0, torch_error=None)
        return s

    def _case(self, x, state):
        g, eps = x["g"], x["eps"]
        n = len(g)
        state["cases"] += 1
        u = adam_update_exact(g, eps)
        s = [Fraction(_sgn(v)) for v in g]
        for gi, ui, si in zip(g, u, s):  # the exact ε-dependence, coordinate by coordinate
            _must(si - ui == (si * eps / (abs(gi) + eps) if gi != 0 else F0),
                  "sign(g_i) − u_i = sign(g_i)·ε/(|g_i| + ε)")
        state["exact_identities"] += 1
        state["zero_entries"] += sum(1 for v in g if v == 0)
        state["eps_zero_cases"] += int(eps == 0)
        gf = np.array([float(v) for v in g])
        self._evidence_float(g, gf, float(eps), u, state)
        inputs = {"g": _vec_str(g), "eps": fraction_str(eps)}

        # (a) the exact ε-dependence
        true_err = max((abs(a - b) for a, b in zip(s, u)), default=F0)
        claimed = self.error.exact_fn(g, eps)
        bad = true_err != claimed if self.error.relation == "==" else true_err > claimed
        if bad:
            cx = _certify("error-law", inputs, lambda B: (true_err, claimed), self.error.relation, n,
                          f"exact Adam(β=0) update: ‖u_ε − sign g‖∞ = {fraction_str(true_err)}, "
                          f"claimed {self.error.name}")
            if cx is not None:
                return cx
            state["artefacts"].append("uncertified error-law mismatch")
        # (b) the limit: u_ε,i is monotone in ε, so {u_ε,i : 0 < ε ≤ ε₀} lies between u_{ε₀,i} and s_i
        lim_f = self.limit.float_fn(gf)
        for i in range(n):
            delta = abs(float(lim_f[i]) - float(s[i]))
            if delta <= 1e-12:
                continue
            eps0 = abs(g[i]) * Fraction(delta / 4) if g[i] != 0 else F1
            u0 = g[i] / (abs(g[i]) + eps0)
            lo, hi = min(u0, s[i]), max(u0, s[i])
            below = float(lim_f[i]) < float(lo)
            cx = _certify(
                "wrong-limit", {**inputs, "i": i, "eps0": fraction_str(eps0)},
                (lambda B, i=i, lo=lo: (lo, _num(B, self.limit.exact_fn(g, B)[i]))) if below else
                (lambda B, i=i, hi=hi: (_num(B, self.limit.exact_fn(g, B)[i]), hi)), "<=", n,
                f"for all 0 < ε ≤ ε₀ the update's coordinate {i} lies in [{fraction_str(lo)}, {fraction_str(hi)}] "
                f"(monotone in ε), which excludes the claimed limit {self.limit.name}")
            if cx is not None:
                return cx
            state["artefacts"].append(f"uncertified limit mismatch at coordinate {i}")
        return None

    def _evidence_float(self, g, gf, eps, u, state):
        """Float Adam vs exact, torch.optim.Adam vs exact, the numerical limit ε → 0, the LP."""
        lim = np.sign(gf)
        if eps > 0 or np.all(gf != 0):
            uf = sd.adam_update(gf, eps)
            ue = np.array([float(v) for v in u])
            ulp = np.maximum(np.abs(ue), 1e-300) * np.finfo(float).eps  # relative error in units of ε_mach
            state["float_max_ulps"] = max(state["float_max_ulps"], float(np.max(np.abs(uf - ue) / ulp)))
            # g/(|g|+ε) is one division and one addition: ≤ 1.5 ulp when g² neither under- nor overflows
            _condition(state, "float_adam_vs_exact_ulps", float(np.max(np.abs(uf - ue) / ulp)), 4.0,
                       "float Adam(β=0) update vs the exact rational update")
            ut = (_torch_adam_update(gf, eps) if state["effort"] == "full"
                  else "not run (effort=quick: importing torch.optim costs ~5-10 s)")
            if isinstance(ut, str):
                state["torch_error"] = ut
            else:
                state["torch_cases"] += 1
                state["torch_max_ulps"] = max(state["torch_max_ulps"], float(np.max(np.abs(ut - ue) / ulp)))
                _condition(state, "torch_adam_vs_exact_ulps", float(np.max(np.abs(ut - ue) / ulp)), 4.0,
                           "torch.optim.Adam(betas=(0, 0)) step vs the exact update")
        gmin = _gmin(g)
        if gmin is not None:
            gm = float(gmin)
            eps_k = gm * 10.0 ** -np.arange(0, 13, dtype=float)
            dist = np.array([np.max(np.abs(sd.adam_update(gf, e) - lim)) for e in eps_k])
            state["final_limit_distance"] = max(state["final_limit_distance"], float(dist[-1]))
            _condition(state, "limit_distance_at_eps_1e-12_gmin", float(dist[-1]), 2e-12,
                       "‖u_ε − sign g‖∞ at ε = 1e-12·min|g_i≠0| (exact value ≈ 1e-12)")
            ok = (dist[6:] > 0)
            if ok.all():
                slope = np.polyfit(np.log(eps_k[6:]), np.log(dist[6:]), 1)[0]
                state["slopes"].append(float(slope))
                # the exact error is ε/(g_min+ε): slope 1 in log-log up to ~1e-6 over ε ≤ 1e-6·g_min
                _condition(state, "rate_fitted_slope_minus_1", abs(float(slope) - 1.0), 0.01,
                           "fitted log-log slope of ‖u_ε − sign g‖∞ against ε (the claimed rate ε¹)")
            d_lp, v_lp = sd.steepest_descent_lp(gf)
            # HiGHS works to ~1e-7 relative: the LP optimum over the ℓ∞ ball must equal ⟨g, lim u_ε⟩ = ‖g‖₁
            _condition(state, "lp_optimum_vs_limit_rel", abs(v_lp - float(gf @ lim)) / float(np.sum(np.abs(gf))), 1e-7,
                       "the ℓ∞ steepest-descent LP optimum vs ⟨g, sign g⟩ (the limit attains it)")
            state["lp_agree"] += int(
                abs(float(np.sum(np.abs(gf))) - float(gf @ lim)) <= 1e-12 * float(np.sum(np.abs(gf)))
                and abs(v_lp - float(gf @ lim)) <= 1e-9 * float(np.sum(np.abs(gf)))
            )

    def _evidence(self, state):
        slopes = state["slopes"]
        return {
            "float_adam_vs_exact_max_ulps": round(state["float_max_ulps"], 2),
            "torch_adam_vs_exact_max_ulps": round(state["torch_max_ulps"], 2),
            "torch_cases": state["torch_cases"],
            "torch_error": state["torch_error"],
            "limit_rate_fitted_slope": (f"{min(slopes):.4f}..{max(slopes):.4f} over {len(slopes)} cases"
                                        if slopes else "n/a"),
            "distance_at_eps=1e-12·min|g|": _fmt(state["final_limit_distance"]),
            "limit_attains_lp_optimum": state["lp_agree"],
            "zero_entries_seen": state["zero_entries"],
            "eps_zero_cases": state["eps_zero_cases"],
            "float_underflow_note": _underflow_note(),
            "degenerate_cases": "g_i = 0: u_i = 0 for every ε > 0 (the limit is sign 0 = 0, a point of the ℓ∞ "
            "face); ε = 0 with g_i = 0 is 0/0 (excluded); ε = 0 with all g_i ≠ 0 gives sign(g) exactly",
        }

    def _summary(self, state):
        slopes = state["slopes"]
        rate = f"{min(slopes):.3f}..{max(slopes):.3f}" if slopes else "n/a"
        torch_part = (f", torch.optim.Adam within {state['torch_max_ulps']:.1f}" if state["torch_cases"] else "")
        return (f"{state['cases']} cases: sign(g) − u_ε = sign(g)·ε/(|g|+ε) exact; fitted rate ε^{rate}; "
                f"float Adam within {state['float_max_ulps']:.1f}{torch_part} ulp of exact")

    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        x = cx["inputs"]
        g = _vec_from_str(x["g"])
        eps = Fraction(x["eps"])
        with MP(80) as B:
            if x["kind"] == "error-law":
                u = [a / (abs(a) + eps) if (a != 0 or eps != 0) else None for a in g]  # β = 0 closed form
                if any(v is None for v in u):
                    return False, "0/0 in the update"
                err = max((abs(Fraction(_sgn(a)) - v) for a, v in zip(g, u)), default=F0)
                claimed = self.error.exact_fn(g, eps)
                ok = err != claimed if self.error.relation == "==" else err > claimed
                return ok, (f"‖u_ε − sign g‖∞ = {mpmath.nstr(B.num(err), 20)} "
                            f"vs claimed {mpmath.nstr(B.num(claimed), 20)} "
                            f"-> {'violation confirmed' if ok else 'NOT a violation'}")
            if x["kind"] == "wrong-limit":
                i, eps0 = int(x["i"]), Fraction(x["eps0"])
                if eps0 <= 0:
                    return False, "eps0 must be > 0"
                u0 = g[i] / (abs(g[i]) + eps0)
                si = Fraction(_sgn(g[i]))
                lo, hi = B.num(min(u0, si)), B.num(max(u0, si))
                L = _num(B, self.limit.exact_fn(g, B)[i])
                ok = L < lo or L > hi
                return ok, (f"u_ε[{i}] ∈ [{mpmath.nstr(lo, 15)}, {mpmath.nstr(hi, 15)}] "
                            f"for 0 < ε ≤ {fraction_str(eps0)}; "
                            f"claimed limit {mpmath.nstr(L, 15)} "
                            f"-> {'excluded: not the limit' if ok else 'NOT excluded'}")
        return False, f"unknown certificate kind {x['kind']!r}"


_TORCH = {}


def _torch_adam_update(g: np.ndarray, eps: float):
    """One step of ``torch.optim.Adam(betas=(0, 0), lr=1)`` from θ = 0 (float64): returns −θ₁, or a
    string saying why torch could not be used."""
    try:
        if "torch" not in _TORCH:
            import torch

            _TORCH["torch"] = torch
        torch = _TORCH["torch"]
        p = torch.zeros(g.size, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=1.0, betas=(0.0, 0.0), eps=eps)
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        return -p.detach().numpy().copy()
    except Exception as exc:  # noqa: BLE001 - torch is optional for this evidence
        return f"{type(exc).__name__}: {exc}"


def _underflow_note() -> str:
    g, eps = 1e-170, 1e-200
    exact = Fraction(g) / (Fraction(g) + Fraction(eps))
    flo = float(sd.adam_update([g], eps)[0])
    return (f"float64 Adam at g = {g}, ε = {eps}: {flo:.3g} (g² underflows to 0) vs exact {float(exact):.17g}; "
            "the identity is about exact arithmetic; float Adam equals it for 1e-150 ≤ |g| ≤ 1e150")


adam_sign = AdamSignLimit(
    id="seed-002/adam-no-momentum-sign",
    expected="holds",
    title="Adam with β₁ = β₂ = 0 and ε → 0 is sign descent",
    claim="Adam with β₁ = β₂ = 0 updates along m̂/(√v̂ + ε) = g/(|g| + ε); exactly "
    "sign(g_i) − g_i/(|g_i|+ε) = sign(g_i)·ε/(|g_i|+ε), so ‖u_ε − sign g‖∞ = ε/(min_{g_i≠0}|g_i| + ε) and "
    "u_ε → sign(g) (sign 0 = 0) as ε → 0⁺, at rate ε, not uniformly in g.",
    reading="One Adam step from m = v = 0 with bias correction (torch.optim.Adam's recurrence); ε ≥ 0, "
    "ε = 0 only when every g_i ≠ 0 (else 0/0); the limit is coordinatewise.",
    proof="With β₁ = β₂ = 0: m̂ = g, v̂ = g², √v̂ = |g|, so u_i = g_i/(|g_i|+ε) and sign(g_i) − u_i = "
    "sign(g_i)·ε/(|g_i|+ε) (exact algebra, checked in rationals); for g_i = 0, u_i = 0 for all ε > 0.",
)


def _adam_mutants(s: AdamSignLimit):
    return [
        s.mutant("limit g/‖g‖₂", limit=L2_LIMIT),
        s.mutant("limit g/‖g‖∞", limit=LINF_LIMIT),
        s.mutant("limit at a zero entry is +1", limit=SIGN_PLUS_LIMIT),
        s.mutant("error ε/min|g| (dropped +ε)", error=DROPPED_EPS_ERROR),
        s.mutant("update = sign(g) for every ε > 0", error=ZERO_ERROR),
        s.mutant("uniform rate: error ≤ ε", error=UNIFORM_ERROR),
        s.mutant("error x 0.99", error=SCALED_ERROR),
    ]
