"""Random probe vectors and their generators (shared by every stochastic estimator).

Probes are drawn on the CPU from a ``torch.Generator`` so that a seed gives the
same probes on every device and on every rank of a data-parallel operator
(:mod:`numerics.hessian.distributed`); with ``seed=None`` and a distributed
operator the seed is drawn on rank 0 and broadcast.
"""

from __future__ import annotations

import numpy as np
import torch

from .distributed import shared_seed

DISTRIBUTIONS = ("rademacher", "gaussian")


def make_generator(seed, op=None) -> torch.Generator:
    """A CPU ``torch.Generator``; ``seed=None`` draws a fresh seed (shared across ranks when ``op`` is distributed)."""
    if isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator()
    if seed is None:
        group = getattr(op, "process_group", None)
        if group is None:
            g.seed()
        else:
            g.manual_seed(shared_seed(group, op.device))
    else:
        g.manual_seed(int(seed))
    return g


def random_probes(op, k: int, generator: torch.Generator, distribution: str = "rademacher") -> torch.Tensor:
    """``(n, k)`` probe matrix with i.i.d. entries, ``E[v vᵀ] = I`` (drawn on CPU for reproducibility)."""
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown probe distribution {distribution!r}; choose one of {DISTRIBUTIONS}")
    n = op.shape[0]
    if distribution == "rademacher":
        V = torch.randint(0, 2, (n, k), generator=generator).to(op.dtype).mul_(2).sub_(1)
    else:
        V = torch.randn((n, k), generator=generator, dtype=torch.float64).to(op.dtype)
    return V.to(op.device)


def check_count(name: str, value: int, minimum: int) -> int:
    """``value`` as an ``int`` >= ``minimum``, else a ``TypeError``/``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
