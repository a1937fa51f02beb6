"""Retrieval (AAN): TSV loader vs a plain csv parse, dual batches, errors."""
from __future__ import annotations

import csv
import logging

import numpy as np
import pytest

from lra.data import DataError, load_dataset

from .helpers import make_config

FILES = {"train": "new_aan_pairs.train.tsv", "val": "new_aan_pairs.eval.tsv", "test": "new_aan_pairs.test.tsv"}


def write_aan(root, rows_per_split):
    folder = root / "lra_release" / "lra_release" / "tsv_data"  # the doubly nested tar layout
    folder.mkdir(parents=True)
    for split, rows in rows_per_split.items():
        with open(folder / FILES[split], "w", encoding="utf-8", newline="") as f:
            for row in rows:
                f.write("\t".join(row) + "\n")
    return folder


def sample_rows(n, seed):
    rng = np.random.default_rng(seed)
    words = ["graph", "neural", "parsing", "émigré", "über", "token", '"quoted"', "a,b"]
    rows = []
    for i in range(n):
        t1 = " ".join(rng.choice(words, rng.integers(1, 12)))
        t2 = " ".join(rng.choice(words, rng.integers(1, 12)))
        rows.append([f"{float(i % 2)}", f"P{i}-a", f"P{i}-b", t1, t2])
    return rows


def test_loader_matches_plain_parse(tmp_path):
    splits = {"train": sample_rows(9, 0), "val": sample_rows(4, 1), "test": sample_rows(3, 2)}
    folder = write_aan(tmp_path, splits)
    ds = load_dataset(make_config("retrieval", tmp_path, max_length=128))
    assert ds.info.kind == "dual" and ds.info.vocab_size == 257
    for split in ("train", "val", "test"):
        with open(folder / FILES[split], encoding="utf-8", newline="") as f:
            parsed = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        arrays = ds.splits[split]
        assert len(parsed) == ds.num_examples(split)
        for i, (label, _, _, text1, text2) in enumerate(parsed):
            assert arrays["targets"][i] == int(float(label))
            for side, text in enumerate((text1, text2)):
                ids = [b + 1 for b in text.encode("utf-8")]
                assert arrays["lengths"][i, side] == len(ids)
                assert np.asarray(arrays["inputs"][i, side, : len(ids)]).tolist() == ids
                assert not np.asarray(arrays["inputs"][i, side, len(ids):]).any()


def test_dual_batch_shapes(tmp_path):
    write_aan(tmp_path, {"train": sample_rows(6, 0), "val": sample_rows(3, 1), "test": sample_rows(3, 2)})
    ds = load_dataset(make_config("retrieval", tmp_path, max_length=32))
    b = next(ds.train_batches(4, 2, seed=0))
    assert b["inputs"].shape == (2, 2, 2, 32) and b["inputs"].dtype == np.int32
    assert b["lengths"].shape == (2, 2, 2) and b["targets"].shape == (2, 2)
    assert b["weights"].shape == (2, 2) and b["weights"].dtype == np.float32


def test_truncation_per_document(tmp_path, caplog):
    rows = [["1.0", "a", "b", "x" * 50, "y" * 5], ["0.0", "c", "d", "z" * 5, "w" * 70]]
    write_aan(tmp_path, {"train": rows, "val": rows, "test": rows})
    with caplog.at_level(logging.WARNING, logger="lra.data"):
        ds = load_dataset(make_config("retrieval", tmp_path, max_length=20))
    assert ds.stats["train"]["truncated"] == 2
    assert ds.splits["train"]["lengths"].tolist() == [[20, 5], [5, 20]]
    assert sum("truncated" in r.getMessage() for r in caplog.records) == 3  # once per split


@pytest.mark.parametrize("row, message", [
    (["1.0", "a", "b", "text"], "new_aan_pairs.train.tsv:2: malformed row"),
    (["2.0", "a", "b", "t1", "t2"], "new_aan_pairs.train.tsv:2: label 2.0 out of range"),
    (["yes", "a", "b", "t1", "t2"], "new_aan_pairs.train.tsv:2: malformed label"),
])
def test_bad_rows(tmp_path, row, message):
    good = ["0.0", "a", "b", "t1", "t2"]
    write_aan(tmp_path, {"train": [good, row], "val": [good], "test": [good]})
    with pytest.raises(DataError, match=message):
        load_dataset(make_config("retrieval", tmp_path, max_length=8))


def test_empty_and_missing(tmp_path):
    good = ["0.0", "a", "b", "t1", "t2"]
    write_aan(tmp_path, {"train": [], "val": [good], "test": [good]})
    with pytest.raises(DataError, match="empty file"):
        load_dataset(make_config("retrieval", tmp_path, max_length=8))
    with pytest.raises(DataError, match=r"tsv_data/.*lra_release\.gz"):
        load_dataset(make_config("retrieval", tmp_path / "none", max_length=8))


def test_generate_is_refused_with_download_hint(tmp_path):
    with pytest.raises(DataError, match="must be\\s+downloaded"):
        load_dataset(make_config("retrieval", tmp_path, max_length=8, source="generate"))
