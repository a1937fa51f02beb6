"""The ListOps reference rules against a hand-made train/test pair whose answers are worked out by hand."""
import json
import os

import pytest

from lra.data.generators.listops import SPLIT_FILES, evaluate_listops, generate_listops, listops_tsv_text, render
from lra.experiments.listops_rules import (
    binomial_half_width,
    fit_rules,
    learned_flag,
    reference_accuracies,
    run_data_folder,
    top_level,
)

# (tree, the value worked out by hand). Keys of top_operator_digits: (root op, op over its direct digits).
TRAIN = [
    (["[MAX", 2, ["[MIN", 7, 1], 4], 4),   # (MAX, 4)
    (["[MAX", 9, 1], 9),                    # (MAX, 9)
    (["[MAX", 3, ["[SM", 5, 5]], 3),        # (MAX, 3)
    (["[MIN", 5, 6], 5),                    # (MIN, 5)
    (["[MIN", ["[MAX", 1, 2], 8], 2),       # (MIN, 8)
    (["[SM", 1, 2], 3),                     # (SM, 3)
    (["[MAX", 4, 0], 4),                    # (MAX, 4)
]
TEST = [
    (["[MAX", 4, ["[MIN", 1, 2]], 4),             # majority 3 x, operator 4 ok, digits (MAX,4)->4 ok
    (["[MIN", 5, ["[MAX", 6, 7]], 5),             # 3 x, MIN -> 2 (tie 5/2: smallest) x, (MIN,5)->5 ok
    (["[SM", 1, 1, 1], 3),                        # 3 ok, SM -> 3 ok, (SM,3) -> 3 ok
    (["[MED", 1, 2, 3], 2),                       # MED unseen: 3 x, 3 x, 3 x
    (["[MAX", ["[MIN", 1, 2], ["[MIN", 3, 4]], 3),  # 3 ok, MAX -> 4 x, (MAX, None) unseen -> 4 x
]


def _write(folder, train=TRAIN, test=TEST):
    os.makedirs(folder, exist_ok=True)
    for split, rows in (("train", train), ("val", test), ("test", test)):
        text = listops_tsv_text([(render(tree), value) for tree, value in rows])
        with open(os.path.join(folder, SPLIT_FILES[split]), "w") as handle:
            handle.write(text)
    return str(folder)


def test_the_hand_made_values_are_the_evaluator_s():
    for tree, value in TRAIN + TEST:
        assert evaluate_listops(render(tree).split()) == value


def test_top_level_reads_the_root_operator_and_its_direct_digits():
    assert top_level(render(["[MAX", 2, ["[MIN", 7, 1], 4]).split()) == ("[MAX", (2, 4))
    assert top_level(render(["[MAX", ["[MIN", 1, 2], ["[MIN", 3, 4]]).split()) == ("[MAX", ())
    assert top_level(["7"]) == (None, (7,))


def test_the_fitted_tables_and_tie_breaks():
    tables = fit_rules([(render(t).split(), v) for t, v in TRAIN])
    assert tables["majority"] == {(): 3}  # 3 and 4 twice each: the smaller wins
    assert tables["top_operator"] == {"[MAX": 4, "[MIN": 2, "[SM": 3}
    assert tables["top_operator_digits"][("[MAX", 4)] == 4 and tables["top_operator_digits"][("[MIN", 8)] == 2


def test_reference_accuracies_on_the_hand_made_folder(tmp_path):
    scores = reference_accuracies(_write(tmp_path / "listops-1000"))
    assert scores == {"majority": 2 / 5, "top_operator": 2 / 5, "top_operator_digits": 3 / 5, "num_test": 5}


def test_learned_needs_the_margin_to_exceed_the_interval():
    assert learned_flag(45.0, 2.0, 40.0) == "yes"
    assert learned_flag(41.0, 2.0, 40.0) == "no"
    assert learned_flag(45.0, None, 40.0) == "n/a"
    assert binomial_half_width(0.5, 100) == pytest.approx(1.6448536 * 0.05, rel=1e-6)


def test_run_data_folder_finds_the_generated_folder_by_its_parameters(tmp_path):
    data = {"source": "generate", "dir": "d", "generator_seed": 0, "num_train": 6, "num_val": 2, "num_test": 3,
            "min_tokens": 4, "max_tokens": 20, "max_depth": 3, "max_args": 3}
    made = generate_listops(str(tmp_path / "d"), 0, 6, 2, 3, 4, 20, 3, 3)
    assert run_data_folder(data, [str(tmp_path)]) == made
    other = dict(data, num_test=4)  # another parameter set: not this folder; regenerated in scratch
    assert run_data_folder(other, [str(tmp_path)]) is None
    again = run_data_folder(other, [str(tmp_path)], scratch=str(tmp_path / "scratch"))
    assert again.startswith(str(tmp_path / "scratch"))
    with open(os.path.join(again, "WAVSPA_GENERATED.json")) as handle:
        assert json.load(handle)["params"]["num_test"] == 4
