"""Presets: every shipped preset validates; bad names and bad values raise ValueError naming the key."""

from __future__ import annotations

import pytest

from gpu_experiments.presets import (
    available_presets,
    cell_config,
    config_hash,
    load_preset,
    preset_path,
    split_recipe,
)


def test_shipped_presets():
    assert {"cpu-smoke", "cpu-small", "paper"} <= set(available_presets())
    for name in available_presets():
        cfg = load_preset(name)
        assert cfg["name"] == name
        for arch in cfg["grid"]["archs"]:
            for opt in cfg["grid"]["optimizers"]:
                assert cell_config(cfg, arch, opt)["recipe"]["lr"] > 0


def test_paper_preset_is_full_size_cifar_with_fallback():
    cfg = load_preset("paper")
    assert cfg["data"]["dataset"] == "cifar10" and cfg["data"]["fallback"] == "synthetic-cifar"
    assert cfg["models"]["resnet18"]["width"] == 64
    assert cfg["models"]["vit"] == {"patch_size": 4, "dim": 384, "depth": 7, "heads": 12, "mlp_dim": 1536}


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(ValueError, match="unknown preset 'nope'.*cpu-smoke"):
        preset_path("nope")


@pytest.mark.parametrize("kw, message", [
    ({"archs": ["resnet50"]}, "unknown architecture"),
    ({"optimizers": ["rmsprop"]}, "rmsprop. is not in the cpu-smoke grid"),
    ({"archs": ["resnet18"]}, "not in the cpu-smoke grid"),
    ({"epochs": 0}, "epochs"),
])
def test_bad_overrides(kw, message):
    with pytest.raises(ValueError, match=message):
        load_preset("cpu-smoke", **kw)


def test_overrides_filter_and_change_hash():
    base = load_preset("cpu-smoke")
    cfg = load_preset("cpu-smoke", optimizers=["adam"], epochs=2)
    assert cfg["grid"]["optimizers"] == ["adam"] and cfg["training"]["epochs"] == 2
    assert config_hash(cell_config(cfg, "mlp", "adam")) != config_hash(cell_config(base, "mlp", "adam"))
    smoke = load_preset("cpu-smoke")
    assert config_hash(cell_config(base, "mlp", "adam")) == config_hash(cell_config(smoke, "mlp", "adam"))


def _write(tmp_path, text):
    p = tmp_path / "custom.toml"
    base = open(preset_path("cpu-smoke")).read()
    p.write_text(base + "\n" + text if not text.startswith("!") else text[1:])
    return str(p)


@pytest.mark.parametrize("patch, message", [
    ("!name = 3", "name"),
    ("!this is = not toml [", "not valid TOML"),
])
def test_malformed_files(tmp_path, patch, message):
    with pytest.raises(ValueError, match=message):
        load_preset(_write(tmp_path, patch))


@pytest.mark.parametrize("old, new, message", [
    ('dataset = "digits"', 'dataset = "imagenet"', "unknown dataset"),
    ("epochs = 1", "epochs = -1", "training.epochs"),
    ('policy = "abs"', 'policy = "square"', "hessian.policy"),
    ('dtype = "float64"', 'dtype = "float16"', "hessian.dtype"),
    ("lr = 0.1\n", "lr = -0.1\n", "lr"),
    ('optimizers = ["sgd", "adam", "lion", "tanh-lion"]', 'optimizers = ["sgd", "adagrad"]', "unknown optimizer"),
    ("checkpoints = [0, 1, 25, 50, 75, 100]", "checkpoints = [0, 50, 25]", "checkpoints"),
    ("probes = 4 ", "probes = 1 ", "hessian.probes"),
    ("[recipes.cnn.adam]\nlr = 1e-2", "[recipes.cnn.adam]\nlr = 1e-2\nwarmup_fraction = 1.5", "warmup_fraction"),
])
def test_bad_values(tmp_path, old, new, message):
    text = open(preset_path("cpu-smoke")).read()
    assert old in text
    p = tmp_path / "bad.toml"
    p.write_text(text.replace(old, new, 1))
    with pytest.raises(ValueError, match=message):
        load_preset(str(p))


def test_missing_recipe(tmp_path):
    text = open(preset_path("cpu-smoke")).read()
    start = text.index("[recipes.cnn.lion]")
    end = text.index("[recipes.cnn.tanh-lion]")
    p = tmp_path / "bad.toml"
    p.write_text(text[:start] + text[end:])
    with pytest.raises(ValueError, match=r"recipes\.cnn\.lion"):
        load_preset(str(p))


def test_split_recipe():
    sched, kw = split_recipe({"lr": 0.1, "weight_decay": 1e-4, "warmup_fraction": 0.1, "momentum": 0.9, "note": "x"})
    assert sched == {"lr": 0.1, "weight_decay": 1e-4, "warmup_fraction": 0.1}
    assert kw == {"momentum": 0.9}


def test_variant_labels(tmp_path):
    """A grid label other than a base optimizer runs the optimizer its recipe names."""
    text = open(preset_path("cpu-smoke")).read()
    text = text.replace('optimizers = ["sgd", "adam", "lion", "tanh-lion"]',
                        'optimizers = ["lion", "tanh-lion-snr"]')
    extra = ('\n[recipes.mlp.tanh-lion-snr]\noptimizer = "tanh-lion"\nlr = 1e-3\nmode = "snr"\n'
             '[recipes.cnn.tanh-lion-snr]\noptimizer = "tanh-lion"\nlr = 1e-3\nmode = "snr"\n')
    p = tmp_path / "variants.toml"
    p.write_text(text + extra)
    cfg = load_preset(str(p), optimizers=["tanh-lion-snr"])
    assert cfg["grid"]["optimizers"] == ["tanh-lion-snr"]
    sched, kw = split_recipe(cfg["recipes"]["mlp"]["tanh-lion-snr"])
    assert sched == {"lr": 1e-3} and kw == {"mode": "snr"}  # "optimizer" is not an optimizer option
    p.write_text(text + extra.replace('optimizer = "tanh-lion"\n', "", 1))
    with pytest.raises(ValueError, match="variant label"):
        load_preset(str(p))
    p.write_text(text + extra.replace('optimizer = "tanh-lion"', 'optimizer = "adagrad"', 1))
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
        load_preset(str(p))
    p.write_text(text.replace('["lion", "tanh-lion-snr"]', '["lion", "bad__label"]'))
    with pytest.raises(ValueError, match="bad optimizer label"):
        load_preset(str(p))


def test_tanh_lion_recipes_name_their_mode(tmp_path):
    text = open(preset_path("cpu-smoke")).read()
    start = text.index("[recipes.cnn.tanh-lion]")
    section = text[start:]
    p = tmp_path / "nomode.toml"
    p.write_text(text[:start] + section.replace('mode = "fixed"\n', "", 1))
    with pytest.raises(ValueError, match="must set the tanh-Lion mode"):
        load_preset(str(p))
