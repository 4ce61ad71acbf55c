"""numerics.rational: Fraction <-> fmpq conversions are exact round trips."""

from fractions import Fraction

import flint
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.rational import fmpq_matrix, identity, to_fmpq, to_fraction


@given(st.fractions() | st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_round_trip_is_exact(v):
    assert to_fraction(to_fmpq(v)) == Fraction(v)


def test_matrix_is_row_major_and_identity_is_neutral():
    A = fmpq_matrix(2, 3, [Fraction(1, 3), 2, 0.5, -1, 0, Fraction(7, 5)])
    assert to_fraction(A[0, 2]) == Fraction(1, 2) and to_fraction(A[1, 2]) == Fraction(7, 5)
    assert identity(2) * A == A
    assert identity(3).det() == 1 and isinstance(identity(3), flint.fmpq_mat)


def test_wrong_entry_count_is_named():
    with pytest.raises(ValueError, match="2x2 matrix needs 4 entries, got 3"):
        fmpq_matrix(2, 2, [1, 2, 3])
