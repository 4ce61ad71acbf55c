"""The networks of the experiments, written here with configurable size.

* :class:`ResNet18` -- the CIFAR variant of ResNet-18 (He et al. 2016, "Deep
  residual learning for image recognition", §4.2; the 3x3-stem, no-max-pool
  form used for 32x32 inputs, e.g. kuangliu/pytorch-cifar).  Four stages of
  ``blocks_per_stage`` basic blocks with ``width, 2 width, 4 width, 8 width``
  channels; a 1x1 convolution + batch norm on the shortcut whenever the shape
  changes.  At ``width=64, blocks_per_stage=(2, 2, 2, 2)`` and 10 classes it has
  11,173,962 parameters in **62 tensors** (the paper's "blocks"): stem conv +
  BN (3), 8 basic blocks x 6, 3 projection shortcuts x 3, the classifier (2).
  The tensor count does not depend on ``width``, so the small CPU presets keep
  the paper's block structure.
* :class:`ViT` -- a vision transformer (Dosovitskiy et al. 2021) for small
  images: non-overlapping patch embedding (a strided convolution), a learned
  class token and position embedding, ``depth`` pre-norm blocks
  (LayerNorm -> multi-head self-attention -> residual, LayerNorm -> GELU MLP ->
  residual), a final LayerNorm and a linear head on the class token.  It has
  ``8 + 12 depth`` parameter tensors (the paper reports 37 for its unnamed ViT;
  no standard layout gives 37 with a class token, so we report ours).  The
  ``paper`` preset uses the common CIFAR configuration of
  patch 4, dim 384, depth 7, 12 heads, MLP 1536 (about 12.6M parameters).
* :class:`TinyMLP`, :class:`TinyCNN` -- minute models for tests (exact dense
  Hessians in milliseconds).

Attention calls :func:`torch.nn.functional.scaled_dot_product_attention`; the
Hessian operators force its math kernel, which has second derivatives.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from numerics.hessian.reference_models import _BasicBlock  # one CIFAR basic block for the suite

ARCHITECTURES = ("resnet18", "vit", "mlp", "cnn")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stem (stride 1), no max-pool, four stages, global average pool, linear.

    Args:
        num_classes: output classes.
        in_channels: image channels.
        width: channels of the first stage (64 in the paper-size network).
        blocks_per_stage: basic blocks in each of the four stages ((2, 2, 2, 2) is ResNet-18).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        width: int = 64,
        blocks_per_stage: Sequence[int] = (2, 2, 2, 2),
    ) -> None:
        super().__init__()
        _positive_int("num_classes", num_classes)
        _positive_int("in_channels", in_channels)
        _positive_int("width", width)
        blocks_per_stage = tuple(blocks_per_stage)
        if len(blocks_per_stage) != 4:
            raise ValueError(f"blocks_per_stage must have 4 entries (one per stage), got {blocks_per_stage}")
        for b in blocks_per_stage:
            _positive_int("blocks_per_stage entry", b)
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        in_planes = width
        stages = []
        for i, (count, stride) in enumerate(zip(blocks_per_stage, (1, 2, 2, 2))):
            planes = width * 2**i
            blocks = []
            for j in range(count):
                blocks.append(_BasicBlock(in_planes, planes, stride if j == 0 else 1))
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(in_planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class _PreNormBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.fc2 = nn.Linear(mlp_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    """Vision transformer with a class token and pre-norm blocks.

    Args:
        image_size: side of the square input.
        patch_size: side of a patch (must divide ``image_size``).
        in_channels, num_classes: as usual.
        dim: embedding width (divisible by ``heads``).
        depth: transformer blocks.
        heads: attention heads.
        mlp_dim: hidden width of the MLPs.
    """

    def __init__(
        self,
        image_size: int = 32,
        patch_size: int = 4,
        in_channels: int = 3,
        num_classes: int = 10,
        dim: int = 384,
        depth: int = 7,
        heads: int = 12,
        mlp_dim: int = 1536,
    ) -> None:
        super().__init__()
        for name, v in (("image_size", image_size), ("patch_size", patch_size), ("in_channels", in_channels),
                        ("num_classes", num_classes), ("dim", dim), ("depth", depth), ("heads", heads),
                        ("mlp_dim", mlp_dim)):
            _positive_int(name, v)
        if image_size % patch_size:
            raise ValueError(f"patch_size={patch_size} must divide image_size={image_size}")
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, num_patches + 1, dim))
        self.blocks = nn.Sequential(*[_PreNormBlock(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (b, patches, dim)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


class TinyMLP(nn.Module):
    """Flatten -> Linear -> tanh -> Linear (tests: a few hundred parameters)."""

    def __init__(self, in_features: int, hidden: int = 16, num_classes: int = 10) -> None:
        super().__init__()
        _positive_int("in_features", in_features)
        _positive_int("hidden", hidden)
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x.flatten(1))))


class TinyCNN(nn.Module):
    """conv3x3 -> ReLU -> avg-pool(2) -> conv3x3 -> ReLU -> global mean -> linear (tests)."""

    def __init__(self, in_channels: int = 3, channels: int = 4, num_classes: int = 10) -> None:
        super().__init__()
        _positive_int("channels", channels)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))


def build_model(arch: str, *, in_channels: int, image_size: int, num_classes: int, **kwargs) -> nn.Module:
    """Instantiate an architecture by name with the data's shape and the preset's size options.

    Args:
        arch: one of :data:`ARCHITECTURES`.
        in_channels, image_size, num_classes: from the data set.
        **kwargs: the architecture's size options (``width``, ``blocks_per_stage`` for
            ResNet-18; ``patch_size``, ``dim``, ``depth``, ``heads``, ``mlp_dim`` for the
            ViT; ``hidden`` for the MLP; ``channels`` for the CNN).

    Raises:
        ValueError: unknown architecture or an option it does not take.
    """
    if arch == "resnet18":
        allowed = {"width", "blocks_per_stage"}
        factory = lambda **kw: ResNet18(num_classes, in_channels, **kw)  # noqa: E731
    elif arch == "vit":
        allowed = {"patch_size", "dim", "depth", "heads", "mlp_dim"}
        factory = lambda **kw: ViT(image_size, in_channels=in_channels, num_classes=num_classes, **kw)  # noqa: E731
    elif arch == "mlp":
        allowed = {"hidden"}
        factory = lambda **kw: TinyMLP(in_channels * image_size * image_size, num_classes=num_classes, **kw)  # noqa: E731
    elif arch == "cnn":
        allowed = {"channels"}
        factory = lambda **kw: TinyCNN(in_channels, num_classes=num_classes, **kw)  # noqa: E731
    else:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")
    unknown = set(kwargs) - allowed
    if unknown:
        raise ValueError(f"architecture {arch!r} does not take option(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    return factory(**kwargs)


def parameter_blocks(model: nn.Module) -> list[tuple[str, int]]:
    """``(name, numel)`` of every trainable parameter tensor, in model order (the paper's "blocks")."""
    return [(n, p.numel()) for n, p in model.named_parameters() if p.requires_grad]
