"""Per-block report: exact rows equal the dense diagonal blocks; stochastic rows contain them."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.hessian import spectral_summary
from numerics.hessian.blocks import block_report, coefficient_of_variation


def test_exact_block_rows_are_the_diagonal_blocks(mlp_case):
    rep = block_report(mlp_case.model, mlp_case.loss_fn, mlp_case.data, max_exact=10_000)
    assert [r.name for r in rep.rows] == [n for n, _ in mlp_case.model.named_parameters()]
    start = 0
    for row in rep.rows:
        block = mlp_case.H[start : start + row.numel, start : start + row.numel].numpy()
        lam = np.linalg.eigvalsh(block)
        assert row.method == "exact"
        assert row.trace == pytest.approx(np.trace(block), rel=1e-10)
        assert row.top_eigenvalue == pytest.approx(lam.max(), rel=1e-10)
        assert row.entropy_gap == pytest.approx(spectral_summary(lam, "abs").entropy_gap, rel=1e-9, abs=1e-12)
        start += row.numel
    assert rep.deviation == pytest.approx(coefficient_of_variation(rep.values("entropy_gap")))
    assert "deviation among blocks" in rep.to_markdown() and '"rows"' in rep.to_json()


def test_stochastic_block_rows_contain_exact(mlp_case):
    rep = block_report(
        mlp_case.model, mlp_case.loss_fn, mlp_case.data, blocks=["layers.0.weight"], max_exact=100, num_hvps=240
    )
    row = rep.rows[0]
    block = mlp_case.H[:1536, :1536].numpy()
    lam = np.linalg.eigvalsh(block)
    assert row.method == "stochastic"
    assert row.trace_ci[0] <= np.trace(block) <= row.trace_ci[1]
    assert row.top_eigenvalue_ci[0] <= lam.max() * (1 + 1e-9) and lam.max() <= row.top_eigenvalue_ci[1]
    gap = spectral_summary(lam, "abs").entropy_gap
    assert row.entropy_gap_ci[0] <= gap <= row.entropy_gap_ci[1]


def test_ggn_blocks_and_groups(mlp_case):
    rep = block_report(
        mlp_case.model, mlp_case.loss_fn, mlp_case.data, blocks=["layers.1", "layers.2"], operator="ggn",
        metric="trace",
    )
    assert rep.policy == "ggn" and len(rep.rows) == 2 and all(r.trace > 0 for r in rep.rows)


def test_bad_arguments(mlp_case):
    args = (mlp_case.model, mlp_case.loss_fn, mlp_case.data)
    with pytest.raises(ValueError, match="metric"):
        block_report(*args, metric="rank")
    with pytest.raises(ValueError, match="operator"):
        block_report(*args, operator="fisher")
    with pytest.raises(ValueError, match="policy"):
        block_report(*args, policy="error")
    with pytest.raises(ValueError, match="unknown parameter block"):
        block_report(*args, blocks=["nope"])
    with pytest.raises(ValueError, match="at least 2"):
        coefficient_of_variation([1.0])
    with pytest.raises(ValueError, match="mean"):
        coefficient_of_variation([1.0, -1.0])
