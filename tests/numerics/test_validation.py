"""numerics.validation: every bad input gets a ValueError that names it."""

import math

import numpy as np
import pytest

from numerics.validation import (
    as_distribution,
    as_float_array,
    as_float_vector,
    as_symmetric_matrix,
    check_alpha,
    check_positive,
)


@pytest.mark.parametrize("bad, ndim, match", [
    ([["a", "b"]], None, "z must be an array of real numbers"),
    (np.zeros(3), 2, "z must be 2-D, got shape"),
    (np.zeros((0, 4)), 2, r"z is empty \(shape \(0, 4\)\)"),
    ([], 1, "z is empty$"),
    ([[1.0, 2.0], [3.0, math.nan]], 2, r"z contains NaN \(at index \(1, 1\)\)"),
    ([1.0, -math.inf], 1, r"z contains inf \(at index 1\)"),
])
def test_as_float_array_names_the_problem(bad, ndim, match):
    with pytest.raises(ValueError, match=match):
        as_float_array(bad, "z", ndim=ndim)


def test_good_input_passes_through_as_float64():
    arr = as_float_array([[1, 2], [3, 4]], "z", ndim=2)
    assert arr.dtype == np.float64 and arr.shape == (2, 2)
    assert as_float_vector([1, 2]).tolist() == [1.0, 2.0]
    assert as_distribution([0.25, 0.75]).sum() == 1.0
    assert check_alpha(math.inf) == math.inf and check_positive("2.5", "x") == 2.5


@pytest.mark.parametrize("value", [0, -1.0, math.inf, math.nan, "x", None])
def test_check_positive_rejects(value):
    with pytest.raises(ValueError, match="bandwidth must be a positive"):
        check_positive(value, "bandwidth")


def test_vector_and_distribution_messages():
    with pytest.raises(ValueError, match="p must be 1-D"):
        as_float_vector(np.zeros((2, 2)), "p")
    with pytest.raises(ValueError, match="p has a negative entry"):
        as_distribution([1.5, -0.5])
    with pytest.raises(ValueError, match="sums to"):
        as_distribution([0.5, 0.6])


@pytest.mark.parametrize("bad, n, match", [
    ([[1.0, 2.0], [0.0, 1.0]], None, "K is not symmetric"),
    ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], None, r"K must have a square shape, got \(2, 3\)"),
    (np.eye(2), 3, r"K must have shape \(3, 3\), got \(2, 2\)"),
    ([[1.0, math.nan], [math.nan, 1.0]], None, r"K contains NaN \(at index \(0, 1\)\)"),
    ([1.0, 2.0], None, "K must be 2-D"),
    ([["a"]], None, "K must be an array of real numbers"),
])
def test_as_symmetric_matrix_names_the_problem(bad, n, match):
    with pytest.raises(ValueError, match=match):
        as_symmetric_matrix(bad, "K", n)


def test_as_symmetric_matrix_symmetrises_round_off():
    A = np.array([[2.0, 1.0], [1.0 + 1e-15, 3.0]])
    S = as_symmetric_matrix(A, "K", 2)
    assert np.array_equal(S, S.T) and abs(S[0, 1] - 1.0) < 1e-15
