"""Tiny networks with closed-form gradients and Hessians, and the optimisers compared on them.

Models (squared loss ``L(θ) = 1/(2N) Σ_n (f_θ(x_n) − y_n)²``, float64, numpy):

* :class:`TwoLayerLinear` -- ``f(x) = w₂ᵀ W₁ x`` (hidden width m, scalar output). The loss is quadratic in
  W₁ for fixed w₂ and vice versa, so the Hessian diagonal is exact in closed form:
  ``∂²L/∂W₁[i,j]² = w₂[i]²·Σ_jj`` and ``∂²L/∂w₂[i]² = (W₁ Σ W₁ᵀ)_ii`` with ``Σ = XᵀX/N``.
* :class:`TwoLayerTanh` -- ``f(x) = aᵀ tanh(W x)``; Hessian diagonal
  ``1/N Σ_n [(∂f_n/∂θ_i)² + r_n ∂²f_n/∂θ_i²]`` with ``∂²f/∂a_k² = 0``,
  ``∂²f/∂W_kj² = −2 a_k h_k (1 − h_k²) x_j²`` (h = tanh(Wx), r the residual).
* :class:`DiagonalLinear` -- ``f(x) = ⟨u ⊙ v, x⟩`` (a diagonal linear network, Woodworth et al. 2020);
  full Hessian ``[[D_v Σ D_v, D_v Σ D_u + D_g], [D_u Σ D_v + D_g, D_u Σ D_u]]`` with ``g = Xᵀr/N``.

Optimisers (:func:`train`): SGD with heavy-ball momentum, Adam (Kingma & Ba 2015, bias-corrected),
SAM (Foret et al. 2021: the gradient at θ + ρ g/‖g‖) over plain gradient steps, each with optional
minibatches and label noise (fresh Gaussian noise on the targets at every step, Blanc et al. 2020).
Randomness comes from the ``numpy.random.Generator`` passed in, so a seed reproduces a run exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OPTIMIZERS = ("sgdm", "gd", "adam", "sam")


def _data(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise ValueError(f"X must be N×d and y of length N, got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    return X, y


@dataclass
class _Model:
    X: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        self.X, self.y = _data(self.X, self.y)
        self.sigma = self.X.T @ self.X / self.X.shape[0]

    @property
    def n_params(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, theta, X=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(self, theta, X=None, y=None) -> float:
        X = self.X if X is None else X
        y = self.y if y is None else y
        r = self.predict(theta, X) - y
        return 0.5 * float(r @ r) / X.shape[0]

    def _check(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.n_params,):
            raise ValueError(f"θ must have {self.n_params} entries, got shape {theta.shape}")
        return theta


@dataclass
class _TwoLayer(_Model):
    """A hidden layer of ``width`` units (weights W, m×d) and a linear read-out (m weights)."""

    width: int = 8

    @property
    def n_params(self) -> int:
        return self.width * self.X.shape[1] + self.width

    def unpack(self, theta):
        theta = self._check(theta)
        m, d = self.width, self.X.shape[1]
        return theta[:m * d].reshape(m, d), theta[m * d:]

    def first_layer(self) -> slice:
        return slice(0, self.width * self.X.shape[1])


@dataclass
class TwoLayerLinear(_TwoLayer):
    def predict(self, theta, X=None):
        W1, w2 = self.unpack(theta)
        return (self.X if X is None else X) @ W1.T @ w2

    def grad(self, theta, X=None, y=None):
        X = self.X if X is None else X
        y = self.y if y is None else y
        W1, w2 = self.unpack(theta)
        r = X @ W1.T @ w2 - y
        xr = X.T @ r / X.shape[0]
        return np.concatenate([np.outer(w2, xr).ravel(), W1 @ xr])

    def hessian_diagonal(self, theta):
        W1, w2 = self.unpack(theta)
        second = np.einsum("ij,jk,ik->i", W1, self.sigma, W1)  # (W₁ Σ W₁ᵀ)_ii
        return np.concatenate([np.outer(w2**2, np.diag(self.sigma)).ravel(), second])


@dataclass
class TwoLayerTanh(_TwoLayer):
    def predict(self, theta, X=None):
        W, a = self.unpack(theta)
        return np.tanh((self.X if X is None else X) @ W.T) @ a

    def grad(self, theta, X=None, y=None):
        X = self.X if X is None else X
        y = self.y if y is None else y
        W, a = self.unpack(theta)
        h = np.tanh(X @ W.T)  # N×m
        r = h @ a - y
        n = X.shape[0]
        gW = ((r[:, None] * (1 - h**2)) * a).T @ X / n
        return np.concatenate([gW.ravel(), h.T @ r / n])

    def hessian_diagonal(self, theta):
        W, a = self.unpack(theta)
        X, n = self.X, self.X.shape[0]
        h = np.tanh(X @ W.T)
        r = h @ a - self.y
        s = 1 - h**2
        x2 = X**2
        gauss = ((a**2) * s**2).T @ x2 / n  # Σ_n (a_k s_nk x_nj)²
        resid = ((r[:, None] * (-2 * a * h * s)).T @ x2) / n
        return np.concatenate([(gauss + resid).ravel(), np.sum(h**2, axis=0) / n])


@dataclass
class DiagonalLinear(_Model):
    @property
    def n_params(self) -> int:
        return 2 * self.X.shape[1]

    def unpack(self, theta):
        theta = self._check(theta)
        d = self.X.shape[1]
        return theta[:d], theta[d:]

    def weights(self, theta):
        u, v = self.unpack(theta)
        return u * v

    def predict(self, theta, X=None):
        return (self.X if X is None else X) @ self.weights(theta)

    def grad(self, theta, X=None, y=None):
        X = self.X if X is None else X
        y = self.y if y is None else y
        u, v = self.unpack(theta)
        g = X.T @ (X @ (u * v) - y) / X.shape[0]
        return np.concatenate([v * g, u * g])

    def hessian(self, theta):
        u, v = self.unpack(theta)
        g = self.X.T @ (self.X @ (u * v) - self.y) / self.X.shape[0]
        S = self.sigma
        Huv = v[:, None] * S * u[None, :] + np.diag(g)
        return np.block([[v[:, None] * S * v[None, :], Huv], [Huv.T, u[:, None] * S * u[None, :]]])

    def hessian_diagonal(self, theta):
        u, v = self.unpack(theta)
        s = np.diag(self.sigma)
        return np.concatenate([v**2 * s, u**2 * s])


def train(model: _Model, theta0, optimizer: str, lr: float, steps: int, rng: np.random.Generator, *,
          batch: int | None = None, label_noise: float = 0.0, momentum: float = 0.9, betas=(0.9, 0.999),
          eps: float = 1e-8, rho: float = 0.05, record_every: int = 0, record=None, stop_loss: float | None = None):
    """Run ``optimizer`` for ``steps`` steps; returns ``(θ, records, steps_taken)``.

    ``record(θ)`` is called every ``record_every`` steps (and at the end); ``stop_loss`` stops at the first
    step whose full-batch loss is ≤ it (to compare optimisers at equal loss). A non-finite iterate raises
    ``FloatingPointError`` naming the step (a divergent run is a finding, never a silent NaN).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {OPTIMIZERS}")
    if not (math.isfinite(lr) and lr > 0) or int(steps) < 0:
        raise ValueError(f"need lr > 0 and steps ≥ 0, got lr={lr!r}, steps={steps!r}")
    theta = np.array(theta0, dtype=np.float64)
    model._check(theta)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    records = []
    with np.errstate(over="ignore", invalid="ignore"):  # a divergence is reported below, by step
        return _train_loop(model, theta, optimizer, lr, steps, rng, batch, label_noise, momentum, betas, eps, rho,
                           record_every, record, stop_loss, m, v, records)


