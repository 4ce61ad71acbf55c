"""Norms by tensor role, the max-of-norms ("modular") norm of a network, its dual and steepest descent.

Bernstein & Newhouse, "Old Optimizer, New Norm: An Anthology", arXiv:2409.20325 (2024), and
Large, Liu, Golikov, ..., Bernstein, "Scalable Optimization in the Modular Norm" (NeurIPS 2024):
each weight tensor gets a norm chosen by its *role* in the network, and the whole network the norm

    ‖W‖ = max_l ‖W_l‖_(l) / s_l            (scales s_l > 0).

Its dual norm separates, ``‖G‖_* = Σ_l s_l ‖G_l‖_(l)*``, and the steepest ascent direction
``argmax_{‖D‖ ≤ 1} ⟨G, D⟩`` is obtained *per layer*: ``D_l = s_l · argmax_{‖D_l‖_(l) ≤ 1} ⟨G_l, D_l⟩``
("dualising the gradient layer by layer is steepest descent under the max norm across layers").
Steepest descent with sharpness λ minimises the model ``⟨G, Δ⟩ + (λ/2)‖Δ‖²``; its minimiser is

    Δ* = −(‖G‖_* / λ) · D*,     model(Δ*) = −‖G‖_*² / (2λ),

so the step size is the dual norm of the gradient over the sharpness, not only the direction.

Roles (one per tensor; the anthology's examples):

* ``linf`` -- a vector (bias, gain) under ℓ∞: dual ℓ1, direction ``sign(g)``;
* ``spectral`` -- a linear layer (here 2×2, so every quantity has a closed form in square roots)
  under the spectral norm: dual = nuclear norm ``σ₁ + σ₂ = √(‖G‖_F² + 2|det G|)``, direction the polar
  factor ``U Vᵀ = (G + sgn(det G)·cof G) / (σ₁ + σ₂)`` (``cof [[a,b],[c,d]] = [[d,−c],[−b,a]]``);
* ``columns`` -- an embedding (columns are token vectors) under the ℓ1→ℓ2 operator norm
  ``max_j ‖D_{:,j}‖₂``: dual ``Σ_j ‖G_{:,j}‖₂``, direction the column-normalised gradient.

A network is a *layout* string ``"linf:3;spectral:2x2;columns:2x3"`` and flat parameter vectors.
Every function has a backend twin (``*_b``: written once against ``B`` = mpmath or Arb, exact inputs)
used as the exact side of the statements in :mod:`theorems.seed_002`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

ROLES = ("linf", "spectral", "columns")


@dataclass(frozen=True)
class Tensor:
    role: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


def parse_layout(layout: str) -> list[Tensor]:
    """``"linf:3;spectral:2x2;columns:2x3"`` -> tensors; ValueError naming the bad part."""
    if not isinstance(layout, str) or not layout.strip():
        raise ValueError(f"layout must be a non-empty string like 'linf:3;spectral:2x2', got {layout!r}")
    out = []
    for part in layout.split(";"):
        role, _, shape = part.partition(":")
        role = role.strip()
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} in layout {layout!r}; roles: {ROLES}")
        try:
            dims = tuple(int(d) for d in shape.split("x"))
        except ValueError:
            raise ValueError(f"bad shape {shape!r} in layout {layout!r}") from None
        if any(d < 1 for d in dims):
            raise ValueError(f"shape {shape!r} in layout {layout!r} has a dimension < 1")
        want = {"linf": 1, "spectral": 2, "columns": 2}[role]
        if len(dims) != want or (role == "spectral" and dims != (2, 2)):
            need = "n" if want == 1 else ("2x2" if role == "spectral" else "mxk")
            raise ValueError(f"role {role!r} needs shape {need},"
                             f" got {shape!r}")
        out.append(Tensor(role, dims))
    return out


def split(flat, layout: str) -> list:
    """The flat parameter vector cut into the layout's tensors (numpy arrays or nested lists)."""
    tensors = parse_layout(layout)
    total = sum(t.size for t in tensors)
    if len(flat) != total:
        raise ValueError(f"layout {layout!r} has {total} parameters, got a vector of {len(flat)}")
    out, i = [], 0
    for t in tensors:
        chunk = flat[i:i + t.size]
        i += t.size
        if isinstance(flat, np.ndarray):
            out.append(np.asarray(chunk, dtype=np.float64).reshape(t.shape))
        else:
            chunk = list(chunk)
            out.append(chunk if len(t.shape) == 1 else [chunk[r * t.shape[1]:(r + 1) * t.shape[1]]
                                                          for r in range(t.shape[0])])
    return out


