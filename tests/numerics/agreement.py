"""Float-vs-mpmath agreement harness shared by the numerics tests.

Each :class:`Agreement` pairs a float64 function with its mpmath oracle, a
Hypothesis strategy for its arguments, and a tolerance with the reason for it.
``python -m tests.numerics.agreement`` searches for the worst disagreement of
every registered case (Hypothesis ``target``) and prints a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import mpmath
from hypothesis import Phase, given, settings, target
from hypothesis import strategies as st


@dataclass(frozen=True)
class Agreement:
    name: str
    float_fn: Callable
    mp_fn: Callable
    args: st.SearchStrategy  # draws a tuple of arguments
    rtol: float
    atol: float
    why: str  # the justification of the tolerance

    def error(self, args) -> tuple[float, float, float]:
        """(|float − mp|, allowed, relative error) at ``args``."""
        got = self.float_fn(*args)
        want = self.mp_fn(*args)
        if want == mpmath.inf or (isinstance(got, float) and math.isinf(got)):
            return (0.0 if got == float(want) else math.inf), 0.0, 0.0
        err_mp = abs(mpmath.mpf(got) - want)
        err = float(err_mp)
        allowed = self.rtol * float(abs(want)) + self.atol
        rel = float(err_mp / abs(want)) if want != 0 else err
        return err, allowed, rel

    def assert_agrees(self, args) -> None:
        err, allowed, _ = self.error(args)
        assert err <= allowed, f"{self.name}{_short(args)}: |float − mpmath| = {err:.3e} > {allowed:.3e}"

    def run(self, shrink: bool = True) -> None:
        """Run the agreement property under the active Hypothesis profile.

        ``shrink=False`` skips Hypothesis' shrink phase (and the example database): meta-tests
        only need *a* failure, and shrinking a 30-entry counterexample takes seconds.
        """

        @given(self.args)
        def prop(args):
            self.assert_agrees(args)

        if not shrink:
            prop = settings(phases=[Phase.explicit, Phase.generate], database=None)(prop)
        prop()

    def perturbed(self, factor: float = 1e-8) -> "Agreement":
        f = self.float_fn
        return replace(self, float_fn=lambda *a: f(*a) * (1 + factor) + factor * 1e-300)


def _short(args) -> str:
    s = repr(args)
    return s if len(s) < 300 else s[:300] + "...)"


def worst_disagreement(case: Agreement, examples: int = 300) -> tuple[float, float, float]:
    """Largest relative error (where |value| ≥ atol/rtol), largest absolute error (below that),
    and largest err/allowed ratio, found by a targeted search."""
    worst = [0.0, 0.0, 0.0]
    floor = case.atol / case.rtol

    @settings(max_examples=examples, database=None, deadline=None)
    @given(case.args)
    def search(args):
        err, allowed, rel = case.error(args)
        ratio = err / allowed if allowed else (0.0 if err == 0 else math.inf)
        if allowed - case.atol >= case.rtol * floor:  # |value| ≥ atol/rtol: relative regime
            worst[0] = max(worst[0], rel)
        else:
            worst[1] = max(worst[1], err)
        worst[2] = max(worst[2], ratio)
        target(min(ratio, 1e300), label="error / tolerance")

    search()
    return worst[0], worst[1], worst[2]


if __name__ == "__main__":  # pragma: no cover - a reporting script
    import importlib
    import sys

    modules = sys.argv[1:] or [
        "tests.numerics.test_entropy",
        "tests.numerics.test_divergence",
        "tests.numerics.test_spectrum",
        "tests.numerics.test_channel",
        "tests.numerics.test_cv_limit",
        "tests.numerics.test_gaussian",
    ]
    print("| function | worst relative error (|v| ≥ atol/rtol) | worst absolute error (below) | worst err/tolerance | rtol, atol |")
    print("|---|---|---|---|---|")
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ImportError as exc:
            print(f"| {name} | not importable: {exc} | | |")
            continue
        for case in getattr(mod, "AGREEMENTS", []):
            rel, absolute, ratio = worst_disagreement(case)
            print(f"| `{case.name}` | {rel:.2e} | {absolute:.2e} | {ratio:.3f} | {case.rtol:.0e}, {case.atol:.0e} |")
