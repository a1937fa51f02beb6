"""ListOps: evaluator vs an independent one, generator semantics, TSV loader vs a plain parse, errors."""
from __future__ import annotations

import csv
import logging
import random
import statistics

import numpy as np
import pytest

from lra.data import DataError, load_dataset
from lra.data.generators.listops import (
    evaluate_listops,
    expression_length,
    generate_listops,
    render,
    sample_expressions,
)
from lra.data.listops import LISTOPS_TOKENS

from .helpers import make_config


def recursive_value(source: str) -> int:
    """Independent evaluator: recursive descent over the parenthesised binary-tree form
    `( left right )`, where a left spine starting with an operator collects arguments."""
    tokens = source.split()
    pos = 0

    def node():
        # returns ('op', name, args) for an open operator, ('val', v) for a finished value
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            left = node()
            right = node()
            assert tokens[pos] == ")"
            pos += 1
            if right == ("close",):
                _, name, args = left
                return ("val", finish(name, args))
            if left[0] == "op":
                return ("op", left[1], left[2] + [right[1]])
            raise AssertionError("value followed by a value")
        if tok == "]":
            return ("close",)
        if tok.startswith("["):
            return ("op", tok, [])
        return ("val", int(tok))

    def finish(name, args):
        if name == "[MIN":
            return min(args)
        if name == "[MAX":
            return max(args)
        if name == "[SM":
            return sum(args) % 10
        return int(statistics.median(args))  # as LRA: int(np.median)

    out = node()
    assert pos == len(tokens) and out[0] == "val"
    return out[1]


@pytest.mark.parametrize("source, value", [
    ("( ( ( ( [MAX 2 ) 9 ) 4 ) ] )", 9),
    ("( ( ( ( ( [MED 2 ) 4 ) 7 ) 9 ) ] )", 5),        # even count: int(5.5)
    ("( ( ( [MED 1 ) 2 ) ] )", 1),                     # int(1.5)
    ("( ( ( ( [SM 7 ) 8 ) 9 ) ] )", 4),
    ("( ( ( ( [MIN 5 ) ( ( ( [MAX 1 ) 3 ) ] ) ) 4 ) ] )", 3),
    ("7", 7),
])
def test_evaluator_hand_cases(source, value):
    assert evaluate_listops(source.split()) == value
    assert recursive_value(source) == value


def test_evaluator_rejects_malformed():
    for bad in ["[MAX 1 2", "] 3", "[MAX ]", "1 2", "[FOO 1 ]"]:
        with pytest.raises(ValueError):
            evaluate_listops(bad.split())


def test_generated_labels_agree_with_independent_evaluator():
    rows = sample_expressions(150, seed=3, min_tokens=20, max_tokens=200, max_depth=10, max_args=10)
    assert len({s for s, _ in rows}) == len(rows)
    for source, value in rows:
        assert recursive_value(source) == value
        assert 20 < expression_length(source) < 200
    assert len({v for _, v in rows}) >= 5


def test_render_format_and_generator_determinism():
    assert render(["[MAX", 2, 9, 4]) == "( ( ( ( [MAX 2 ) 9 ) 4 ) ] )"
    a = sample_expressions(20, 1, 10, 100, 10, 10)
    assert a == sample_expressions(20, 1, 10, 100, 10, 10)
    assert a != sample_expressions(20, 2, 10, 100, 10, 10)


def test_operator_statistics_follow_lra():
    """Argument counts uniform on 2..max_args, operators uniform (LRA generator semantics)."""
    rows = sample_expressions(200, seed=0, min_tokens=50, max_tokens=400, max_depth=10, max_args=10)
    ops = [t for s, _ in rows for t in s.split() if t.startswith("[")]
    counts = {op: ops.count(op) for op in ("[MIN", "[MAX", "[MED", "[SM")}
    assert min(counts.values()) > 0.2 * len(ops)


def write_tsv(path, rows, header=True):
    with open(path, "w", newline="") as f:
        if header:
            f.write("Source\tTarget\n")
        for s, t in rows:
            f.write(f"{s}\t{t}\n")


def plain_tokens(source: str) -> list[int]:
    vocab = {t: i + 1 for i, t in enumerate(sorted(LISTOPS_TOKENS))}
    return [vocab[t] for t in source.split() if t not in ("(", ")")]


def release_dir(tmp_path, splits):
    root = tmp_path / "lra_release"
    (root / "listops-1000").mkdir(parents=True)
    for name, rows in splits.items():
        write_tsv(root / "listops-1000" / f"basic_{name}.tsv", rows)
    return root


def test_loader_matches_plain_csv_parse(tmp_path):
    rows = sample_expressions(30, seed=5, min_tokens=5, max_tokens=60, max_depth=6, max_args=5)
    root = release_dir(tmp_path, {"train": rows[:20], "val": rows[20:25], "test": rows[25:]})
    ds = load_dataset(make_config("listops", root, max_length=64, source="release"))
    assert ds.info.vocab_size == 16 and ds.info.num_classes == 10 and ds.num_examples("train") == 20
    with open(root / "listops-1000" / "basic_train.tsv", newline="") as f:
        parsed = list(csv.DictReader(f, delimiter="\t"))
    inputs = np.asarray(ds.splits["train"]["inputs"])
    for i, row in enumerate(parsed):
        ids = plain_tokens(row["Source"])
        assert ds.splits["train"]["lengths"][i] == len(ids)
        assert inputs[i, : len(ids)].tolist() == ids
        assert not inputs[i, len(ids):].any()
        assert ds.splits["train"]["targets"][i] == int(row["Target"])


