"""Tests of gpu_experiments.gradient_channel (the information check on real training).

What is checked, and against what (the estimators themselves: test_channel_estimators.py):

* The analysis of one checkpoint on a mixture of Gaussian channels with known SNRs, against
  :mod:`numerics.channel`; the Gaussian theory's linear continuation to negative ŝ².
* Bad input raises ValueError; the recording loop and the CLI run end to end on a tiny
  model; gradient sampling leaves batch-norm statistics untouched.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gpu_experiments import gradient_channel as gc
from numerics.channel import information_sign, mutual_information


def test_signed_theory_is_the_linear_continuation_in_snr2():
    # linear continuation in s²: odd in s², equal to the function for s² ≥ 0
    np.testing.assert_allclose(gc._signed(gc._isign, np.array([0.04, -0.04])),
                               [information_sign(0.2, 1.0), -information_sign(0.2, 1.0)], rtol=1e-14)


def test_analyse_channel_on_a_gaussian_mixture_of_snrs():
    rng = np.random.default_rng(9)
    s = np.repeat([0.0, 0.3, 1.5], 100)
    sigma = np.exp(rng.normal(size=s.size))  # per-coordinate scales: everything must be scale free
    z = (s[:, None] + rng.standard_normal((s.size, 64))) * sigma[:, None]
    z = np.vstack([z, np.full((1, 64), 0.25)])  # one degenerate coordinate
    out = gc.analyse_channel(z)
    assert out["coordinates"] == 301 and out["degenerate_coordinates"] == 1
    truth_y = sum(mutual_information(v, 1.0) for v in (0.3, 1.5)) * 100
    truth_sign = sum(information_sign(v, 1.0) for v in (0.3, 1.5)) * 100
    assert out["I_Y_gaussian"]["sum"] == pytest.approx(truth_y, rel=0.1)  # s.e. of Σ ŝ² at K = 64: ~5 %
    assert out["I_sign_empirical"]["sum"] == pytest.approx(truth_sign, rel=0.1)
    assert out["I_Y_empirical"]["sum"] == pytest.approx(truth_y, rel=0.1)
    assert 1.0 < out["ratio_I_Y_over_I_sign_empirical"] < 1.6
    assert abs(out["median_excess_kurtosis"]) < 3 * out["kurtosis_sd_under_normality"]
    # E[Z]/√E[Z²] = s/√(1+s²); s.e. of the mean over 300 coordinates ≈ 0.125/√300 ≈ 0.007
    corr = np.mean([v / math.sqrt(1 + v * v) for v in (0.0, 0.3, 1.5)])
    assert out["mean_signed_correlation_identity"] == pytest.approx(corr, abs=0.03)
    flipped = gc.analyse_channel(-z)  # the channel that reverses X: same information, negative correlation
    assert flipped["I_sign_empirical"]["sum"] == pytest.approx(out["I_sign_empirical"]["sum"], rel=1e-12)
    assert flipped["mean_signed_correlation_sign"] == pytest.approx(-out["mean_signed_correlation_sign"], rel=1e-12)
    json.dumps(out)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((0, 16)), "empty"), (np.zeros(16), "2-D"), (np.zeros((2, 4)), "at least"),
    (np.full((2, 16), np.nan), "NaN"), (np.full((2, 16), np.inf), "inf"), ([["a"] * 16], "real"),
])
def test_bad_samples_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        gc.analyse_channel(bad)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="zero spread"):
        gc.analyse_channel(np.ones((3, 16)))
    with pytest.raises(ValueError, match="mini_batches"):
        gc.record_gradient_channel("mlp", mini_batches=4, quiet=True)
    with pytest.raises(ValueError, match="checkpoints"):
        gc.record_gradient_channel("mlp", checkpoints=(0, 50), quiet=True)
    with pytest.raises(ValueError, match="unknown architecture"):
        gc.run_channel(["nope"], "unused")
    with pytest.raises(ValueError, match="no runs"):
        gc.write_channel_reports([], "unused")


def test_gradient_sampling_restores_batch_norm_statistics():
    from gpu_experiments.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet18", in_channels=1, image_size=8, num_classes=10, width=1, blocks_per_stage=[1, 1, 1, 1])
    before = [b.clone() for b in model.buffers()]
    x, y = torch.randn(40, 1, 8, 8), torch.randint(0, 10, (40,))
    g = gc.full_batch_gradient(model, x, y, 16)
    assert all(torch.equal(a, b) for a, b in zip(before, model.buffers()))
    # for a model without batch norm the size-weighted partition mean is the full-batch gradient
    mlp = build_model("mlp", in_channels=1, image_size=8, num_classes=10, hidden=4)
    mlp.zero_grad()
    torch.nn.functional.cross_entropy(mlp(x), y).backward()
    full = torch.cat([p.grad.reshape(-1) for p in mlp.parameters()]).double()
    torch.testing.assert_close(gc.full_batch_gradient(mlp, x, y, 16), full, rtol=1e-5, atol=1e-7)
    assert g.dtype == torch.float64


def test_channel_command_end_to_end(tmp_path, capsys):
    from gpu_experiments.__main__ import main

    torch.set_num_threads(1)
    out = tmp_path / "ch"
    rc = main(["channel", "--arch", "mlp", "--epochs", "1", "--mini-batches", "16", "--max-coordinates", "300",
               "--out", str(out)])
    assert rc == 0
    data = json.loads((out / "channel.json").read_text())
    run = data["runs"][0]
    assert run["arch"] == "mlp" and run["coordinates_analysed"] == 300 and run["coordinate_subsample"]
    assert [c["percent"] for c in run["checkpoints"]] == [25, 50, 100]
    assert [c["step"] for c in run["checkpoints"]] == [6, 11, 22]
    md = (out / "channel.md").read_text()
    assert "## mlp" in md and "I_Y/I_sign" in md
    assert "[channel]" in capsys.readouterr().err
    assert main(["channel", "--arch", "nope", "--out", str(out)]) == 2
