"""Schedule, checkpoints, optimizer construction, devices and JSON sanitising of the training module."""

from __future__ import annotations

import math

import pytest
import torch

from gpu_experiments.optimizers import Lion, TanhLion
from gpu_experiments.training import (
    build_optimizer,
    checkpoint_steps,
    lr_factor,
    resolve_device,
    sanitize,
)


def test_lr_factor_warmup_then_cosine():
    total = 100
    f = [lr_factor(s, total, 0.1, 0.0) for s in range(total)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)  # linear warm-up over 10 steps
    assert f[10] == pytest.approx(1.0)  # cosine starts at the peak
    assert all(a >= b for a, b in zip(f[10:], f[11:]))  # then decreases
    mid = lr_factor(10 + 45, total, 0.1, 0.0)
    assert mid == pytest.approx(0.5)  # half way through the cosine
    assert lr_factor(total, total, 0.1, 0.2) == pytest.approx(0.2)  # floor at min_lr_fraction
    assert lr_factor(0, total) == pytest.approx(1.0)


def test_checkpoint_steps_paper_percentages():
    assert checkpoint_steps(176, [0, 1, 25, 50, 75, 100]) == [0, 2, 44, 88, 132, 176]
    assert checkpoint_steps(22, [0, 1, 25, 50, 75, 100]) == [0, 1, 6, 11, 16, 22]  # 1 % is at least step 1


@pytest.mark.parametrize("name, cls, recipe", [
    ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}),
    ("adam", torch.optim.Adam, {"lr": 1e-3, "betas": [0.9, 0.99]}),
    ("adamw", torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 0.01}),
    ("lion", Lion, {"lr": 1e-4, "weight_decay": 0.1}),
    ("tanh-lion", TanhLion, {"lr": 1e-4, "mode": "snr"}),
])
def test_build_optimizer(name, cls, recipe):
    p = [torch.nn.Parameter(torch.randn(3))]
    opt = build_optimizer(name, p, {**recipe, "warmup_fraction": 0.1})
    assert isinstance(opt, cls)
    assert opt.param_groups[0]["lr"] == recipe["lr"]
    if name == "tanh-lion":
        assert opt.param_groups[0]["mode"] == "snr"


def test_build_optimizer_bad_input():
    p = [torch.nn.Parameter(torch.randn(3))]
    with pytest.raises(ValueError, match="unknown optimizer"):
        build_optimizer("rmsprop", p, {"lr": 0.1})
    with pytest.raises(ValueError, match="bad option"):
        build_optimizer("sgd", p, {"lr": 0.1, "temperature": 1.0})


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            resolve_device("cuda")
    with pytest.raises(ValueError):
        resolve_device("tpu")


def test_sanitize():
    out = sanitize({"a": math.inf, "b": [math.nan, -math.inf, 1.5], "c": torch.tensor(2.0)})
    assert out == {"a": "inf", "b": [None, "-inf", 1.5], "c": 2.0}


def test_build_optimizer_from_a_variant_label():
    p = [torch.nn.Parameter(torch.randn(3))]
    opt = build_optimizer("tanh-lion-smooth", p, {"optimizer": "tanh-lion", "lr": 0.1, "mode": "optax-smooth"})
    assert isinstance(opt, TanhLion) and opt.param_groups[0]["mode"] == "optax-smooth"
    with pytest.raises(ValueError, match="unknown optimizer 'tanh-lion-smooth'"):
        build_optimizer("tanh-lion-smooth", p, {"lr": 0.1})


def test_a_nan_gradient_in_lion_is_a_diverged_run(tmp_path, monkeypatch):
    """Lion refuses a NaN gradient before stepping; the run is recorded as diverged, not crashed."""
    import gpu_experiments.training as tr
    from gpu_experiments.presets import load_preset
    from gpu_experiments.runner import run_config

    cfg = load_preset("cpu-smoke", archs=["mlp"], optimizers=["lion"])
    cfg["hessian"]["enabled"] = False
    real = torch.nn.functional.cross_entropy
    calls = {"n": 0}

    def poisoned(out, y, *a, **k):  # NaN loss and gradient from the 5th training step on: Lion raises first
        calls["n"] += 1
        loss = real(out, y, *a, **k)
        return loss + 0.0 * torch.sqrt(-out.sum().abs() - 1) if calls["n"] >= 5 and out.requires_grad else loss

    monkeypatch.setattr(tr.nn.functional, "cross_entropy", poisoned)
    with pytest.warns(RuntimeWarning, match="non-finite or too large gradient"):  # the grid warns, goes on
        out = run_config(cfg, out=str(tmp_path), seeds=[0], device="cpu", quiet=True, write_outputs=False)
    import glob
    import json
    (rec,) = [json.load(open(p)) for p in glob.glob(f"{out}/runs/*/record.json")]
    assert rec["status"] == "diverged" and "non-finite or too large gradient (NaN)" in rec["error"]


# ----------------------------------------------------------------------------
# Ctrl-C during the checkpoint metrics
# ----------------------------------------------------------------------------


