"""The search inside a slice: structure mixing stays in the domain, the projected push, trivial points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.strategies import distributions, spectra
from theorems.campaign import load_user_statements, run_slice, spec_for
from theorems.campaign.structure import dist_variants, infer_shape, parameterise, spectrum_variants, variants

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = str(ROOT / "benchmarks" / "campaign_mutants.py") + ":mutants"


def _samples(strategy, k=30):
    out = []

    @settings(max_examples=k, database=None)
    @given(strategy)
    def collect(x):
        out.append(x)

    collect()
    return out


def test_shape_is_inferred_conservatively():
    shape = infer_shape(_samples(distributions(2, 30, positive=True).map(lambda p: {"p": p, "t": 0.5})))
    assert shape.fields["p"].kind == "dist" and shape.fields["p"].positive
    assert "t" not in shape.fields  # a constant scalar cannot move
    shape = infer_shape(_samples(spectra(2, 20).map(lambda lam: {"lam": lam})))
    assert shape.fields["lam"].kind == "spectrum"
    # positive but not normalised: a spectrum, not a distribution; a sign change: nothing
    assert infer_shape([{"p": np.array([0.5, 0.5])}, {"p": np.array([0.2, 0.9])}]).fields["p"].kind == "spectrum"
    assert infer_shape([{"p": np.array([-0.5, 1.5])}, {"p": np.array([0.2, 0.8])}]).fields == {}
    assert infer_shape([(1, 2)]).empty


@given(distributions(2, 60), st.booleans(), st.integers(0, 2**32 - 1))
@settings(max_examples=60, database=None)
def test_distribution_variants_stay_in_the_domain(p, positive, seed):
    if positive:
        p = (p + 1e-3) / (p + 1e-3).sum()
    for q in dist_variants(p, positive, np.random.default_rng(seed)):
        assert q.shape == p.shape and np.all(q >= 0) and abs(q.sum() - 1) < 1e-12
        assert not positive or np.all(q > 0)


@given(spectra(2, 40), st.integers(0, 2**32 - 1))
@settings(max_examples=60, database=None)
def test_spectrum_variants_keep_the_condition_number_bounded(lam, seed):
    for v in spectrum_variants(lam, np.random.default_rng(seed)):
        assert v.shape == lam.shape and v.min() >= lam.min() and v.max() <= lam.max()


def test_variants_reach_the_thin_region_of_a_near_miss():
    """KL(p‖u) ≤ 0.99·χ² fails only near 'uniform on n − 1 of n points', n ≳ 50: plain draws miss it."""
    m = load_user_statements(MUTANTS)[11]
    assert m.id == "kl<=chi2 x0.99"
    shape = infer_shape([{"p": np.array([0.0, 1.0])}, {"p": np.array([0.25, 0.75])}])
    rng = np.random.default_rng(0)
    p = np.random.default_rng(1).random(80)
    raw = {"p": p / p.sum()}

    def violated(r):
        x = m.prepare(r)
        from theorems.statement import floatify

        margin, scale = m.float_margin(floatify(m.derive(dict(x))))
        return margin / scale < -m.rel_tol

    assert not violated(raw)
    hits = [v for _ in range(30) for v in variants(raw, shape, rng) if violated(v)]
    assert hits and m.certify(m.prepare(hits[0])) is not None
    # meta: without zeros in the samples (a positive domain) that variant is never made
    positive = infer_shape([{"p": np.array([0.1, 0.9])}, {"p": np.array([0.25, 0.75])}])
    assert not [v for _ in range(30) for v in variants(raw, positive, rng) if violated(v)]


@pytest.mark.parametrize("n", [3, 10, 50])
def test_projected_push_stays_on_the_simplex(n):
    """The old push moved raw coordinates: for n ≥ 3 almost every point left the simplex and raised."""
    p = np.random.default_rng(n).random(n)
    raw = {"p": p / p.sum()}
    shape = infer_shape([{"p": np.array([0.2, 0.8])}, raw])
    theta0, rebuild = parameterise(raw, shape)
    assert theta0.size == n
    rng = np.random.default_rng(0)
    for _ in range(200):
        q = rebuild(theta0 + rng.normal(0, 3, n))["p"]
        assert np.all(q > 0) and abs(q.sum() - 1) < 1e-12
    # a drawn zero stays zero (the same support: the same domain)
    raw0 = {"p": np.array([0.0, 0.5, 0.5])}
    theta, rebuild0 = parameterise(raw0, shape)
    assert theta.size == 2 and rebuild0(theta + 1.0)["p"][0] == 0.0


def test_trivial_points_never_become_the_best():
    """Exactly uniform p makes both sides 0 for a Pinsker-type mutant: the best margin must come from elsewhere."""
    spec = spec_for(f"{MUTANTS}#3")  # pinsker x1.001
    uniform = {"p": {"__array__": [0.25] * 4, "dtype": "<f8"}}
    r = run_slice(spec, 0.3, 0, best_raw_json=uniform)
    assert r["best_raw"] != uniform


def test_a_slice_respects_its_deadline_and_reports_its_time():
    spec = spec_for(str(ROOT / "examples" / "my_statement.py") + ":claims#0")
    r = run_slice(spec, 0.5, 0)
    assert r["error"] is None and r["cases"] > 0 and r["counterexample"] is None
    assert r["seconds"] >= 0.5 and r["slice_s"] == 0.5


def test_spectrum_variants_survive_extreme_scales():
    """lo·hi underflows for spectra near the float range (it raised a math domain error)."""
    lam = np.array([1e-200, 1e-190, 1e-180])
    for v in spectrum_variants(lam, np.random.default_rng(0)):
        assert np.all(v >= lam.min()) and np.all(v <= lam.max())
