"""Curvature operators against independent autograd references, and their bad inputs.

Tolerance: the references (``torch.autograd.functional.hessian`` / ``jacrev``)
and the operators evaluate the same float64 derivatives in a different order, so
they agree to a few ulps of the largest entry; ``1e-10`` absolute on entries of
order 1 leaves ample room and still catches any dropped or mis-scaled term
(the meta-tests perturb by ``1e-6``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call, jacrev

from numerics.hessian import GGNOperator, HessianOperator, MatrixOperator, dense_matrix
from numerics.hessian.operators import BACKENDS
from numerics.hessian.reference_models import SmallBNCNN, TanhMLP, TinyViT

ATOL = 1e-10


def _tiny(arch: str):
    torch.manual_seed(1)
    if arch == "mlp":
        model, X = TanhMLP(8, (5,), 3), torch.randn(7, 8)
    elif arch == "cnn":
        model, X = SmallBNCNN(1, 2, 3), torch.randn(7, 1, 4, 4)
    else:
        model, X = TinyViT(4, 2, 1, 4, 2, 6, 3), torch.randn(7, 1, 4, 4)
    model = model.double()
    if arch == "cnn":  # non-trivial running statistics
        model.train()
        with torch.no_grad():
            model(X.double() * 2 + 1)
    model.eval()
    return model, nn.CrossEntropyLoss(), (X.double(), torch.randint(0, 3, (7,)))


def _reference_hessian(model, loss_fn, data, names=None):
    """Dense Hessian by ``torch.autograd.functional.hessian`` (math attention kernel)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    X, y = data
    all_params = dict(model.named_parameters())
    names = names or list(all_params)
    fixed = {k: v.detach() for k, v in all_params.items() if k not in names}
    buffers = dict(model.named_buffers())

    def f(*ps):
        out = functional_call(model, {**fixed, **dict(zip(names, ps)), **buffers}, (X,))
        return loss_fn(out, y)

    with sdpa_kernel([SDPBackend.MATH]):
        blocks = torch.autograd.functional.hessian(f, tuple(all_params[k].detach() for k in names))
    sizes = [all_params[k].numel() for k in names]
    return torch.cat(
        [torch.cat([blocks[i][j].reshape(sizes[i], sizes[j]) for j in range(len(names))], 1) for i in range(len(names))]
    )


def _assert_close(A, B, atol=ATOL):
    err = float((A - B).abs().max())
    assert err <= atol, f"max |A − B| = {err:.3e} > {atol:.1e}"


_REFERENCE: dict = {}


def _tiny_with_reference(arch):
    if arch not in _REFERENCE:
        model, loss_fn, data = _tiny(arch)
        _REFERENCE[arch] = (model, loss_fn, data, _reference_hessian(model, loss_fn, data))
    return _REFERENCE[arch]


