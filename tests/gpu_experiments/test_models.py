"""Models of gpu_experiments: ResNet-18's 62 tensors, ViT layout, shapes, bad options."""

from __future__ import annotations

import pytest
import torch

from gpu_experiments.models import ARCHITECTURES, ResNet18, ViT, build_model, parameter_blocks
from numerics.hessian.reference_models import cifar_resnet18


def test_resnet18_paper_size_has_62_tensors_and_11m_parameters():
    model = ResNet18(num_classes=10, in_channels=3, width=64)
    blocks = parameter_blocks(model)
    assert len(blocks) == 62
    assert sum(n for _, n in blocks) == 11_173_962
    ref = cifar_resnet18(10)
    assert [p.shape for p in model.parameters()] == [p.shape for p in ref.parameters()]


def test_one_model_zoo():
    """The experiments and the Hessian engine share one ResNet-18 and one ViT definition."""
    import numerics.hessian.reference_models as ref

    assert ResNet18 is ref.ResNet18 and ViT is ref.ViT and ref.CifarResNet18 is ref.ResNet18
    assert isinstance(ref.TinyViT(), ViT)


def test_tiny_vit_is_a_linear_map_of_each_patch_then_one_block():
    """The strided-convolution embedding equals the linear map of flattened (channel, row, column) patches."""
    import torch.nn.functional as F

    from numerics.hessian.reference_models import TinyViT

    torch.manual_seed(0)
    m = TinyViT(8, 4, 2, 12, 2, 24, 3).double()
    x = torch.randn(5, 2, 8, 8, dtype=torch.float64)
    p = 4
    patches = x.unfold(2, p, p).unfold(3, p, p).permute(0, 2, 3, 1, 4, 5).reshape(5, 4, 2 * p * p)
    w = m.patch_embed.weight.reshape(12, -1)
    h = patches @ w.T + m.patch_embed.bias + m.pos_embed
    blk = m.blocks[0]
    h = h + blk.attn(blk.norm1(h))
    h = h + blk.fc2(F.gelu(blk.fc1(blk.norm2(h))))
    expected = m.head(h.mean(dim=1))
    torch.testing.assert_close(m(x), expected, rtol=1e-12, atol=1e-12)  # float64: rounding only


@pytest.mark.parametrize("width", [1, 2, 4, 8])
def test_resnet18_tensor_count_does_not_depend_on_width(width):
    model = ResNet18(num_classes=10, in_channels=1, width=width)
    assert len(parameter_blocks(model)) == 62
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_resnet18_has_3x3_stem_and_no_maxpool():
    model = ResNet18(width=4)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("depth", [1, 2, 7])
def test_vit_tensor_count_and_class_token(depth):
    model = ViT(image_size=8, patch_size=2, in_channels=1, dim=16, depth=depth, heads=2, mlp_dim=32)
    names = [n for n, _ in parameter_blocks(model)]
    assert len(names) == 8 + 12 * depth
    assert "cls_token" in names and "pos_embed" in names
    assert model.pos_embed.shape == (1, 16 + 1, 16)  # 16 patches + class token
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 10)


def test_vit_is_pre_norm():
    block = ViT(image_size=8, patch_size=4, in_channels=1, dim=8, depth=1, heads=2, mlp_dim=8).blocks[0]
    x = torch.randn(2, 5, 8)
    # pre-norm: the residual stream passes unnormalised; zero sub-layers make the block the identity
    for p in (block.attn.proj.weight, block.attn.proj.bias, block.fc2.weight, block.fc2.bias):
        torch.nn.init.zeros_(p)
    assert torch.equal(block(x), x)


def test_build_model_all_architectures():
    for arch in ARCHITECTURES:
        m = build_model(arch, in_channels=1, image_size=8, num_classes=10)
        assert m(torch.randn(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: build_model("resnet50", in_channels=1, image_size=8, num_classes=10), "unknown architecture"),
        (lambda: build_model("vit", in_channels=1, image_size=8, num_classes=10, width=3), "does not take"),
        (lambda: ViT(image_size=8, patch_size=3), "must divide"),
        (lambda: ViT(image_size=8, patch_size=2, dim=10, heads=3), "divisible"),
        (lambda: ResNet18(width=0), ">= 1"),
        (lambda: ResNet18(blocks_per_stage=(2, 2, 2)), "4 entries"),
    ],
)
def test_bad_model_options(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_non_integer_width_is_a_type_error():
    with pytest.raises(TypeError):
        ResNet18(width=2.5)
