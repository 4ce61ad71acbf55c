"""The networks of the experiments, with configurable size.

:class:`ResNet18` and :class:`ViT` are defined once for the suite, in
:mod:`numerics.hessian.reference_models`, and re-exported here:

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

import torch
from torch import nn
from torch.nn import functional as F

from numerics.hessian.reference_models import ResNet18, ViT, _positive_int  # the suite's one model zoo

ARCHITECTURES = ("resnet18", "vit", "mlp", "cnn")


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
