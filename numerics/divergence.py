"""Divergences between discrete distributions (nats), each with an mpmath oracle.

Inputs are probability vectors (see :mod:`numerics.entropy` for the
conventions: checked to sum to 1 within 1e-6, then divided by their exact sum).

``kl_divergence`` writes ``Σ p log(p/q)`` as ``Σ q f(p/q) + (Σp − Σq)`` with
``f(t) = t log t − t + 1 ≥ 0`` so that every summand is non-negative; with
``p − q`` exact for nearby entries (Sterbenz) the result keeps its relative
accuracy even when p and q agree to 12 digits.

Reference: Cover & Thomas (2006), §2.3 and §11.6 (Pinsker).
"""

from __future__ import annotations

import math

import numpy as np

from numerics.backends import MP
from numerics.entropy import _mp_entries, _oracle_dps, _series_tlogt, _sum_minus_one
from numerics.validation import as_distribution, same_length


def _kl_raw(p: np.ndarray, q: np.ndarray) -> float:
    """``Σ q f(p/q)`` over entries (inf if some q_i = 0 < p_i)."""
    if np.any((q == 0) & (p > 0)):
        return math.inf
    keep = q > 0
    p, q = p[keep], q[keep]
    with np.errstate(over="ignore"):  # p/q beyond 1e308 (subnormal q): d = inf takes the far branch, which is exact
        d = (p - q) / q
    out = np.empty_like(p)
    near = np.abs(d) <= 0.25
    out[near] = q[near] * _series_tlogt(d[near])
    far = ~near
    pf, qf = p[far], q[far]
    with np.errstate(divide="ignore"):
        logp = np.where(pf > 0, np.log(np.where(pf > 0, pf, 1.0)), 0.0)
    out[far] = pf * (logp - np.log(qf)) - pf + qf
    return float(np.sum(out))


def kl_divergence(p, q) -> float:
    """``KL(p ‖ q) = Σ p_i log(p_i / q_i)``; ``inf`` if p is not absolutely continuous w.r.t. q."""
    p = as_distribution(p, "p")
    q = as_distribution(q, "q")
    same_length(p, q)
    raw = _kl_raw(p, q)
    if math.isinf(raw):
        return raw
    dp, dq = _sum_minus_one(p), _sum_minus_one(q)
    # KL(p/Sp ‖ q/Sq) = (raw + Sp − Sq)/Sp − log Sp + log Sq
    return (raw + (dp - dq)) / (1.0 + dp) - math.log1p(dp) + math.log1p(dq)


def reverse_kl(p, q) -> float:
    """``KL(q ‖ p)``: the reverse divergence (the one in Thm 3.4's log-det identity when q = u)."""
    return kl_divergence(q, p)


def jeffreys_divergence(p, q) -> float:
    """``J(p, q) = KL(p‖q) + KL(q‖p) = Σ (p_i − q_i) log(p_i/q_i)``."""
    return kl_divergence(p, q) + kl_divergence(q, p)


def total_variation(p, q) -> float:
    """``TV(p, q) = ½ Σ |p_i − q_i|``."""
    p = as_distribution(p, "p")
    q = as_distribution(q, "q")
    same_length(p, q)
    p = p / (1.0 + _sum_minus_one(p))
    q = q / (1.0 + _sum_minus_one(q))
    return 0.5 * float(np.sum(np.abs(p - q)))


# ----------------------------------------------------------------------------
# mpmath oracles
# ----------------------------------------------------------------------------

def kl_divergence_mp(p, q, dps: int = 50, backend=None):
    """Oracle for :func:`kl_divergence`: ``Σ p log(p/q)`` on exactly normalised inputs."""
    B = backend or MP(_oracle_dps(list(p) + list(q), dps))
    with B:
        ps, qs = _mp_entries(p, B), _mp_entries(q, B)
        terms = []
        for x, y in zip(ps, qs):
            if x == 0:
                continue
            if y == 0:
                return B.inf()
            terms.append(x * B.log(x / y))
        return B.sum(terms)


def reverse_kl_mp(p, q, dps: int = 50, backend=None):
    return kl_divergence_mp(q, p, dps, backend)


def jeffreys_divergence_mp(p, q, dps: int = 50, backend=None):
    return kl_divergence_mp(p, q, dps, backend) + kl_divergence_mp(q, p, dps, backend)


def total_variation_mp(p, q, dps: int = 50, backend=None):
    B = backend or MP(_oracle_dps(list(p) + list(q), dps))
    with B:
        ps, qs = _mp_entries(p, B), _mp_entries(q, B)
        return B.sum([abs(x - y) for x, y in zip(ps, qs)]) / 2


__all__ = [
    "kl_divergence", "reverse_kl", "jeffreys_divergence", "total_variation",
    "kl_divergence_mp", "reverse_kl_mp", "jeffreys_divergence_mp", "total_variation_mp",
]
