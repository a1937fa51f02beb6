"""A damaged cache entry is rebuilt from the source (one warning), and labels are checked.

The damage is what a user can do by accident (or a full disk, a crash of an older version): a
truncated array, garbage metadata, a deleted array, labels outside the task's classes.
"""
from __future__ import annotations

import glob
import json
import logging
import os

import numpy as np
import pytest

from lra.data import load_dataset
from lra.data.cache import DamagedEntry, check_entry
from lra.data.dataset import label_problems

from .helpers import make_config

DATA = {"source": "generate", "num_train": 32, "num_val": 8, "num_test": 8, "min_tokens": 10, "max_tokens": 40,
        "max_depth": 3}


def _config(tmp_path):
    return make_config("listops", tmp_path / "data", max_length=64, **DATA)


def _entry(tmp_path, split="train") -> str:
    [entry] = glob.glob(str(tmp_path / "data" / "_wavspa_cache" / f"listops-{split}-*"))
    return entry


def _arrays(dataset) -> dict:
    return {split: {k: np.array(v) for k, v in arrays.items()} for split, arrays in dataset.splits.items()}


def _truncate(entry):
    with open(os.path.join(entry, "inputs.npy"), "r+b") as f:
        f.truncate(1000)


def _garbage_meta(entry):
    with open(os.path.join(entry, "meta.json"), "w") as f:
        f.write('{"count": ')


def _delete_lengths(entry):
    os.remove(os.path.join(entry, "lengths.npy"))


def _reshape_targets(entry):  # a whole, readable .npy with the right rows but the wrong shape
    targets = np.load(os.path.join(entry, "targets.npy"))
    np.save(os.path.join(entry, "targets.npy"), np.stack([targets, targets], axis=1))


@pytest.mark.parametrize("damage", [_truncate, _garbage_meta, _delete_lengths, _reshape_targets])
def test_damaged_entry_is_rebuilt_with_one_warning(tmp_path, caplog, damage):
    config = _config(tmp_path)
    expected = _arrays(load_dataset(config))
    entry = _entry(tmp_path)
    damage(entry)
    with pytest.raises(DamagedEntry):
        check_entry(entry)
    with caplog.at_level(logging.WARNING, logger="lra.data"):
        healed = _arrays(load_dataset(config))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "is damaged" in warnings[0] and "rebuilding" in warnings[0], warnings
    for split in expected:
        for key in expected[split]:
            np.testing.assert_array_equal(healed[split][key], expected[split][key])
    check_entry(entry)  # whole again
    caplog.clear()
    load_dataset(config)  # and served from the cache without a warning
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_cached_labels_out_of_range_are_rebuilt_from_the_source(tmp_path, caplog):
    config = _config(tmp_path)
    expected = np.array(load_dataset(config).splits["train"]["targets"])
    entry = _entry(tmp_path)
    targets = np.load(os.path.join(entry, "targets.npy"), mmap_mode="r+")
    targets[0] = 200  # listops has 10 classes
    targets.flush()
    del targets
    with caplog.at_level(logging.WARNING, logger="lra.data"):
        healed = load_dataset(config)
    assert any("labels out of range" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(np.array(healed.splits["train"]["targets"]), expected)


def test_label_check_covers_every_split_and_only_supervised_tokens():
    ok = {"targets": np.array([0, 9, 3])}
    token = {"targets": np.array([[1, 200], [2, 0]]), "weights": np.array([[1.0, 0.0], [1.0, 1.0]])}
    assert label_problems({"train": ok, "val": token}, 10) == {}  # the 200 is at an unsupervised position
    token["weights"][0, 1] = 1.0
    bad = label_problems({"train": ok, "val": token, "test": {"targets": np.array([-1, 2])}}, 10)
    assert bad == {"val": "val labels span [0, 200], the task has 10 classes",
                   "test": "test labels span [-1, 2], the task has 10 classes"}
    assert label_problems({"train": {"targets": np.array([0, 10])}}, 10) == {
        "train": "train labels span [0, 10], the task has 10 classes"}  # the first label past the classes


def test_new_entries_record_shapes_and_dtypes(tmp_path):
    load_dataset(_config(tmp_path))
    meta = json.load(open(os.path.join(_entry(tmp_path), "meta.json")))
    assert set(meta["shapes"]) == set(meta["arrays"]) == set(meta["dtypes"])
