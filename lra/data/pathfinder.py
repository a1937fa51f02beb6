"""Pathfinder / Path-X: the release loader (also reads the offline generator's output).

Layout: `pathfinder{32,64,128}/{curv_baseline,curv_contour_length_9,curv_contour_length_14}/`
with `imgs/<batch>/sample_<k>.png` and `metadata/<batch>.npy`. Despite the extension the metadata
files are plain text: one line per image, space-separated fields; field 0 is the image folder
(e.g. `imgs/0`), field 1 the file name, field 3 the label (0/1). Image path = `<difficulty
folder>/<f0>/<f1>`. Metadata files are read in order of their integer stem (S4), lines in order.

Split (LRA): ordered slices of all metadata rows, train = the first 1-val-test fraction, then val,
then test (LRA's tfds percent slicing [:80%] / [80%:90%] / [90%:]). Images that are empty (the
release has a 0-byte `pathfinder32/curv_baseline/imgs/0/sample_172.png`), missing, unreadable or
of the wrong size are skipped and counted (reported once per split), never fatal.

Tokens: the 8-bit grey values 0-255, row-major, length resolution^2 (vocab 256; 0 is a real pixel).
Arrays: inputs uint8 [N, res^2], lengths int32 [N] (= res^2), targets uint8 [N].
"""
from __future__ import annotations

import logging
import os
from typing import NamedTuple

import numpy as np
from PIL import Image

from lra.data.cache import ArrayBuilder
from lra.data.errors import DataError, where

log = logging.getLogger("lra.data")


class MetaRow(NamedTuple):
    image: str   # path relative to the difficulty folder
    label: int
    source: str  # metadata file:line, for messages


def _stem_key(name: str):
    stem = os.path.splitext(name)[0]
    return (0, int(stem), "") if stem.isdigit() else (1, 0, stem)


def read_metadata(folder: str) -> list[MetaRow]:
    """All rows of `<folder>/metadata/*.npy` (text), in batch order then line order."""
    meta_dir = os.path.join(folder, "metadata")
    names = sorted((n for n in os.listdir(meta_dir) if n.endswith(".npy")), key=_stem_key)
    rows: list[MetaRow] = []
    for name in names:
        path = os.path.join(meta_dir, name)
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"\x93NUMPY"):
            raise DataError(f"{where(path)}: a binary .npy array; expected the release's text metadata "
                            "(one line per image: folder file index label ...)")
        for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 4:
                raise DataError(f"{where(path, lineno)}: malformed metadata row, expected at least 4 "
                                f"space-separated fields (folder file index label ...), got {len(fields)}")
            try:
                label = int(fields[3])
            except ValueError:
                raise DataError(f"{where(path, lineno)}: malformed label {fields[3]!r}, expected 0 or 1") from None
            if label not in (0, 1):
                raise DataError(f"{where(path, lineno)}: label {label} out of range (0 or 1)")
            rows.append(MetaRow(os.path.join(fields[0], fields[1]), label, f"{path}:{lineno}"))
    if not rows:
        raise DataError(f"{meta_dir}: no metadata rows (empty metadata files)")
    return rows


def split_rows(rows: list, val_fraction: float, test_fraction: float) -> dict[str, list]:
    """Ordered train/val/test slices; boundaries round(N*(1-val-test)) and round(N*(1-test))."""
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction={val_fraction}, test_fraction={test_fraction}: need 0 <= each, sum < 1")
    n = len(rows)
    a = int(round(n * (1 - val_fraction - test_fraction)))
    b = int(round(n * (1 - test_fraction)))
    return {"train": rows[:a], "val": rows[a:b], "test": rows[b:]}


def decode_png(path: str, resolution: int) -> tuple[np.ndarray | None, str]:
    """(uint8 [res, res], '') or (None, reason) with reason in empty/missing/unreadable/size."""
    try:
        if os.path.getsize(path) == 0:
            return None, "empty"
    except OSError:
        return None, "missing"
    try:
        with Image.open(path) as im:
            if im.mode != "L":
                im = im.convert("L")
            arr = np.asarray(im)
    except (OSError, SyntaxError, ValueError):
        return None, "unreadable"
    if arr.shape != (resolution, resolution):
        return None, "size"
    return arr, ""


def read_pathfinder_rows(folder: str, rows: list[MetaRow], resolution: int, builder: ArrayBuilder, what: str) -> tuple[int, dict]:
    """Decodes the images of `rows` into builder arrays; bad images are skipped and counted."""
    n = len(rows)
    seq = resolution * resolution
    inputs = builder.zeros("inputs", (max(n, 1), seq), np.uint8)
    lengths = builder.zeros("lengths", (max(n, 1),), np.int32)
    targets = builder.zeros("targets", (max(n, 1),), np.uint8)
    skipped = {"empty": 0, "missing": 0, "unreadable": 0, "size": 0}
    first_bad = None
    i = 0
    for row in rows:
        path = os.path.join(folder, row.image)
        arr, why = decode_png(path, resolution)
        if arr is None:
            skipped[why] += 1
            first_bad = first_bad or f"{path} ({why}, listed at {row.source})"
            continue
        inputs[i] = arr.reshape(-1)
        targets[i] = row.label
        i += 1
    lengths[:i] = seq
    total = sum(skipped.values())
    if total:
        log.warning("%s: skipped %d image(s) %s; first: %s", what, total,
                    {k: v for k, v in skipped.items() if v}, first_bad)
    if i == 0 and n > 0:
        raise DataError(f"{what}: none of the {n} images listed in {folder}/metadata could be read; first: {first_bad}")
    return i, {"skipped": total, "skipped_by_reason": skipped}