@pytest.mark.parametrize(
    "arch, backend",
    [(a, b) for a in ("mlp", "cnn", "vit") for b in BACKENDS if b != "linearize" or a == "mlp"],  # tracing is slow
)
def test_hessian_matches_autograd_reference(arch, backend):
    model, loss_fn, data, H = _tiny_with_reference(arch)
    op = HessianOperator(model, loss_fn, data, backend=backend)
    if backend == "double_backward":  # the whole matrix, in batched chunks
        _assert_close(dense_matrix(op, chunk_size=7), H)
    else:  # torch.func backends carry a per-call overhead: a few products suffice
        V = torch.randn(op.shape[0], 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        _assert_close(op @ V, H @ V)


def test_hessian_agreement_check_can_fail():
    model, loss_fn, data = _tiny("mlp")
    H = dense_matrix(HessianOperator(model, loss_fn, data))
    with pytest.raises(AssertionError):
        _assert_close(H * (1 + 1e-6), _reference_hessian(model, loss_fn, data))


def test_matvec_and_matmat_agree_and_count():
    model, loss_fn, data = _tiny("mlp")
    op = HessianOperator(model, loss_fn, data)
    V = torch.randn(op.shape[0], 3, dtype=torch.float64)
    cols = torch.stack([op @ V[:, j] for j in range(3)], 1)
    _assert_close(op @ V, cols)
    assert op.hvp_count == 6
    out = op @ V[:, 0].numpy()
    assert isinstance(out, np.ndarray) and out.shape == (op.shape[0],)
    assert op.shape == (op.shape[0], op.shape[0]) and op.dtype == torch.float64 and op.device.type == "cpu"


def _reference_ggn(model, loss_fn, data):
    X, y = data
    params = {k: v.detach() for k, v in model.named_parameters()}
    J = jacrev(lambda p: functional_call(model, p, (X,)))(params)
    out = model(X).detach()
    Jm = torch.cat([J[k].reshape(out.numel(), -1) for k in params], 1)  # (N·C, n)
    L = torch.autograd.functional.hessian(lambda z: loss_fn(z.reshape(out.shape), y), out.reshape(-1))
    return Jm.T @ L @ Jm


@pytest.mark.parametrize("backend", ["double_backward", "forward_over_reverse"])
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_ggn_matches_jacobian_reference_and_is_psd(arch, backend):
    model, loss_fn, data = _tiny(arch)
    G = dense_matrix(GGNOperator(model, loss_fn, data, backend=backend))
    _assert_close(G, _reference_ggn(model, loss_fn, data))
    lam = torch.linalg.eigvalsh(G)
    assert float(lam.min()) >= -1e-12 * float(lam.max())


def test_ggn_equals_hessian_for_linear_least_squares():
    torch.manual_seed(0)
    model = nn.Linear(4, 2).double()
    data = (torch.randn(9, 4, dtype=torch.float64), torch.randn(9, 2, dtype=torch.float64))
    H = dense_matrix(HessianOperator(model, nn.MSELoss(), data))
    G = dense_matrix(GGNOperator(model, nn.MSELoss(), data))
    _assert_close(H, G)


def test_block_restriction_is_the_diagonal_block():
    model, loss_fn, data = _tiny("mlp")
    full = dense_matrix(HessianOperator(model, loss_fn, data))
    op = HessianOperator(model, loss_fn, data, params="layers.1")  # module prefix: weight + bias
    assert op.block_names == ["layers.1.weight", "layers.1.bias"]
    sl = slice(8 * 5 + 5, full.shape[0])
    _assert_close(dense_matrix(op), full[sl, sl])
    single = HessianOperator(model, loss_fn, data, params=["layers.0.bias"])
    _assert_close(dense_matrix(single), full[40:45, 40:45])
    by_tensor = HessianOperator(model, loss_fn, data, params=[model.layers[0].bias])
    _assert_close(dense_matrix(by_tensor), full[40:45, 40:45])
    _assert_close(
        dense_matrix(HessianOperator(model, loss_fn, data, params="layers.1", backend="forward_over_reverse")),
        full[sl, sl],
    )


def test_batches_accumulate_to_the_full_batch_hessian():
    model, loss_fn, (X, y) = _tiny("mlp")
    full = dense_matrix(HessianOperator(model, loss_fn, (X, y)))
    split = dense_matrix(HessianOperator(model, loss_fn, [(X[:3], y[:3]), (X[3:], y[3:])]))
    _assert_close(full, split)
    ggn_full = dense_matrix(GGNOperator(model, loss_fn, (X, y)))
    ggn_split = dense_matrix(GGNOperator(model, loss_fn, iter([(X[:4], y[:4]), (X[4:], y[4:])])))
    _assert_close(ggn_full, ggn_split)


def test_eval_mode_freezes_batch_norm_and_train_mode_leaves_model_untouched():
    model, loss_fn, data = _tiny("cnn")
    running = model.bn1.running_mean.clone()
    model.train()  # the operator must not care about the caller's flag in eval mode
    H_eval = dense_matrix(HessianOperator(model, loss_fn, data, mode="eval"))
    assert model.training
    model.eval()
    _assert_close(H_eval, _reference_hessian(model, loss_fn, data))
    H_train = dense_matrix(HessianOperator(model, loss_fn, data, mode="train"))
    assert float((H_train - H_eval).abs().max()) > 1e-6  # batch statistics change the curvature
    assert torch.equal(model.bn1.running_mean, running) and not model.training


def test_float32_operator_is_close_to_float64():
    model, loss_fn, data = _tiny("mlp")
    H64 = dense_matrix(HessianOperator(model, loss_fn, data))
    op32 = HessianOperator(model, loss_fn, data, dtype=torch.float32)
    assert op32.dtype == torch.float32
    H32 = dense_matrix(op32, dtype=None)
    assert H32.dtype == torch.float32
    _assert_close(H32.double(), H64, atol=1e-5)  # float32 eps 1.2e-7 x entries O(1) x depth


def test_dense_path_is_float64_for_a_float32_model():
    import copy

    model, loss_fn, (X, y) = _tiny("mlp")
    model32 = copy.deepcopy(model).float()
    op32 = HessianOperator(model32, loss_fn, (X.float(), y))
    H = dense_matrix(op32)
    assert H.dtype == torch.float64 and op32.hvp_count == op32.shape[0]
    # reference: the same float32 parameter values, differentiated in float64
    H64 = dense_matrix(HessianOperator(copy.deepcopy(model32).double(), loss_fn, (X.float().double(), y)))
    _assert_close(H, H64, atol=1e-12)  # both float64 products of identical inputs: rounding only
    # the float32 products are measurably worse: the float64 path is not a no-op
    H32 = dense_matrix(op32, dtype=None).double()
    assert float((H32 - H64).abs().max()) > 1e-9


def test_gradient_matches_autograd():
    model, loss_fn, (X, y) = _tiny("mlp")
    op = HessianOperator(model, loss_fn, (X, y))
    model.zero_grad()
    loss_fn(model(X), y).backward()
    ref = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    _assert_close(op.gradient(), ref)
    assert abs(op.loss_value - float(loss_fn(model(X), y).detach())) < 1e-12


def test_matrix_operator_and_block_slices():
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    op = MatrixOperator(A)
    _assert_close(op @ torch.ones(2, dtype=torch.float64), torch.tensor([3.0, 4.0], dtype=torch.float64))
    model, loss_fn, data = _tiny("mlp")
    slices = HessianOperator(model, loss_fn, data).block_slices()
    assert slices["layers.0.weight"] == slice(0, 40) and slices["layers.1.bias"] == slice(60, 63)


# --------------------------------------------------------------------------- bad inputs


def test_non_scalar_loss_is_rejected():
    model, _, data = _tiny("mlp")
    with pytest.raises(ValueError, match="scalar"):
        HessianOperator(model, nn.CrossEntropyLoss(reduction="none"), data)


def test_params_without_grad_are_rejected():
    model, loss_fn, data = _tiny("mlp")
    model.layers[0].weight.requires_grad_(False)
    with pytest.raises(ValueError, match="without grad"):
        HessianOperator(model, loss_fn, data, params="layers.0.weight")
    op = HessianOperator(model, loss_fn, data)  # default block skips the frozen tensor
    assert "layers.0.weight" not in op.block_names
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="requires grad"):
        HessianOperator(model, loss_fn, data)


