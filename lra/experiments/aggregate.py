"""A sweep's aggregate: one row per distinct run without its seed (test accuracy mean, sample std
and count over the finished seeds, mean steps and wall time, chosen summary fields, missing and
damaged runs), written as ``<root>/results.md`` and ``<root>/results.csv``; and every finished run
kept (:func:`write_run_files`: ``<root>/results_runs.csv`` and ``results_curves.csv``)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lra import atomic
from lra import summaries as summaries_lib
from lra.config import lookup
from lra.experiments import run_records
from lra.experiments.runs import Run, SweepError
from wavspa_flax.errors import did_you_mean


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mean(values: Sequence[Any]) -> float | None:
    numbers = [float(v) for v in values if _is_number(v)]
    return statistics.fmean(numbers) if numbers else None


def _combine(values: Sequence[Any]) -> Any:
    """Mean of numbers; otherwise the distinct values in order (`` / ``-joined)."""
    present = [v for v in values if v is not None]
    if present and all(_is_number(v) for v in present):
        return statistics.fmean(float(v) for v in present)
    distinct = []
    for value in present:
        text = value if isinstance(value, str) else json.dumps(value)
        if text not in distinct:
            distinct.append(text)
    return " / ".join(distinct) if distinct else None


def aggregate(runs: Sequence[Run], root: Path, fields: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One row per distinct run without its seed (first-appearance order): statistics over seeds."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault(run.without_seed().key(), []).append(run)

    read = {run: summaries_lib.read(run.workdir(root)) for run in runs}
    summaries = {run: summary for run, (summary, _) in read.items() if summary is not None}
    damaged = {run for run, (_, why) in read.items() if why}
    for field in fields:
        if summaries and all(lookup(s, field) is None for s in summaries.values()):
            known = sorted({k for s in summaries.values() for k in s})
            raise SweepError(f"--fields: no finished run has the summary field {field!r}{did_you_mean(field, known)}")
    rows = []
    for members in groups.values():
        done = [summaries[r] for r in members if r in summaries]
        accuracy = [float(s["test_accuracy"]) for s in done]
        row: dict[str, Any] = {
            "config": members[0].config,
            "overrides": members[0].without_seed().describe(),
            "n": len(done),
            "missing": len(members) - len(done),
            "test_accuracy_mean": statistics.fmean(accuracy) if accuracy else None,
            "test_accuracy_std": statistics.stdev(accuracy) if len(accuracy) > 1 else None,
            "steps_mean": _mean([s.get("steps_completed") for s in done]),
            "wall_seconds_mean": _mean([s.get("wall_seconds") for s in done]),
        }
        for field in fields:
            row[field] = _combine([lookup(s, field) for s in done])
        row["missing_runs"] = ";".join(r.folder() for r in members if r not in summaries)
        row["damaged_runs"] = ";".join(r.folder() for r in members if r in damaged)
        rows.append(row)
    return rows


def write_run_files(runs: Sequence[Run], root: Path) -> list[Path]:
    """``<root>/results_runs.csv`` (one row per finished run: overrides, seed, how it stopped, best
    validation and test accuracy, wall time, hardware, commit) and ``<root>/results_curves.csv`` (its
    validation curve): the columns of :mod:`lra.experiments.run_records`, the A.4 ones left empty (a
    sweep has no stopping rule to replay). Returns the two paths."""
    rows, curves = [], []
    for run in runs:
        folder = run.workdir(root)
        summary, _ = summaries_lib.read(folder)
        if summary is None:
            continue
        labels = run_records.model_labels(run.config)
        rows.append(run_records.run_record(labels, run.without_seed().describe(), folder, summary, None))
        curves += run_records.curve_records(labels, folder, run.seed)
    return run_records.write_run_files(root / "results", rows, curves)


def _cell(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if _is_number(value):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return str(value).replace("|", "\\|")


def write_results(rows: Sequence[dict[str, Any]], root: Path, fields: Sequence[str], command: str) -> None:
    columns = list(rows[0]) if rows else []
    with io.StringIO() as buffer:
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        atomic.write_text(root / "results.csv", buffer.getvalue())
    shown = ["config", "overrides", "n", "test_accuracy_mean", "test_accuracy_std", "steps_mean",
             "wall_seconds_mean", *fields, "missing"]
    lines = [f"## Sweep results ({datetime.date.today()})", "",
             f"`{command}`", "",
             "Test accuracy over seeds: mean, sample std (ddof=1; empty for n=1), n finished runs; mean steps "
             "and wall seconds; " + (f"{', '.join(fields)}: mean over seeds (numbers) or the values; " if fields
                                     else "") + "missing: runs without a summary.json.", "",
             "| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in rows:
        digits = {"steps_mean": 1, "wall_seconds_mean": 1}
        lines.append("| " + " | ".join(_cell(row[c], digits.get(c, 4)) for c in shown) + " |")
    missing = [folder for row in rows for folder in row["missing_runs"].split(";") if folder]
    lines += ["", f"Missing runs ({len(missing)}):" if missing else "Missing runs: none."]
    lines += [f"- `{folder}`" for folder in missing]
    damaged = [folder for row in rows for folder in row["damaged_runs"].split(";") if folder]
    if damaged:
        lines += ["", f"Damaged runs ({len(damaged)}; their summary.json does not parse or lacks fields: rerun the "
                  "sweep, which resumes or re-tests them from their checkpoints):"]
        lines += [f"- `{folder}`" for folder in damaged]
    atomic.write_text(root / "results.md", "\n".join(lines) + "\n")
