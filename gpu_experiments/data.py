"""Data sets of the experiments: embedded digits, CIFAR-10 from disk, synthetic CIFAR-shaped.

Every loader returns a :class:`Dataset` of float tensors ``(N, C, H, W)`` already
normalised per channel with the *training* split's statistics, plus integer labels.

* ``digits`` (the embedded default): scikit-learn's 1797 8x8 handwritten digits
  (UCI optdigits test set; Alpaydin & Kaynak 1998), no download.  Fixed
  stratified split of 1437 training / 360 test images (``train_test_split``,
  ``random_state=0``), bilinear resize to ``image_size`` when it is not 8, the
  grey channel repeated ``channels`` times.
* ``cifar10``: the standard python-format batches of Krizhevsky (2009)
  (``data_batch_1`` .. ``data_batch_5``, ``test_batch``; pickled dicts with
  ``b"data"`` uint8 ``(10000, 3072)`` and ``b"labels"``) read from ``data_dir``
  or ``data_dir/cifar-10-batches-py``.  Nothing is downloaded: a missing or
  malformed directory raises :class:`DataError` naming the file and the problem.
* ``synthetic-cifar``: a CIFAR-shaped (3x32x32, 10 classes) Gaussian mixture for
  speed tests only: class ``k`` images are a fixed random smooth template plus
  i.i.d. noise.  It is learnable but says nothing about CIFAR-10.

The Hessian evaluation set is a fixed subset of the training split chosen by a
fixed permutation (seed 12345) that does not depend on the run's seed, so every
run of a grid is measured on the same images (:func:`evaluation_indices`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

DATASETS = ("digits", "cifar10", "synthetic-cifar")

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"

#: seed of the permutation that picks the Hessian evaluation images (same for every run)
EVAL_PERMUTATION_SEED = 12345


class DataError(ValueError):
    """A data set could not be loaded (missing directory or file, malformed content)."""


@dataclass
class Dataset:
    """Normalised train/test tensors (on CPU) and a description."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    description: str
    synthetic: bool = False

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.x_train.shape[-1])

    def fingerprint(self) -> str:
        """Short hash of the tensors (detects a changed data set under an unchanged config)."""
        h = hashlib.sha256()
        for t in (self.x_train, self.y_train, self.x_test, self.y_test):
            h.update(np.ascontiguousarray(t.numpy()).tobytes())
        return h.hexdigest()[:16]


def _check_shape_options(image_size: int, channels: int) -> None:
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")


def _normalise(x_train: torch.Tensor, x_test: torch.Tensor, mean=None, std=None):
    if mean is None:
        mean = x_train.mean(dim=(0, 2, 3))
        std = x_train.std(dim=(0, 2, 3))
    mean = torch.as_tensor(mean, dtype=x_train.dtype).view(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=x_train.dtype).view(1, -1, 1, 1)
    return (x_train - mean) / std, (x_test - mean) / std


def load_digits_dataset(image_size: int = 8, channels: int = 1) -> Dataset:
    """scikit-learn digits: 1437/360 stratified split, resized to ``image_size``, standardised."""
    _check_shape_options(image_size, channels)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    idx_train, idx_test = train_test_split(
        np.arange(len(d.target)), test_size=360, random_state=0, stratify=d.target
    )
    x = torch.as_tensor(d.images / 16.0, dtype=torch.float32)[:, None]
    if image_size != 8:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    if channels == 3:
        x = x.repeat(1, 3, 1, 1)
    y = torch.as_tensor(d.target, dtype=torch.long)
    x_train, x_test = _normalise(x[idx_train], x[idx_test])
    return Dataset(
        "digits", x_train, y[idx_train], x_test, y[idx_test], 10,
        f"scikit-learn digits, {len(idx_train)} train / {len(idx_test)} test, "
        f"{channels}x{image_size}x{image_size}, standardised with train statistics",
    )


def _read_cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not os.path.isfile(path):
        raise DataError(f"CIFAR-10 file missing: {path} (expected the python-format batches, no download is attempted)")
    try:
        with open(path, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a malformed file
        raise DataError(f"CIFAR-10 file {path} is not a readable python pickle: {exc}") from exc
    if not isinstance(batch, dict):
        raise DataError(f"CIFAR-10 file {path}: expected a dict, got {type(batch).__name__}")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"CIFAR-10 file {path}: missing 'data' or 'labels' key (keys: {list(batch)[:6]})")
    data = np.asarray(data)
    labels = np.asarray(labels)
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise DataError(f"CIFAR-10 file {path}: 'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise DataError(f"CIFAR-10 file {path}: {labels.shape} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"CIFAR-10 file {path}: labels outside 0..9")
    return data, labels.astype(np.int64)


def cifar10_directory(data_dir) -> str:
    """The directory holding the batches: ``data_dir`` itself or ``data_dir/cifar-10-batches-py``."""
    if data_dir is None:
        raise DataError("CIFAR-10 needs --data-dir (the python-format batches); nothing is downloaded")
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise DataError(f"data directory does not exist: {data_dir}")
    for candidate in (data_dir, os.path.join(data_dir, "cifar-10-batches-py")):
        if os.path.isfile(os.path.join(candidate, CIFAR10_TEST_FILE)):
            return candidate
    raise DataError(
        f"no CIFAR-10 batches in {data_dir}: expected {CIFAR10_TEST_FILE} and data_batch_1..5 there or in "
        "cifar-10-batches-py/ (download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and unpack it)"
    )


