"""The float-vs-mpmath agreement registry of the numerics package.

Each :class:`Agreement` pairs a float64 function with its mpmath oracle, a
Hypothesis strategy for its arguments, and a tolerance with the reason for it.
Every numerics module registers its pairs once, as the ``AGREEMENTS`` list of
the test module named in :data:`REGISTRY`; three consumers read the registry:

* ``tests/numerics/test_agreement.py`` -- the agreement property of every case,
  the meta-test (a perturbed float function must be caught) and the check that
  every ``<name>_mp`` twin in ``numerics/`` is registered;
* ``python -m tests.numerics.agreement`` -- the report of the worst disagreement
  of every case (Hypothesis ``target``), ``reports/numerics/agreement.md``;
* the module's own tests, for case-specific meta-tests (a dropped term).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

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
    #: examples per property run; None: the Hypothesis profile's count (fewer for 0.2-1 s quadrature oracles)
    examples: int | None = None
    #: fixed arguments (typical and extreme) at which the meta-test requires the perturbation to be caught;
    #: empty: the perturbed property run must fail somewhere
    meta_args: tuple = ()
    #: relative perturbation of the meta-test: well above the tolerance, far below a plausible bug
    meta_factor: float = 1e-8

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
        """Run the agreement property (``examples`` of them, else the active profile's count).

        ``shrink=False`` skips Hypothesis' shrink phase (and the example database): meta-tests
        only need *a* failure, and shrinking a 30-entry counterexample takes seconds. Cases with
        an ``examples`` budget never shrink: their oracles cost up to a second a call.
        """

        @given(self.args)
        def prop(args):
            self.assert_agrees(args)

        if self.examples is not None:
            prop = settings(max_examples=self.examples, database=None,
                            phases=[Phase.explicit, Phase.reuse, Phase.generate])(prop)
        elif not shrink:
            prop = settings(phases=[Phase.explicit, Phase.generate], database=None)(prop)
        prop()

    def assert_catches_perturbation(self) -> None:
        """The meta-test: the float function times ``1 + meta_factor`` must fail the check.

        At each of ``meta_args`` the unperturbed function must pass and the perturbed one fail;
        without ``meta_args`` the perturbed property run must fail. Raises ``AssertionError``
        when the check could not tell the two apart.
        """
        bad = self.perturbed(self.meta_factor)
        for args in self.meta_args:
            self.assert_agrees(args)
            try:
                bad.assert_agrees(args)
            except AssertionError:
                continue
            raise AssertionError(f"{self.name}: a {self.meta_factor:g} perturbation passes at {_short(args)}")
        if self.meta_args:
            return
        try:
            bad.run(shrink=False)
        except (AssertionError, ExceptionGroup):
            return
        raise AssertionError(f"{self.name}: a {self.meta_factor:g} perturbation passed the agreement property")

    def perturbed(self, factor: float = 1e-8) -> Agreement:
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


#: numerics module -> the test module whose ``AGREEMENTS`` list registers its float/mpmath pairs
REGISTRY = {
    "numerics.entropy": "tests.numerics.test_entropy",
    "numerics.divergence": "tests.numerics.test_divergence",
    "numerics.spectrum": "tests.numerics.test_spectrum",
    "numerics.channel": "tests.numerics.test_channel",
    "numerics.cv_limit": "tests.numerics.test_cv_limit",
    "numerics.gaussian": "tests.numerics.test_gaussian",
    "numerics.rmed": "tests.numerics.test_rmed",
    "numerics.sharpness": "tests.numerics.test_sharpness",
    "numerics.steepest_descent": "tests.numerics.test_steepest_descent",
}

#: ``_mp`` twins checked some other way than a scalar agreement case, and why
NOT_SCALAR = {
    "numerics.gaussian.laplace_posterior_mp": "matrix-valued (mean, covariance): compared by relative Frobenius "
    "error in units of κ·eps in tests/numerics/test_gaussian.py",
}

#: numerics modules with ``_mp`` twins that are not in the registry yet, and where they are tested
UNREGISTERED: dict[str, str] = {}


def registered(modules=None) -> list[tuple[str, Agreement]]:
    """``(numerics module, case)`` for every registered case, in registry order."""
    out = []
    for numerics_module, test_module in REGISTRY.items():
        if modules and numerics_module not in modules:
            continue
        out.extend((numerics_module, case) for case in importlib.import_module(test_module).AGREEMENTS)
    return out


def report_rows(modules=None, examples: int = 300):
    """The Markdown table of :func:`worst_disagreement` over the registry (or ``modules`` of it), row by row.

    Cases with an ``examples`` budget (slow quadrature oracles) get at most 20 times it.
    """
    yield ("| module | function | worst relative error (\\|v\\| ≥ atol/rtol) | worst absolute error (below) "
           "| worst err/tolerance | rtol, atol |")
    yield "|---|---|---|---|---|---|"
    for module, case in registered(modules):
        n = min(examples, 20 * case.examples) if case.examples else examples
        try:
            rel, absolute, ratio = worst_disagreement(case, examples=n)
        except Exception as exc:  # noqa: BLE001 - one broken case must not hide the others' rows
            msg = " ".join(f"{type(exc).__name__}: {exc}".split())[:120].replace("|", "\\|")
            yield f"| `{module}` | `{case.name}` | search failed: {msg} | | | {case.rtol:.0e}, {case.atol:.0e} |"
            continue
        yield (f"| `{module}` | `{case.name}` | {rel:.2e} | {absolute:.2e} | {ratio:.3f} "
               f"| {case.rtol:.0e}, {case.atol:.0e} |")


if __name__ == "__main__":  # pragma: no cover - a reporting script
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tests.numerics.agreement",
                                 description="worst float-vs-mpmath disagreement of every registered case")
    ap.add_argument("modules", nargs="*", help=f"numerics modules (default: all of {list(REGISTRY)})")
    ap.add_argument("--examples", type=int, default=300, help="Hypothesis examples per closed-form case")
    a = ap.parse_args()
    unknown = [m for m in a.modules if m not in REGISTRY]
    if unknown:
        raise SystemExit(f"unknown numerics module(s) {unknown}; registered: {list(REGISTRY)}")
    for row in report_rows(a.modules or None, a.examples):
        print(row, flush=True)  # row by row: the quadrature cases take minutes
