"""Image (LRA, CIFAR-10 through tfds ``cifar10``): 32x32 grayscale -> 1024 pixel tokens, 10 classes.

Grey values 0-255 (vocab 256; 0 is a real pixel). ``data.grayscale='tf'`` reproduces LRA's
``tf.image.rgb_to_grayscale`` exactly in float32: trunc((sum_c w_c x_c/255) * 255.5) with
w = (0.2989, 0.5870, 0.1140); 'pil' is PIL's 'L' conversion (S4). Splits: train =
train[:100-p%], val = train[100-p%:] (p = data.val_percent, 10 as in LRA: 45k/5k), test = test.
"""
from __future__ import annotations

import numpy as np

from lra.data.cache import ArrayBuilder
from lra.data.errors import DataError
from lra.data.tasks import TaskSpec, register_task
from lra.data.tfds_source import check_label, load_tfds_splits, locate_tfds, tfds_hint
from wavspa_flax.errors import ConfigError

TFDS_NAME = "cifar10"
_TF_GRAY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], np.float32)


def split_names(data_config) -> dict[str, str]:
    """Our split name -> tfds split (validation = the last ``val_percent`` % of train)."""
    p = int(data_config.val_percent)
    if not 0 < p < 100:
        raise ConfigError(f"config.data.val_percent={p} must be in 1..99")
    return {"train": f"train[:{100 - p}%]", "val": f"train[{100 - p}%:]", "test": "test"}


def tf_grayscale(images: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] -> uint8 [...], tf.image.rgb_to_grayscale on uint8 input (float32 math)."""
    f = images.astype(np.float32) * np.float32(1.0 / 255.0)
    gray = (f * _TF_GRAY_WEIGHTS).sum(-1, dtype=np.float32)
    return (gray * np.float32(255.5)).astype(np.uint8)


def pil_grayscale(images: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] -> uint8 [...], PIL's 'L' conversion (ITU-R 601-2 luma, fixed point)."""
    x = images.astype(np.uint32)
    return ((x[..., 0] * 19595 + x[..., 1] * 38470 + x[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


GRAYSCALES = {"tf": tf_grayscale, "pil": pil_grayscale}


def read_cifar(source, limit: int, grayscale: str, builder: ArrayBuilder, what: str) -> tuple[int, dict]:
    """CIFAR-10 examples -> inputs uint8 [N, 1024], lengths int32 [N] (= 1024), targets uint8 [N]."""
    convert = GRAYSCALES[grayscale]
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
        targets[i] = check_label(ex["label"], 10, f"{what} example {i}")
    lengths[:] = 1024
    return n, {}


def load_image(config, info, root, cache_root):
    grayscale = str(config.data.grayscale)
    return load_tfds_splits(config, info, root, cache_root, TFDS_NAME, split_names(config.data),
                            lambda src, lim, b, what: read_cifar(src, lim, grayscale, b, what),
                            extra_params=dict(grayscale=grayscale))


def check_image(config) -> None:
    if int(config.max_length) != 1024:
        raise ConfigError(f"image: config.max_length={config.max_length}, but CIFAR-10 images are 32x32 = 1024 "
                          "tokens; set config.max_length=1024")
    if config.data.grayscale not in GRAYSCALES:
        raise ConfigError(f"config.data.grayscale={config.data.grayscale!r}: expected one of {tuple(GRAYSCALES)}")


register_task(TaskSpec(
    name="image", kind="classification", vocab_size=256, num_classes=10, sources=("tfds",), load=load_image,
    max_length=1024, check=check_image, download_hint=tfds_hint(TFDS_NAME), data_dir="tfds",
    locate=lambda config, root: locate_tfds("image", TFDS_NAME, root),
    data=dict(download=False, val_percent=10, grayscale="tf"),
))