def _check_flat(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite 1-D vector, got shape {arr.shape}")
    return arr


def _check_scales(scales, n: int) -> np.ndarray:
    s = np.ones(n) if scales is None else np.asarray(scales, dtype=np.float64)
    if s.shape != (n,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"scales must be {n} finite positive numbers, got {scales!r}")
    return s


# ----------------------------------------------------------------------------
# float64
# ----------------------------------------------------------------------------


def tensor_norm(x: np.ndarray, role: str) -> float:
    if role == "linf":
        return float(np.max(np.abs(x), initial=0.0))
    if role == "spectral":
        return float(np.linalg.norm(x, 2))
    return float(np.max(np.linalg.norm(x, axis=0), initial=0.0))


def tensor_dual_norm(g: np.ndarray, role: str) -> float:
    if role == "linf":
        return float(np.sum(np.abs(g)))
    if role == "spectral":
        return float(np.sum(np.linalg.svd(g, compute_uv=False)))
    return float(np.sum(np.linalg.norm(g, axis=0)))


def tensor_direction(g: np.ndarray, role: str) -> np.ndarray:
    """``argmax_{‖d‖_(role) ≤ 1} ⟨g, d⟩`` (one maximiser; 0 where g gives no preference)."""
    if role == "linf":
        return np.sign(g)
    if role == "spectral":
        U, s, Vt = np.linalg.svd(g)
        r = int(np.sum(s > s[0] * 1e-14)) if s[0] > 0 else 0
        return U[:, :r] @ Vt[:r]
    norms = np.linalg.norm(g, axis=0)
    return np.divide(g, norms, out=np.zeros_like(g), where=norms > 0)


def network_norm(w, layout: str, scales=None) -> float:
    """``max_l ‖W_l‖_(l) / s_l``."""
    parts = split(_check_flat(w, "w"), layout)
    s = _check_scales(scales, len(parts))
    return max(tensor_norm(x, t.role) / sl for x, t, sl in zip(parts, parse_layout(layout), s))


def network_dual_norm(g, layout: str, scales=None) -> float:
    """``Σ_l s_l ‖G_l‖_(l)*``: the dual of the max-of-norms."""
    parts = split(_check_flat(g, "g"), layout)
    s = _check_scales(scales, len(parts))
    return float(sum(sl * tensor_dual_norm(x, t.role) for x, t, sl in zip(parts, parse_layout(layout), s)))


def per_layer_direction(g, layout: str, scales=None) -> np.ndarray:
    """Per-layer dualisation ``D_l = s_l · argmax_{‖D_l‖_(l) ≤ 1} ⟨G_l, D_l⟩``, flattened."""
    parts = split(_check_flat(g, "g"), layout)
    s = _check_scales(scales, len(parts))
    return np.concatenate([sl * tensor_direction(x, t.role).ravel()
                           for x, t, sl in zip(parts, parse_layout(layout), s)])


def steepest_descent_step(g, sharpness: float, layout: str, scales=None) -> np.ndarray:
    """``Δ* = −(‖G‖_*/λ) · D*``: the minimiser of ``⟨G,Δ⟩ + (λ/2)‖Δ‖²`` under the network norm."""
    lam = float(sharpness)
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError(f"sharpness λ must be finite and > 0, got {sharpness!r}")
    return -(network_dual_norm(g, layout, scales) / lam) * per_layer_direction(g, layout, scales)


def model_value(g, delta, sharpness: float, layout: str, scales=None) -> float:
    """``⟨G, Δ⟩ + (λ/2)·‖Δ‖²`` with the network norm."""
    g, d = _check_flat(g, "g"), _check_flat(delta, "delta")
    return float(g @ d) + 0.5 * float(sharpness) * network_norm(d, layout, scales) ** 2


# ----------------------------------------------------------------------------
# backend twins (exact inputs: Fractions; B = MP or Arb)
# ----------------------------------------------------------------------------


def _num(B, x):
    return B.num(x) if isinstance(x, (Fraction, int)) else x


def _frob2(M):
    return sum((v * v for row in M for v in row), Fraction(0))


def _det2(M):
    return M[0][0] * M[1][1] - M[0][1] * M[1][0]


def nuclear_2x2_b(M, B):
    """σ₁ + σ₂ = √(‖M‖_F² + 2|det M|) for a 2×2 matrix of Fractions."""
    return B.sqrt(B.num(_frob2(M) + 2 * abs(_det2(M))))


def spectral_2x2_b(M, B):
    """σ₁ = (√(‖M‖_F² + 2|det M|) + √(‖M‖_F² − 2|det M|)) / 2."""
    f, d = _frob2(M), abs(_det2(M))
    return (B.sqrt(B.num(f + 2 * d)) + B.sqrt(B.num(f - 2 * d))) / 2


def polar_2x2_b(M, B):
    """``U Vᵀ = (M + sgn(det M)·cof M) / (σ₁ + σ₂)`` (rank 1: ``M/‖M‖_F``; 0 for M = 0)."""
    det = _det2(M)
    sg = (det > 0) - (det < 0)
    (a, b), (c, d) = M
    N = [[a + sg * d, b - sg * c], [c - sg * b, d + sg * a]]
    if not any(v for row in M for v in row):
        return [[B.num(0)] * 2 for _ in range(2)]
    nuc = nuclear_2x2_b(M, B)
    return [[B.num(v) / nuc for v in row] for row in N]


def _columns(M):
    return [[row[j] for row in M] for j in range(len(M[0]))]


def _sqrt_q(q: Fraction, B):
    return B.sqrt(B.num(q))


def _sq(col) -> Fraction:
    return sum((v * v for v in col), Fraction(0))


#: how each role is dualised: "dual" (the role's own dual norm -- the claim) or "frobenius" (a wrong
#: dualisation used by the mutants: G_l/‖G_l‖_F whatever the role)
DUALISATIONS = ("dual", "frobenius")


def tensor_norm_b(x, role: str, B):
    """‖x‖_(role) for exact (rational) x."""
    if role == "linf":
        return B.num(max((abs(v) for v in x), default=Fraction(0)))
    if role == "spectral":
        return spectral_2x2_b(x, B)
    out = B.num(0)
    for col in _columns(x):
        out = B.max(out, _sqrt_q(_sq(col), B))
    return out


def tensor_dual_norm_b(g, role: str, B):
    """‖g‖_(role)* for exact g: ℓ1, nuclear (2×2 closed form), Σ_j ‖g_{:,j}‖₂."""
    if role == "linf":
        return B.num(sum((abs(v) for v in g), Fraction(0)))
    if role == "spectral":
        return nuclear_2x2_b(g, B)
    return B.sum([_sqrt_q(_sq(col), B) for col in _columns(g)])


def _flat(x):
    return list(x) if not x or not isinstance(x[0], list) else [v for row in x for v in row]


def tensor_direction_inner_norm_b(g, role: str, B, dualisation: str = "dual"):
    """``(⟨g, d⟩, ‖d‖_(role))`` for the maximiser d of the role, evaluated exactly from its structure.

    d is a rational tensor times scalars that are square roots of rationals (sign g; N/(σ₁+σ₂) with
    N = g + sgn(det g)·cof g rational; columns g_j/‖g_j‖₂), so both numbers are computed without
    taking square roots of quantities that are zero only after cancellation (Arb would return NaN).
    """
    if dualisation == "frobenius":
        f = _sq(_flat(g))
        if f == 0:
            return B.num(0), B.num(0)
        nf = _sqrt_q(f, B)
        return nf, tensor_norm_b(g, role, B) / nf
    if role == "linf":
        nz = any(v != 0 for v in g)
        return B.num(sum((abs(v) for v in g), Fraction(0))), B.num(1 if nz else 0)
    if role == "spectral":
        if not any(_flat(g)):
            return B.num(0), B.num(0)
        det = _det2(g)
        sg = (det > 0) - (det < 0)
        (a, b), (c, d) = g
        N = [[a + sg * d, b - sg * c], [c - sg * b, d + sg * a]]
        nuc = nuclear_2x2_b(g, B)
        inner = B.num(sum((x * y for x, y in zip(_flat(g), _flat(N))), Fraction(0)))
        return inner / nuc, spectral_2x2_b(N, B) / nuc
    inner, norm = B.num(0), B.num(0)
    for col in _columns(g):
        q = _sq(col)
        if q:
            r = _sqrt_q(q, B)
            inner = inner + B.num(q) / r
            norm = B.max(norm, r / r)
    return inner, norm


def network_norm_b(w, layout: str, scales, B):
    """``max_l ‖W_l‖_(l)/s_l`` for exact w."""
    out = None
    for x, t, sl in zip(split(w, layout), parse_layout(layout), scales):
        v = tensor_norm_b(x, t.role, B) / B.num(sl)
        out = v if out is None else B.max(out, v)
    return out


def network_dual_norm_b(g, layout: str, scales, B):
    """``Σ_l s_l ‖G_l‖_(l)*`` for exact g."""
    return B.sum([B.num(sl) * tensor_dual_norm_b(x, t.role, B)
                  for x, t, sl in zip(split(g, layout), parse_layout(layout), scales)])


def per_layer_inner_norm_b(g, layout: str, scales, B, dualisation: str = "dual", scaled: bool = True):
    """``(⟨G, D⟩, ‖D‖)`` for the per-layer dualised ``D_l = s_l·d_l`` (``scaled=False``: ``D_l = d_l``)."""
    inner, norm = B.num(0), None
    for x, t, sl in zip(split(g, layout), parse_layout(layout), scales):
        i, n = tensor_direction_inner_norm_b(x, t.role, B, dualisation)
        f = B.num(sl) if scaled else B.num(1)
        inner = inner + f * i
        v = f * n / B.num(sl)
        norm = v if norm is None else B.max(norm, v)
    return inner, norm


def inner_b(g, d, B):
    return B.num(sum((a * b for a, b in zip(g, d)), Fraction(0)))


def model_value_b(g, delta, sharpness, layout: str, scales, B):
    """``⟨G,Δ⟩ + (λ/2)‖Δ‖²`` for exact g, Δ."""
    n = network_norm_b(delta, layout, scales, B)
    return inner_b(g, delta, B) + B.num(sharpness) / 2 * n * n


def model_value_at_step_b(g, sharpness, layout: str, scales, B, step=None):
    """The model at ``Δ = −c·D*`` (D* per-layer dualised, c = ‖G‖_*/λ or ``step(dual, B)``), exactly:
    ``−c·⟨G, D*⟩ + (λ/2)·c²·‖D*‖²``."""
    dual = network_dual_norm_b(g, layout, scales, B)
    c = dual / B.num(sharpness) if step is None else step(dual, B)
    inner, norm = per_layer_inner_norm_b(g, layout, scales, B)
    return -c * inner + B.num(sharpness) / 2 * c * c * norm * norm