def load_cifar10(data_dir, train_limit: int | None = None, test_limit: int | None = None) -> Dataset:
    """CIFAR-10 from the python-format batches in ``data_dir`` (no download); standard mean/std."""
    root = cifar10_directory(data_dir)
    parts = [_read_cifar_batch(os.path.join(root, f)) for f in CIFAR10_TRAIN_FILES]
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    x_te, y_te = _read_cifar_batch(os.path.join(root, CIFAR10_TEST_FILE))
    if train_limit:
        x_tr, y_tr = x_tr[:train_limit], y_tr[:train_limit]
    if test_limit:
        x_te, y_te = x_te[:test_limit], y_te[:test_limit]
    to_t = lambda a: torch.as_tensor(a.reshape(-1, 3, 32, 32), dtype=torch.float32) / 255.0  # noqa: E731
    x_train, x_test = _normalise(to_t(x_tr), to_t(x_te), CIFAR10_MEAN, CIFAR10_STD)
    return Dataset(
        "cifar10", x_train, torch.as_tensor(y_tr), x_test, torch.as_tensor(y_te), 10,
        f"CIFAR-10 from {root}: {len(y_tr)} train / {len(y_te)} test, 3x32x32",
    )


def synthetic_cifar(num_train: int = 50_000, num_test: int = 10_000, seed: int = 0, noise: float = 1.0) -> Dataset:
    """CIFAR-shaped class-conditional Gaussian data (speed tests only; not CIFAR-10)."""
    for name, v in (("num_train", num_train), ("num_test", num_test)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 10:
            raise ValueError(f"{name} must be an integer >= 10, got {v!r}")
    g = torch.Generator().manual_seed(seed)
    # smooth class templates: low-resolution noise upsampled, so convolutions have something to find
    templates = F.interpolate(torch.randn(10, 3, 8, 8, generator=g), size=(32, 32), mode="bilinear",
                              align_corners=False)

    def draw(n):
        y = torch.arange(n) % 10
        y = y[torch.randperm(n, generator=g)]
        x = templates[y] + noise * torch.randn(n, 3, 32, 32, generator=g)
        return x, y

    x_train, y_train = draw(num_train)
    x_test, y_test = draw(num_test)
    x_train, x_test = _normalise(x_train, x_test)
    return Dataset(
        "synthetic-cifar", x_train, y_train, x_test, y_test, 10,
        f"SYNTHETIC CIFAR-shaped Gaussian mixture ({num_train} train / {num_test} test, 3x32x32), speed tests only",
        synthetic=True,
    )


def load_dataset(name: str, *, data_dir=None, image_size: int = 8, channels: int = 1, **options) -> Dataset:
    """Dispatch on the data set name (see the module docstring)."""
    if name == "digits":
        if options:
            raise ValueError(f"digits takes no options besides image_size/channels, got {sorted(options)}")
        return load_digits_dataset(image_size, channels)
    if name == "cifar10":
        return load_cifar10(data_dir, **options)
    if name == "synthetic-cifar":
        return synthetic_cifar(**options)
    raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")


def evaluation_indices(num_train: int, size: int) -> torch.Tensor:
    """Indices of the fixed Hessian evaluation set: the first ``size`` of a fixed permutation."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"evaluation set size must be a positive integer, got {size!r}")
    if size > num_train:
        raise ValueError(f"evaluation set size {size} exceeds the {num_train} training images")
    g = torch.Generator().manual_seed(EVAL_PERMUTATION_SEED)
    return torch.randperm(num_train, generator=g)[:size]


def epoch_permutation(num_train: int, seed: int, epoch: int) -> torch.Tensor:
    """Shuffling order of one epoch, a pure function of ``(seed, epoch)`` (so a resumed run sees the same order)."""
    g = torch.Generator().manual_seed(1_000_003 * int(seed) + int(epoch))
    return torch.randperm(num_train, generator=g)


def augment_crop_flip(x: torch.Tensor, seed: int, step: int, padding: int = 4) -> torch.Tensor:
    """Random crop with zero padding and horizontal flip (the standard CIFAR augmentation).

    The randomness is a pure function of ``(seed, step)`` and is drawn on the CPU,
    so it is identical on every device and after a resume.
    """
    g = torch.Generator().manual_seed(7_919 * int(seed) + int(step) + 1)
    b, _, h, w = x.shape
    shifts = torch.randint(0, 2 * padding + 1, (b, 2), generator=g)
    flips = torch.rand(b, generator=g) < 0.5
    padded = F.pad(x, (padding,) * 4)
    # gather crops with one advanced index: rows/cols offset per image
    rows = (shifts[:, 0].view(b, 1) + torch.arange(h).view(1, h)).to(x.device)
    cols = (shifts[:, 1].view(b, 1) + torch.arange(w).view(1, w)).to(x.device)
    bi = torch.arange(b, device=x.device).view(b, 1, 1)
    out = padded.permute(0, 2, 3, 1)[bi, rows.view(b, h, 1), cols.view(b, 1, w)].permute(0, 3, 1, 2)
    flips = flips.to(x.device)
    return torch.where(flips.view(b, 1, 1, 1), out.flip(-1), out)