def test_mismatched_and_empty_data_are_rejected():
    model, loss_fn, (X, y) = _tiny("mlp")
    with pytest.raises(ValueError, match="mismatched"):
        HessianOperator(model, loss_fn, (X, y[:-1]))
    with pytest.raises(ValueError, match="mismatched"):
        GGNOperator(model, loss_fn, [(X, y), (X[:2], y[:3])])
    with pytest.raises(ValueError, match="empty"):
        HessianOperator(model, loss_fn, [])
    with pytest.raises(TypeError):
        HessianOperator(model, loss_fn, 3)
    with pytest.raises(ValueError, match="cannot be evaluated"):
        HessianOperator(model, loss_fn, (X[:, :5], y))
    with pytest.raises(ValueError, match="NaN"):
        HessianOperator(model, loss_fn, (X * float("nan"), y))


def test_unknown_block_and_options_are_rejected():
    model, loss_fn, data = _tiny("mlp")
    with pytest.raises(ValueError, match="unknown parameter block 'layers.7'"):
        HessianOperator(model, loss_fn, data, params=["layers.7"])
    with pytest.raises(ValueError, match="mode"):
        HessianOperator(model, loss_fn, data, mode="inference")
    with pytest.raises(ValueError, match="backend"):
        HessianOperator(model, loss_fn, data, backend="magic")
    with pytest.raises(ValueError, match="not a parameter"):
        HessianOperator(model, loss_fn, data, params=[torch.zeros(3)])


def test_bad_vectors_are_rejected():
    model, loss_fn, data = _tiny("mlp")
    op = HessianOperator(model, loss_fn, data)
    n = op.shape[0]
    with pytest.raises(ValueError, match="shape"):
        op @ torch.ones(n + 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="NaN"):
        op @ torch.full((n,), float("nan"), dtype=torch.float64)
    # the check is one reduction: a single inf, or +inf and -inf cancelling to NaN, still raises
    one_inf = torch.zeros(n, dtype=torch.float64)
    one_inf[3] = float("inf")
    with pytest.raises(ValueError, match="NaN or inf"):
        op @ one_inf
    both = one_inf.clone()
    both[5] = -float("inf")
    with pytest.raises(ValueError, match="NaN or inf"):
        op @ both
    # finite entries whose sum overflows are accepted (the check falls back to an elementwise pass)
    huge = torch.full((n,), 1e308, dtype=torch.float64)
    assert not torch.isfinite(huge.sum())
    op @ huge
    with pytest.raises(TypeError):
        op.matvec([1.0] * n)
    with pytest.raises(ValueError, match="symmetric"):
        MatrixOperator(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_operator_matches_cpu():  # pragma: no cover - GPU only
    model, loss_fn, data = _tiny("cnn")
    H_cpu = dense_matrix(HessianOperator(model, loss_fn, data))
    H_gpu = dense_matrix(HessianOperator(model, loss_fn, data, device="cuda"))
    _assert_close(H_gpu.cpu(), H_cpu, atol=1e-9)


def test_too_large_for_exact_is_refused():
    from numerics.hessian import ExactTooLargeError

    model, loss_fn, data = _tiny("mlp")
    op = HessianOperator(model, loss_fn, data)
    with pytest.raises(ExactTooLargeError, match="max_params"):
        dense_matrix(op, max_params=10)
    assert op.hvp_count == 0  # refused before any product or allocation
