"""Data loaders: digits split, CIFAR-10 from disk (with malformed inputs), synthetic set, fixed orders."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from gpu_experiments.data import (
    DataError,
    augment_crop_flip,
    epoch_permutation,
    evaluation_indices,
    load_cifar10,
    load_dataset,
    load_digits_dataset,
    synthetic_cifar,
)


def test_digits_split_and_normalisation():
    d = load_digits_dataset(8, 1)
    assert d.x_train.shape == (1437, 1, 8, 8) and d.x_test.shape == (360, 1, 8, 8)
    assert torch.allclose(d.x_train.mean(), torch.tensor(0.0), atol=1e-5)
    assert torch.allclose(d.x_train.std(), torch.tensor(1.0), atol=1e-3)
    # stratified: every class in both splits
    assert set(d.y_test.tolist()) == set(range(10))
    # fixed split: a second load is identical
    assert d.fingerprint() == load_digits_dataset(8, 1).fingerprint()


def test_digits_resized_three_channels():
    d = load_digits_dataset(16, 3)
    assert d.x_train.shape == (1437, 3, 16, 16)
    assert torch.equal(d.x_train[:, 0], d.x_train[:, 1])


@pytest.mark.parametrize("kw, message", [({"image_size": 0}, "image_size"), ({"channels": 2}, "channels")])
def test_digits_bad_options(kw, message):
    with pytest.raises(ValueError, match=message):
        load_digits_dataset(**{"image_size": 8, "channels": 1, **kw})


def _write_cifar(root, n=20, corrupt=None):
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, n))}
        if corrupt == name:
            batch = {b"data": rng.integers(0, 256, (n, 100), dtype=np.uint8), b"labels": [0] * n}
        with open(os.path.join(root, name), "wb") as fh:
            pickle.dump(batch, fh)


def test_cifar10_loader_reads_python_batches(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-py")
    d = load_cifar10(tmp_path)  # the parent directory is accepted
    assert d.x_train.shape == (100, 3, 32, 32) and d.x_test.shape == (20, 3, 32, 32)
    assert d.y_train.dtype == torch.long
    assert not d.synthetic


def test_cifar10_missing_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_cifar10(tmp_path / "nope")
    with pytest.raises(DataError, match="needs --data-dir"):
        load_cifar10(None)


def test_cifar10_empty_directory(tmp_path):
    with pytest.raises(DataError, match="no CIFAR-10 batches"):
        load_cifar10(tmp_path)


def test_cifar10_missing_file(tmp_path):
    _write_cifar(tmp_path)
    os.remove(tmp_path / "data_batch_3")
    with pytest.raises(DataError, match="data_batch_3"):
        load_cifar10(tmp_path)


def test_cifar10_malformed_file(tmp_path):
    _write_cifar(tmp_path, corrupt="data_batch_2")
    with pytest.raises(DataError, match="shape"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="not a readable python pickle"):
        load_cifar10(tmp_path)


def test_synthetic_cifar_shape_and_flag():
    d = synthetic_cifar(num_train=50, num_test=20)
    assert d.x_train.shape == (50, 3, 32, 32) and d.synthetic
    assert "SYNTHETIC" in d.description
    with pytest.raises(ValueError):
        synthetic_cifar(num_train=5)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")


def test_evaluation_indices_fixed_and_checked():
    a, b = evaluation_indices(1437, 64), evaluation_indices(1437, 64)
    assert torch.equal(a, b) and len(set(a.tolist())) == 64
    assert torch.equal(evaluation_indices(1437, 128)[:64], a)  # nested: a larger set extends a smaller one
    with pytest.raises(ValueError, match="exceeds"):
        evaluation_indices(10, 11)
    with pytest.raises(ValueError):
        evaluation_indices(10, 0)


def test_epoch_permutation_is_a_function_of_seed_and_epoch():
    assert torch.equal(epoch_permutation(100, 3, 5), epoch_permutation(100, 3, 5))
    assert not torch.equal(epoch_permutation(100, 3, 5), epoch_permutation(100, 3, 6))
    assert not torch.equal(epoch_permutation(100, 3, 5), epoch_permutation(100, 4, 5))


def test_augmentation_deterministic_and_shape_preserving():
    x = torch.randn(6, 3, 8, 8)
    a, b = augment_crop_flip(x, 1, 7, padding=2), augment_crop_flip(x, 1, 7, padding=2)
    assert a.shape == x.shape and torch.equal(a, b)
    # each output image is a shifted (and maybe flipped) window of the zero-padded input
    padded = torch.nn.functional.pad(x, (2,) * 4)
    for i in range(6):
        found = any(
            torch.equal(a[i], w) or torch.equal(a[i], w.flip(-1))
            for r in range(5) for c in range(5) for w in [padded[i, :, r : r + 8, c : c + 8]]
        )
        assert found
