"""Errors raised by the data layer.

Every error names the file (and line, where there is one) and says how to fix the problem, so a
user staring at a traceback knows which file is wrong and where the expected data come from.
"""
from __future__ import annotations

import os

# Where each task's data come from (named in "missing data" errors).
DOWNLOAD_HINTS = {
    "listops": (
        "the LRA release: https://storage.googleapis.com/long-range-arena/lra_release.gz "
        "(tar xvf, then point data.dir at the unpacked lra_release/ folder), or set "
        "data.source=generate to write a ListOps set offline"
    ),
    "retrieval": (
        "the LRA release: https://storage.googleapis.com/long-range-arena/lra_release.gz "
        "(tar xvf, then point data.dir at the unpacked lra_release/ folder)"
    ),
    "pathfinder": (
        "the LRA release: https://storage.googleapis.com/long-range-arena/lra_release.gz "
        "(tar xvf, then point data.dir at the unpacked lra_release/ folder), or set "
        "data.source=generate to draw a Pathfinder set offline"
    ),
    "text": (
        "tensorflow-datasets `imdb_reviews`: run `tfds build imdb_reviews --data_dir=<data.dir> "
        "--file_format=array_record` on a machine with network, or set data.download=True"
    ),
    "image": (
        "tensorflow-datasets `cifar10`: run `tfds build cifar10 --data_dir=<data.dir> "
        "--file_format=array_record` on a machine with network, or set data.download=True"
    ),
    "lego": "data.source=generate (LEGO is synthetic; there is no release to download)",
}


class DataError(ValueError):
    """Bad or missing input data. Subclass of ValueError so callers can catch either."""


def where(path: str | os.PathLike, line: int | None = None) -> str:
    """`path:line` (1-based line) or `path`, for error messages."""
    return f"{os.fspath(path)}:{line}" if line is not None else os.fspath(path)


def missing_data_error(task: str, expected: str, looked_in: str | os.PathLike) -> DataError:
    """The error for a missing directory or file: the layout expected and where to get it."""
    return DataError(
        f"{task}: data not found. Looked for {expected} under {os.fspath(looked_in)!r}. "
        f"Get it from {DOWNLOAD_HINTS.get(task, 'the LRA release')}."
    )
