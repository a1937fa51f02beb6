"""``load_dataset(config)``: generate (if asked) / locate / tokenise / cache one task's three splits.

Reads config.task, config.max_length and config.data; the task's registered loader
(:class:`~lra.data.tasks.TaskSpec` ``load``) builds each split through ``cached_build``, so the
first load tokenises and later loads memory-map the cached arrays.
"""
from __future__ import annotations

import logging
import os

import numpy as np

from lra.data.cache import cached_build, discard_entry_of, fingerprint, writable_cache_root
from lra.data.errors import DataError
from lra.data.pipeline import SPLITS, Dataset
from lra.data.tasks import TaskInfo, get_task
from wavspa_flax.errors import ConfigError

log = logging.getLogger("lra.data")


def task_info(config) -> TaskInfo:
    """TaskInfo of config.task, checking config.max_length against the task."""
    return get_task(config.task).info(config)


def data_root(config) -> str:
    """``config.data.dir``, or ``./data/<the task's data_dir>`` when empty."""
    spec, d = get_task(config.task), config.data
    if d.dir:
        return os.path.expanduser(str(d.dir))
    return os.path.join(os.getcwd(), "data", spec.data_dir or spec.name)


def check_source(config) -> str:
    """``config.data.source`` if the task accepts it; otherwise an error saying what to do."""
    spec, source = get_task(config.task), str(config.data.source)
    if source in spec.sources:
        return source
    if source == "generate":
        raise DataError(f"{spec.name}: data.source=generate is not available: {spec.name} is real data and "
                        f"must be downloaded ({spec.download_hint}); no fake data is made up.")
    raise ConfigError(f"config.data.source={source!r} is not valid for {spec.name}; expected one of {spec.sources}")


def check_data_available(config) -> None:
    """A DataError saying where to get the data unless they can be loaded here (generated data
    always can); cheap: nothing is read or generated."""
    spec = get_task(config.task)
    if check_source(config) != "generate" and spec.locate is not None:
        spec.locate(config, data_root(config))


def split_limit(config, split: str) -> int:
    """``data.limit_train`` for train, ``data.limit_eval`` for val and test (0 = all)."""
    d = config.data
    return int(d.limit_train if split == "train" else d.limit_eval)


def load_dataset(config) -> Dataset:
    """The Dataset of config.task: generated / located, tokenised, cached (see module docstring)."""
    spec = get_task(config.task)
    info = spec.info(config)
    check_source(config)
    root = data_root(config)
    d = config.data
    cache_root = writable_cache_root(str(d.cache_dir), root) if d.use_cache else None
    splits, stats = spec.load(config, info, root, cache_root)
    bad = label_problems(splits, info.num_classes)
    discarded = [entry for split in bad if (entry := discard_entry_of(splits[split]["targets"], cache_root))]
    if discarded:
        log.warning("%s: cached labels out of range (%s); rebuilt %s from the source", spec.name,
                    "; ".join(bad.values()), ", ".join(discarded))
        splits, stats = spec.load(config, info, root, cache_root)
        bad = label_problems(splits, info.num_classes)
    if bad:
        raise DataError(f"{spec.name}: labels out of range in the data under {root!r}: {'; '.join(bad.values())} "
                        "(check the data files: each label must be one of the task's classes)")
    for split in SPLITS:
        log.info("%s %s: %d examples", spec.name, split, len(splits[split]["targets"]))
    return Dataset(info, splits, stats)


def label_problems(splits: dict, num_classes: int) -> dict[str, str]:
    """Per split, what is wrong with its labels (``targets`` outside ``[0, num_classes)``, where
    ``weights`` > 0 for token-level tasks); splits without a problem are left out."""
    problems = {}
    for split, arrays in splits.items():
        targets = np.asarray(arrays["targets"])
        if "weights" in arrays:
            targets = targets[np.asarray(arrays["weights"]) > 0]
        if targets.size == 0:
            continue
        low, high = int(targets.min()), int(targets.max())
        if low < 0 or high >= num_classes:
            problems[split] = f"{split} labels span [{low}, {high}], the task has {num_classes} classes"
    return problems


def line_file_splits(config, info, cache_root, files: dict[str, str], read, extra=None) -> tuple[dict, dict]:
    """Shared driver for the line-based formats: one cached build per split file.

    ``read(path, split, limit, builder) -> (n, stats)``; ``extra(split)`` adds tokenisation
    parameters to the cache key (e.g. LEGO's supervised positions)."""
    splits, stats = {}, {}
    for split in SPLITS:
        path = files[split]
        limit = split_limit(config, split)
        params = dict(task=info.name, split=split, path=os.path.abspath(path), max_length=info.max_length,
                      limit=limit, extra=extra(split) if extra else {})
        splits[split], stats[split] = cached_build(
            cache_root, f"{info.name}-{split}", params,
            lambda p=path: fingerprint(content_files=[p]),
            lambda b, p=path, s=split, lim=limit: read(p, s, lim, b),
        )
    return splits, stats
