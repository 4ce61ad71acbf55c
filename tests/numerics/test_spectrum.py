import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import spectrum as S
from numerics.strategies import psd_matrices, spectra
from tests.numerics.agreement import Agreement

EPS = np.finfo(float).eps
policies = st.sampled_from(["abs", "clip"])


@st.composite
def signed_spectra(draw):
    lam = draw(spectra(2, 30, 1e6))
    signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=lam.size, max_size=lam.size)))
    signs[int(np.argmax(lam))] = 1.0  # keep one positive so 'clip' has something left
    return lam * signs


#: the float/mpmath pairs of this module, registered in tests/numerics/agreement.py and checked by
#: tests/numerics/test_agreement.py (agreement property, perturbation meta-test, worst-error report)
AGREEMENTS = [
    Agreement(
        "spectral_entropy_gap", S.spectral_entropy_gap, S.spectral_entropy_gap_mp,
        st.tuples(signed_spectra(), policies),
        rtol=1e-12, atol=1e-15,
        why="p = v/Σv rounds each entry by 1 ulp; the gap's sensitivity to that is "
        "Σ p_i |log(n p_i)| · eps ≤ eps·(log κ + 1) absolute, so 1e-15 absolute plus 1e-12 relative",
        meta_factor=1e-6,
    ),
    Agreement(
        "matrix_renyi_entropy", S.matrix_renyi_entropy, S.matrix_renyi_entropy_mp,
        st.tuples(psd_matrices(1, 6, 1e4), st.sampled_from([0.5, 1.0, 2.0, 3.7])),
        rtol=1e-9, atol=1e-12,
        why="eigh has backward error ~n·eps·‖K‖, so the smallest normalised eigenvalue is off by "
        "~n·eps·κ relative (κ ≤ 1e4): 6·2.2e-16·1e4 ≈ 1e-11, times |log p| ≤ 10",
        meta_factor=1e-6,
    ),
]


@given(spectra(2, 30))
def test_normalize_returns_distribution_and_condition_number(lam):
    p, kappa = S.normalize_spectrum(lam)
    assert math.fsum(p) == pytest.approx(1.0, abs=1e-14)
    assert kappa == pytest.approx(lam.max() / lam.min(), rel=1e-12)


def test_policies():
    lam = np.array([3.0, -1.0, 0.0, 2.0])
    p, k = S.normalize_spectrum(lam, "abs")
    np.testing.assert_allclose(p, [0.5, 1 / 6, 0, 1 / 3])
    assert k == math.inf
    p, _ = S.normalize_spectrum(lam, "clip")
    np.testing.assert_allclose(p, [0.6, 0, 0, 0.4])
    with pytest.raises(ValueError, match="negative eigenvalue"):
        S.normalize_spectrum(lam)
    # round-off negatives pass with a tolerance
    p, _ = S.normalize_spectrum([1.0, -1e-17], tol=1e-15)
    np.testing.assert_allclose(p, [1.0, 0.0])


def test_von_neumann_of_identity_is_log_n():
    assert S.von_neumann_entropy(np.eye(7)) == pytest.approx(math.log(7), rel=1e-14)
    assert S.matrix_renyi_entropy(np.eye(7), 3.0) == pytest.approx(math.log(7), rel=1e-14)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([], "empty"),
        ([1.0, float("nan")], "NaN"),
        ([[1.0, 2.0]], "1-D"),
        ([0.0, 0.0], "all zero"),
        ([-1.0, -2.0], "negative"),
    ],
)
def test_bad_spectra(bad, match):
    with pytest.raises(ValueError, match=match):
        S.spectral_entropy_gap(bad)


def test_bad_policy_and_matrices():
    with pytest.raises(ValueError, match="unknown negative-eigenvalue policy"):
        S.normalize_spectrum([1.0, 2.0], "square")
    with pytest.raises(ValueError, match="square"):
        S.von_neumann_entropy(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        S.von_neumann_entropy(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        S.von_neumann_entropy(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="alpha"):
        S.matrix_renyi_entropy(np.eye(2), 0.0)
    with pytest.raises(ValueError, match="negative eigenvalue"):
        S.von_neumann_entropy(np.array([[1.0, 2.0], [2.0, 1.0]]))
