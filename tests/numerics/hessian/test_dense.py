"""Exact path: dense matrix, spectrum, memory check, and the summary's use of the shared core."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from numerics.entropy import entropy_gap
from numerics.hessian import ExactTooLargeError, MatrixOperator, dense_matrix, full_spectrum, spectral_summary
from numerics.hessian.dense import check_exact_feasible, dense_memory_bytes
from numerics.hessian.lanczos import entropy_gap_from_traces
from numerics.spectrum import spectral_entropy_gap


def test_dense_matrix_of_matrix_operator_round_trips():
    B = torch.randn(7, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    A = B + B.T
    assert torch.allclose(dense_matrix(MatrixOperator(A), chunk_size=3), A, atol=0, rtol=0)
    lam = full_spectrum(MatrixOperator(A))
    assert np.allclose(lam, np.linalg.eigvalsh(A.numpy()), atol=1e-12)


def test_exact_spectrum_is_symmetric_and_ggn_psd(mlp_case):
    assert float((mlp_case.H - mlp_case.H.T).abs().max()) == 0.0
    assert mlp_case.eig_G.min() >= -1e-12 * mlp_case.eig_G.max()
    assert mlp_case.eig_H.min() < 0 < mlp_case.eig_H.max()  # a real Hessian is indefinite


def test_too_large_is_refused_before_allocation():
    op = MatrixOperator(torch.eye(50, dtype=torch.float64))
    with pytest.raises(ExactTooLargeError, match="max_params=10"):
        dense_matrix(op, max_params=10)
    with pytest.raises(ExactTooLargeError, match="GiB"):
        dense_matrix(op, memory_limit_bytes=dense_memory_bytes(50, torch.float64) - 1)
    with pytest.raises(ValueError):  # ExactTooLargeError is a ValueError
        check_exact_feasible(10**7, torch.float32, "cpu", max_params=None)
    with pytest.raises(ValueError, match="chunk_size"):
        dense_matrix(op, chunk_size=0)


def test_summary_uses_the_shared_core(mlp_case):
    s = spectral_summary(mlp_case.eig_H, "abs", alphas=(2.0,))
    assert s.entropy_gap == spectral_entropy_gap(mlp_case.eig_H, "abs")
    assert s.trace == pytest.approx(float(torch.trace(mlp_case.H)), rel=1e-10)
    assert s.top_eigenvalue == mlp_case.eig_H.max()
    p = np.abs(mlp_case.eig_H) / np.abs(mlp_case.eig_H).sum()
    assert s.renyi[2.0] == pytest.approx(-math.log(np.sum(p**2)), rel=1e-12)
    with pytest.raises(ValueError, match="negative"):
        spectral_summary(mlp_case.eig_H, "error")
    g = spectral_summary(mlp_case.eig_G, "error")  # GGN: round-off negatives tolerated
    assert g.entropy_gap > 0


spectra = st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=1, max_size=40).filter(
    lambda v: sum(abs(x) for x in v) > 1e-6
)


def check_trace_formula(values, gap_fn=entropy_gap_from_traces):
    """The trace form of the gap used by SLQ equals the shared core's gap of |spectrum|."""
    v = np.abs(np.asarray(values))
    T = math.fsum(v)
    S = math.fsum(x * math.log(x) for x in v if x > 0)
    want = entropy_gap(v / T)
    got = gap_fn(len(v), T, S)
    # cancellation in log n + S/T − log T: terms up to |log T| + log n ~ 12, eps 2.2e-16
    assert abs(got - want) <= 1e-12 * (1 + abs(math.log(T)) + math.log(len(v))), (got, want)


@given(spectra)
def test_trace_form_of_entropy_gap_matches_core(values):
    check_trace_formula(values)


def test_trace_form_check_can_fail():
    with pytest.raises(AssertionError):
        check_trace_formula([1.0, 2.0, 3.0], lambda n, T, S: entropy_gap_from_traces(n, T, S) * (1 + 1e-6))
