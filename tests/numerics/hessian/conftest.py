"""Shared fixtures of the Hessian-engine tests.

Exact spectra of the three digits validation models are computed once per
package run.  Everything runs single-threaded (torch and BLAS): on a shared
2-core machine, multi-threaded spin-waits made each product 10-100x slower.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from numerics.hessian import GGNOperator, HessianOperator, MatrixOperator, dense_matrix
from numerics.hessian.reference_models import trained_digits_model
from tests.numerics.threads import one_thread

#: Hessian batch sizes: small enough for the exact path to take seconds.
HESSIAN_SAMPLES = {"mlp": 256, "cnn": 48, "vit": 48}
#: training set sizes (full-batch Adam, 30 steps = the "partial" stage).
TRAIN_SAMPLES = {"mlp": None, "cnn": 400, "vit": 400}


@pytest.fixture(scope="package", autouse=True)
def single_thread():
    with one_thread():
        yield


@dataclass
class ExactCase:
    name: str
    model: torch.nn.Module
    loss_fn: object
    data: tuple
    H: torch.Tensor
    eig_H: np.ndarray
    _G: torch.Tensor | None = None
    _eig_G: np.ndarray | None = None

    @property
    def G(self) -> torch.Tensor:
        if self._G is None:
            self._G = dense_matrix(GGNOperator(self.model, self.loss_fn, self.data))
        return self._G

    @property
    def eig_G(self) -> np.ndarray:
        if self._eig_G is None:
            self._eig_G = np.linalg.eigvalsh(self.G.numpy())
        return self._eig_G

    @property
    def n(self) -> int:
        return self.H.shape[0]

    def hessian_matrix_op(self) -> MatrixOperator:
        return MatrixOperator(self.H)

    def ggn_matrix_op(self) -> MatrixOperator:
        return MatrixOperator(self.G, psd=True)


_CACHE: dict[str, ExactCase] = {}


def exact_case(arch: str) -> ExactCase:
    if arch not in _CACHE:
        model, loss_fn, data = trained_digits_model(
            arch, "partial", num_samples=TRAIN_SAMPLES[arch], hessian_samples=HESSIAN_SAMPLES[arch]
        )
        H = dense_matrix(HessianOperator(model, loss_fn, data))
        _CACHE[arch] = ExactCase(arch, model, loss_fn, data, H, np.linalg.eigvalsh(H.numpy()))
    return _CACHE[arch]


@pytest.fixture(scope="package")
def mlp_case(single_thread) -> ExactCase:
    return exact_case("mlp")


@pytest.fixture(scope="package", params=["mlp", "cnn", "vit"])
def any_case(request, single_thread) -> ExactCase:
    return exact_case(request.param)