def _train_loop(model, theta, optimizer, lr, steps, rng, batch, label_noise, momentum, betas, eps, rho,
                record_every, record, stop_loss, m, v, records):
    X, y = model.X, model.y
    n = X.shape[0]
    for t in range(1, int(steps) + 1):
        if batch is not None and batch < n:
            idx = rng.choice(n, size=batch, replace=False)
            Xb, yb = X[idx], y[idx]
        else:
            Xb, yb = X, y
        if label_noise > 0:
            yb = yb + label_noise * rng.standard_normal(yb.shape[0])
        g = model.grad(theta, Xb, yb)
        if optimizer == "sam":
            gn = float(np.linalg.norm(g))
            if gn > 0:
                g = model.grad(theta + rho * g / gn, Xb, yb)
            theta = theta - lr * g
        elif optimizer == "gd":
            theta = theta - lr * g
        elif optimizer == "sgdm":
            m = momentum * m + g
            theta = theta - lr * m
        else:
            b1, b2 = betas
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        if not np.all(np.isfinite(theta)):
            raise FloatingPointError(f"{optimizer} diverged at step {t} (lr={lr})")
        if record_every and t % record_every == 0 and record is not None:
            records.append(record(theta))
        if stop_loss is not None and model.loss(theta) <= stop_loss:
            return theta, records, t
    return theta, records, int(steps)


