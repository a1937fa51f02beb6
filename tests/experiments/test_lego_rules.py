"""LEGO reference rules against a plain re-derivation from the generated chains."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from lra.data.lego import generate_lego
from lra.experiments import lego_rules
from wavspa_flax.errors import UserError

from ..data.test_lego import resolve


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("lego_rules")
    generate_lego(str(root), seed=3, num_vars=8, num_train=10, num_val=10, num_test=1500)
    return root


def test_rules_match_a_plain_rederivation(folder):
    path = folder / "lego" / "lego_test.tsv"
    result = lego_rules.rule_accuracy_by_position(str(path))
    hits = {rule: np.zeros(8) for rule in lego_rules.RULES}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            truth = resolve(row["Source"])  # variable -> (value, chain position), found by following operands
            root_value = next(v for v, k in truth.values() if k == 0)
            for clause in row["Source"].split():
                value, k = truth[clause[0]]
                own = 1 if clause[2] == "+" else -1
                hits["own_sign"][k] += own == value
                hits["root_sign"][k] += (own if k == 0 else own * root_value) == value
    assert result["examples"] == [1500.0] * 8
    for rule in lego_rules.RULES:
        assert result[rule] == pytest.approx(list(hits[rule] / 1500), abs=1e-12)
    assert result["own_sign"][0] == result["root_sign"][0] == result["root_sign"][1] == 1.0
    assert all(abs(a - 0.5) < 0.05 for a in result["root_sign"][2:] + result["own_sign"][1:])  # chance


def test_command_prints_the_table_and_mistakes_end_in_one_line(folder, capsys):
    out = io.StringIO()
    assert lego_rules.main([f"--data={folder}", "--split=test"], out) == 0
    text = out.getvalue()
    assert "| 1 | 1500 | " in text and "| 100.0 |" in text
    assert text.count("\n| ") == 1 + 8 + 1  # header, 8 positions, all
    with pytest.raises(UserError) as error:
        lego_rules.main([f"--data={folder}/nowhere"], out)
    assert "nowhere/lego/lego_test.tsv" in str(error.value) and "\n" not in str(error.value)