def _smoke_cell_setup(tmp_path):
    from gpu_experiments.presets import load_preset
    from gpu_experiments.runner import load_preset_data

    cfg = load_preset("cpu-smoke", archs=["cnn"], optimizers=["sgd"])  # the CNN takes the stochastic path (SLQ)
    data, _ = load_preset_data(cfg)
    return cfg, data


def test_interrupt_watch_raises_a_swallowed_ctrl_c():
    import signal

    from gpu_experiments.training import InterruptWatch

    def swallowing_estimator():
        try:
            signal.raise_signal(signal.SIGINT)
            for _ in range(10):  # the handler runs between bytecodes
                pass
        except KeyboardInterrupt:
            return "partial"  # what an estimator with on_interrupt="partial" does
        return "complete"

    with InterruptWatch() as watch:
        assert swallowing_estimator() == "partial"
        with pytest.raises(KeyboardInterrupt):
            watch.check()
    with InterruptWatch() as watch:  # no signal: no complaint
        watch.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored


@pytest.mark.parametrize("target", ["slq", "top_eigenpairs"])
def test_ctrl_c_in_hessian_estimate_propagates_and_caches_nothing(tmp_path, monkeypatch, target):
    import glob
    import signal

    import gpu_experiments.metrics as metrics
    from gpu_experiments.training import run_cell

    cfg, data = _smoke_cell_setup(tmp_path)
    real = getattr(metrics, target)

    def interrupted_estimator(op, *args, **kwargs):
        calls = {"n": 0}
        matvec = op.matvec

        def matvec_with_ctrl_c(v):
            calls["n"] += 1
            if calls["n"] == 7:  # mid-way (SLQ: in the second probe; Lanczos: step 7 of 4+... capped)
                signal.raise_signal(signal.SIGINT)
            return matvec(v)

        op.matvec = matvec_with_ctrl_c
        return real(op, *args, **kwargs)

    if target == "top_eigenpairs":
        cfg["hessian"]["deflation_steps"] = 12
    monkeypatch.setattr(metrics, target, interrupted_estimator)
    with pytest.raises(KeyboardInterrupt):
        run_cell(cfg, "cnn", "sgd", 0, data, torch.device("cpu"), str(tmp_path))
    assert not glob.glob(str(tmp_path / "cache" / "*.json"))  # no partial step-0 metrics cached
    run_dir = tmp_path / "runs" / "cnn__sgd__seed0"
    assert not (run_dir / "record.json").exists()
    assert not (run_dir / "state.pt").exists()  # nothing measured, nothing trained: nothing to save


def test_ctrl_c_during_a_later_checkpoint_keeps_the_last_consistent_state(tmp_path, monkeypatch):
    import signal

    import gpu_experiments.training as training
    from gpu_experiments.persistence import load_training_state

    cfg, data = _smoke_cell_setup(tmp_path)
    real = training.hessian_metrics
    seen = {"n": 0}

    def hessian_metrics(model, *args, **kwargs):
        seen["n"] += 1
        if seen["n"] == 3:  # the 25 % checkpoint (0 %, 1 %, 25 %)
            signal.raise_signal(signal.SIGINT)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(training, "hessian_metrics", hessian_metrics)
    with pytest.raises(KeyboardInterrupt):
        training.run_cell(cfg, "cnn", "sgd", 0, data, torch.device("cpu"), str(tmp_path))
    saved = load_training_state(str(tmp_path / "runs" / "cnn__sgd__seed0" / "state.pt"))
    assert saved["state"]["step"] == 6 and [m["percent"] for m in saved["state"]["metrics"]] == [0, 1]
    monkeypatch.setattr(training, "hessian_metrics", real)
    rec = training.run_cell(cfg, "cnn", "sgd", 0, data, torch.device("cpu"), str(tmp_path))
    assert rec["resumed_from_step"] == 6 and [m["percent"] for m in rec["metrics"]] == [0, 1, 25, 50, 75, 100]


def test_short_run_keeps_every_checkpoint_percentage(tmp_path):
    """2 steps: 1 %, 25 % and 50 % all fall on step 1, 75 % and 100 % on step 2; none is dropped."""
    from gpu_experiments.presets import load_preset
    from gpu_experiments.runner import load_preset_data
    from gpu_experiments.training import run_cell

    cfg = load_preset("cpu-smoke", archs=["mlp"], optimizers=["sgd"])
    cfg["training"]["batch_size"] = 512  # 1437 // 512 = 2 steps
    cfg["hessian"]["compare_stochastic"] = False
    data, _ = load_preset_data(cfg)
    rec = run_cell(cfg, "mlp", "sgd", 0, data, torch.device("cpu"), str(tmp_path))
    assert rec["checkpoint_steps"] == [0, 1, 1, 1, 2, 2]
    assert [(m["percent"], m["step"]) for m in rec["metrics"]] == [(0, 0), (1, 1), (25, 1), (50, 1), (75, 2),
                                                                    (100, 2)]
    by_pct = {m["percent"]: m for m in rec["metrics"]}
    assert by_pct[25]["same_as_percent"] == 1 and by_pct[25]["test_loss"] == by_pct[1]["test_loss"]
    assert "same_as_percent" not in by_pct[75]
