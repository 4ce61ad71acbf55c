"""Presets: one TOML file per preset under ``gpu_experiments/presets/`` holds the whole recipe.

A preset fixes the data, the grid (architectures x optimizers), the model sizes,
the per-architecture optimizer recipes (learning rate, warm-up, cosine schedule,
weight decay, optimizer options), the checkpoints and the Hessian estimators.
The files are commented: they are the documentation of the recipes.

Names use dashes on the command line (``cpu-smoke``) and underscores on disk
(``cpu_smoke.toml``).

Grid optimizers are *labels*: a base optimizer name (:data:`OPTIMIZERS`), or any
other name whose recipe says which base optimizer it runs with an
``optimizer = "<base>"`` key -- e.g. ``tanh-lion-snr`` with
``optimizer = "tanh-lion"`` and ``mode = "snr"``, so that variants of one
optimizer sit side by side in a grid.  :func:`load_preset` validates everything it reads and
raises ``ValueError`` naming the offending key.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from pathlib import Path

from .data import DATASETS
from .models import ARCHITECTURES

PRESET_DIR = Path(__file__).with_name("presets")
OPTIMIZERS = ("sgd", "adam", "adamw", "lion", "tanh-lion")
CHECKPOINT_PERCENTS = (0, 1, 25, 50, 75, 100)
HESSIAN_DTYPES = ("float32", "float64")
POLICIES = ("abs", "clip")

#: keys of a recipe that the training loop uses itself; the rest go to the optimizer
SCHEDULE_KEYS = ("lr", "weight_decay", "warmup_fraction", "min_lr_fraction")
#: recipe keys that are neither schedule nor optimizer options
META_KEYS = ("note", "optimizer")


def available_presets() -> list[str]:
    """Preset names (dashed) shipped in :data:`PRESET_DIR`."""
    return sorted(p.stem.replace("_", "-") for p in PRESET_DIR.glob("*.toml"))


def preset_path(name: str) -> Path:
    """The TOML file of a preset name, or ``name`` itself if it is a path to a TOML file."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"preset must be a non-empty name, got {name!r}")
    if name.endswith(".toml") and os.path.isfile(name):
        return Path(name)
    path = PRESET_DIR / f"{name.replace('-', '_')}.toml"
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r}; available presets: {', '.join(available_presets())}")
    return path


