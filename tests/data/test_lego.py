"""LEGO: generated files resolved independently, token-level targets, the extrapolation split."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from lra.data import DataError, load_dataset
from lra.data.lego import LEGO_TOKENS, lego_tsv_text, sample_chain

from .helpers import make_config


def resolve(source: str) -> dict[str, tuple[int, int]]:
    """Independent resolution of a shuffled chain: variable -> (value +1/-1, chain position)."""
    clauses = [c.rstrip(";") for c in source.split()]
    rules = {}
    for c in clauses:
        var, rhs = c.split("=")
        rules[var] = (1 if rhs[0] == "+" else -1, rhs[1:])
    values, depth = {}, {}
    while len(values) < len(rules):
        for var, (sign, operand) in rules.items():
            if var in values:
                continue
            if operand == "1":
                values[var], depth[var] = sign, 0
            elif operand in values:
                values[var], depth[var] = sign * values[operand], depth[operand] + 1
    return {v: (values[v], depth[v]) for v in rules}


def test_generated_labels_resolve_and_split_supervision(tmp_path):
    cfg = make_config("lego", tmp_path, num_vars=12, num_train_vars=6, num_train=40, num_val=10, num_test=10)
    ds = load_dataset(cfg)
    assert ds.info.kind == "token" and ds.info.max_length == 60 and ds.info.vocab_size == len(LEGO_TOKENS) + 1
    vocab = {t: i + 1 for i, t in enumerate(sorted(LEGO_TOKENS))}
    shuffled = 0
    for split, supervised in (("train", 6), ("test", 12)):
        with open(tmp_path / "lego" / f"lego_{split}.tsv", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        a = ds.splits[split]
        for i, row in enumerate(rows):
            truth = resolve(row["Source"])
            clauses = row["Source"].split()
            assert len(clauses) == 12 and len(set(truth)) == 12
            expected = [vocab[ch] for c in clauses for ch in c]
            assert np.asarray(a["inputs"][i, :60]).tolist() == expected and a["lengths"][i] == 60
            depths = []
            for j, c in enumerate(clauses):
                value, depth = truth[c[0]]
                pos = 5 * j
                assert a["targets"][i, pos] == (value > 0)
                assert a["target_index"][i, pos] == depth
                assert a["weights"][i, pos] == (depth < supervised)
                depths.append(depth)
            other = np.ones(60, bool)
            other[::5] = False
            assert (np.asarray(a["target_index"][i])[other] == -1).all()
            assert not np.asarray(a["weights"][i])[other].any()
            shuffled += depths != sorted(depths)
    assert shuffled > 0  # clause order is shuffled
    b = next(ds.eval_batches("test", 4, 2))
    assert b["targets"].shape == b["weights"].shape == b["target_index"].shape == (2, 2, 60)
    assert b["weights"].sum() == 4 * 12


def test_deterministic_by_seed(tmp_path):
    a = load_dataset(make_config("lego", tmp_path / "a", num_train=5, num_val=2, num_test=2))
    b = load_dataset(make_config("lego", tmp_path / "b", num_train=5, num_val=2, num_test=2))
    c = load_dataset(make_config("lego", tmp_path / "c", num_train=5, num_val=2, num_test=2, generator_seed=4))
    assert np.array_equal(np.asarray(a.splits["train"]["inputs"]), np.asarray(b.splits["train"]["inputs"]))
    assert not np.array_equal(np.asarray(a.splits["train"]["inputs"]), np.asarray(c.splits["train"]["inputs"]))


def test_lego_config_errors(tmp_path):
    with pytest.raises(ValueError, match="max_length"):
        load_dataset(make_config("lego", tmp_path, max_length=50, num_vars=20))
    with pytest.raises(ValueError, match="num_train_vars"):
        load_dataset(make_config("lego", tmp_path, num_vars=10, num_train_vars=12))


def test_malformed_lego_row(tmp_path):
    folder = tmp_path / "lego"
    folder.mkdir()
    good = "Source\tSigns\tChain\na=+1; b=-a;\t+-\t0 1\n"
    (folder / "lego_val.tsv").write_text(good)
    (folder / "lego_test.tsv").write_text(good)
    (folder / "lego_train.tsv").write_text(good + "a=+1; b=-a;\t+-\t0 0\n")
    with pytest.raises(DataError, match="lego_train.tsv:3: malformed row"):
        load_dataset(make_config("lego", tmp_path, source="release", num_vars=2, num_train_vars=1))


def test_varied_training_chain_lengths(tmp_path):
    """data.min_train_vars: training chains of 4..12 variables (labels and supervision still right),
    val/test chains all 12; the default (0) draws nothing extra, so its files are unchanged."""
    cfg = make_config("lego", tmp_path / "v", num_vars=12, num_train_vars=6, min_train_vars=4, num_train=300,
                      num_val=20, num_test=20)
    ds = load_dataset(cfg)
    with open(tmp_path / "v" / "lego" / "lego_train.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    lengths = []
    a = ds.splits["train"]
    for i, row in enumerate(rows):
        truth = resolve(row["Source"])
        clauses = row["Source"].split()
        lengths.append(len(clauses))
        assert a["lengths"][i] == 5 * len(clauses)
        for j, c in enumerate(clauses):
            value, depth = truth[c[0]]
            assert a["targets"][i, 5 * j] == (value > 0) and a["weights"][i, 5 * j] == (depth < 6)
        assert not np.asarray(a["weights"][i, 5 * len(clauses):]).any()
    assert set(lengths) == set(range(4, 13))  # every length 4..12 drawn in 300 chains
    for split in ("val", "test"):
        assert (np.asarray(ds.splits[split]["lengths"]) == 60).all()
    cfg = make_config("lego", tmp_path / "z", num_vars=12, num_train_vars=6, min_train_vars=0, num_train=30,
                      num_val=5, num_test=5)
    load_dataset(cfg)
    rng = np.random.default_rng([int(cfg.data.generator_seed), 0])  # the train split's stream, as before the option
    expected = lego_tsv_text(sample_chain(rng, 12) for _ in range(30))
    assert (tmp_path / "z" / "lego" / "lego_train.tsv").read_text() == expected
    with pytest.raises(ValueError, match="min_train_vars"):
        load_dataset(make_config("lego", tmp_path / "e", num_vars=12, num_train_vars=6, min_train_vars=13))
