"""The tanh-Lion study driver: statistics against scipy and by hand, and a tiny study end to end.

The end-to-end study (MLP on digits, 1 epoch, 3 labels x 2 rates x 1 tuning seed,
3 evaluation seeds, a 2-value ablation) checks what the report claims from the
records themselves: the chosen rate is the arg-max of the tuning accuracies, the
learning curve is identical to a run without it (evaluating does not perturb
training), the paired statistics equal scipy's on the final accuracies, and a
second invocation recomputes nothing.
"""

from __future__ import annotations

import glob
import json
import math
import os

import numpy as np
import pytest
from scipy.stats import ttest_rel, wilcoxon

from gpu_experiments.__main__ import main
from gpu_experiments.presets import load_preset, preset_path
from gpu_experiments.study import (
    analyse,
    holm,
    paired_comparison,
    phase_config,
    study_config,
    time_to_target,
    verdict,
)

STUDY = """
[study]
baseline = "lion"
alpha = 0.05
target_fraction = 0.9
[study.lr_grid]
lion = [1e-3, 1e-2]
tanh-lion-fixed = [1e-3, 1e-2]
adam = [1e-3, 1e-2]
[study.ablation]
label = "tanh-lion-fixed"
key = "temperature"
values = [1e-3, 1.0]
[recipes.mlp.tanh-lion-fixed]
optimizer = "tanh-lion"
lr = 1e-3
mode = "fixed"
temperature = 1e-3
"""


def _tiny_preset(tmp_path) -> str:
    text = open(preset_path("cpu-smoke")).read()
    text = text.replace('archs = ["mlp", "cnn"]', 'archs = ["mlp"]')
    text = text.replace('optimizers = ["sgd", "adam", "lion", "tanh-lion"]',
                        'optimizers = ["adam", "lion", "tanh-lion-fixed"]')
    text = text.replace("checkpoints = [0, 1, 25, 50, 75, 100]", "checkpoints = [0, 100]\neval_every_steps = 2")
    text = text.replace('name = "cpu-smoke"', 'name = "tiny-study"')
    p = tmp_path / "tiny_study.toml"
    p.write_text(text + STUDY)
    return str(p)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    preset = _tiny_preset(tmp)
    out = str(tmp / "results")
    argv = ["study", "--preset", preset, "--seeds", "0", "1", "2", "--tune-seeds", "7", "--out", out, "--quiet",
            "--device", "cpu"]
    assert main(argv) == 0
    return preset, os.path.join(out, "tiny-study"), argv


def _records(d):
    return [json.load(open(p)) for p in glob.glob(os.path.join(d, "runs", "*", "record.json"))]


def test_outputs_and_chosen_rates_are_the_argmax(study):
    preset, d, _ = study
    assert len(_records(os.path.join(d, "tune"))) == 6
    assert len(_records(os.path.join(d, "main"))) == 9
    assert len(_records(os.path.join(d, "ablation"))) == 6
    for r in _records(os.path.join(d, "tune")):
        assert r["metrics"][-1]["hessian"] is None  # tuning runs skip the Hessian
    chosen = json.load(open(os.path.join(d, "chosen_lr__mlp.json")))
    tune = _records(os.path.join(d, "tune"))
    for label, c in chosen.items():
        accs = {float(r["optimizer"].split("=")[1]): r["metrics"][-1]["test_accuracy"]
                for r in tune if r["optimizer"].startswith(label + "@")}
        assert c["lr"] == max(accs, key=lambda lr: (accs[lr], -lr))
    main_recs = _records(os.path.join(d, "main"))
    for r in main_recs:
        assert r["recipe"]["lr"] == chosen[r["optimizer"]]["lr"]
        assert r["metrics"][-1]["hessian"]["r_med"]["value"] > 0  # issue-9 metrics at the checkpoints
        assert [c["step"] for c in r["curve"]] == list(range(2, 23, 2)) + [22][: 22 % 2]
    report = open(os.path.join(d, "study.md")).read()
    assert "improves Lion?" in report and "Ablation" in report
    assert os.path.isfile(os.path.join(d, "main", "report.md"))


def test_paired_statistics_equal_scipy(study):
    preset, d, _ = study
    res = analyse(d, load_preset(preset))
    recs = _records(os.path.join(d, "main"))
    acc = {(r["optimizer"], r["seed"]): r["metrics"][-1]["test_accuracy"] for r in recs}
    rows = {r["label"]: r for r in res["archs"]["mlp"]["rows"]}
    for label in ("adam", "tanh-lion-fixed"):
        a = np.array([acc[(label, s)] for s in (0, 1, 2)])
        b = np.array([acc[("lion", s)] for s in (0, 1, 2)])
        pr = rows[label]["paired"]
        assert pr["mean_difference"] == pytest.approx(float((a - b).mean()))
        d_ = a - b
        if np.any(d_ != d_[0]):
            assert pr["t_p"] == pytest.approx(float(ttest_rel(a, b).pvalue))
        if np.any(d_ != 0):
            assert pr["wilcoxon_p"] == pytest.approx(float(wilcoxon(a, b, zero_method="zsplit").pvalue))
        assert rows[label]["verdict"] in ("yes", "no (worse)", "not significant")
    target = res["archs"]["mlp"]["target_accuracy"]
    assert target == pytest.approx(0.9 * np.mean([acc[("lion", s)] for s in (0, 1, 2)]))


