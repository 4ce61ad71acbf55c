"""Float64 vs mpmath for every registered numerics function (the registry: tests/numerics/agreement.py).

One agreement property and one meta-test per registered case, and a check that no ``_mp`` twin
in ``numerics/`` escapes the registry. Case-specific meta-tests (a dropped term, a wrong
statistic) stay next to each module's other tests.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import numerics
from tests.numerics.agreement import NOT_SCALAR, REGISTRY, UNREGISTERED, registered, worst_disagreement

CASES = registered()
IDS = [f"{module.removeprefix('numerics.')}:{case.name}" for module, case in CASES]


@pytest.mark.parametrize("module, case", CASES, ids=IDS)
def test_float_agrees_with_mpmath(module, case):
    case.run()


@pytest.mark.parametrize("module, case", CASES, ids=IDS)
def test_agreement_check_catches_a_perturbed_implementation(module, case):
    case.assert_catches_perturbation()


def test_a_check_that_cannot_fail_is_caught():
    """Meta-meta: a case whose perturbation stays inside its tolerance must fail the meta-test."""
    _, case = CASES[0]
    from dataclasses import replace

    too_loose = replace(case, rtol=1.0, atol=1.0)
    with pytest.raises(AssertionError, match="perturbation passe"):
        too_loose.assert_catches_perturbation()


def _mp_twins(module_name: str) -> list[str]:
    """The public ``_mp`` functions defined in a module whose float twin is in the module or, for a
    subpackage's module (``numerics.channel.oracles``), in its package."""
    mod = importlib.import_module(module_name)
    parent = module_name.rpartition(".")[0]
    homes = [mod] + ([importlib.import_module(parent)] if parent != "numerics" else [])
    return [n for n, obj in vars(mod).items()
            if n.endswith("_mp") and not n.startswith("_") and inspect.isfunction(obj)
            and obj.__module__ == module_name and any(callable(getattr(h, n[:-3], None)) for h in homes)]


def test_every_mp_twin_is_registered():
    """A float function with an ``_mp`` twin in numerics/ has an agreement case (or a stated reason)."""
    names = {(module, case.name.split("[")[0]) for module, case in CASES}
    # a twin defined in one module and re-exported by a registered one counts once (e.g. numerics.sam
    # through numerics.sharpness): compare the function objects themselves
    covered = {getattr(importlib.import_module(module), f"{name}_mp", None) for module, name in names}
    missing = []
    for info in pkgutil.walk_packages(numerics.__path__, "numerics."):  # subpackages' modules too
        if info.ispkg or info.name in UNREGISTERED:
            continue
        for twin in _mp_twins(info.name):
            if f"{info.name}.{twin}" in NOT_SCALAR:
                continue
            if getattr(importlib.import_module(info.name), twin) in covered:
                continue
            if info.name not in REGISTRY or (info.name, twin[:-3]) not in names:
                missing.append(f"{info.name}.{twin}")
    assert not missing, f"float/mpmath pairs without an agreement case in tests/numerics/agreement.py: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("module, case", CASES, ids=IDS)
def test_report_worst_disagreement(module, case):
    """The numbers of reports/numerics/agreement.md (``python -m tests.numerics.agreement``)."""
    rel, abs_err, ratio = worst_disagreement(case, examples=min(300, 20 * case.examples) if case.examples else 300)
    print(f"\n{case.name}: worst relative error {rel:.3e} (absolute {abs_err:.3e} where below atol/rtol), "
          f"worst err/tolerance {ratio:.3f}")
    assert ratio <= 1.0
