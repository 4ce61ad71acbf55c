"""Time to the first certified counterexample: campaign engine vs plain Hypothesis, side by side.

    python -m pytest benchmarks/test_campaign_speed.py --benchmark-enable

The written kill-rate reports come from ``benchmarks/campaign_report.py`` (the statements' own
domains) and ``benchmarks/campaign_benchmark.py`` (near-miss mutants on generic domains, with HypoFuzz).
"""

from __future__ import annotations

import pytest

from benchmarks.campaign_report import campaign_engine, near_miss, plain_hypothesis
from theorems import registry

CASES = {
    "lemma-3.6 near-miss 0.1%": lambda: near_miss(registry.find("lemma-3.6"), 0.999, "near-miss 0.1%"),
    "pinsker near-miss 1%": lambda: near_miss(registry.find("lemma-3.6/pinsker"), 0.99, "near-miss 1%"),
    "thm-3.2 (paper bound)": lambda: registry.find("thm-3.2"),
}


@pytest.mark.parametrize("engine", ["campaign", "plain"])
@pytest.mark.parametrize("case", list(CASES))
def test_time_to_first_counterexample(benchmark, case, engine):
    stmt = CASES[case]()
    fn = campaign_engine if engine == "campaign" else plain_hypothesis
    result = benchmark.pedantic(fn, args=(stmt, 60.0), rounds=3, iterations=1)
    benchmark.extra_info.update(result)
