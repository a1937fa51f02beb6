"""Retrieval (AAN document matching): the release TSV loader.

Format (`tsv_data/new_aan_pairs.{train,eval,test}.tsv`): tab-separated, no header, 5 columns
`label id1 id2 text1 text2`; label is float-like ('0.0'/'1.0', cast to int as in LRA). Fields are
split on tabs only (LRA reads with use_quote_delim=False). Both texts are byte-level: id = byte+1
(vocab 257, 0 = pad), each document cut to max_length bytes (LRA: 4000).
Arrays: inputs uint16 [N, 2, n], lengths int32 [N, 2], targets uint8 [N].
"""
from __future__ import annotations

import os

import numpy as np

from lra.data.cache import ArrayBuilder
from lra.data.dataset import line_file_splits
from lra.data.encoding import BYTE_VOCAB_SIZE, Truncations, encode_bytes
from lra.data.errors import RELEASE_HINT, DataError, where
from lra.data.release import resolve_release_dir
from lra.data.tasks import TaskSpec, register_task
from lra.data.tsv import count_rows, tsv_rows

SPLIT_FILES = {"train": "new_aan_pairs.train.tsv", "val": "new_aan_pairs.eval.tsv", "test": "new_aan_pairs.test.tsv"}
COLUMNS = ("label", "id1", "id2", "text1", "text2")


def parse_label(field: bytes, path: str, lineno: int) -> int:
    """'1.0' / '0' / ... -> 0 or 1; anything else is an error naming path:line."""
    try:
        value = float(field)
    except ValueError:
        raise DataError(f"{where(path, lineno)}: malformed label {field[:20]!r}, expected 0.0 or 1.0") from None
    if value not in (0.0, 1.0):
        raise DataError(f"{where(path, lineno)}: label {field.decode(errors='replace')} out of range (0 or 1)")
    return int(value)


def read_aan_tsv(path: str, max_length: int, limit: int, builder: ArrayBuilder) -> tuple[int, dict]:
    """Loads one AAN TSV into builder arrays (see module docstring). Returns (N, stats)."""
    total = count_rows(path, None, "rows `label id1 id2 text1 text2`")
    n = min(total, limit) if limit > 0 else total
    inputs = builder.zeros("inputs", (n, 2, max_length), np.uint16)
    lengths = builder.zeros("lengths", (n, 2), np.int32)
    targets = builder.zeros("targets", (n,), np.uint8)
    trunc = Truncations(f"retrieval {os.path.basename(path)} (documents)", max_length)
    i = 0
    for lineno, fields in tsv_rows(path, COLUMNS):
        if i == n:
            break
        targets[i] = parse_label(fields[0], path, lineno)
        for side, text in enumerate(fields[3:5]):
            ids = trunc.clip(encode_bytes(text))
            inputs[i, side, : len(ids)] = ids
            lengths[i, side] = len(ids)
        i += 1
    if i == 0:
        raise DataError(f"{where(path)}: empty file (no rows)")
    trunc.report()
    return i, {"truncated": trunc.count}


def load_retrieval(config, info, root, cache_root):
    """The three AAN splits from the release's ``tsv_data/``."""
    folder = resolve_release_dir(info.name, root, "tsv_data", list(SPLIT_FILES.values()))
    files = {s: os.path.join(folder, f) for s, f in SPLIT_FILES.items()}
    return line_file_splits(config, info, cache_root, files,
                            lambda p, s, lim, b: read_aan_tsv(p, info.max_length, lim, b))


register_task(TaskSpec(
    name="retrieval", kind="dual", vocab_size=BYTE_VOCAB_SIZE, num_classes=2, sources=("release",),
    load=load_retrieval, max_length=4000, download_hint=RELEASE_HINT,
    locate=lambda config, root: resolve_release_dir("retrieval", root, "tsv_data", list(SPLIT_FILES.values())),
))