def _require(mapping: dict, key: str, where: str, types, check=None, what: str = ""):
    if key not in mapping:
        raise ValueError(f"preset: missing key {where}.{key}")
    value = mapping[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ValueError(f"preset: {where}.{key} must be {what or types}, got {value!r}")
    if not isinstance(value, types):
        raise ValueError(f"preset: {where}.{key} must be {what or types}, got {value!r}")
    if check is not None and not check(value):
        raise ValueError(f"preset: {where}.{key} = {value!r} is out of range ({what})")
    return value


def validate_preset(cfg: dict) -> dict:
    """Check a parsed preset; returns it unchanged or raises ``ValueError``."""
    _require(cfg, "name", "preset", str)
    data = _require(cfg, "data", "preset", dict)
    ds = _require(data, "dataset", "data", str)
    if ds not in DATASETS:
        raise ValueError(f"preset: unknown dataset {ds!r}; choose one of {DATASETS}")
    if "fallback" in data and data["fallback"] not in DATASETS:
        raise ValueError(f"preset: unknown fallback dataset {data['fallback']!r}; choose one of {DATASETS}")
    for key in ("eval_size", "eval_batch_size"):
        _require(data, key, "data", int, lambda v: v >= 1, "a positive integer")

    tr = _require(cfg, "training", "preset", dict)
    _require(tr, "epochs", "training", int, lambda v: v >= 1, "a positive integer")
    _require(tr, "batch_size", "training", int, lambda v: v >= 2, "an integer >= 2")
    pct = tuple(tr.get("checkpoints", CHECKPOINT_PERCENTS))
    if (not pct or any(isinstance(p, bool) or not isinstance(p, (int, float)) for p in pct)
            or any(not 0 <= p <= 100 for p in pct) or list(pct) != sorted(set(pct))):
        raise ValueError(f"preset: training.checkpoints must be increasing percentages in [0, 100], got {pct}")
    if tr.get("amp", "none") not in ("none", "bf16"):
        raise ValueError(f"preset: training.amp must be 'none' or 'bf16', got {tr.get('amp')!r}")

    grid = _require(cfg, "grid", "preset", dict)
    archs = _require(grid, "archs", "grid", list, lambda v: len(v) > 0, "a non-empty list")
    opts = _require(grid, "optimizers", "grid", list, lambda v: len(v) > 0, "a non-empty list")
    for a in archs:
        check_arch(a)
    for o in opts:
        check_label(o)
    models = _require(cfg, "models", "preset", dict)
    recipes = _require(cfg, "recipes", "preset", dict)
    for a in archs:
        if a not in models:
            raise ValueError(f"preset: no [models.{a}] section for grid architecture {a!r}")
        for o in opts:
            r = recipes.get(a, {}).get(o)
            if r is None and o not in OPTIMIZERS:
                raise ValueError(f"preset: unknown optimizer {o!r} in the grid: not one of {OPTIMIZERS}, and no "
                                 f"[recipes.{a}.{o}] section names its optimizer (variant labels need one)")
            if r is None:
                raise ValueError(f"preset: no [recipes.{a}.{o}] section for grid cell {a} x {o}")
            base = base_optimizer(o, r)
            if o not in OPTIMIZERS and "optimizer" not in r:
                raise ValueError(f"preset: recipes.{a}.{o} is a variant label: it needs an optimizer = one of "
                                 f"{OPTIMIZERS} key")
            check_optimizer(base)
            if base == "tanh-lion" and "mode" not in r:
                # explicit, so that a change of TanhLion's default can never resume a run under another mode
                raise ValueError(f"preset: recipes.{a}.{o} must set the tanh-Lion mode (fixed, snr or optax-smooth)")
            _require(r, "lr", f"recipes.{a}.{o}", (int, float), lambda v: v > 0, "a positive number")
            wd = r.get("weight_decay", 0.0)
            if isinstance(wd, bool) or not isinstance(wd, (int, float)) or wd < 0:
                raise ValueError(f"preset: recipes.{a}.{o}.weight_decay must be >= 0, got {wd!r}")
            wf = r.get("warmup_fraction", 0.0)
            if isinstance(wf, bool) or not isinstance(wf, (int, float)) or not 0 <= wf < 1:
                raise ValueError(f"preset: recipes.{a}.{o}.warmup_fraction must lie in [0, 1), got {wf!r}")

    h = _require(cfg, "hessian", "preset", dict)
    if h.get("dtype", "float64") not in HESSIAN_DTYPES:
        raise ValueError(f"preset: hessian.dtype must be one of {HESSIAN_DTYPES}, got {h.get('dtype')!r}")
    if h.get("policy", "abs") not in POLICIES:
        raise ValueError(f"preset: hessian.policy must be one of {POLICIES}, got {h.get('policy')!r}")
    if h.get("mode", "train") not in ("train", "eval"):
        raise ValueError(f"preset: hessian.mode must be 'train' or 'eval', got {h.get('mode')!r}")
    for key, minimum in (("probes", 2), ("slq_probes", 2), ("slq_steps", 2), ("deflation_steps", 0),
                         ("exact_max_params", 0)):
        _require(h, key, "hessian", int, lambda v, m=minimum: v >= m, f"an integer >= {minimum}")
    return cfg


def check_arch(arch: str) -> str:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")
    return arch


def check_optimizer(name: str) -> str:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")
    return name


def check_label(label) -> str:
    """A grid optimizer label: a non-empty name of letters, digits, ``-``, ``.``, ``=`` and ``@``."""
    if not isinstance(label, str) or not label or not all(c.isalnum() or c in "-.=@_" for c in label) \
            or "__" in label:
        raise ValueError(f"bad optimizer label {label!r}: use letters, digits and - . = @ (no '__')")
    return label


def base_optimizer(label: str, recipe: dict) -> str:
    """The optimizer a grid label runs: the recipe's ``optimizer`` key, else the label itself."""
    return recipe.get("optimizer", label)


def load_preset(name: str, *, epochs: int | None = None, archs=None, optimizers=None) -> dict:
    """Read, override and validate a preset.

    Args:
        name: a preset name (``cpu-smoke``) or a path to a TOML file.
        epochs: override ``training.epochs`` (changes the cells' configuration hash).
        archs, optimizers: restrict the grid to these (each must be in the preset's grid).
    """
    path = preset_path(name)
    with open(path, "rb") as fh:
        try:
            cfg = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"preset file {path} is not valid TOML: {exc}") from exc
    cfg = validate_preset(cfg)
    cfg["_source"] = str(path)
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        cfg["training"]["epochs"] = epochs
    for key, chosen, check in (("archs", archs, check_arch), ("optimizers", optimizers, check_label)):
        if chosen:
            for c in chosen:
                check(c)
                if c not in cfg["grid"][key]:
                    prefix = f"unknown optimizer {c!r}: " if key == "optimizers" else ""
                    raise ValueError(f"{prefix}{c!r} is not in the {cfg['name']} grid's {key} {cfg['grid'][key]}")
            cfg["grid"][key] = [c for c in cfg["grid"][key] if c in chosen]
    return cfg


def cell_config(cfg: dict, arch: str, optimizer: str) -> dict:
    """The part of a preset that determines one grid cell's run (everything but the grid)."""
    return {
        "data": cfg["data"],
        "training": cfg["training"],
        "hessian": cfg["hessian"],
        "model": cfg["models"][arch],
        "recipe": cfg["recipes"][arch][optimizer],
        "arch": arch,
        "optimizer": optimizer,
    }


def config_hash(obj) -> str:
    """Stable short hash of a JSON-able configuration."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def split_recipe(recipe: dict) -> tuple[dict, dict]:
    """``(schedule part, optimizer keyword arguments)`` of a recipe."""
    recipe = copy.deepcopy(recipe)
    schedule = {k: recipe.pop(k) for k in SCHEDULE_KEYS if k in recipe}
    for key in META_KEYS:
        recipe.pop(key, None)
    return schedule, recipe
