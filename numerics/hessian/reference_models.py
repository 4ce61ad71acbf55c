"""Small reference networks used to validate and benchmark the Hessian engine.

These are deliberately minimal, dependency-free definitions (no torchvision):

* :class:`TanhMLP` -- a fully connected tanh network (about 2k parameters for the
  8x8 digits data with ``hidden=(24, 24)``... see :func:`digits_mlp`).
* :class:`SmallBNCNN` -- a two-convolution CNN with batch normalisation.
* :class:`TinyViT` -- a one-block vision transformer that calls
  :func:`torch.nn.functional.scaled_dot_product_attention` (the kernel choice
  matters for forward-mode AD, see :mod:`numerics.hessian.operators`).
* :func:`cifar_resnet18` -- the CIFAR variant of ResNet-18 (3x3 stem, no max-pool,
  11,173,962 parameters in 62 tensors), He et al. 2016, "Deep residual learning".
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


class TinyViT(nn.Module):
    """One pre-norm transformer block on non-overlapping patches, mean-pooled."""

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
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        self.patch_size = patch_size
        self.heads = heads
        num_patches = (image_size // patch_size) ** 2
        self.embed = nn.Linear(in_channels * patch_size * patch_size, dim)
        self.pos = nn.Parameter(0.02 * torch.randn(num_patches, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp1 = nn.Linear(dim, mlp_dim)
        self.mlp2 = nn.Linear(mlp_dim, dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        p = self.patch_size
        x = x.unfold(2, p, p).unfold(3, p, p)  # b, c, h/p, w/p, p, p
        x = x.permute(0, 2, 3, 1, 4, 5).reshape(b, (h // p) * (w // p), c * p * p)
        x = self.embed(x) + self.pos
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        split = lambda t: t.reshape(b, -1, self.heads, t.shape[-1] // self.heads).transpose(1, 2)  # noqa: E731
        att = F.scaled_dot_product_attention(split(q), split(k), split(v))
        x = x + self.proj(att.transpose(1, 2).reshape(b, -1, q.shape[-1]))
        x = x + self.mlp2(F.gelu(self.mlp1(self.norm2(x))))
        return self.head(x.mean(dim=1))


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


class CifarResNet18(nn.Module):
    """ResNet-18 for 32x32 inputs: 3x3 stem, no max-pool, [2, 2, 2, 2] basic blocks."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers = []
        in_planes = 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks = [_BasicBlock(in_planes, planes, stride), _BasicBlock(planes, planes, 1)]
            in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def cifar_resnet18(num_classes: int = 10) -> CifarResNet18:
    """CIFAR ResNet-18 with 11,173,962 parameters in 62 tensors (for 10 classes)."""
    return CifarResNet18(num_classes)


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
