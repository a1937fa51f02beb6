"""Batch pipeline: device axis, resumable order, epochs as permutations, eval tail, cache."""
from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from lra.data import Dataset, TaskInfo, default_data_config, load_dataset
from lra.data import listops as listops_module

from .helpers import make_config


def toy(n_train=10, n_eval=7, n=5, kind="classification"):
    rng = np.random.default_rng(0)

    def split(k):
        d = {"inputs": rng.integers(0, 9, (k, n)).astype(np.uint8),
             "lengths": np.full(k, n, np.int32),
             "targets": np.arange(k).astype(np.uint8)}  # target = example index
        if kind == "dual":
            d["inputs"] = rng.integers(0, 9, (k, 2, n)).astype(np.uint16)
            d["lengths"] = np.full((k, 2), n, np.int32)
        return d

    info = TaskInfo("toy", kind, 10, 10, n)
    return Dataset(info, {"train": split(n_train), "val": split(n_eval), "test": split(n_eval)})


def flat(batch, key):
    x = batch[key]
    return x.reshape((-1,) + x.shape[2:])


def test_shapes_and_dtypes():
    b = next(toy().train_batches(4, 2, seed=0))
    assert b["inputs"].shape == (2, 2, 5) and b["inputs"].dtype == np.int32
    assert b["lengths"].shape == b["targets"].shape == b["weights"].shape == (2, 2)
    assert b["targets"].dtype == np.int32 and b["weights"].dtype == np.float32
    d = next(toy(kind="dual").train_batches(6, 3, seed=0))
    assert d["inputs"].shape == (3, 2, 2, 5) and d["lengths"].shape == (3, 2, 2)


def test_batch_rows_stay_aligned():
    ds = toy()
    for b in itertools.islice(ds.train_batches(4, 2, seed=3), 6):
        idx = flat(b, "targets")
        assert np.array_equal(flat(b, "inputs"), ds.splits["train"]["inputs"][idx].astype(np.int32))


def test_indivisible_batch_is_a_clear_error():
    with pytest.raises(ValueError, match="global_batch_size=6 is not divisible by the 4 local devices"):
        next(toy().train_batches(6, 4, seed=0))
    with pytest.raises(ValueError, match="not divisible"):
        next(toy().eval_batches("val", 6, 4))


@pytest.mark.parametrize("batch", [4, 3, 16])  # 16 > N: one batch spans several epochs
def test_epochs_are_permutations_and_resume_is_exact(batch):
    ds = toy(n_train=10)
    stream = [flat(b, "targets") for b in itertools.islice(ds.train_batches(batch, 1, seed=7), 12)]
    seen = np.concatenate(stream)
    for e in range(len(seen) // 10):
        assert sorted(seen[10 * e: 10 * e + 10].tolist()) == list(range(10))
    for s in (0, 1, 5, 11):
        resumed = next(ds.train_batches(batch, 1, seed=7, start_step=s))
        assert np.array_equal(flat(resumed, "targets"), stream[s])
    other = np.concatenate([flat(b, "targets") for b in itertools.islice(ds.train_batches(batch, 1, seed=8), 12)])
    assert not np.array_equal(seen, other)
    assert not np.array_equal(seen[:10], np.arange(10))  # shuffled


def test_each_epoch_has_its_own_order():
    """Five epochs of 10 examples (batch 5, one epoch = 2 batches): five different orders (two
    equal by chance: 1 in 10! per pair), each the permutation ``default_rng([seed, epoch])`` draws."""
    ds = toy(n_train=10)
    stream = np.concatenate([flat(b, "targets") for b in itertools.islice(ds.train_batches(5, 1, seed=3), 10)])
    epochs = [tuple(stream[10 * e: 10 * e + 10].tolist()) for e in range(5)]
    assert len(set(epochs)) == 5, epochs
    for e, order in enumerate(epochs):
        assert list(order) == np.random.default_rng([3, e]).permutation(10).tolist()


def test_eval_visits_each_example_once_and_keeps_the_tail():
    ds = toy(n_eval=7)
    batches = list(ds.eval_batches("val", 4, 2))
    assert len(batches) == 2
    targets = np.concatenate([flat(b, "targets") for b in batches])
    weights = np.concatenate([flat(b, "weights") for b in batches])
    assert targets[weights == 1].tolist() == list(range(7))
    assert weights.tolist() == [1] * 7 + [0]
    lengths = np.concatenate([flat(b, "lengths") for b in batches])
    assert (lengths > 0).all()  # filler rows are copies of a real example, never length 0


def test_cache_reused_and_invalidated_when_source_changes(tmp_path, monkeypatch):
    root = tmp_path / "lra_release" / "listops-1000"
    root.mkdir(parents=True)
    for s in ("train", "val", "test"):
        (root / f"basic_{s}.tsv").write_text("Source\tTarget\n( ( ( [MAX 1 ) 2 ) ] )\t2\n")
    cfg = make_config("listops", tmp_path / "lra_release", max_length=8, source="release",
                      cache_dir=str(tmp_path / "cache"))
    calls = []
    real = listops_module.read_listops_tsv
    monkeypatch.setattr(listops_module, "read_listops_tsv", lambda *a: calls.append(a[0]) or real(*a))
    first = load_dataset(cfg)
    assert len(calls) == 3 and isinstance(first.splits["train"]["inputs"], np.memmap)
    load_dataset(cfg)
    assert len(calls) == 3  # all three splits from the cache
    (root / "basic_train.tsv").write_text("Source\tTarget\n( ( ( [MIN 1 ) 2 ) ] )\t1\n")
    changed = load_dataset(cfg)
    assert len(calls) == 4 and changed.splits["train"]["targets"].tolist() == [1]
    cfg.max_length = 9  # other tokenisation parameters: a separate cache entry
    load_dataset(cfg)
    assert len(calls) == 7
    cfg.data.use_cache = False
    nocache = load_dataset(cfg)
    assert len(calls) == 10 and not isinstance(nocache.splits["train"]["inputs"], np.memmap)
    assert not any(n.startswith(".tmp") for n in os.listdir(tmp_path / "cache"))


def test_default_configs_define_every_key():
    common = {"source", "dir", "cache_dir", "use_cache", "limit_train", "limit_eval", "generator_seed",
              "num_train", "num_val", "num_test"}
    specific = {"listops": {"min_tokens", "max_tokens", "max_depth", "max_args"},
                "text": {"download", "val_split"}, "retrieval": set(),
                "image": {"download", "val_percent", "grayscale"},
                "pathfinder": {"resolution", "difficulty", "val_fraction", "test_fraction"},
                "lego": {"num_vars", "num_train_vars", "min_train_vars"}}
    for task, keys in specific.items():
        assert set(default_data_config(task).keys()) == common | keys
    with pytest.raises(ValueError, match="unknown task"):
        default_data_config("cifar")


def test_default_dir_is_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = make_config("lego", "", num_train=3, num_val=1, num_test=1)
    load_dataset(cfg)
    assert (tmp_path / "data" / "lego" / "lego" / "lego_train.tsv").exists()
    assert (tmp_path / "data" / "lego" / "_wavspa_cache").is_dir()
