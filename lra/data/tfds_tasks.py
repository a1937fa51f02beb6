"""Text (IMDb) and Image (CIFAR-10) through tensorflow-datasets' random-access `data_source`.

No TensorFlow is needed: `tfds.data_source(name, split=..., data_dir=...)` reads the
array_record files of a prepared dataset. Prepare them once on a machine with network:
`tfds build imdb_reviews --data_dir=<data.dir> --file_format=array_record` (same for cifar10), or
set data.download=True.

Text: byte-level, id = UTF-8 byte + 1 (vocab 257, 0 = pad, no EOS), cut to max_length (LRA:
1000 at HEAD, 4096 in the WavSpA runs). Splits: train / val = data.val_split ('test' as in LRA,
which validates IMDb on its test set) / test.
Image: grayscale 32x32 -> 1024 pixel tokens 0-255 (vocab 256, 0 is a real pixel). 'tf' grayscale
reproduces LRA's tf.image.rgb_to_grayscale exactly in float32: trunc((sum_c w_c x_c/255) * 255.5)
with w = (0.2989, 0.5870, 0.1140); 'pil' is PIL's 'L' conversion (S4). Splits: train =
train[:100-p%], val = train[100-p%:] (p = data.val_percent, 10 as in LRA: 45k/5k), test = test.
"""
from __future__ import annotations

import os

import numpy as np

from lra.data.cache import ArrayBuilder
from lra.data.encoding import Truncations, encode_bytes
from lra.data.errors import DOWNLOAD_HINTS, DataError

TFDS_NAMES = {"text": "imdb_reviews", "image": "cifar10"}
_TF_GRAY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], np.float32)


def tfds_split_names(task: str, data_config) -> dict[str, str]:
    """Our split name -> tfds split string."""
    if task == "text":
        return {"train": "train", "val": str(data_config.val_split), "test": "test"}
    p = int(data_config.val_percent)
    if not 0 < p < 100:
        raise ValueError(f"data.val_percent={p} must be in 1..99")
    return {"train": f"train[:{100 - p}%]", "val": f"train[{100 - p}%:]", "test": "test"}


def open_source(task: str, split: str, data_dir: str, download: bool):
    """The tfds random-access data source of one split, or a DataError saying how to get it."""
    import tensorflow_datasets as tfds

    name = TFDS_NAMES[task]
    try:
        return tfds.data_source(name, split=split, data_dir=data_dir, download=download)
    except Exception as e:  # tfds raises several types for "not prepared / wrong format"
        raise DataError(
            f"{task}: could not open tfds dataset {name!r} split {split!r} in data_dir {data_dir!r} "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). Get it via "
            f"{DOWNLOAD_HINTS[task]}."
        ) from e


def tfds_files(task: str, data_dir: str) -> list[str]:
    """Files of the prepared dataset (for the cache fingerprint); empty if none on disk."""
    folder = os.path.join(data_dir, TFDS_NAMES[task])
    out = []
    for base, _, files in os.walk(folder):
        out += [os.path.join(base, f) for f in sorted(files)]
    return sorted(out)


def tf_grayscale(images: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] -> uint8 [...], tf.image.rgb_to_grayscale on uint8 input (float32 math)."""
    f = images.astype(np.float32) * np.float32(1.0 / 255.0)
    gray = (f * _TF_GRAY_WEIGHTS).sum(-1, dtype=np.float32)
    return (gray * np.float32(255.5)).astype(np.uint8)


def pil_grayscale(images: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] -> uint8 [...], PIL's 'L' conversion (ITU-R 601-2 luma, fixed point)."""
    x = images.astype(np.uint32)
    return ((x[..., 0] * 19595 + x[..., 1] * 38470 + x[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


def _check_label(label, num_classes: int, where: str) -> int:
    label = int(label)
    if not 0 <= label < num_classes:
        raise DataError(f"{where}: label {label} out of range 0..{num_classes - 1}")
    return label


def read_imdb(source, max_length: int, limit: int, builder: ArrayBuilder, what: str) -> tuple[int, dict]:
    """IMDb examples -> inputs uint16 [N, max_length], lengths int32 [N], targets uint8 [N]."""
    n = len(source) if limit <= 0 else min(limit, len(source))
    if n == 0:
        raise DataError(f"{what}: no examples")
    inputs = builder.zeros("inputs", (n, max_length), np.uint16)
    lengths = builder.zeros("lengths", (n,), np.int32)
    targets = builder.zeros("targets", (n,), np.uint8)
    trunc = Truncations(what, max_length)
    for i in range(n):
        ex = source[i]
        text = ex["text"]
        if isinstance(text, str):
            text = text.encode("utf-8")
        ids = trunc.clip(encode_bytes(bytes(text)))
        inputs[i, : len(ids)] = ids
        lengths[i] = len(ids)
        targets[i] = _check_label(ex["label"], 2, f"{what} example {i}")
    trunc.report()
    return n, {"truncated": trunc.count}


def read_cifar(source, limit: int, grayscale: str, builder: ArrayBuilder, what: str) -> tuple[int, dict]:
    """CIFAR-10 examples -> inputs uint8 [N, 1024], lengths int32 [N] (= 1024), targets uint8 [N]."""
    convert = {"tf": tf_grayscale, "pil": pil_grayscale}.get(grayscale)
    if convert is None:
        raise ValueError(f"data.grayscale={grayscale!r}: expected 'tf' or 'pil'")
    n = len(source) if limit <= 0 else min(limit, len(source))
    if n == 0:
        raise DataError(f"{what}: no examples")
    inputs = builder.zeros("inputs", (n, 1024), np.uint8)
    lengths = builder.zeros("lengths", (n,), np.int32)
    targets = builder.zeros("targets", (n,), np.uint8)
    for i in range(n):
        ex = source[i]
        image = np.asarray(ex["image"])
        if image.shape != (32, 32, 3):
            raise DataError(f"{what} example {i}: image shape {image.shape}, expected (32, 32, 3)")
        inputs[i] = convert(image).reshape(-1)
        targets[i] = _check_label(ex["label"], 10, f"{what} example {i}")
    lengths[:] = 1024
    return n, {}
