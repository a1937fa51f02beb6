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

from lra.data.cache import ArrayBuilder, cached_build, fingerprint
from lra.data.dataset import split_limit
from lra.data.errors import RELEASE_HINT, DataError, where
from lra.data.generators.pathfinder_settings import PATHFINDER_DIFFICULTIES, PATHFINDER_RESOLUTIONS
from lra.data.pipeline import SPLITS
from lra.data.release import resolve_release_dir
from lra.data.tasks import TaskSpec, register_task
from wavspa_flax.errors import ConfigError

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


def read_pathfinder_rows(folder: str, rows: list[MetaRow], resolution: int, builder: ArrayBuilder,
                        what: str) -> tuple[int, dict]:
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


def pathfinder_folder(difficulty: str) -> str:
    """Release folder name for a difficulty ('easy'|'intermediate'|'hard' or the folder name)."""
    if difficulty in PATHFINDER_DIFFICULTIES:
        return PATHFINDER_DIFFICULTIES[difficulty]
    if difficulty in PATHFINDER_DIFFICULTIES.values():
        return difficulty
    raise ConfigError(
        f"config.data.difficulty={difficulty!r}: expected one of {sorted(PATHFINDER_DIFFICULTIES)} "
        f"or a folder name {sorted(PATHFINDER_DIFFICULTIES.values())}"
    )


def _existing(paths):
    """Paths that exist (a missing image is a skipped image, not a fingerprint error)."""
    return [p for p in paths if os.path.exists(p)]


def load_pathfinder(config, info, root, cache_root):
    """The three splits of one resolution/difficulty: generated offline or the release's folders."""
    d = config.data
    res = int(d.resolution)
    folder_name = pathfinder_folder(str(d.difficulty))
    if d.source == "generate":
        from lra.data.generators import pathfinder as pathfinder_gen

        n_train, n_val, n_test = int(d.num_train), int(d.num_val), int(d.num_test)
        total = n_train + n_val + n_test
        folder = pathfinder_gen.generate_pathfinder(root, int(d.generator_seed), res, folder_name, total)
        val_fraction, test_fraction = n_val / total, n_test / total
    else:
        folder = resolve_release_dir("pathfinder", root, f"pathfinder{res}/{folder_name}", ["metadata"])
        val_fraction, test_fraction = float(d.val_fraction), float(d.test_fraction)
    rows = split_rows(read_metadata(folder), val_fraction, test_fraction)
    meta_dir = os.path.join(folder, "metadata")
    meta_files = sorted(os.path.join(meta_dir, f) for f in os.listdir(meta_dir))
    splits, stats = {}, {}
    for split in SPLITS:
        limit = split_limit(config, split)
        split_rows_ = rows[split][:limit] if limit > 0 else rows[split]
        what = f"pathfinder{res}/{folder_name} {split}"
        params = dict(task="pathfinder", split=split, folder=os.path.abspath(folder), resolution=res,
                      limit=limit, fractions=[val_fraction, test_fraction])
        splits[split], stats[split] = cached_build(
            cache_root, f"pathfinder{res}-{folder_name}-{split}", params,
            lambda r=split_rows_: fingerprint(content_files=meta_files,
                                              stat_files=_existing(os.path.join(folder, x.image) for x in r)),
            lambda b, r=split_rows_, w=what: read_pathfinder_rows(folder, r, res, b, w),
        )
    return splits, stats


def check_pathfinder(config) -> None:
    res, n = int(config.data.resolution), int(config.max_length)
    if res not in PATHFINDER_RESOLUTIONS:
        raise ConfigError(f"config.data.resolution={res}: expected one of {PATHFINDER_RESOLUTIONS}")
    if n != res * res:
        raise ConfigError(f"pathfinder: config.max_length={n} but data.resolution={res} gives {res * res} pixel "
                          f"tokens; set config.max_length={res * res}")


register_task(TaskSpec(
    name="pathfinder", kind="classification", vocab_size=256, num_classes=2, sources=("generate", "release"),
    load=load_pathfinder, max_length=lambda data: int(data.resolution) ** 2, check=check_pathfinder,
    locate=lambda config, root: resolve_release_dir(
        "pathfinder", root, f"pathfinder{int(config.data.resolution)}/{pathfinder_folder(str(config.data.difficulty))}",
        ["metadata"]),
    download_hint=RELEASE_HINT + ", or set data.source=generate to draw a Pathfinder set offline",
    num_train_default=400, num_val_default=50, num_test_default=50,
    # Release split: ordered slices of the metadata rows, [0, 1-val-test) / val / test (LRA).
    data=dict(resolution=32, difficulty="hard", val_fraction=0.1, test_fraction=0.1),
))