def train_diagonal_batched(X, y, theta0, optimizer: str, lr: float, steps: int, rng: np.random.Generator, *,
                           label_noise: float = 0.0, betas=(0.9, 0.999), eps: float = 1e-8) -> np.ndarray:
    """Full-batch GD or Adam with label noise on S independent diagonal linear networks at once.

    ``X``: S×N×d, ``y``: S×N, ``theta0``: S×2d (u then v). Each problem s is exactly
    ``train(DiagonalLinear(X[s], y[s]), theta0[s], ...)`` with its own noise draws; vectorising over s makes
    the long label-noise runs (10⁴-10⁵ steps) affordable in a quick check. Returns the final S×2d θ.
    """
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"batched training supports 'gd' and 'adam', not {optimizer!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    th = np.array(theta0, dtype=np.float64)
    if X.ndim != 3 or y.shape != X.shape[:2] or th.shape != (X.shape[0], 2 * X.shape[2]):
        raise ValueError(f"need X S×N×d, y S×N, θ S×2d; got {X.shape}, {y.shape}, {th.shape}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be > 0, got {lr!r}")
    n, d = X.shape[1], X.shape[2]
    m = np.zeros_like(th)
    v = np.zeros_like(th)
    b1, b2 = betas
    for t in range(1, int(steps) + 1):
        u, w = th[:, :d], th[:, d:]
        yb = y + label_noise * rng.standard_normal(y.shape) if label_noise > 0 else y
        r = np.einsum("snd,sd->sn", X, u * w) - yb
        g = np.einsum("snd,sn->sd", X, r) / n
        G = np.concatenate([w * g, u * g], axis=1)
        if optimizer == "gd":
            th = th - lr * G
        else:
            m = b1 * m + (1 - b1) * G
            v = b2 * v + (1 - b2) * G * G
            th = th - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    if not np.all(np.isfinite(th)):
        raise FloatingPointError(f"{optimizer} diverged (lr={lr})")
    return th


def diagonal_regularisers(X, theta) -> tuple[np.ndarray, np.ndarray]:
    """``tr H`` and ``tr diag(H)^{1/2}`` of the diagonal linear network's training loss, per problem.

    ``diag H = (v²Σ_ii, u²Σ_ii)`` exactly (the residual enters only off the diagonal), so
    ``tr H = Σ Σ_ii(u_i² + v_i²)`` and ``tr diag(H)^{1/2} = Σ √Σ_ii (|u_i| + |v_i|)``.
    """
    X = np.asarray(X, dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    d = X.shape[-1]
    s = np.einsum("...nd,...nd->...d", X, X) / X.shape[-2]
    u, v = th[..., :d], th[..., d:]
    return np.sum(s * (u**2 + v**2), axis=-1), np.sum(np.sqrt(s) * (np.abs(u) + np.abs(v)), axis=-1)
