"""Reference rules for ListOps: what a model scores that reads the expression's first tokens only.

A model that has learned the task must beat the rules that need no nesting at all. Three rules,
each a lookup table fitted on the train split and scored on the test split of the same folder
(the release's ``basic_{train,test}.tsv`` or a generated folder of the same format):

* ``majority``: the most frequent train label, for every example.
* ``top_operator``: the most frequent train label among expressions with the same top-level
  (root) operator, e.g. every ``[MAX ...]`` answers the commonest MAX answer.
* ``top_operator_digits``: the most frequent train label among expressions with the same key
  ``(top operator, the top operator applied to the root's direct digit arguments)``; the second
  part is ``None`` when the root has no digit argument. E.g. ``[MAX 2 [MIN 7 1 ] 4 ]`` has the key
  ``([MAX, 4)`` (the nested MIN is ignored). A key never seen in train falls back to the
  ``top_operator`` rule.

Ties between labels go to the smallest label. A root that is a lone digit (not produced by the
generators, whose expressions are longer than one token) has the operator ``None``.
"""
from __future__ import annotations

import collections
import math
import os
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path

from lra.data.generators.listops import CLOSE, DIGITS, OPERATORS, SPLIT_FILES, apply_operator
from lra.data.listops import HEADER
from lra.data.tsv import tsv_rows

RULES = ("majority", "top_operator", "top_operator_digits")
RULE_LABELS = {"majority": "majority class", "top_operator": "top-operator rule",
               "top_operator_digits": "top operator + shallow digits"}


def top_level(tokens: Sequence[str]) -> tuple[str | None, tuple[int, ...]]:
    """(root operator, the root's direct digit arguments in order) of a token list (parentheses
    ignored). A lone digit gives ``(None, (digit,))``."""
    tokens = [t for t in tokens if t not in ("(", ")")]
    if not tokens:
        raise ValueError("empty ListOps expression")
    if tokens[0] in DIGITS:
        return None, (int(tokens[0]),)
    if tokens[0] not in OPERATORS:
        raise ValueError(f"a ListOps expression starts with an operator or a digit, not {tokens[0]!r}")
    depth, digits = 0, []
    for token in tokens:
        if token in OPERATORS:
            depth += 1
        elif token == CLOSE:
            depth -= 1
        elif depth == 1:
            digits.append(int(token))
    return tokens[0], tuple(digits)


def rule_keys(tokens: Sequence[str]) -> dict[str, Hashable]:
    """The key each rule looks its answer up by (module docstring)."""
    operator, digits = top_level(tokens)
    shallow = apply_operator(operator, digits) if operator and digits else (digits[0] if digits else None)
    return {"majority": (), "top_operator": operator, "top_operator_digits": (operator, shallow)}


def _most_frequent(labels: Iterable[int]) -> int:
    counts = collections.Counter(labels)
    return min(counts, key=lambda label: (-counts[label], label))


def fit_rules(examples: Iterable[tuple[Sequence[str], int]]) -> dict[str, dict[Hashable, int]]:
    """Per rule, the lookup table key -> most frequent label over ``(tokens, label)`` examples."""
    labels: dict[str, dict[Hashable, list[int]]] = {rule: collections.defaultdict(list) for rule in RULES}
    for tokens, label in examples:
        for rule, key in rule_keys(tokens).items():
            labels[rule][key].append(int(label))
    return {rule: {key: _most_frequent(values) for key, values in table.items()} for rule, table in labels.items()}


def predict(tables: dict[str, dict[Hashable, int]], tokens: Sequence[str]) -> dict[str, int]:
    """Each rule's answer for one expression (unseen keys fall back: digits -> operator -> majority)."""
    keys = rule_keys(tokens)
    majority = tables["majority"][()]
    by_operator = tables["top_operator"].get(keys["top_operator"], majority)
    return {"majority": majority, "top_operator": by_operator,
            "top_operator_digits": tables["top_operator_digits"].get(keys["top_operator_digits"], by_operator)}


def score_rules(tables: dict[str, dict[Hashable, int]],
                examples: Iterable[tuple[Sequence[str], int]]) -> dict[str, float]:
    """Per rule, the fraction of ``(tokens, label)`` examples it answers right."""
    right, total = collections.Counter(), 0
    for tokens, label in examples:
        total += 1
        for rule, answer in predict(tables, tokens).items():
            right[rule] += answer == int(label)
    if not total:
        raise ValueError("no examples to score the reference rules on")
    return {rule: right[rule] / total for rule in RULES}


def read_examples(path: str) -> list[tuple[list[str], int]]:
    """``(tokens, label)`` of every row of a ListOps TSV (the release's format)."""
    return [(fields[0].decode().split(), int(fields[1])) for _, fields in tsv_rows(path, ("Source", "Target"), HEADER)]


def reference_accuracies(folder: str, train_split: str = "train", test_split: str = "test") -> dict[str, float]:
    """The rules fitted on ``folder``'s train split and scored on its test split (fractions), plus
    ``num_test``, the number of test examples."""
    tables = fit_rules(read_examples(os.path.join(folder, SPLIT_FILES[train_split])))
    test = read_examples(os.path.join(folder, SPLIT_FILES[test_split]))
    return {**score_rules(tables, test), "num_test": len(test)}


