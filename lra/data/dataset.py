"""`load_dataset(config)`: generate (if asked) / locate / tokenise / cache one task's three splits.

Reads config.task, config.max_length and config.data (see `lra.data.config`). Every split goes
through `cached_build`, so the first load tokenises and later loads memory-map the cached arrays.
"""
from __future__ import annotations

import logging
import os

from lra.data import lego, listops, listops_gen, pathfinder, retrieval, tfds_tasks
from lra.data.cache import cached_build, fingerprint, writable_cache_root
from lra.data.config import PATHFINDER_RESOLUTIONS, TASKS, TaskInfo, pathfinder_folder
from lra.data.encoding import BYTE_VOCAB_SIZE
from lra.data.errors import DOWNLOAD_HINTS, DataError
from lra.data.pipeline import SPLITS, Dataset
from lra.data.release import resolve_release_dir

log = logging.getLogger("lra.data")

SOURCES = {
    "listops": ("generate", "release"),
    "text": ("tfds",),
    "retrieval": ("release",),
    "image": ("tfds",),
    "pathfinder": ("generate", "release"),
    "lego": ("generate", "release"),
}


def task_info(config) -> TaskInfo:
    """TaskInfo of config.task, checking config.max_length against the task."""
    task, n, d = config.task, int(config.max_length), config.data
    if task not in TASKS:
        raise ValueError(f"config.task={task!r}: expected one of {TASKS}")
    if n < 1:
        raise ValueError(f"config.max_length={n} must be positive")
    if task == "image" and n != 1024:
        raise ValueError(f"image: config.max_length={n}, but CIFAR-10 images are 32x32 = 1024 tokens")
    if task == "pathfinder":
        res = int(d.resolution)
        if res not in PATHFINDER_RESOLUTIONS:
            raise ValueError(f"data.resolution={res}: expected one of {PATHFINDER_RESOLUTIONS}")
        if n != res * res:
            raise ValueError(f"pathfinder: config.max_length={n} but data.resolution={res} gives "
                             f"{res * res} pixel tokens; set config.max_length={res * res}")
    if task == "lego" and n < lego.TOKENS_PER_CLAUSE * int(d.num_vars):
        raise ValueError(f"lego: config.max_length={n} < {lego.TOKENS_PER_CLAUSE} * data.num_vars "
                         f"({lego.TOKENS_PER_CLAUSE * int(d.num_vars)}); raise config.max_length")
    kinds = {"retrieval": "dual", "lego": "token"}
    vocab = {"listops": listops.LISTOPS_VOCAB_SIZE, "text": BYTE_VOCAB_SIZE, "retrieval": BYTE_VOCAB_SIZE,
             "image": 256, "pathfinder": 256, "lego": lego.LEGO_VOCAB_SIZE}
    classes = {"listops": 10, "text": 2, "retrieval": 2, "image": 10, "pathfinder": 2, "lego": 2}
    return TaskInfo(task, kinds.get(task, "classification"), vocab[task], classes[task], n)


def _data_dir(task: str, d) -> str:
    if d.dir:
        return os.path.expanduser(str(d.dir))
    return os.path.join(os.getcwd(), "data", "tfds" if task in ("text", "image") else task)


def _check_source(task: str, source: str) -> None:
    if source in SOURCES[task]:
        return
    if source == "generate":
        raise DataError(f"{task}: data.source=generate is not available: {task} is real data and must be "
                        f"downloaded ({DOWNLOAD_HINTS[task]}); no fake data is made up.")
    raise ValueError(f"{task}: data.source={source!r}; expected one of {SOURCES[task]}")


def _limit(d, split: str) -> int:
    return int(d.limit_train if split == "train" else d.limit_eval)


def _generator_seed(config) -> int:
    return int(config.data.generator_seed)


def load_dataset(config) -> Dataset:
    """The Dataset of config.task: generated / located, tokenised, cached (see module docstring)."""
    info = task_info(config)
    task, d = info.name, config.data
    source = str(d.source)
    _check_source(task, source)
    root = _data_dir(task, d)
    cache_root = writable_cache_root(str(d.cache_dir), root) if d.use_cache else None
    loader = {"listops": _listops, "retrieval": _retrieval, "text": _tfds, "image": _tfds,
              "pathfinder": _pathfinder, "lego": _lego}[task]
    splits, stats = loader(config, info, root, cache_root)
    for split in SPLITS:
        log.info("%s %s: %d examples", task, split, len(splits[split]["targets"]))
    return Dataset(info, splits, stats)


def _line_files(config, info, cache_root, files: dict[str, str], read) -> tuple[dict, dict]:
    """Shared driver for the line-based formats: one cached build per split file."""
    splits, stats = {}, {}
    for split in SPLITS:
        path = files[split]
        limit = _limit(config.data, split)
        params = dict(task=info.name, split=split, path=os.path.abspath(path), max_length=info.max_length,
                      limit=limit, extra=_extra_params(config, split))
        splits[split], stats[split] = cached_build(
            cache_root, f"{info.name}-{split}", params,
            lambda p=path: fingerprint(content_files=[p]),
            lambda b, p=path, s=split, lim=limit: read(p, s, lim, b),
        )
    return splits, stats


def _extra_params(config, split: str) -> dict:
    if config.task == "lego":
        return dict(num_train_vars=int(config.data.num_train_vars) if split == "train" else 0)
    return {}


