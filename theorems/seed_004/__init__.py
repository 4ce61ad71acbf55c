"""Seed 004: sharpness -- Adam's tr(diag H^½) vs SGD's tr H under label noise, sparse regression, SAM,
Rényi sharpness, geodesic sharpness (one module each)."""

from __future__ import annotations

from theorems.seed_004 import geodesic, label_noise, renyi, sam

STATEMENTS = [*label_noise.STATEMENTS, *sam.STATEMENTS, *renyi.STATEMENTS, *geodesic.STATEMENTS]
