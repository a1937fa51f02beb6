"""Every seed of a table, kept: one row per run and the learning curves, as small CSV files.

``<table>_runs.csv`` has one row per finished run (:data:`RUN_COLUMNS`): its labels, its overrides
and seed, how it stopped, the best validation accuracy and the test accuracy of that state at the
fixed budget and under the paper's A.4 rule replayed on its curve, wall time, hardware and the
code's commit. ``<table>_curves.csv`` has one row per evaluation (:data:`CURVE_COLUMNS`). Means,
standard deviations and the 90% t-intervals of a table are recomputable from the runs file with
:func:`mean_std_interval`. Accuracies are fractions here (the tables print %).
"""
from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lra import atomic
from lra.metrics import read_metrics

LABEL_COLUMNS = ("task", "attention", "space")
RUN_COLUMNS = LABEL_COLUMNS + (
    "overrides", "seed", "steps_completed", "stop_reason", "best_val_accuracy", "best_step", "test_accuracy",
    "a4_best_val_accuracy", "a4_best_step", "a4_stop_step", "a4_test_accuracy", "wall_seconds", "hardware",
    "commit", "run")
CURVE_COLUMNS = LABEL_COLUMNS + ("run", "seed", "step", "val_accuracy", "test_accuracy")
CI_LEVEL = 0.90


def t_quantile(probability: float, dof: int) -> float:
    """Student-t quantile (scipy)."""
    from scipy import stats

    return float(stats.t.ppf(probability, dof))


def mean_std_interval(values: Sequence[float],
                      level: float = CI_LEVEL) -> tuple[float | None, float | None, float | None]:
    """(mean, sample std (ddof=1), half-width of the ``level`` Student-t interval of the mean);
    the std and half-width are None below two values."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None, None
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    std = statistics.stdev(values)
    return mean, std, t_quantile(0.5 + level / 2, len(values) - 1) * std / math.sqrt(len(values))


def model_labels(config: str) -> dict[str, str]:
    """``configs/listops.py:transformer,ada`` -> ``{"task": "listops", "attention": "transformer", "space": "ada"}``."""
    path, _, variant = config.partition(":")
    attention, _, space = variant.partition(",")
    return {"task": Path(path).stem, "attention": attention, "space": space or "none"}


def curve(records: Sequence[Mapping]) -> list[dict[str, Any]]:
    """``{"step", "val_accuracy", "test_accuracy"}`` per evaluation of a run's metrics records
    (the test accuracy where the run tracked it, ``track_test``; else None)."""
    val = {r["step"]: r.get("accuracy") for r in records if r["split"] == "val"}
    test = {r["step"]: r.get("accuracy") for r in records if r["split"] == "test_tracked"}
    return [{"step": step, "val_accuracy": val[step], "test_accuracy": test.get(step)} for step in sorted(val)]


def run_record(labels: Mapping[str, Any], overrides: str, folder: Path, summary: Mapping[str, Any],
               replay: Mapping[str, Any] | None) -> dict[str, Any]:
    """One row of ``_runs.csv``: a finished run's ``summary.json`` and its A.4 ``replay``
    (:func:`lra.experiments.run_results.replay_early_stopping`; None when the run tracked no test accuracy)."""
    val = {row["step"]: row["val_accuracy"] for row in curve(_metrics(folder))}
    replay = replay or {}
    return {
        **{k: labels.get(k, "") for k in LABEL_COLUMNS}, **labels,
        "overrides": overrides, "seed": summary.get("config", {}).get("seed"),
        "steps_completed": summary.get("steps_completed"), "stop_reason": summary.get("stop_reason"),
        "best_val_accuracy": summary.get("best_val_accuracy"), "best_step": summary.get("best_step"),
        "test_accuracy": summary.get("test_accuracy"),
        "a4_best_val_accuracy": val.get(replay.get("best_step")), "a4_best_step": replay.get("best_step"),
        "a4_stop_step": replay.get("stop_step"), "a4_test_accuracy": replay.get("test_accuracy"),
        "wall_seconds": summary.get("wall_seconds"), "hardware": summary.get("hardware"),
        "commit": _commits(summary), "run": folder.name,
    }


def _commits(summary: Mapping[str, Any]) -> str | None:
    """The commit the run started with, or ``'a -> b'`` for a run resumed under another checkout."""
    commits = summary.get("wavspa_commits")
    return " -> ".join(commits) if commits else summary.get("versions", {}).get("wavspa_commit")


def _metrics(folder: Path) -> list[dict]:
    """The run's metrics records; none for a folder without ``metrics.jsonl`` (a summary copied alone)."""
    return read_metrics(folder) if (Path(folder) / "metrics.jsonl").exists() else []


def curve_records(labels: Mapping[str, Any], folder: Path, seed: Any) -> list[dict[str, Any]]:
    """The rows of ``_curves.csv`` of one run."""
    return [{**{k: labels.get(k, "") for k in LABEL_COLUMNS}, **labels, "run": folder.name, "seed": seed, **row}
            for row in curve(_metrics(folder))]


def _value(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 6) if isinstance(value, float) else value


def csv_text(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _value(row.get(c)) for c in columns})
    return buffer.getvalue()


def write_run_files(stem: Path, runs: Sequence[dict], curves: Sequence[dict],
                    labels: Sequence[str] = ()) -> list[Path]:
    """Writes ``<stem>_runs.csv`` and ``<stem>_curves.csv`` (``labels``: extra label columns put
    after the task, attention and space); returns their paths."""
    paths = [stem.with_name(stem.name + "_runs.csv"), stem.with_name(stem.name + "_curves.csv")]
    extra = tuple(c for c in labels if c not in LABEL_COLUMNS)
    atomic.write_text(paths[0], csv_text(LABEL_COLUMNS + extra + RUN_COLUMNS[len(LABEL_COLUMNS):], runs))
    atomic.write_text(paths[1], csv_text(LABEL_COLUMNS + extra + CURVE_COLUMNS[len(LABEL_COLUMNS):], curves))
    return paths