def _listops(config, info, root, cache_root):
    d = config.data
    if d.source == "generate":
        folder = listops_gen.generate_listops(
            root, _generator_seed(config), int(d.num_train), int(d.num_val), int(d.num_test),
            int(d.min_tokens), int(d.max_tokens), int(d.max_depth), int(d.max_args))
    else:
        folder = _release(info.name, root, listops_gen.RELEASE_SUBDIR, list(listops.SPLIT_FILES.values()))
    files = {s: os.path.join(folder, f) for s, f in listops.SPLIT_FILES.items()}
    return _line_files(config, info, cache_root, files,
                       lambda p, s, lim, b: listops.read_listops_tsv(p, info.max_length, lim, b))


def _retrieval(config, info, root, cache_root):
    folder = _release(info.name, root, "tsv_data", list(retrieval.SPLIT_FILES.values()))
    files = {s: os.path.join(folder, f) for s, f in retrieval.SPLIT_FILES.items()}
    return _line_files(config, info, cache_root, files,
                       lambda p, s, lim, b: retrieval.read_aan_tsv(p, info.max_length, lim, b))


def _lego(config, info, root, cache_root):
    d = config.data
    num_vars, train_vars = int(d.num_vars), int(d.num_train_vars)
    if not 1 <= train_vars <= num_vars:
        raise ValueError(f"lego: data.num_train_vars={train_vars} must be in 1..data.num_vars={num_vars}")
    if d.source == "generate":
        folder = lego.generate_lego(root, _generator_seed(config), num_vars,
                                    int(d.num_train), int(d.num_val), int(d.num_test))
    else:
        folder = _release(info.name, root, lego.RELEASE_SUBDIR, list(lego.SPLIT_FILES.values()))
    files = {s: os.path.join(folder, f) for s, f in lego.SPLIT_FILES.items()}
    return _line_files(config, info, cache_root, files,
                       lambda p, s, lim, b: lego.read_lego_tsv(
                           p, info.max_length, train_vars if s == "train" else 0, lim, b))


def _release(task: str, root: str, subdir: str, files: list[str]) -> str:
    return resolve_release_dir(task, root, subdir, files)


def _tfds(config, info, root, cache_root):
    d, task = config.data, info.name
    names = tfds_tasks.tfds_split_names(task, d)
    splits, stats = {}, {}
    for split in SPLITS:
        tfds_split = names[split]
        limit = _limit(d, split)
        what = f"{task} tfds {tfds_tasks.TFDS_NAMES[task]}[{tfds_split}]"
        params = dict(task=task, split=tfds_split, data_dir=os.path.abspath(root), max_length=info.max_length,
                      limit=limit, grayscale=str(d.get("grayscale", "")))

        def build(b, s=tfds_split, lim=limit, what=what):
            src = tfds_tasks.open_source(task, s, root, bool(d.download))
            if task == "text":
                return tfds_tasks.read_imdb(src, info.max_length, lim, b, what)
            return tfds_tasks.read_cifar(src, lim, str(d.grayscale), b, what)

        # named by the tfds split, so IMDb's val (= test) shares the test split's cache entry
        name = f"{task}-" + "".join(c if c.isalnum() else "_" for c in tfds_split)
        splits[split], stats[split] = cached_build(
            cache_root, name, params,
            lambda s=tfds_split: fingerprint(stat_files=tfds_tasks.tfds_files(task, root), extra=s),
            build,
        )
    return splits, stats


def _pathfinder(config, info, root, cache_root):
    d = config.data
    res = int(d.resolution)
    folder_name = pathfinder_folder(str(d.difficulty))
    if d.source == "generate":
        from lra.data import pathfinder_gen

        n_train, n_val, n_test = int(d.num_train), int(d.num_val), int(d.num_test)
        folder = pathfinder_gen.generate_pathfinder(
            root, _generator_seed(config), res, folder_name, n_train + n_val + n_test)
        total = n_train + n_val + n_test
        val_fraction, test_fraction = n_val / total, n_test / total
    else:
        folder = _release("pathfinder", root, f"pathfinder{res}/{folder_name}", ["metadata"])
        val_fraction, test_fraction = float(d.val_fraction), float(d.test_fraction)
    rows = pathfinder.split_rows(pathfinder.read_metadata(folder), val_fraction, test_fraction)
    splits, stats = {}, {}
    for split in SPLITS:
        limit = _limit(d, split)
        split_rows = rows[split][:limit] if limit > 0 else rows[split]
        what = f"pathfinder{res}/{folder_name} {split}"
        meta_files = sorted(os.path.join(folder, "metadata", f) for f in os.listdir(os.path.join(folder, "metadata")))
        params = dict(task="pathfinder", split=split, folder=os.path.abspath(folder), resolution=res,
                      limit=limit, fractions=[val_fraction, test_fraction])
        splits[split], stats[split] = cached_build(
            cache_root, f"pathfinder{res}-{folder_name}-{split}", params,
            lambda r=split_rows: fingerprint(content_files=meta_files,
                                             stat_files=_existing(os.path.join(folder, x.image) for x in r)),
            lambda b, r=split_rows, w=what: pathfinder.read_pathfinder_rows(folder, r, res, b, w),
        )
    return splits, stats


def _existing(paths):
    """Paths that exist (a missing image is a skipped image, not a fingerprint error)."""
    return [p for p in paths if os.path.exists(p)]
