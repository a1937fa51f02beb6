"""Shared helpers of the data tests (not a test module)."""
from __future__ import annotations

import ml_collections

from lra.data import default_data_config, default_max_length


def make_config(task: str, data_dir, max_length: int | None = None, **data) -> ml_collections.ConfigDict:
    """A whole task config as the training loop would pass it: task, max_length, seed, data."""
    d = default_data_config(task)
    d.dir = str(data_dir)
    for key, value in data.items():
        setattr(d, key, value)
    cfg = ml_collections.ConfigDict()
    cfg.task = task
    cfg.seed = 0
    cfg.max_length = max_length if max_length is not None else default_max_length(task, d)
    cfg.data = d
    return cfg


def first_split_rows(batches, key="targets"):
    """Concatenates `key` of device-shaped batches back to [N, ...], keeping weight-1 rows."""
    import numpy as np

    rows, weights = [], []
    for b in batches:
        x = b[key].reshape((-1,) + b[key].shape[2:])
        w = b["weights"].reshape((x.shape[0], -1))[:, 0] if b["weights"].ndim > 2 else b["weights"].reshape(-1)
        rows.append(x)
        weights.append(w)
    return np.concatenate(rows), np.concatenate(weights)
