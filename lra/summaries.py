"""A run's ``summary.json``: the mark that a run is finished, valid only when it parses whole.

``lra.train`` writes the summary atomically (:mod:`lra.atomic`) as its last act, but a file can
still be damaged later (a disk error, a hand edit, a copy cut short). A summary counts only if it
parses as a JSON object and has the fields the sweep's aggregate and the tables read
(:data:`REQUIRED`); otherwise the run is unfinished: a rerun resumes it from its checkpoints (or,
with every step done, only evaluates the test split again) and writes a new summary.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from etils import epath

SUMMARY_FILE = "summary.json"
REQUIRED = {"test_accuracy": "a number", "steps_completed": "a number"}


def problem(summary: Any) -> str | None:
    """Why ``summary`` (parsed JSON) is not a usable summary, or None if it is."""
    if not isinstance(summary, dict):
        return f"not a JSON object ({type(summary).__name__})"
    for field, kind in REQUIRED.items():
        value = summary.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"field {field!r} is {value!r}, not {kind}"
    return None


def read(workdir: str | os.PathLike) -> tuple[dict | None, str | None]:
    """``(summary, None)`` for a valid summary; ``(None, why)`` for a damaged one; ``(None, None)``
    when there is none."""
    path = epath.Path(os.fspath(workdir)) / SUMMARY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None, None
    except OSError as error:
        return None, f"unreadable ({error})"
    try:
        summary = json.loads(text)
    except ValueError as error:
        return None, f"not valid JSON ({error})"
    why = problem(summary)
    return (None, why) if why else (summary, None)


def load(workdir: str | os.PathLike) -> dict | None:
    """The valid summary of ``workdir``, or None (none, or damaged)."""
    return read(workdir)[0]


SWEEP_JOB_ENV = "WAVSPA_SWEEP_JOB"  # set by the sweep's backends for the jobs they start


def finished_before_this_sweep_job(workdir: str | os.PathLike) -> bool:
    """True in a job a sweep started (``WAVSPA_SWEEP_JOB``) whose workdir already holds a valid
    summary: another sweep's job finished the run between this sweep's check and this job's lock.
    Call it holding the workdir lock; the job then ends without training or re-testing."""
    return bool(os.environ.get(SWEEP_JOB_ENV)) and load(workdir) is not None
