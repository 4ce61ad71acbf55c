"""Small reference networks used to validate and benchmark the Hessian engine.

These are deliberately minimal, dependency-free definitions (no torchvision):

* :class:`TanhMLP` -- a fully connected tanh network (about 2k parameters for the
  8x8 digits data with ``hidden=(24, 24)``... see :func:`digits_mlp`).
* :class:`SmallBNCNN` -- a two-convolution CNN with batch normalisation.
* :class:`ViT` -- a vision transformer (Dosovitskiy et al. 2021) for small
  images: strided-convolution patch embedding, learned position embedding,
  ``depth`` pre-norm blocks, a class token (``pool="cls"``) or mean pooling
  (``pool="mean"``); it calls :func:`torch.nn.functional.scaled_dot_product_attention`
  (the kernel choice matters for forward-mode AD, see :mod:`numerics.hessian.operators`).
  :class:`TinyViT` is its one-block, mean-pooled, 1.6k-parameter form.
* :class:`ResNet18` -- the CIFAR variant of ResNet-18 (He et al. 2016, "Deep
  residual learning for image recognition", §4.2: 3x3 stem, no max-pool) with a
  configurable width; :func:`cifar_resnet18` is the paper-size network
  (11,173,962 parameters in 62 tensors for 10 classes).

These are the suite's only definitions of the two architectures: the experiments
(:mod:`gpu_experiments.models`) build theirs from them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class TanhMLP(nn.Module):
    """Fully connected network with tanh activations."""

    def __init__(self, in_features: int, hidden: Sequence[int], out_features: int) -> None:
        super().__init__()
        widths = [in_features, *hidden, out_features]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return self.layers[-1](x)


class SmallBNCNN(nn.Module):
    """conv(3x3) -> BN -> ReLU -> pool -> conv(3x3) -> BN -> ReLU -> global pool -> linear."""

    def __init__(self, in_channels: int = 1, channels: int = 6, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * channels)
        self.fc = nn.Linear(2 * channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean(dim=(2, 3)))


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


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
    """Vision transformer with pre-norm blocks, a class token or mean pooling.

    With a class token it has ``8 + 12 depth`` parameter tensors.  The paper-size CIFAR
    configuration is patch 4, dim 384, depth 7, 12 heads, MLP 1536 (about 12.6M parameters).

    Args:
        image_size: side of the square input.
        patch_size: side of a patch (must divide ``image_size``).
        in_channels, num_classes: as usual.
        dim: embedding width (divisible by ``heads``).
        depth: transformer blocks.
        heads: attention heads.
        mlp_dim: hidden width of the MLPs.
        pool: ``"cls"`` (a learned class token feeds the head) or ``"mean"`` (mean over patches).
        final_norm: a LayerNorm before the head.
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
        *,
        pool: str = "cls",
        final_norm: bool = True,
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
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        self.pool = pool
        num_patches = (image_size // patch_size) ** 2
        # a strided convolution = a linear map of each flattened (channel, row, column) patch
        self.patch_embed = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        if pool == "cls":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, num_patches + (pool == "cls"), dim))
        self.blocks = nn.Sequential(*[_PreNormBlock(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim) if final_norm else nn.Identity()
        self.head = nn.Linear(dim, num_classes)
        if pool == "cls":
            nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (b, patches, dim)
        if self.pool == "cls":
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.norm(self.blocks(x + self.pos_embed))
        return self.head(x[:, 0] if self.pool == "cls" else x.mean(dim=1))


class TinyViT(ViT):
    """One pre-norm transformer block on non-overlapping patches, mean-pooled, no final norm."""

    def __init__(
        self,
        image_size: int = 8,
        patch_size: int = 4,
        in_channels: int = 1,
        dim: int = 12,
        heads: int = 2,
        mlp_dim: int = 24,
        num_classes: int = 10,
    ) -> None:
        super().__init__(image_size, patch_size, in_channels, num_classes, dim, 1, heads, mlp_dim,
                         pool="mean", final_norm=False)


class _BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stem (stride 1), no max-pool, four stages, global average pool, linear.

    Four stages of ``blocks_per_stage`` basic blocks with ``width, 2 width, 4 width, 8 width``
    channels; a 1x1 convolution + batch norm on the shortcut whenever the shape changes.  At
    ``width=64, blocks_per_stage=(2, 2, 2, 2)`` and 10 classes: 11,173,962 parameters in 62
    tensors (stem conv + BN (3), 8 basic blocks x 6, 3 projection shortcuts x 3, classifier (2));
    the tensor count does not depend on ``width``.

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


CifarResNet18 = ResNet18  # former name of the paper-size class


def cifar_resnet18(num_classes: int = 10) -> ResNet18:
    """CIFAR ResNet-18 with 11,173,962 parameters in 62 tensors (for 10 classes)."""
    return ResNet18(num_classes)


# ----------------------------------------------------------------------------
# The digits validation problems (sklearn's 8x8 digits, 1797 images, 10 classes)
# ----------------------------------------------------------------------------

STAGES = {"init": 0, "partial": 30, "converged": 300}
"""Full-batch Adam steps (lr 1e-2) that define the training stages."""

ARCHITECTURES = ("mlp", "cnn", "vit")


def digits_data(num_samples: int | None = None, dtype: torch.dtype = torch.float64):
    """``(X, y)`` of ``sklearn.datasets.load_digits``: pixels scaled to [0, 1], shape ``(N, 1, 8, 8)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = torch.as_tensor(d.images / 16.0, dtype=dtype)[:, None]
    y = torch.as_tensor(d.target, dtype=torch.long)
    if num_samples is not None:
        X, y = X[:num_samples], y[:num_samples]
    return X, y


def make_digits_model(architecture: str, seed: int = 0) -> nn.Module:
    """The three validation architectures (float64): ~2.1k-parameter tanh MLP, BN-CNN, tiny ViT."""
    torch.manual_seed(seed)
    if architecture == "mlp":
        model = TanhMLP(64, (24, 16), 10)
    elif architecture == "cnn":
        model = SmallBNCNN(1, 6, 10)
    elif architecture == "vit":
        model = TinyViT(8, 4, 1, 12, 2, 24, 10)
    else:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {ARCHITECTURES}")
    return model.double()


def trained_digits_model(
    architecture: str, stage: str, seed: int = 0, num_samples: int | None = None, hessian_samples: int = 512
):
    """``(model, loss_fn, (X_h, y_h))`` at a training stage (full-batch Adam in train mode).

    Trains on the first ``num_samples`` digits (all 1797 by default) and returns
    the first ``hessian_samples`` of them as the batch for the curvature.  The
    model is returned in eval mode; batch-norm running statistics are those
    accumulated during training (momentum 0.1), as in practice.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {tuple(STAGES)}")
    X, y = digits_data(num_samples)
    model = make_digits_model(architecture, seed)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(STAGES[stage]):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    if STAGES[stage] == 0 and any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        with torch.no_grad():  # calibrate running statistics so eval mode is sensible at init
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.momentum = None
            model(X)
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.momentum = 0.1
    model.eval()
    return model, loss_fn, (X[:hessian_samples], y[:hessian_samples])
