"""Corollary 4.4: ``P_e* = Φ(−|μ|/σ) ≤ ½``, with equality iff μ = 0.

What this module computes, every run:

* ``cor-4.4``: the inequality ``Φ(−|μ|/σ) ≤ ½`` over (μ, σ) (plain, extreme
  magnitudes, tiny SNR down to 1e-12, μ = 0), certified in Arb on violation.
* ``cor-4.4/equality``: the "iff". For each drawn (μ, σ) the truth of
  ``Φ(−|μ|/σ) = ½`` is *decided* in Arb: at μ = 0 the ball ``½ − Φ(0)`` is exactly 0
  (Arb evaluates ``erfc(0) = 1`` exactly), and for μ ≠ 0 (including |μ|/σ down to
  1e-150, where ``½ − Φ(−s) ≈ s/√(2π)`` needs ~500 bits to resolve) the sign of
  ``½ − Φ(−|μ|/σ)`` is proved positive at rising precision. The decided truth is
  compared with the claimed condition (μ = 0); any mismatch is a certified
  counterexample. Mutants replace the condition ("never", "|μ| ≤ 10⁻⁶σ",
  "μ ≤ 0").

Reference: Tan & Huang (2025), Section 4, Cor 4.4 (statements ``cor-4.4``, ``cor-4.4/equality`` in docs/statements.md).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from scipy import special

from numerics.backends import Arb, certified_sign, fraction_str
from numerics.channel import bayes_error
from theorems import domain_checks as D
from theorems.channel_rules import QUICK_EXAMPLES, bayes_error_exact, canonical_channel
from theorems.inequality import Inequality
from theorems.statement import Counterexample, Statement, Verdict, exactify, run_seed
from theorems.strategies import channel_params

# ----------------------------------------------------------------------------
# P_e* ≤ ½
# ----------------------------------------------------------------------------


def _no_abs_mutant(s):
    return [s.mutant(
        "Φ(−μ/σ) without |·|",
        lhs_float=lambda x: float(special.ndtr(-x["mu"] / x["sigma"])),
        lhs_exact=lambda x, B: B.ncdf(-B.num(Fraction(x["mu"]) / Fraction(x["sigma"]))),
    )]


upper = Inequality(
    id="cor-4.4",
    expected="holds",
    domain_check=D.gaussian_channel,
    title="Cor 4.4: P_e* = Φ(−|μ|/σ) ≤ ½",
    claim="The Bayes error rate satisfies P_e* = Φ(−|μ|/σ) ≤ ½.",
    reading="μ any real, σ > 0 (the SNR |μ|/σ ≤ 36 in the search).",
    quick_examples=QUICK_EXAMPLES,
    domain=channel_params(),
    canonical=canonical_channel,
    lhs_float=lambda x: float(bayes_error(x["mu"], x["sigma"])),
    rhs_float=lambda x: 0.5,
    lhs_exact=bayes_error_exact,
    rhs_exact=lambda x, B: B.num(Fraction(1, 2)),
    extra_mutants=_no_abs_mutant,
    scale_floor=1e-300,
    proof="Φ is increasing and −|μ|/σ ≤ 0, so Φ(−|μ|/σ) ≤ Φ(0) = ½.",
)

# ----------------------------------------------------------------------------
# equality iff μ = 0
# ----------------------------------------------------------------------------


def _equality_domain():
    """(μ, σ) with μ = 0 often and nonzero SNRs from 1e-150 up (where ½ − Φ(−s) is hardest to resolve)."""
    tiny = st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(-150.0, -1.0), st.floats(-3.0, 3.0)).map(
        lambda t: {"mu": t[0] * 10.0 ** t[1] * 10.0 ** t[2], "sigma": 10.0 ** t[2]})
    zero = st.floats(-3.0, 3.0).map(lambda e: {"mu": 0.0, "sigma": 10.0**e})
    return st.one_of(zero, tiny, channel_params())


def decide_half(mu: Fraction, sigma: Fraction) -> tuple[bool, str, float]:
    """Decide ``Φ(−|μ|/σ) = ½`` in Arb: (equal, enclosure of ½ − Φ(−|μ|/σ), certified lower bound).

    Equality is only ever reported from an exact zero ball (μ = 0: erfc(0) = 1 exactly); strictness
    from a ball proved positive. Raises ``ArithmeticError`` if neither is proved up to 4096 bits.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")

    def gap(B):
        return B.num(Fraction(1, 2)) - B.ncdf(-B.num(abs(mu) / sigma))

    with Arb(64) as B:
        g = gap(B)
        if g.is_exact() and g.is_zero():
            return True, g.str(10, radius=True), 0.0
    sign, ball = certified_sign(gap, precisions=(64, 128, 256, 512, 1024, 2048, 4096))
    if sign == 1:
        return False, ball.enclosure, ball.lower
    raise ArithmeticError(f"could not decide Φ(−|μ|/σ) = ½ at μ = {mu}, σ = {sigma}: {ball.enclosure}")


