"""Errors raised by the data layer.

Every error names the file (and line, where there is one) and says how to fix the problem, so a
user knows which file is wrong and where the expected data come from.
"""
from __future__ import annotations

import os

from wavspa_flax.errors import UserError

RELEASE_HINT = ("the LRA release: https://storage.googleapis.com/long-range-arena/lra_release.gz "
                "(tar xvf, then point data.dir at the unpacked lra_release/ folder)")


class DataError(UserError, ValueError):
    """Bad or missing input data. Subclass of ValueError so callers can catch either."""


def where(path: str | os.PathLike, line: int | None = None) -> str:
    """`path:line` (1-based line) or `path`, for error messages."""
    return f"{os.fspath(path)}:{line}" if line is not None else os.fspath(path)


def missing_data_error(task: str, expected: str, looked_in: str | os.PathLike) -> DataError:
    """The error for a missing directory or file: the layout expected and where to get it."""
    from lra.data.tasks import get_task

    return DataError(
        f"{task}: data not found. Looked for {expected} under {os.fspath(looked_in)!r}. "
        f"Get it from {get_task(task).download_hint}."
    )
