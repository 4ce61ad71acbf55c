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
from scipy.stats import ttest_1samp, wilcoxon

from gpu_experiments.__main__ import main
from gpu_experiments.presets import load_preset, preset_path
from gpu_experiments.runner import load_preset_data, run_config
from gpu_experiments.study import (
    analyse,
    choose_learning_rates,
    holm,
    paired_comparison,
    phase_config,
    study_config,
    time_to_target,
    validation_split,
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
        assert "TUNING split" in r["dataset_description"] and r["num_test"] == 287  # 20 % of each class, rounded
    for r in _records(os.path.join(d, "main")):
        assert r["num_test"] == 360  # the test set only in the evaluation runs
    chosen = json.load(open(os.path.join(d, "chosen_lr__mlp.json")))
    tune = _records(os.path.join(d, "tune"))
    for label, c in chosen.items():
        accs = {float(r["optimizer"].split("=")[1]): r["metrics"][-1]["test_accuracy"]
                for r in tune if r["optimizer"].startswith(label + "@")}
        assert c["lr"] == max(accs, key=lambda lr: (accs[lr], -lr))
    main_recs = _records(os.path.join(d, "main"))
    for r in main_recs:
        assert r["recipe"]["lr"] == chosen[r["optimizer"]]["lr"]
        assert r["metrics"][-1]["hessian"]["r_med"]["value"] > 0  # sharpness metrics at the checkpoints
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
    t_ps = []
    for label in ("adam", "tanh-lion-fixed"):
        a = np.array([acc[(label, s)] for s in (0, 1, 2)])
        b = np.array([acc[("lion", s)] for s in (0, 1, 2)])
        images = np.round((a - b) * 360 / 100)  # differences in whole test images
        pr = rows[label]["paired"]
        assert pr["mean_difference"] == pytest.approx(float(images.mean()) * 100 / 360)
        if np.all(images == 0):
            expected_t, expected_w = 1.0, 1.0
        elif np.all(images == images[0]):
            expected_t, expected_w = math.nan, float(wilcoxon(images, zero_method="zsplit").pvalue)
        else:
            expected_t = float(ttest_1samp(images, 0.0).pvalue)
            expected_w = float(wilcoxon(images, zero_method="zsplit").pvalue)
        assert pr["t_p"] == pytest.approx(expected_t, nan_ok=True)
        assert pr["wilcoxon_p"] == pytest.approx(expected_w, nan_ok=True)
        t_ps.append(expected_t)
    ps = [1.0 if p != p else p for p in t_ps]
    lo, hi = sorted(range(2), key=lambda i: ps[i])
    adjusted = {lo: min(1.0, 2 * ps[lo])}
    adjusted[hi] = max(adjusted[lo], min(1.0, ps[hi]))
    for i, label in enumerate(("adam", "tanh-lion-fixed")):
        assert rows[label]["paired"]["holm_p"] == pytest.approx(adjusted[i])
        assert rows[label]["verdict"] == verdict(rows[label]["paired"]["mean_difference"], adjusted[i], 0.05)
    target = res["archs"]["mlp"]["target_accuracy"]
    assert target == pytest.approx(0.9 * np.mean([acc[("lion", s)] for s in (0, 1, 2)]))


def test_rerun_recomputes_nothing(study):
    _, d, argv = study
    before = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(d, "*", "runs", "*", "record.json"))}
    assert main(argv) == 0
    after = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(d, "*", "runs", "*", "record.json"))}
    assert before == after


def test_measurements_do_not_perturb_training(tmp_path):
    """A batch-norm ResNet with learning curve and Hessian/SAM checkpoints ends bit-identical to a bare run."""
    cfg = load_preset("cpu-small", archs=["resnet18"], optimizers=["lion"], epochs=1)
    cfg["training"]["checkpoints"] = [0, 50, 100]
    cfg["hessian"].update({"probes": 2, "deflation_steps": 2, "slq_probes": 2, "slq_steps": 3, "sam_steps": 2,
                           "exact_blocks_by_arch": {}})
    measured = run_config({**cfg, "training": {**cfg["training"], "eval_every_steps": 5}}, out=str(tmp_path),
                          seeds=[0], device="cpu", quiet=True, name="measured", write_outputs=False)
    bare = run_config({**cfg, "hessian": {**cfg["hessian"], "enabled": False}}, out=str(tmp_path), seeds=[0],
                      device="cpu", quiet=True, name="bare", write_outputs=False)
    (m,), (b,) = _records(measured), _records(bare)
    assert m["curve"] and not b["curve"]
    assert m["metrics"][-1]["hessian"]["sam"]["ascent"] > 0 and b["metrics"][-1]["hessian"] is None
    for key in ("test_accuracy", "test_loss", "train_loss"):
        assert m["metrics"][-1][key] == b["metrics"][-1][key], key
    assert m["curve"][-1]["test_accuracy"] == m["metrics"][-1]["test_accuracy"]


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, math.nan, 0.01]) == pytest.approx([1.0, 1.0, 0.03])  # an undefined test stays in the family
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # 2 x 0.8 capped at 1; monotone


