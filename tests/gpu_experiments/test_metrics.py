"""Checkpoint metrics against an independent dense Hessian (torch.func.hessian + numpy eigh).

Tolerances: the models are float64 with a few hundred parameters, the reference
Hessian comes from a different autodiff route (forward-over-reverse on a flat
parameter vector) and eigenvalues from ``numpy.linalg.eigvalsh``; both agree to
``~n · eps · ‖H‖`` ≈ 1e-13 relative, so 1e-8 relative (absolute 1e-10 for
quantities near zero) leaves room for the summation order only.  The stochastic
estimates are random but seeded: they must lie within 4 standard errors (their
own interval) of the exact values; with Lanczos run to the full dimension the
quadrature is exact, so only the probe error remains.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.func import functional_call

import gpu_experiments.metrics as metrics_mod
from gpu_experiments.metrics import hessian_metrics
from gpu_experiments.models import ResNet18, TinyCNN, TinyMLP

H_EXACT = {"dtype": "float64", "mode": "train", "policy": "abs", "exact_max_params": 10_000, "probes": 12,
           "deflation_steps": 0, "slq_probes": 5, "slq_steps": 400, "confidence": 0.95}


def _data(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 6, 6, generator=g, dtype=torch.float64), torch.randint(0, 10, (n,), generator=g)


def _model(seed=0):
    torch.manual_seed(seed)
    return TinyMLP(36, hidden=3, num_classes=10).double()  # 151 parameters


def reference(model, X, y, params=None):
    """Dense Hessian by torch.func.hessian of the loss on the flat parameter vector; eigenvalues by numpy."""
    names = [n for n, _ in model.named_parameters() if params is None or n in params]
    fixed = {n: p.detach() for n, p in model.named_parameters() if n not in names}
    shapes = [dict(model.named_parameters())[n].shape for n in names]
    sizes = [math.prod(s) for s in shapes]
    flat = torch.cat([dict(model.named_parameters())[n].detach().reshape(-1) for n in names])

    def loss(theta):
        parts = torch.split(theta, sizes)
        tensors = {n: t.view(s) for n, t, s in zip(names, parts, shapes)}
        return torch.nn.functional.cross_entropy(functional_call(model, {**fixed, **tensors}, (X,)), y)

    H = torch.func.hessian(loss)(flat).numpy()
    lam = np.linalg.eigvalsh((H + H.T) / 2)
    return H, lam, sizes


def check_exact_agreement(m: dict, H: np.ndarray, lam: np.ndarray, sizes) -> None:
    """Assert the exact-path metrics equal the values computed directly from the reference matrix."""
    n = lam.size
    v = np.abs(lam)
    p = v / v.sum()
    gap = math.log(n) + float(np.sum(p[p > 0] * np.log(p[p > 0])))
    tv = 0.5 * float(np.sum(np.abs(p - 1 / n)))
    close = lambda a, b: abs(a - b) <= 1e-8 * max(abs(b), 1.0) + 1e-10  # noqa: E731
    assert m["n"] == n
    assert close(m["trace"]["value"], float(lam.sum())), ("trace", m["trace"]["value"], lam.sum())
    assert close(m["top_eigenvalue"]["value"], float(lam.max())), "top eigenvalue"
    assert close(m["entropy_gap"]["value"], gap), ("entropy gap", m["entropy_gap"]["value"], gap)
    assert close(m["tv_uniform"], tv), "total variation"
    assert close(m["trace_sq"]["value"], float(np.sum(lam**2))), "trace of H^2"
    assert close(m["sqrt_diag_trace"]["value"], float(np.sum(np.sqrt(np.abs(np.diag(H)))))), "sqrt diag"
    assert close(m["spectrum_cv2"], float(n * np.sum(v**2) / v.sum() ** 2 - 1)), "CV^2"
    d = np.diag(H)
    starts = np.cumsum([0, *sizes])
    for b, (lo, hi) in enumerate(zip(starts[:-1], starts[1:])):
        assert close(m["block_traces"][b]["value"], float(d[lo:hi].sum())), f"block {b} trace"


@pytest.fixture(scope="module")
def exact_case():
    model = _model()
    X, y = _data()
    m = hessian_metrics(model, [(X, y)], {**H_EXACT, "compare_stochastic": True}, seed=0, device="cpu")
    H, lam, sizes = reference(model, X, y)
    return model, X, y, m, H, lam, sizes


def test_exact_path_matches_independent_hessian(exact_case):
    model, X, y, m, H, lam, sizes = exact_case
    assert m["method"] == "exact"
    check_exact_agreement(m, H, lam, sizes)
    # condition number under the abs policy (κ = ∞ when an |λ| is at round-off level)
    v = np.abs(lam)
    if v.min() > lam.size * 8 * np.finfo(float).eps * v.max():
        assert m["kappa"] == pytest.approx(v.max() / v.min(), rel=1e-6)
    else:
        assert m["kappa"] == math.inf and m["numerically_singular"]


def test_exact_agreement_check_can_fail(monkeypatch, exact_case):
    model, X, y, _, H, lam, sizes = exact_case
    real = metrics_mod.entropy_gap
    monkeypatch.setattr(metrics_mod, "entropy_gap", lambda p: real(p) * (1 + 1e-6))
    m = hessian_metrics(model, [(X, y)], {**H_EXACT, "slq_probes": 2, "slq_steps": 4}, seed=0, device="cpu")
    with pytest.raises(AssertionError, match="entropy gap"):
        check_exact_agreement(m, H, lam, sizes)


def check_stochastic_agreement(exact: dict, est: dict, k: float = 4.0) -> None:
    """Seeded stochastic estimates within ``k`` of their own standard errors of the exact values."""
    for key in ("trace", "trace_sq", "entropy_gap"):
        e = est[key]
        assert abs(e["value"] - exact[key]["value"]) <= k * e["stderr"] + 1e-9, (key, e, exact[key]["value"])
    # λ_max: a full-dimension Lanczos run is exact; here the largest Ritz value of the SLQ runs
    assert est["top_eigenvalue"]["value"] == pytest.approx(exact["top_eigenvalue"]["value"], rel=1e-6)


def test_stochastic_estimators_agree_with_exact(exact_case):
    m = exact_case[3]
    check_stochastic_agreement(m, m["stochastic"])
    # the SLQ quadrature is exact at full dimension: its trace estimate equals Hutchinson's target in mean
    assert m["stochastic"]["slq"]["steps"] >= m["n"]


def test_stochastic_agreement_check_can_fail(monkeypatch, exact_case):
    model, X, y, exact = exact_case[:4]
    real = metrics_mod.entropy_gap_from_slq

    def shifted(res, policy, confidence):
        e = real(res, policy, confidence)
        return type(e)(e.value + 0.5, e.ci_low + 0.5, e.ci_high + 0.5, e.confidence, e.stderr, e.hvp_count,
                       e.num_probes, e.method)

    monkeypatch.setattr(metrics_mod, "entropy_gap_from_slq", shifted)
    h = {**H_EXACT, "exact_max_params": 0}  # the stochastic path alone, same probes as in exact_case
    m = hessian_metrics(model, [(X, y)], h, seed=0, device="cpu")
    with pytest.raises(AssertionError, match="entropy_gap"):
        check_stochastic_agreement(exact, m)


def test_stochastic_block_traces_sum_to_trace():
    # Σ_b v_bᵀ (Hv)_b = vᵀHv for every probe: the block traces add up to the Hutchinson trace exactly
    torch.manual_seed(1)
    model = TinyCNN(1, channels=3).double()
    X, y = _data(24, 1)
    h = {**H_EXACT, "exact_max_params": 0, "slq_steps": 8, "slq_probes": 2, "deflation_steps": 6}
    m = hessian_metrics(model, [(X, y)], h, seed=3, device="cpu")
    assert m["method"] == "stochastic"
    assert sum(b["value"] for b in m["block_traces"]) == pytest.approx(m["trace"]["value"], rel=1e-9, abs=1e-12)
    assert m["kappa"] is None and m["kappa_low"] >= 1
    assert len(m["density"]["grid"]) == len(m["density"]["density"])


def test_exact_block_spectrum_is_the_submatrix_spectrum():
    model = _model()
    X, y = _data()
    h = {**H_EXACT, "exact_max_params": 0, "slq_steps": 4, "slq_probes": 2, "exact_blocks": ["fc2.weight"]}
    m = hessian_metrics(model, [(X, y)], h, seed=0, device="cpu")
    Hb, lam, sizes = reference(model, X, y, params={"fc2.weight"})
    bm = m["exact_blocks"]["fc2.weight"]
    assert bm["method"] == "exact" and bm["n"] == 30
    assert bm["trace"]["value"] == pytest.approx(lam.sum(), rel=1e-8)
    assert bm["top_eigenvalue"]["value"] == pytest.approx(lam.max(), rel=1e-8)


def test_block_spectra_and_deviation():
    model = _model()
    X, y = _data()
    h = {**H_EXACT, "slq_probes": 2, "slq_steps": 4, "blocks": {"spectra": True, "max_exact": 1000, "num_hvps": 8}}
    m = hessian_metrics(model, [(X, y)], h, seed=0, device="cpu")
    gaps = np.array(m["block_spectra"]["entropy_gap"])  # every block exact (max_exact 1000)
    assert gaps.size == 4
    assert m["blocks"]["deviation_entropy_gap"] == pytest.approx(np.std(gaps) / abs(np.mean(gaps)))
    traces = np.abs([b["value"] for b in m["block_traces"]])
    assert m["blocks"]["deviation_trace"] == pytest.approx(np.std(traces) / np.mean(traces))
    # exact block traces from the block operators equal those from the full matrix's diagonal
    assert np.allclose(m["block_spectra"]["trace"], [b["value"] for b in m["block_traces"]], rtol=1e-8)


def test_resnet_with_batchnorm_stochastic_path():
    torch.manual_seed(0)
    model = ResNet18(num_classes=10, in_channels=1, width=1)
    X = torch.randn(16, 1, 8, 8)
    y = torch.arange(16) % 10
    h = {**H_EXACT, "dtype": "float32", "exact_max_params": 0, "probes": 4, "slq_steps": 6, "slq_probes": 2,
         "deflation_steps": 4, "exact_blocks": ["linear.weight"]}
    m = hessian_metrics(model, [(X, y)], h, seed=0, device="cpu")
    assert len(m["block_traces"]) == 62 and m["blocks"]["num_blocks"] == 62
    assert all(math.isfinite(m[k]["value"]) for k in ("trace", "entropy_gap", "top_eigenvalue", "sqrt_diag_trace"))
    assert m["exact_blocks"]["linear.weight"]["n"] == 80


def test_unknown_exact_block_is_an_error():
    model = _model()
    X, y = _data()
    with pytest.raises(ValueError, match="unknown parameter block"):
        hessian_metrics(model, [(X, y)], {**H_EXACT, "exact_max_params": 0, "slq_steps": 4, "slq_probes": 2,
                                          "exact_blocks": ["nope.weight"]}, seed=0, device="cpu")


def test_rmed_and_sam_match_the_reference_matrix(exact_case):
    """R_med and SAM sharpness (seeds 003-004) from the exact path vs the reference Hessian and gradient."""
    model, X, y, m, H, lam, sizes = exact_case
    d = np.abs(np.diag(H))
    assert m["r_med"]["value"] == pytest.approx(d.max() / np.median(d), rel=1e-8)
    starts = np.cumsum([0, *sizes])
    per_block = [d[lo:hi].max() / np.median(d[lo:hi]) for lo, hi in zip(starts[:-1], starts[1:])]
    assert m["r_med"]["blocks"] == pytest.approx(per_block, rel=1e-8)
    assert m["r_med"]["block_median"] == pytest.approx(float(np.median(per_block)), rel=1e-8)
    assert "r_med_adam" not in m  # no optimizer given
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(X), y).backward()
    g = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy()
    model.zero_grad()
    rho = m["sam"]["rho"]
    gn = np.linalg.norm(g)
    assert m["sam"]["first_order"] == pytest.approx(rho * gn, rel=1e-10)
    assert m["sam"]["second_order"] == pytest.approx(rho * gn + rho**2 / 2 * g @ H @ g / gn**2, rel=1e-8)
    # the ascent starts at ε = ρ g/|g| and never decreases the loss: at least L(θ + ρ g/|g|) − L(θ)
    theta = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        base = float(torch.nn.functional.cross_entropy(model(X), y))
        step = torch.as_tensor(rho * g / gn)
        offset = 0
        for p in model.parameters():
            p.add_(step[offset: offset + p.numel()].view_as(p))
            offset += p.numel()
        shifted = float(torch.nn.functional.cross_entropy(model(X), y))
        for p, t in zip(model.parameters(), theta):
            p.copy_(t)
    assert m["sam"]["ascent"] >= shifted - base - 1e-12
    assert shifted - base > 0.5 * m["sam"]["first_order"]  # the first-order model is roughly right here


def test_rmed_of_the_adam_preconditioned_curvature():
    model = _model(1)
    X, y = _data(seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    opt.zero_grad()
    m = hessian_metrics(model, [(X, y)], {**H_EXACT, "slq_probes": 2, "slq_steps": 4}, seed=0, device="cpu",
                        optimizer=opt)
    H, _, _ = reference(model, X, y)
    D = torch.cat([(opt.state[p]["exp_avg_sq"] / (1 - 0.999**3)).sqrt().reshape(-1) + 1e-8
                   for p in model.parameters()]).double().numpy()
    v = np.abs(np.diag(H)) / D
    assert m["r_med_adam"]["value"] == pytest.approx(v.max() / np.median(v), rel=1e-7)
    assert abs(m["r_med_adam"]["value"] - m["r_med"]["value"]) > 1e-3  # the preconditioner changes it


def test_stochastic_rmed_and_sam_are_reported():
    model = _model(2)
    X, y = _data(seed=2)
    m = hessian_metrics(model, [(X, y)], {**H_EXACT, "exact_max_params": 0, "probes": 40, "slq_probes": 2,
                                          "slq_steps": 20}, seed=0, device="cpu")
    H, _, _ = reference(model, X, y)
    d = np.abs(np.diag(H))
    exact = d.max() / np.median(d)
    r = m["r_med"]
    assert r["ci_low"] <= r["value"] <= r["ci_high"] and r["stderr"] > 0
    assert abs(r["value"] - exact) <= 4 * r["stderr"] + 0.5 * exact  # plug-in max/median: biased upward, noisy
    assert not any(k.startswith("_") for k in m)  # the raw diagonal probes are not written to the record
    assert m["sam"]["first_order"] > 0


def test_sam_off_and_hessian_rows_without_private_keys(exact_case):
    model, X, y = exact_case[:3]
    m = hessian_metrics(model, [(X, y)], {**H_EXACT, "slq_probes": 2, "slq_steps": 4, "sam_rho": 0,
                                          "compare_stochastic": True}, seed=0, device="cpu")
    assert "sam" not in m
    assert not any(k.startswith("_") for k in m) and not any(k.startswith("_") for k in m["stochastic"])


def test_rmed_without_structural_zeros():
    """A pixel that is 0 in every image gives its first-layer weights a zero Hessian row.

    The row is left out; plain R_med is ∞ or not."""
    model = _model(3)
    X, y = _data(seed=3)
    X[:, :, :3, :] = 0.0  # 18 of 36 pixels always 0: 54 of the first layer's 108 weights are structural zeros
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    opt.zero_grad()
    h = {**H_EXACT, "slq_probes": 2, "slq_steps": 4}
    m = hessian_metrics(model, [(X, y)], h, seed=0, device="cpu", optimizer=opt)
    H, _, _ = reference(model, X, y)
    d = np.diag(H)
    nz = d != 0
    assert 54 <= (~nz).sum() < d.size
    a = np.abs(d[nz])
    assert m["r_med_nonzero"]["value"] == pytest.approx(a.max() / np.median(a), rel=1e-8)
    D = torch.cat([(opt.state[p]["exp_avg_sq"] / (1 - 0.999**2)).sqrt().reshape(-1) + 1e-8
                   for p in model.parameters()]).double().numpy()
    v = np.abs(d[nz] / D[nz])
    assert m["r_med_adam"]["value"] == pytest.approx(v.max() / np.median(v), rel=1e-7)
    # the stochastic path drops the same coordinates (their probe products are exactly 0)
    s = hessian_metrics(model, [(X, y)], {**h, "exact_max_params": 0, "probes": 64}, seed=0, device="cpu")
    assert s["r_med"]["value"] != m["r_med_nonzero"]["value"]
    assert abs(s["r_med_nonzero"]["value"] - m["r_med_nonzero"]["value"]) <= 0.5 * m["r_med_nonzero"]["value"]
