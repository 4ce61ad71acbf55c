"""Per-HVP time of the Hessian engine vs PyHessian, and one estimator run, side by side.

Same model, same batch, same process: the digits tanh MLP and BN-CNN
(float32, 256 images) and, with ``-m slow``, the CIFAR ResNet-18 (batch 32).
PyHessian 0.1 is optional (``pip install pyhessian``; skipped when absent); its
removed ``torch.eig`` is patched by ``hessian_report.pyhessian_torch_eig_patch``
in the benchmark code only. Run explicitly:

    python -m pytest benchmarks/test_hessian_hvp.py --benchmark-enable

The full accuracy/speed report is ``benchmarks/hessian_report.py``.
CPU timings use one intra-op thread (shared machines; see hessian_report).
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.hessian_report import pyhessian_available, resnet_batch
from numerics.hessian import HessianOperator, MatrixOperator, entropy_gap_estimate
from numerics.hessian.reference_models import trained_digits_model
from numerics.hessian.trace import krylov_trace


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _digits(arch):
    model, loss_fn, (X, y) = trained_digits_model(arch, "partial", num_samples=600, hessian_samples=256)
    return model.float(), loss_fn, (X.float(), y)


CASES = {"mlp": lambda: _digits("mlp"), "cnn": lambda: _digits("cnn")}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("backend", ["double_backward", "forward_over_reverse"])
def test_hvp_ours(benchmark, case, backend):
    model, loss_fn, data = CASES[case]()
    op = HessianOperator(model, loss_fn, data, backend=backend)
    v = torch.randn(op.shape[0])
    benchmark(lambda: op @ v)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("k", [4, 16])
def test_matmat_per_vector(benchmark, case, k):
    """Batched products: one ``matmat`` with k columns (compare with test_hvp_ours x k)."""
    model, loss_fn, data = CASES[case]()
    op = HessianOperator(model, loss_fn, data)
    V = torch.randn(op.shape[0], k)
    benchmark(lambda: op.matmat(V))


@pytest.mark.skipif(not pyhessian_available(), reason="pyhessian not installed")
@pytest.mark.parametrize("case", list(CASES))
def test_hvp_pyhessian(benchmark, case):
    from pyhessian import hessian
    from pyhessian.utils import hessian_vector_product

    model, loss_fn, data = CASES[case]()
    h = hessian(model, loss_fn, data=data, cuda=False)
    v = [torch.randn_like(p) for p in h.params]
    benchmark(lambda: hessian_vector_product(h.gradsH, h.params, v))


@pytest.mark.slow
@pytest.mark.parametrize("who", ["ours", "pyhessian"])
def test_hvp_resnet18(benchmark, who):
    model, loss_fn, data = resnet_batch()
    if who == "ours":
        op = HessianOperator(model, loss_fn, data)
        v = torch.randn(op.shape[0])
        benchmark.pedantic(lambda: op @ v, rounds=3, iterations=1, warmup_rounds=1)
    else:
        if not pyhessian_available():
            pytest.skip("pyhessian not installed")
        from pyhessian import hessian
        from pyhessian.utils import hessian_vector_product

        h = hessian(model, loss_fn, data=data, cuda=False)
        v = [torch.randn_like(p) for p in h.params]
        benchmark.pedantic(lambda: hessian_vector_product(h.gradsH, h.params, v), rounds=3, iterations=1,
                           warmup_rounds=1)


def test_estimators_on_exact_mlp_hessian(benchmark):
    """Wall time of one 300-HVP entropy-gap estimate + one 100-HVP trace on the MLP's dense Hessian."""
    model, loss_fn, data = trained_digits_model("mlp", "partial", hessian_samples=256)
    from numerics.hessian import dense_matrix

    op = MatrixOperator(dense_matrix(HessianOperator(model, loss_fn, data)))
    benchmark.pedantic(
        lambda: (entropy_gap_estimate(op, 300, seed=0), krylov_trace(op, 100, seed=0)), rounds=2, iterations=1
    )