def test_paired_comparison_edge_cases():
    same = paired_comparison({0: 80.0, 1: 81.0}, {0: 80.0, 1: 81.0})
    assert same["mean_difference"] == 0 and same["t_p"] == 1.0 and same["wilcoxon_p"] == 1.0
    # one test image better on every seed, with the float round-off of 100·k/360: no spread, no significance
    one = 100 / 360
    acc = {s: (300 + s) * one for s in range(5)}
    better = {s: (301 + s) * one for s in range(5)}
    shift = paired_comparison(better, acc, num_test=360)
    assert shift["mean_difference"] == pytest.approx(one) and shift["sd_difference"] == 0.0
    assert math.isnan(shift["t_p"]) and "degenerate" in shift
    assert verdict(shift["mean_difference"], holm([shift["t_p"]])[0], 0.05) == "inconclusive"
    assert shift["wilcoxon_p"] == pytest.approx(0.0625)  # the smallest exact two-sided value with 5 pairs
    only_common = paired_comparison({0: 1.0, 5: 2.0}, {0: 0.0, 1: 3.0})
    assert only_common["seeds"] == [0] and math.isnan(only_common["t_p"])


def test_verdict_rules():
    assert verdict(1.2, 0.01, 0.05) == "yes"
    assert verdict(-1.2, 0.01, 0.05) == "no (worse)"
    assert verdict(1.2, 0.05, 0.05) == "inconclusive"
    assert verdict(1.2, math.nan, 0.05) == "inconclusive"


def test_time_to_target():
    rec = {"curve": [{"step": 2, "train_seconds": 0.1, "test_accuracy": 50.0},
                     {"step": 4, "train_seconds": 0.2, "test_accuracy": 91.0}]}
    assert time_to_target(rec, 90.0) == (4.0, 0.2)
    assert time_to_target(rec, 95.0) == (math.inf, math.inf)


def test_validation_split_is_stratified_and_disjoint():
    cfg = load_preset("cpu-smoke")
    data, _ = load_preset_data(cfg)
    split = validation_split(data, 0.2)
    assert split.x_train.shape[0] + split.x_test.shape[0] == data.x_train.shape[0]
    for c in range(10):
        n_c = int((data.y_train == c).sum())
        assert int((split.y_test == c).sum()) == round(0.2 * n_c)
    rows = {tuple(x.flatten().tolist()) for x in split.x_test}
    assert not any(tuple(x.flatten().tolist()) in rows for x in split.x_train)  # no image in both parts


def test_missing_or_incomplete_tuning_is_an_error(study, tmp_path, capsys):
    preset, d, _ = study
    cfg = load_preset(preset)
    with pytest.raises(ValueError, match="run the tune phase first"):
        choose_learning_rates(str(tmp_path / "nowhere"), cfg, "mlp", [7])
    with pytest.raises(ValueError, match="incomplete tuning"):
        choose_learning_rates(os.path.join(d, "tune"), cfg, "mlp", [7, 8])
    assert main(["study", "--preset", preset, "--seeds", "0", "--tune-seeds", "7", "--out", str(tmp_path),
                 "--phases", "main"]) == 2
    assert "run the tune phase first" in capsys.readouterr().err
    assert main(["study", "--preset", preset, "--out", str(tmp_path), "--phases", "train"]) == 2
    assert "unknown phase" in capsys.readouterr().err


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
    ab = cfg["study"]["ablation"]
    for values in (["a", "b"], [1e-3, 0.001], []):
        with pytest.raises(ValueError, match="ablation.values"):
            study_config({**cfg, "study": {**cfg["study"], "ablation": {**ab, "values": values}}})
    with pytest.raises(ValueError, match="ablation.key"):
        study_config({**cfg, "study": {**cfg["study"], "ablation": {**ab, "key": "lr"}}})
    with pytest.raises(ValueError, match="study.alpha"):
        study_config({**cfg, "study": {**cfg["study"], "alpha": "0.05"}})
    with pytest.raises(ValueError, match="100 % checkpoint"):
        study_config({**cfg, "training": {**cfg["training"], "checkpoints": [0, 50]}})
    assert main(["study", "--preset", _tiny_preset(tmp_path), "--seeds", "0", "--tune-seeds", "0",
                 "--out", str(tmp_path)]) == 2
    assert "overlap the evaluation seeds" in capsys.readouterr().err


def test_shipped_study_preset_is_valid():
    cfg = load_preset("lion-study")
    st = study_config(cfg)
    assert st["baseline"] == "lion" and len({len(v) for v in st["lr_grid"].values()}) == 1
    tune = phase_config(cfg, "tune", "vit")
    assert tune["hessian"]["enabled"] is False and len(tune["grid"]["optimizers"]) == 6 * 7
    assert st["validation_fraction"] == 0.2
