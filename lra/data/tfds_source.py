"""Tasks read through tensorflow-datasets' random-access ``data_source`` (Text, Image).

No TensorFlow is needed: ``tfds.data_source(name, split=..., data_dir=...)`` reads the
array_record files of a prepared dataset. Prepare them once on a machine with network:
``tfds build <name> --data_dir=<data.dir> --file_format=array_record``, or set
``data.download=True``.
"""
from __future__ import annotations

import os

from lra.data.cache import cached_build, fingerprint
from lra.data.dataset import split_limit
from lra.data.errors import DataError
from lra.data.pipeline import SPLITS
from lra.data.tasks import get_task


def tfds_hint(tfds_name: str) -> str:
    """Where a tfds task's data come from (its ``download_hint``)."""
    return (f"tensorflow-datasets `{tfds_name}`: run `tfds build {tfds_name} --data_dir=<data.dir> "
            "--file_format=array_record` on a machine with network, or set data.download=True")


def open_source(task: str, tfds_name: str, split: str, data_dir: str, download: bool):
    """The tfds random-access data source of one split, or a DataError saying how to get it."""
    import tensorflow_datasets as tfds

    try:
        return tfds.data_source(tfds_name, split=split, data_dir=data_dir, download=download)
    except Exception as e:  # tfds raises several types for "not prepared / wrong format"
        raise DataError(
            f"{task}: could not open tfds dataset {tfds_name!r} split {split!r} in data_dir {data_dir!r} "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). Get it via "
            f"{get_task(task).download_hint}."
        ) from e


def tfds_files(tfds_name: str, data_dir: str) -> list[str]:
    """Files of the prepared dataset (for the cache fingerprint); empty if none on disk."""
    folder = os.path.join(data_dir, tfds_name)
    out = []
    for base, _, files in os.walk(folder):
        out += [os.path.join(base, f) for f in sorted(files)]
    return sorted(out)


def locate_tfds(task: str, tfds_name: str, root: str) -> None:
    """A DataError unless a prepared ``tfds_name`` lies under ``root`` (the tfds data_dir)."""
    if not tfds_files(tfds_name, root):
        raise DataError(f"{task}: data not found: no prepared tfds dataset {tfds_name!r} under {root!r}. "
                        f"Get it via {get_task(task).download_hint}.")


def load_tfds_splits(config, info, root, cache_root, tfds_name: str, split_names: dict[str, str], read,
                     extra_params=None) -> tuple[dict, dict]:
    """One cached build per split; ``read(source, limit, builder, what) -> (n, stats)``.

    Cache entries are named by the tfds split, so a validation split that is the test split
    (IMDb) shares the test split's entry."""
    splits, stats = {}, {}
    for split in SPLITS:
        tfds_split = split_names[split]
        limit = split_limit(config, split)
        what = f"{info.name} tfds {tfds_name}[{tfds_split}]"
        params = dict(task=info.name, split=tfds_split, data_dir=os.path.abspath(root), max_length=info.max_length,
                      limit=limit, **(extra_params or {}))

        def build(b, s=tfds_split, lim=limit, what=what):
            return read(open_source(info.name, tfds_name, s, root, bool(config.data.download)), lim, b, what)

        name = f"{info.name}-" + "".join(c if c.isalnum() else "_" for c in tfds_split)
        splits[split], stats[split] = cached_build(
            cache_root, name, params,
            lambda s=tfds_split: fingerprint(stat_files=tfds_files(tfds_name, root), extra=s),
            build,
        )
    return splits, stats


def check_label(label, num_classes: int, where: str) -> int:
    label = int(label)
    if not 0 <= label < num_classes:
        raise DataError(f"{where}: label {label} out of range 0..{num_classes - 1}")
    return label
