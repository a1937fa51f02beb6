"""Text (IMDb) and Image (CIFAR-10) through tfds, with tfds.testing.mock_data (no TensorFlow)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from lra.data import DataError, image, load_dataset
from lra.data import text as text_task

from .helpers import make_config

N = 6


@pytest.fixture
def mocked():
    with tfds.testing.mock_data(num_examples=N, policy=tfds.testing.MockPolicy.USE_CODE):
        yield


def test_text_bytes_plus_one(tmp_path, mocked, monkeypatch):
    calls = []
    real = text_task.read_imdb
    monkeypatch.setattr(text_task, "read_imdb", lambda *a: calls.append(a[-1]) or real(*a))
    ds = load_dataset(make_config("text", tmp_path, max_length=12))
    assert len(calls) == 2  # train and test; val (= test) comes from the test split's cache entry
    assert ds.info.vocab_size == 257 and ds.info.num_classes == 2
    src = tfds.data_source("imdb_reviews", split="train", data_dir=str(tmp_path))
    for i in range(N):
        text = src[i]["text"]
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        ids = [b + 1 for b in raw[:12]]
        assert ds.splits["train"]["lengths"][i] == len(ids)
        assert np.asarray(ds.splits["train"]["inputs"][i, : len(ids)]).tolist() == ids
        assert not np.asarray(ds.splits["train"]["inputs"][i, len(ids):]).any()
        assert ds.splits["train"]["targets"][i] == int(src[i]["label"])
    assert ds.num_examples("val") == ds.num_examples("test") == N  # val = test split, as in LRA


def independent_tf_gray(rgb: np.ndarray) -> np.ndarray:
    y = (0.2989 * rgb[..., 0] + 0.5870 * rgb[..., 1] + 0.1140 * rgb[..., 2]) / 255.0
    return np.floor(y * 255.5).astype(np.int64)


@pytest.mark.parametrize("mode", ["tf", "pil"])
def test_image_grayscale_tokens(tmp_path, mocked, mode):
    ds = load_dataset(make_config("image", tmp_path, max_length=1024, grayscale=mode))
    assert ds.info.vocab_size == 256 and ds.info.num_classes == 10
    src = tfds.data_source("cifar10", split="test", data_dir=str(tmp_path))
    for i in range(N):
        rgb = np.asarray(src[i]["image"])
        got = np.asarray(ds.splits["test"]["inputs"][i]).astype(np.int64).reshape(32, 32)
        if mode == "pil":
            assert np.array_equal(got, np.asarray(Image.fromarray(rgb).convert("L")))
        else:
            diff = np.abs(got - independent_tf_gray(rgb.astype(np.float64)))
            assert diff.max() <= 1 and (diff > 0).mean() < 0.01
        assert ds.splits["test"]["targets"][i] == int(src[i]["label"])
    assert (ds.splits["test"]["lengths"] == 1024).all()
    b = next(ds.eval_batches("test", 4, 2))
    assert b["inputs"].shape == (2, 2, 1024) and b["inputs"].min() >= 0


def test_image_split_names():
    from lra.data import default_data_config

    d = default_data_config("image")
    assert image.split_names(d) == {"train": "train[:90%]", "val": "train[90%:]", "test": "test"}
    d.val_percent = 20
    assert image.split_names(d)["val"] == "train[80%:]"


def test_missing_tfds_data_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="tfds build cifar10"):
        load_dataset(make_config("image", tmp_path / "empty", max_length=1024))


def test_generate_refused_for_tfds_tasks(tmp_path):
    for task, n in (("text", 16), ("image", 1024)):
        with pytest.raises(DataError, match="must be\\s+downloaded"):
            load_dataset(make_config(task, tmp_path, max_length=n, source="generate"))