def test_rerun_recomputes_nothing(study):
    _, d, argv = study
    before = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(d, "*", "runs", "*", "record.json"))}
    assert main(argv) == 0
    after = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(d, "*", "runs", "*", "record.json"))}
    assert before == after


def test_learning_curve_does_not_perturb_training(study, tmp_path):
    """The same cell without the learning curve ends with bit-identical accuracy and loss."""
    from gpu_experiments.runner import run_config

    preset, d, _ = study
    cfg = phase_config(load_preset(preset), "tune", "mlp")
    cfg["training"] = {k: v for k, v in cfg["training"].items() if k != "eval_every_steps"}
    cfg["grid"]["optimizers"] = ["lion@lr=0.001"]
    out = run_config(cfg, out=str(tmp_path), seeds=[7], device="cpu", quiet=True, name="x", write_outputs=False)
    (plain,) = _records(out)
    (curved,) = [r for r in _records(os.path.join(d, "tune")) if r["optimizer"] == "lion@lr=0.001"]
    assert plain["curve"] == [] and curved["curve"]
    assert plain["metrics"][-1]["test_accuracy"] == curved["metrics"][-1]["test_accuracy"]
    assert plain["metrics"][-1]["train_loss"] == curved["metrics"][-1]["train_loss"]
    assert curved["curve"][-1]["test_accuracy"] == curved["metrics"][-1]["test_accuracy"]


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, math.nan, 0.01]) == pytest.approx([0.5, math.nan, 0.02], nan_ok=True)
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # 2 x 0.8 capped at 1; monotone


def test_paired_comparison_edge_cases():
    same = paired_comparison({0: 80.0, 1: 81.0}, {0: 80.0, 1: 81.0})
    assert same["mean_difference"] == 0 and math.isnan(same["t_p"]) and math.isnan(same["wilcoxon_p"])
    shift = paired_comparison({0: 81.0, 1: 82.0, 2: 83.0}, {0: 80.0, 1: 81.0, 2: 82.0})
    assert shift["mean_difference"] == pytest.approx(1.0) and shift["t_p"] == 0.0
    only_common = paired_comparison({0: 1.0, 5: 2.0}, {0: 0.0, 1: 3.0})
    assert only_common["seeds"] == [0]


def test_verdict_rules():
    assert verdict(1.2, 0.01, 0.05) == "yes"
    assert verdict(-1.2, 0.01, 0.05) == "no (worse)"
    assert verdict(1.2, 0.05, 0.05) == "not significant"
    assert verdict(1.2, math.nan, 0.05) == "not significant"


def test_time_to_target():
    rec = {"curve": [{"step": 2, "train_seconds": 0.1, "test_accuracy": 50.0},
                     {"step": 4, "train_seconds": 0.2, "test_accuracy": 91.0}]}
    assert time_to_target(rec, 90.0) == (4.0, 0.2)
    assert time_to_target(rec, 95.0) == (math.inf, math.inf)


def test_study_config_errors(tmp_path, capsys):
    cfg = load_preset(_tiny_preset(tmp_path))
    study_config(cfg)
    bad = {**cfg, "study": {**cfg["study"], "lr_grid": {**cfg["study"]["lr_grid"], "adam": [1e-3]}}}
    with pytest.raises(ValueError, match="same number"):
        study_config(bad)
    with pytest.raises(ValueError, match="baseline"):
        study_config({**cfg, "study": {**cfg["study"], "baseline": "sgd"}})
    with pytest.raises(ValueError, match="no \\[study\\] table"):
        study_config(load_preset("cpu-smoke"))
    assert main(["study", "--preset", _tiny_preset(tmp_path), "--seeds", "0", "--tune-seeds", "0",
                 "--out", str(tmp_path)]) == 2
    assert "overlap the evaluation seeds" in capsys.readouterr().err


def test_shipped_study_preset_is_valid():
    cfg = load_preset("lion-study")
    st = study_config(cfg)
    assert st["baseline"] == "lion" and len({len(v) for v in st["lr_grid"].values()}) == 1
    tune = phase_config(cfg, "tune", "vit")
    assert tune["hessian"]["enabled"] is False and len(tune["grid"]["optimizers"]) == 6 * 6