def test_generated_files_are_release_format_and_load(tmp_path):
    cfg = make_config("listops", tmp_path, max_length=128, num_train=12, num_val=4, num_test=4,
                      min_tokens=10, max_tokens=100)
    ds = load_dataset(cfg)
    assert [ds.num_examples(s) for s in ("train", "val", "test")] == [12, 4, 4]
    with open(tmp_path / "listops-1000" / "basic_val.tsv", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        assert next(reader) == ["Source", "Target"]
        for source, target in reader:
            assert recursive_value(source) == int(target)
    # same parameters: not regenerated (file untouched); other seed: different data
    before = (tmp_path / "listops-1000" / "basic_train.tsv").stat().st_mtime_ns
    load_dataset(cfg)
    assert (tmp_path / "listops-1000" / "basic_train.tsv").stat().st_mtime_ns == before
    cfg.data.generator_seed = 1
    ds2 = load_dataset(cfg)
    assert not np.array_equal(np.asarray(ds.splits["train"]["inputs"]), np.asarray(ds2.splits["train"]["inputs"]))


def test_generator_refuses_to_overwrite_release_data(tmp_path):
    root = release_dir(tmp_path, {s: [("( ( ( [MAX 1 ) 2 ) ] )", 2)] for s in ("train", "val", "test")})
    with pytest.raises(DataError, match="not written by the generator"):
        generate_listops(str(root), 0, 2, 1, 1, min_tokens=1, max_tokens=50)


def test_missing_data_names_layout_and_source(tmp_path):
    with pytest.raises(DataError) as e:
        load_dataset(make_config("listops", tmp_path / "nowhere", source="release"))
    assert "listops-1000/" in str(e.value) and "lra_release.gz" in str(e.value)


@pytest.mark.parametrize("content, message", [
    ("Source\tTarget\n( ( [MAX 1 ) ] )\t1\n( ( [MAX 1 ) ] )\n", "basic_train.tsv:3: malformed row"),
    ("Source\tTarget\n( ( [MAX 1 ) ] )\t12\n", "basic_train.tsv:2: label 12 out of range"),
    ("Source\tTarget\n( ( [MAX 1 ) ] )\tx\n", "basic_train.tsv:2: malformed Target"),
    ("Source\tTarget\n( ( [MAXX 1 ) ] )\t1\n", "basic_train.tsv:2: malformed Source"),
    ("Source\tTarget\n", "basic_train.tsv: empty file"),
    ("", "basic_train.tsv: empty file"),
    ("src\tlabel\n1\t1\n", "basic_train.tsv:1: expected the header"),
])
def test_bad_rows_name_file_and_line(tmp_path, content, message):
    ok = [("( ( ( [MAX 1 ) 2 ) ] )", 2)]
    root = release_dir(tmp_path, {"val": ok, "test": ok})
    (root / "listops-1000" / "basic_train.tsv").write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(make_config("listops", root, max_length=32, source="release"))


def test_truncation_counted_and_reported_once(tmp_path, caplog):
    long_expr = "( " * 30 + "[SM" + " 1 )" * 29 + " ] )"  # 31 tokens
    rows = [(long_expr, 9), (long_expr, 9), ("( ( ( [MAX 1 ) 2 ) ] )", 2)]
    root = release_dir(tmp_path, {"train": rows, "val": rows[2:], "test": rows[2:]})
    with caplog.at_level(logging.WARNING, logger="lra.data"):
        ds = load_dataset(make_config("listops", root, max_length=16, source="release"))
    warnings = [r for r in caplog.records if "truncated" in r.getMessage()]
    assert len(warnings) == 1 and "2 sequence(s)" in warnings[0].getMessage()
    assert ds.stats["train"]["truncated"] == 2
    assert ds.splits["train"]["lengths"].tolist() == [16, 16, 4]


def test_limit_keeps_first_rows(tmp_path):
    rows = [(f"( ( ( [MAX {d} ) {d} ) ] )", d) for d in range(10)]
    root = release_dir(tmp_path, {"train": rows, "val": rows, "test": rows})
    ds = load_dataset(make_config("listops", root, max_length=8, source="release", limit_train=4, limit_eval=3))
    assert ds.splits["train"]["targets"].tolist() == [0, 1, 2, 3]
    assert ds.num_examples("val") == 3 and ds.num_examples("test") == 3


def test_random_expressions_match_on_the_long_lra_range():
    rng = random.Random(0)
    from lra.data.generators.listops import random_expression

    kept = 0
    while kept < 3:
        tree, n = random_expression(rng, 10, 10, 2000)
        if n > 500:
            source = render(tree)
            assert expression_length(source) == n
            assert evaluate_listops(source.split()) == recursive_value(source)
            kept += 1
