"""The ListOps language (operators, evaluation, the release's files) and an offline generator with
the semantics of LRA's `listops.py`.

A node at depth < max_depth becomes an operator with probability 0.25 (LRA's VALUE_P), else a
digit 0-9; a node at max_depth is always a digit. An operator draws its argument count uniformly
from 2..max_args and its operator uniformly from MIN, MAX, MED, SM (all draws derived from one
uniform stream, `random.Random(seed).random`). The root is at depth 1. A tree
is kept iff min_tokens < length < max_tokens (length counts operators, digits and `]`), and
duplicates are dropped across all splits. Trees are aborted as soon as they reach max_tokens,
which leaves the distribution of kept trees unchanged but makes short ranges (e.g. 50-200) fast.
Unlike LRA (set order) the file order is the generation order, so a seed fixes the files.
The label is the value given by `evaluate_listops`.
"""
from __future__ import annotations

import os
import random
from collections.abc import Sequence

from lra.data.generated import atomic_write_text, ensure_generated

OPERATORS = ("[MIN", "[MAX", "[MED", "[SM")
CLOSE = "]"
DIGITS = tuple(str(d) for d in range(10))
_OPERATOR_SET = frozenset(OPERATORS)
_DIGIT_SET = frozenset(DIGITS)
SPLIT_FILES = {"train": "basic_train.tsv", "val": "basic_val.tsv", "test": "basic_test.tsv"}
RELEASE_SUBDIR = "listops-1000"
OPERATOR_PROBABILITY = 0.25  # LRA's VALUE_P


def apply_operator(op: str, args: Sequence[int]) -> int:
    """Value of one operator node. MED = int(numpy.median(args)) as in LRA: the mean of the two
    middle values, truncated, for an even count. SM = sum mod 10."""
    if not args:
        raise ValueError(f"operator {op} has no arguments")
    if op == "[MIN":
        return min(args)
    if op == "[MAX":
        return max(args)
    if op == "[SM":
        return sum(args) % 10
    if op == "[MED":
        s = sorted(args)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) // 2
    raise ValueError(f"unknown operator {op!r}")


def evaluate_listops(tokens: Sequence[str]) -> int:
    """Value of a ListOps expression given as tokens (parentheses allowed and ignored).

    A stack of open operator frames; `]` closes the innermost one. Raises ValueError on a
    malformed expression.
    """
    frames: list[tuple[str, list[int]]] = []
    result = None
    for tok in tokens:
        if tok == "(" or tok == ")":
            continue
        if tok in _OPERATOR_SET:
            frames.append((tok, []))
            continue
        if tok == CLOSE:
            if not frames:
                raise ValueError("']' without an open operator")
            op, args = frames.pop()
            value = apply_operator(op, args)
        elif tok in _DIGIT_SET:
            value = int(tok)
        else:
            raise ValueError(f"unknown token {tok!r}")
        if frames:
            frames[-1][1].append(value)
        elif result is None:
            result = value
        else:
            raise ValueError("more than one top-level expression")
    if frames or result is None:
        raise ValueError("unterminated or empty expression")
    return result


class _TooLong(Exception):
    pass


def _node(depth: int, rnd, max_depth: int, max_args: int, budget: list[int]):
    """One random subtree: an int (digit) or a list [op, child, ...]. rnd() is uniform [0, 1);
    budget[0] counts the tokens left before the tree is abandoned as too long."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLong
    if depth >= max_depth or rnd() > OPERATOR_PROBABILITY:
        return int(rnd() * 10)
    num_args = 2 + int(rnd() * (max_args - 1))
    node = [OPERATORS[int(rnd() * 4)]]
    node.extend(_node(depth + 1, rnd, max_depth, max_args, budget) for _ in range(num_args))
    budget[0] -= 1  # the closing ']'
    if budget[0] < 0:
        raise _TooLong
    return node


def render(tree) -> str:
    """Tree -> the release's parenthesised string, e.g. [MAX, 2, 9, 4] -> ( ( ( ( [MAX 2 ) 9 ) 4 ) ] )."""
    if isinstance(tree, int):
        return str(tree)
    args = tree[1:]
    return "( " * (len(args) + 1) + tree[0] + "".join(f" {render(a)} )" for a in args) + " ] )"


def tree_length(tree) -> int:
    """Number of tokens (operators, digits, ']') of a tree."""
    return 1 if isinstance(tree, int) else 2 + sum(tree_length(a) for a in tree[1:])


def random_expression(rng: random.Random, max_depth: int = 10, max_args: int = 10, max_tokens: int = 2000):
    """(tree, length) of a random tree with fewer than max_tokens tokens, or (None, 0) if it
    grew longer."""
    budget = [max_tokens - 1]
    try:
        tree = _node(1, rng.random, max_depth, max_args, budget)
    except _TooLong:
        return None, 0
    return tree, max_tokens - 1 - budget[0]


def expression_length(source: str) -> int:
    """Number of tokens without the parentheses (LRA's length)."""
    return sum(1 for t in source.split() if t not in ("(", ")"))


def sample_expressions(count: int, seed: int, min_tokens: int, max_tokens: int, max_depth: int,
                       max_args: int) -> list[tuple[str, int]]:
    """`count` distinct (expression, value) pairs with min_tokens < length < max_tokens."""
    if not 0 <= min_tokens < max_tokens - 1:
        raise ValueError(f"ListOps length range ({min_tokens}, {max_tokens}) is empty")
    rng = random.Random(seed)
    seen: set[str] = set()
    rows = []
    while len(rows) < count:
        tree, length = random_expression(rng, max_depth, max_args, max_tokens)
        if length <= min_tokens:
            continue
        src = render(tree)
        if src in seen:
            continue
        seen.add(src)
        rows.append((src, evaluate_listops(src.split())))
    return rows


def listops_tsv_text(rows: list[tuple[str, int]]) -> str:
    """The release's TSV text: header `Source<TAB>Target`, one row per expression."""
    return "Source\tTarget\n" + "".join(f"{s}\t{v}\n" for s, v in rows)


def generate_listops(root: str, seed: int, num_train: int, num_val: int, num_test: int,
                     min_tokens: int = 500, max_tokens: int = 2000, max_depth: int = 10, max_args: int = 10) -> str:
    """Writes `<root>/listops-1000/basic_{train,val,test}.tsv` (skipped if already generated with
    these parameters). Returns the listops-1000 folder."""
    params = dict(kind="listops", seed=seed, num_train=num_train, num_val=num_val, num_test=num_test,
                  min_tokens=min_tokens, max_tokens=max_tokens, max_depth=max_depth, max_args=max_args)
    folder = os.path.join(root, RELEASE_SUBDIR)

    def write(folder: str) -> None:
        rows = sample_expressions(num_train + num_val + num_test, seed, min_tokens, max_tokens, max_depth, max_args)
        bounds = {"train": (0, num_train), "val": (num_train, num_train + num_val),
                  "test": (num_train + num_val, len(rows))}
        for split, (a, b) in bounds.items():
            atomic_write_text(os.path.join(folder, SPLIT_FILES[split]), listops_tsv_text(rows[a:b]))

    ensure_generated(folder, params, list(SPLIT_FILES.values()), write)
    return folder
