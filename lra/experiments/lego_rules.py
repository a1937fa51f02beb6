"""Reference rules for LEGO: what a model scores per chain position without following the chain.

A LEGO chain ``a=+1; b=-a; c=+b; ...`` (clauses shuffled) needs k lookups by variable name to give
the sign of the variable at chain position k. Two rules need none:

* ``own_sign``: every variable takes the sign written in its own clause; exact at position 0
  (``a=+1``), chance elsewhere.
* ``root_sign``: the root clause (operand ``1``) takes its own sign; every other variable takes
  its own clause's sign times the root's sign. Exact at positions 0 and 1 (``b = s_b a`` with
  ``a`` the root), chance from position 2 on: the rule a model finds by attending to the one
  clause it can locate without names (the one with ``1``). A position counts as learned only
  above this rule.

Scored on a folder in the generator's format (``lego/lego_{train,val,test}.tsv``: ``Source``
clauses, ``Signs``, ``Chain`` positions; :mod:`lra.data.lego`), without the model's data pipeline:

    python -m lra.experiments.lego_rules --data=DIR [--split=test]

prints the accuracy of each rule per chain position and over all positions (Markdown).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lra.cli import run_main
from lra.data.lego import HEADER, RELEASE_SUBDIR, SPLIT_FILES
from lra.data.tsv import tsv_rows
from wavspa_flax.errors import UserError

RULES = ("own_sign", "root_sign")


def rule_signs(clauses: Sequence[str]) -> dict[str, list[str]]:
    """Each rule's predicted sign ('+'/'-') per clause, in the clauses' order."""
    root = next(c[2] for c in clauses if c[3] == "1")
    negate = {"+": "-", "-": "+"}
    return {"own_sign": [c[2] for c in clauses],
            "root_sign": [c[2] if c[3] == "1" or root == "+" else negate[c[2]] for c in clauses]}


def rule_accuracy_by_position(path: str) -> dict[str, list[float]]:
    """Per rule: accuracy at chain positions 0, 1, ... over the TSV's rows; plus ``examples``."""
    correct: dict[str, dict[int, int]] = {rule: {} for rule in RULES}
    counts: dict[int, int] = {}
    for _, fields in tsv_rows(path, ("Source", "Signs", "Chain"), HEADER):
        clauses = [c.rstrip(";") for c in fields[0].decode().split()]
        signs, positions = fields[1].decode(), [int(k) for k in fields[2].split()]
        for rule, predicted in rule_signs(clauses).items():
            for k, guess, truth in zip(positions, predicted, signs):
                correct[rule][k] = correct[rule].get(k, 0) + (guess == truth)
        for k in positions:
            counts[k] = counts.get(k, 0) + 1
    if not counts:
        raise UserError(f"{path}: no rows (a header but no chains)")
    order = sorted(counts)
    result = {rule: [correct[rule].get(k, 0) / counts[k] for k in order] for rule in RULES}
    result["examples"] = [float(counts[k]) for k in order]
    return result


def overall(by_position: Sequence[float], examples: Sequence[float]) -> float:
    """Accuracy over every scored variable (the training loop's `accuracy` on val/test)."""
    return sum(a * n for a, n in zip(by_position, examples)) / sum(examples)


def rules_on_test_split(data_dir: str | None, bases: Sequence[str]) -> dict[str, list[float]] | None:
    """The rules on ``<data_dir>/lego/lego_test.tsv`` (a relative ``data_dir`` is looked up under each
    of ``bases``); None when no such file is on this machine."""
    if not data_dir:
        return None
    for base in ([""] if os.path.isabs(data_dir) else bases):
        path = os.path.join(base, data_dir, RELEASE_SUBDIR, SPLIT_FILES["test"])
        if os.path.isfile(path):
            return rule_accuracy_by_position(path)
    return None


def markdown(result: dict[str, list[float]], path: str) -> str:
    lines = [f"LEGO reference rules on `{path}` (accuracy in %, per chain position)", "",
             "| position | examples | " + " | ".join(RULES) + " |", "|---|---|" + "---|" * len(RULES)]
    for k, n in enumerate(result["examples"]):
        lines.append(f"| {k} | {int(n)} | " + " | ".join(f"{100 * result[r][k]:.1f}" for r in RULES) + " |")
    lines.append("| all | {} | ".format(int(sum(result["examples"])))
                 + " | ".join(f"{100 * overall(result[r], result['examples']):.2f}" for r in RULES) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, out=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lra.experiments.lego_rules", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the data.dir of the runs (holding lego/lego_*.tsv)")
    parser.add_argument("--split", default="test", choices=sorted(SPLIT_FILES))
    args = parser.parse_args(argv)
    path = os.path.join(args.data, RELEASE_SUBDIR, SPLIT_FILES[args.split])
    if not os.path.isfile(path):
        raise UserError(f"--data={args.data}: no {path}; point --data at a run's data.dir "
                        "(generated LEGO data: lego/lego_{train,val,test}.tsv)")
    (out or sys.stdout).write(markdown(rule_accuracy_by_position(path), path))
    return 0


if __name__ == "__main__":
    run_main(main)