@dataclass
class EqualityIff(Statement):
    """``Φ(−|μ|/σ) = ½ ⇔ condition(μ, σ)``, decided in Arb over a Hypothesis domain."""

    id: str = "cor-4.4/equality"
    expected: str | None = "holds"
    title: str = "Cor 4.4: P_e* = ½ iff μ = 0"
    claim: str = "Φ(−|μ|/σ) = ½ holds exactly when μ = 0."
    reading: str = "Exact equality of reals, decided in Arb ball arithmetic (exact zero ball or proved sign)."
    condition: Callable = field(default=lambda mu, sigma: mu == 0)
    condition_text: str = "μ = 0"
    domain: object = field(default_factory=_equality_domain)

    def check(self, effort: str = "quick", examples: int | None = None):
        t0 = time.perf_counter()
        n = examples or (2000 if effort == "full" else 120)
        state = {"cases": 0, "equal": 0, "strict": 0, "smallest_gap_lower": None, "cx": None}

        class _Found(Exception):
            pass

        def evaluate(raw):
            x = exactify(raw)
            mu, sigma = Fraction(x["mu"]), Fraction(x["sigma"])
            equal, enclosure, lower = decide_half(mu, sigma)
            state["cases"] += 1
            state["equal" if equal else "strict"] += 1
            if not equal and (state["smallest_gap_lower"] is None or lower < state["smallest_gap_lower"][0]):
                state["smallest_gap_lower"] = (lower, fraction_str(abs(mu) / sigma))
            claimed = bool(self.condition(mu, sigma))
            if claimed != equal:
                state["cx"] = (mu, sigma, equal, enclosure, lower)
                raise _Found()

        test = given(self.domain)(evaluate)
        test = hypothesis_seed(zlib.crc32(f"{self.id}:{run_seed()}".encode()))(test)  # same seed, same report
        try:
            settings(database=None, deadline=None, max_examples=n,
                     suppress_health_check=list(HealthCheck))(test)()
        except _Found:
            pass
        except BaseException as exc:  # Hypothesis may group the exceptions it saw
            if not (isinstance(exc, BaseExceptionGroup) and all(isinstance(e, _Found) for e in exc.exceptions)):
                raise
        # the paper's two witnesses, always: μ = 0 and a nonzero μ (fixed, so no draw can miss them)
        for mu, sigma in ((Fraction(0), Fraction(1)), (Fraction(1, 10**9), Fraction(1)), (Fraction(-1), Fraction(3))):
            if state["cx"] is not None:
                break
            equal, enclosure, lower = decide_half(mu, sigma)
            state["cases"] += 1
            if bool(self.condition(mu, sigma)) != equal:
                state["cx"] = (mu, sigma, equal, enclosure, lower)
        evidence = {"cases": state["cases"], "equalities (μ = 0)": state["equal"], "strict (μ ≠ 0)": state["strict"]}
        if state["smallest_gap_lower"] is not None:
            lo, s = state["smallest_gap_lower"]
            evidence["smallest certified ½ − P_e* (μ ≠ 0)"] = f"{lo:.3e} at |μ|/σ = {s[:40]}"
        if state["cx"] is not None:
            mu, sigma, equal, enclosure, lower = state["cx"]
            cx = Counterexample(
                inputs={"mu": fraction_str(mu), "sigma": fraction_str(sigma)},
                lhs=f"½ − Φ(−|μ|/σ) = {enclosure}",
                rhs=f"claimed: equality iff {self.condition_text} -> claims {'strict' if equal else 'equality'}",
                margin=enclosure,
                margin_upper=-lower if not equal else 0.0,
                margin_mp60=mpmath.nstr(_gap_mp(mu, sigma, 60), 20),
                certificate="Arb: " + ("½ − Φ(0) is the exact zero ball (erfc(0) = 1 exactly)" if equal
                                       else f"½ − Φ(−|μ|/σ) proved > 0, enclosure {enclosure}"),
                size=1,
            )
            evidence["summary"] = (f"claim 'P_e* = ½ iff {self.condition_text}' fails at μ = {fraction_str(mu)}, "
                                   f"σ = {fraction_str(sigma)}: P_e* {'=' if equal else '<'} ½")
            return self.result(Verdict.REFUTED, evidence, cx, t0)
        evidence["summary"] = (f"{state['cases']} cases decided in Arb: equality exactly at the "
                               f"{state['equal']} with μ = 0, strict at the {state['strict']} others")
        evidence["proof"] = "Φ is strictly increasing, so Φ(−|μ|/σ) = Φ(0) = ½ iff |μ|/σ = 0."
        return self.result(Verdict.HOLDS, evidence, None, t0)

    def verify_counterexample(self, cx: dict) -> tuple[bool, str]:
        """Recompute from the exact inputs in mpmath (80 digits): the claimed condition and the sign of ½ − P_e*."""
        mu, sigma = Fraction(cx["inputs"]["mu"]), Fraction(cx["inputs"]["sigma"])
        gap = _gap_mp(mu, sigma, 80)
        equal = gap == 0  # mpmath's ncdf(0) is exactly ½; for s ≥ 1e-150 the gap is > 1e-151 ≫ 10^-400
        claimed = bool(self.condition(mu, sigma))
        ok = claimed != equal
        return ok, (f"½ − Φ(−|μ|/σ) = {mpmath.nstr(gap, 15)} at 80 digits; claim says "
                    f"{'equal' if claimed else 'strict'} -> {'violation confirmed' if ok else 'NOT a violation'}")

    def mutants(self) -> list[Statement]:
        def variant(name, cond, text):
            return EqualityIff(id=f"{self.id}~{name}", title=f"P_e* = ½ iff {text}",
                               claim=f"Φ(−|μ|/σ) = ½ holds exactly when {text}.", condition=cond,
                               condition_text=text)
        return [
            variant("never equal", lambda mu, sigma: False, "never (P_e* < ½ always)"),
            variant("|μ| ≤ 1e-6 σ", lambda mu, sigma: abs(mu) <= Fraction(1, 10**6) * sigma, "|μ| ≤ 10⁻⁶σ"),
            variant("μ ≤ 0", lambda mu, sigma: mu <= 0, "μ ≤ 0"),
        ]


def _gap_mp(mu: Fraction, sigma: Fraction, dps: int):
    """``½ − Φ(−|μ|/σ)`` in mpmath; enough digits that s down to 1e-150 is resolved (s/√(2π) ≫ 10^-dps)."""
    with mpmath.workdps(dps + 320):
        s = mpmath.mpf(abs(mu).numerator) / abs(mu).denominator / (mpmath.mpf(sigma.numerator) / sigma.denominator)
        return mpmath.mpf(1) / 2 - mpmath.ncdf(-s)


equality = EqualityIff()

STATEMENTS = [upper, equality]
