"""Tests of ``numerics/modular_norm.py``: float functions against their exact twins, closed forms, bad input."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from numerics import modular_norm as mn
from numerics.backends import MP

LAYOUT = "linf:3;spectral:2x2;columns:2x3"
SCALES = [1.0, 0.5, 2.0]


def _exact(v):
    return [Fraction(float(x)) for x in v]


@pytest.mark.parametrize("seed", range(5))
def test_float_matches_exact_twins(seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(13)
    ge, se = _exact(g), _exact(SCALES)
    with MP(40) as B:
        dual_e = float(mn.network_dual_norm_b(ge, LAYOUT, se, B))
        inner_e, norm_e = (float(v) for v in mn.per_layer_inner_norm_b(ge, LAYOUT, se, B))
        model_e = float(mn.model_value_at_step_b(ge, Fraction(3), LAYOUT, se, B))
        d = rng.standard_normal(13)
        nd_e = float(mn.network_norm_b(_exact(d), LAYOUT, se, B))
    # float64 SVD / norms: relative error a few ulp times the size; 1e-13 leaves a wide margin
    assert mn.network_dual_norm(g, LAYOUT, SCALES) == pytest.approx(dual_e, rel=1e-13)
    D = mn.per_layer_direction(g, LAYOUT, SCALES)
    assert float(g @ D) == pytest.approx(inner_e, rel=1e-13)
    assert mn.network_norm(D, LAYOUT, SCALES) == pytest.approx(norm_e, rel=1e-13) and norm_e == pytest.approx(1.0)
    step = mn.steepest_descent_step(g, 3.0, LAYOUT, SCALES)
    assert mn.model_value(g, step, 3.0, LAYOUT, SCALES) == pytest.approx(model_e, rel=1e-13)
    assert model_e == pytest.approx(-dual_e**2 / 6, rel=1e-13)
    assert mn.network_norm(d, LAYOUT, SCALES) == pytest.approx(nd_e, rel=1e-13)


def test_two_by_two_closed_forms():
    M = [[Fraction(3), Fraction(1)], [Fraction(-2), Fraction(5)]]
    s = np.linalg.svd(np.array([[3.0, 1.0], [-2.0, 5.0]]), compute_uv=False)
    with MP(40) as B:
        assert float(mn.nuclear_2x2_b(M, B)) == pytest.approx(s.sum(), rel=1e-14)
        assert float(mn.spectral_2x2_b(M, B)) == pytest.approx(s[0], rel=1e-14)
        P = np.array([[float(v) for v in row] for row in mn.polar_2x2_b(M, B)])
    np.testing.assert_allclose(P, mn.tensor_direction(np.array([[3.0, 1.0], [-2.0, 5.0]]), "spectral"), atol=1e-14)
    np.testing.assert_allclose(P @ P.T, np.eye(2), atol=1e-14)


def test_agreement_check_can_fail():
    """The twin comparison above notices a 1e-6 error in the dual norm."""
    g = np.random.default_rng(0).standard_normal(13)
    with MP(40) as B:
        exact = float(mn.network_dual_norm_b(_exact(g), LAYOUT, _exact(SCALES), B))
    assert mn.network_dual_norm(g, LAYOUT, SCALES) * (1 + 1e-6) != pytest.approx(exact, rel=1e-13)


def test_zero_gradient_and_zero_columns():
    g = np.zeros(13)
    assert mn.network_dual_norm(g, LAYOUT) == 0.0
    assert not np.any(mn.per_layer_direction(g, LAYOUT))
    g = np.arange(13.0)
    g[7:13] = [1.0, 0.0, 2.0, 0.0, 0.0, 0.0]  # columns (1, 0) ... second column zero
    D = mn.per_layer_direction(g, LAYOUT)
    assert np.all(D[7:13].reshape(2, 3)[:, 1] == 0)


@pytest.mark.parametrize("layout, msg", [("", "non-empty"), ("conv:3", "unknown role"), ("spectral:3x3", "2x2"),
                                         ("linf:0", "dimension"), ("linf:a", "bad shape"), ("columns:3", "mxk")])
def test_bad_layout(layout, msg):
    with pytest.raises(ValueError, match=msg):
        mn.parse_layout(layout)


def test_bad_inputs():
    with pytest.raises(ValueError, match="13 parameters"):
        mn.network_norm(np.ones(12), LAYOUT)
    with pytest.raises(ValueError, match="scales"):
        mn.network_norm(np.ones(13), LAYOUT, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        mn.network_dual_norm(np.array([np.nan] * 13), LAYOUT)
    with pytest.raises(ValueError, match="sharpness"):
        mn.steepest_descent_step(np.ones(13), 0.0, LAYOUT)
