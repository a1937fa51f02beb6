"""Text (LRA, IMDb reviews through tfds ``imdb_reviews``): byte-level binary classification.

Tokens: UTF-8 byte + 1 (vocab 257, 0 = pad, no EOS), cut to max_length (LRA: 1000 at HEAD,
4096 in the WavSpA runs). IMDb has no validation split: like LRA (and the official WavSpA code,
which picked its best state on it), validation is the test split (``data.val_split='test'``).
"""
from __future__ import annotations

import numpy as np

from lra.data.cache import ArrayBuilder
from lra.data.encoding import BYTE_VOCAB_SIZE, Truncations, encode_bytes
from lra.data.errors import DataError
from lra.data.tasks import TaskSpec, register_task
from lra.data.tfds_source import check_label, load_tfds_splits, locate_tfds, tfds_hint

TFDS_NAME = "imdb_reviews"


def split_names(data_config) -> dict[str, str]:
    """Our split name -> tfds split."""
    return {"train": "train", "val": str(data_config.val_split), "test": "test"}


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
        targets[i] = check_label(ex["label"], 2, f"{what} example {i}")
    trunc.report()
    return n, {"truncated": trunc.count}


def load_text(config, info, root, cache_root):
    return load_tfds_splits(config, info, root, cache_root, TFDS_NAME, split_names(config.data),
                            lambda src, lim, b, what: read_imdb(src, info.max_length, lim, b, what))


register_task(TaskSpec(
    name="text", kind="classification", vocab_size=BYTE_VOCAB_SIZE, num_classes=2, sources=("tfds",),
    load=load_text, max_length=4096, download_hint=tfds_hint(TFDS_NAME), data_dir="tfds",
    locate=lambda config, root: locate_tfds("text", TFDS_NAME, root),
    data=dict(download=False, val_split="test"), val_is_test=lambda data: data.val_split == "test",
))