def binomial_half_width(accuracy: float, num_examples: int, level: float = 0.90) -> float:
    """Half-width of the normal-approximation ``level`` interval of an accuracy measured on
    ``num_examples`` examples (the test split's sampling noise alone)."""
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2))
    return z * math.sqrt(max(accuracy * (1 - accuracy), 0.0) / num_examples)


def learned_flag(mean: float | None, half_width: float | None, top_operator: float | None) -> str:
    """``yes`` when ``mean`` is above the top-operator rule by more than ``half_width`` (the cell's
    interval), ``no`` when not, ``n/a`` when any of them is missing (e.g. one seed: no interval)."""
    if mean is None or half_width is None or top_operator is None:
        return "n/a"
    return "yes" if mean - top_operator > half_width else "no"


# -- the data folder of a run ----------------------------------------------------------------------

def generator_params(data: dict) -> dict:
    """The manifest parameters :func:`lra.data.generators.listops.generate_listops` records for a run's
    ``config.data`` (a dict, as in ``summary.json``)."""
    return {"kind": "listops", "seed": int(data["generator_seed"]), "num_train": int(data["num_train"]),
            "num_val": int(data["num_val"]), "num_test": int(data["num_test"]),
            "min_tokens": int(data["min_tokens"]), "max_tokens": int(data["max_tokens"]),
            "max_depth": int(data["max_depth"]), "max_args": int(data["max_args"])}


def _data_roots(data: dict, bases: Sequence[str]) -> list[str]:
    folder = os.path.expanduser(str(data.get("dir") or os.path.join("data", "listops")))
    return [folder] if os.path.isabs(folder) else [os.path.join(base, folder) for base in bases]


def run_data_folder(data: dict, bases: Sequence[str], scratch: str | None = None) -> str | None:
    """The folder holding the ListOps files a run with ``config.data`` = ``data`` trained on.

    A relative ``data.dir`` is looked up under each of ``bases`` (the folders the runs were started
    from). Generated data must carry the run's generator parameters in its manifest (a shared
    ``data.dir`` may since hold another parameter set); if no such folder exists and ``scratch`` is
    given, the generator writes the same files again under ``scratch`` (it is deterministic in its
    seed). None if the data cannot be found or made.
    """
    import json

    from lra.data.errors import DataError
    from lra.data.generated import MANIFEST
    from lra.data.generators.listops import RELEASE_SUBDIR, generate_listops
    from lra.data.release import resolve_release_dir

    roots = _data_roots(data, bases)
    if data.get("source") == "generate":
        params = generator_params(data)
        for root in roots:
            manifest = os.path.join(root, RELEASE_SUBDIR, MANIFEST)
            if os.path.isfile(manifest):
                with open(manifest) as handle:
                    if json.load(handle).get("params") == params:
                        return os.path.join(root, RELEASE_SUBDIR)
        if scratch is None:
            return None
        digest = "_".join(f"{k}{v}" for k, v in params.items() if k != "kind")
        return generate_listops(os.path.join(scratch, digest), params["seed"], params["num_train"],
                                params["num_val"], params["num_test"], params["min_tokens"],
                                params["max_tokens"], params["max_depth"], params["max_args"])
    for root in roots:
        try:
            return resolve_release_dir("listops", root, RELEASE_SUBDIR, list(SPLIT_FILES.values()))
        except DataError:  # not under this base: try the next
            continue
    return None


# -- command line ----------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None, out=None) -> int:
    """``python -m lra.experiments.reference_rules (FOLDER | --scale S [--set key=value ...])``: the rules'
    test accuracies (JSON) on a ListOps folder, or on the generated data of ``configs/listops.py``
    at scale ``S`` (written again in a temporary folder: the generator is deterministic)."""
    import argparse
    import json
    import sys
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m lra.experiments.reference_rules", description=main.__doc__)
    parser.add_argument("folder", nargs="?", help="a folder with basic_{train,test}.tsv")
    parser.add_argument("--scale", choices=("smoke", "small", "paper"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    if (args.folder is None) == (args.scale is None):
        from lra.data.errors import DataError

        raise DataError("give a data folder or --scale (not both)")
    folder = args.folder
    if folder is None:
        from lra.config import load_config
        from lra.experiments.sweep_files import parse_literal

        overrides = {"scale": args.scale, "data.source": "generate"}
        overrides.update({k: parse_literal(v) for k, _, v in (s.partition("=") for s in args.overrides)})
        config = load_config(str(Path(__file__).resolve().parents[2] / "configs" / "listops.py"), overrides)
        data = json.loads(config.data.to_json_best_effort())
        folder = run_data_folder(data, [], scratch=str(Path(tempfile.gettempdir()) / "wavspa_listops_references"))
    print(json.dumps({"folder": folder, **reference_accuracies(folder)}), file=out or sys.stdout)
    return 0
