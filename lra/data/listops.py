"""ListOps: the token vocabulary and the release TSV loader (the language and the generator are
:mod:`lra.data.generators.listops`).

Format (LRA release `listops-1000/basic_{train,val,test}.tsv`): tab-separated, header row
`Source\\tTarget`; Source is a prefix expression in which every binary-tree node is wrapped in
parentheses, e.g. `( ( ( ( [MAX 2 ) 9 ) 4 ) ] )`; Target is its value 0-9.

Tokenisation (as LRA and S4): the parentheses are dropped; the remaining tokens are the operators
`[MAX [MED [MIN [SM`, the digits and `]`. Ids come from the fixed sorted list LISTOPS_TOKENS
(1..15, 0 = pad, vocab 16), so they are stable across runs, unlike LRA's set-ordered vocabulary.
An unknown token is an error (with file:line), not an OOV id.
"""
from __future__ import annotations

import os

import numpy as np

from lra.data.cache import ArrayBuilder
from lra.data.dataset import line_file_splits
from lra.data.encoding import Truncations
from lra.data.errors import RELEASE_HINT, DataError, where
from lra.data.generators.listops import (
    CLOSE,
    DIGITS,
    OPERATORS,
    RELEASE_SUBDIR,
    SPLIT_FILES,
    generate_listops,
)
from lra.data.release import resolve_release_dir
from lra.data.tasks import TaskSpec, register_task
from lra.data.tsv import count_rows, tsv_rows

LISTOPS_TOKENS = tuple(sorted(DIGITS + OPERATORS + (CLOSE,)))
LISTOPS_VOCAB_SIZE = len(LISTOPS_TOKENS) + 1  # + pad
NUM_CLASSES = 10
HEADER = b"Source\tTarget"


# Compact encoding: every token becomes one byte, then a 256-entry table maps bytes to ids.
_COMPACT = {b"[MAX": b"A", b"[MED": b"B", b"[MIN": b"C", b"[SM": b"D"}
_TABLE = np.full(256, 255, np.uint8)
for _i, _tok in enumerate(LISTOPS_TOKENS, start=1):
    _TABLE[ord(_COMPACT.get(_tok.encode(), _tok.encode()))] = _i


def encode_listops(source: bytes) -> np.ndarray | None:
    """Source expression -> uint8 ids [num tokens] (parentheses dropped); None if it holds a
    token outside the vocabulary."""
    compact = source
    for long, short in _COMPACT.items():
        compact = compact.replace(long, short)
    compact = compact.translate(None, b"() \t\r\n")
    ids = _TABLE[np.frombuffer(compact, np.uint8)]
    num_tokens = len(source.split()) - source.count(b"(") - source.count(b")")
    if len(ids) != num_tokens or (ids == 255).any():
        return None
    return ids


def read_listops_tsv(path: str, max_length: int, limit: int, builder: ArrayBuilder) -> tuple[int, dict]:
    """Loads one ListOps TSV into builder arrays inputs uint8 [N, max_length], lengths int32 [N],
    targets uint8 [N]. limit > 0 keeps the first `limit` rows. Returns (N, stats)."""
    total = count_rows(path, HEADER, "a `Source\\tTarget` header and rows")
    n = min(total, limit) if limit > 0 else total
    inputs = builder.zeros("inputs", (n, max_length), np.uint8)
    lengths = builder.zeros("lengths", (n,), np.int32)
    targets = builder.zeros("targets", (n,), np.uint8)
    trunc = Truncations(f"listops {os.path.basename(path)}", max_length)
    i = 0
    for lineno, fields in tsv_rows(path, ("Source", "Target"), HEADER):
        if i == n:
            break
        try:
            label = int(fields[1])
        except ValueError:
            raise DataError(f"{where(path, lineno)}: malformed Target {fields[1][:20]!r}, "
                            "expected an int 0-9") from None
        if not 0 <= label < NUM_CLASSES:
            raise DataError(f"{where(path, lineno)}: label {label} out of range 0-9")
        ids = encode_listops(fields[0])
        if ids is None or len(ids) == 0:
            raise DataError(f"{where(path, lineno)}: malformed Source; tokens must be "
                            f"{' '.join(LISTOPS_TOKENS)} and parentheses, separated by spaces")
        ids = trunc.clip(ids)
        inputs[i, : len(ids)] = ids
        lengths[i] = len(ids)
        targets[i] = label
        i += 1
    if i == 0:
        raise DataError(f"{where(path)}: empty file (a header but no rows)")
    trunc.report()
    return i, {"truncated": trunc.count}


def load_listops(config, info, root, cache_root):
    """The three ListOps splits: generated offline (``data.source=generate``) or the release's TSVs."""
    d = config.data
    if d.source == "generate":
        folder = generate_listops(
            root, int(d.generator_seed), int(d.num_train), int(d.num_val), int(d.num_test),
            int(d.min_tokens), int(d.max_tokens), int(d.max_depth), int(d.max_args))
    else:
        folder = resolve_release_dir(info.name, root, RELEASE_SUBDIR, list(SPLIT_FILES.values()))
    files = {s: os.path.join(folder, f) for s, f in SPLIT_FILES.items()}
    return line_file_splits(config, info, cache_root, files,
                            lambda p, s, lim, b: read_listops_tsv(p, info.max_length, lim, b))


def locate_listops(config, root) -> None:
    resolve_release_dir("listops", root, RELEASE_SUBDIR, list(SPLIT_FILES.values()))


register_task(TaskSpec(
    name="listops", kind="classification", vocab_size=LISTOPS_VOCAB_SIZE, num_classes=NUM_CLASSES,
    sources=("generate", "release"), load=load_listops, locate=locate_listops, max_length=2000,
    download_hint=RELEASE_HINT + ", or set data.source=generate to write a ListOps set offline",
    num_train_default=2000, num_val_default=200, num_test_default=200,
    # Generator (LRA: max_depth 10, max_args 10, kept iff min_tokens < length < max_tokens, length
    # counting operators, digits and ']' but not the parentheses).
    data=dict(min_tokens=500, max_tokens=2000, max_depth=10, max_args=10),
))
