"""A paper table beside ours: one row per paper cell (our mean, std, 90% interval and n over
seeds, the A.4 replay, the difference, steps, data and hardware), the paper's averages, and the
table written as ``table<T>_<scale>.md`` and ``.csv``."""

from __future__ import annotations

import csv
import datetime
import io
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lra import atomic
from lra.experiments import listops_rules, run_records
from lra.experiments.paper_grids import CELL_KEYS
from lra.experiments.run_results import hardware_text, mean_std, run_result
from lra.experiments.table_cells import REPO, cell_key

AVERAGES = {"avg": ("listops", "text", "retrieval", "image", "pathfinder"),
            "avg_wo_r": ("listops", "text", "image", "pathfinder")}


def paper_rows(table: str) -> list[dict[str, str]]:
    path = REPO / "results" / "paper" / f"table{table}.csv"
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def table_rows(table: str, cells: Sequence[dict], root: Path, restricted: bool = False) -> list[dict[str, Any]]:
    """One row per paper cell (and per cell we ran that the paper lacks), in the paper's order;
    with ``restricted`` (a filtered grid) only the grid's cells and the averages."""
    by_key = {cell_key(c["labels"]): c for c in cells}
    rows, seen = [], set()
    paper = paper_rows(table)
    for prow in paper:
        key = cell_key(prow)
        seen.add(key)
        if restricted and key not in by_key and (prow.get("task") not in AVERAGES or not any(
                _same_group(prow, c["labels"]) for c in cells)):
            continue  # outside the grid: a task row not run, or an average of a group not run at all
        rows.append(_row(prow, by_key.get(key), root, paper_value=prow.get("value", "")))
    for key, cell in by_key.items():
        if key not in seen:
            rows.append(_row(cell["labels"], cell, root, paper_value=""))
    _fill_averages(rows)
    return rows


def _row(labels: Mapping[str, Any], cell: dict | None, root: Path, paper_value: str) -> dict[str, Any]:
    row: dict[str, Any] = {k: labels.get(k, "") for k in CELL_KEYS
                           if k in labels or k in ("task", "attention", "space")}
    row["paper"] = float(paper_value) if paper_value not in ("", None) else None
    if row.get("task") in AVERAGES:
        row["status"] = "average"
        return row
    if cell is None:
        row["status"] = "not in this grid" if row.get("attention") in _runnable_attentions() else "not implemented here"
        return row
    if cell["no_data"]:
        row["status"] = f"no data: {cell['no_data']}"
        return row
    results = [r for r in (run_result(run, root) for run in cell["runs"]) if r is not None]
    accuracies = [100 * r["summary"]["test_accuracy"] for r in results]
    early = [100 * r["early_stopping"]["test_accuracy"] for r in results
             if r["early_stopping"] and r["early_stopping"]["test_accuracy"] is not None]
    row["ours_mean"], row["ours_std"], row["ours_ci90"] = run_records.mean_std_interval(accuracies)
    row["n"] = len(results)
    (row["ours_early_stopping_mean"], row["ours_early_stopping_std"],
     row["ours_early_stopping_ci90"]) = run_records.mean_std_interval(early)
    references = cell.get("references")
    if references:
        row.update({rule: 100 * references[rule] for rule in listops_rules.RULES})
        row["learned"] = listops_rules.learned_flag(row["ours_mean"], row["ours_ci90"], row["top_operator"])
    row["early_stopping_step_mean"] = mean_std([r["early_stopping"]["stop_step"] for r in results
                                              if r["early_stopping"]])[0]
    both = row["ours_mean"] is not None and row["paper"] is not None
    row["delta"] = row["ours_mean"] - row["paper"] if both else None
    summaries = [r["summary"] for r in results]
    row["steps"] = mean_std([s["steps_completed"] for s in summaries])[0]
    row["wall_seconds"] = mean_std([s["wall_seconds"] for s in summaries])[0]
    row["data_source"] = " / ".join(sorted({s.get("data_source", "?") for s in summaries}))
    row["hardware"] = hardware_text(summaries)
    row["status"] = "ok" if len(results) == len(cell["runs"]) else f"{len(cell['runs']) - len(results)} runs missing"
    return row


def _runnable_attentions() -> set[str]:
    from wavspa_flax.attention import ATTENTIONS
    from wavspa_flax.mixers import MIXERS

    return set(ATTENTIONS.names()) | set(ATTENTIONS.aliases()) | set(MIXERS.names())


def _same_group(average: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """``other`` is one of the cells a paper ``average`` row averages: the same labels as the
    average row's, but the task."""
    return all((average.get(k) or "") == (other.get(k) or "") for k in CELL_KEYS if k != "task" and k in average)


def _fill_averages(rows: list[dict]) -> None:
    """The paper's average columns: ours only where every averaged task has a number."""
    for row in rows:
        if row.get("task") not in AVERAGES:
            continue
        parts = [r for r in rows if r.get("task") in AVERAGES[row["task"]] and _same_group(row, r)]
        values = [r.get("ours_mean") for r in parts]
        if len(parts) == len(AVERAGES[row["task"]]) and all(v is not None for v in values):
            row["ours_mean"] = statistics.fmean(values)
            row["delta"] = row["ours_mean"] - row["paper"] if row["paper"] is not None else None
            row["status"] = "ok"
        else:
            have = {r["task"] for r in parts if r.get("ours_mean") is not None}
            missing = [t for t in AVERAGES[row["task"]] if t not in have]
            row["status"] = f"no average: no number for {', '.join(missing)}"


COLUMNS = ("paper", "ours_mean", "ours_std", "ours_ci90", "n", "delta", "ours_early_stopping_mean",
           "ours_early_stopping_std", "ours_early_stopping_ci90", "early_stopping_step_mean", *listops_rules.RULES,
           "learned", "steps", "wall_seconds", "data_source", "hardware", "status")


def write_table(table: str, scale: str, rows: Sequence[dict], out: Path, command: str, seeds: int,
                wall_hours: float) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    labels = [k for k in CELL_KEYS if any(k in r for r in rows)]
    columns = labels + list(COLUMNS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: csv_value(row.get(c)) for c in columns})
    csv_path = out / f"table{table}_{scale}.csv"
    atomic.write_text(csv_path, buffer.getvalue())
    with_rules = any(row.get("top_operator") is not None for row in rows)
    shown = labels + ["paper", "ours (mean ± std [90% CI], n)", "Δ", "ours, A.4 early stopping"] + (
        ["majority / top-op / top-op+digits", "learned"] if with_rules else []) + ["steps", "data", "status"]
    lines = [
        f"# Table {table} at `{scale}` scale: ours beside the paper's",
        "",
        f"Made by `{command}` on {datetime.date.today()}; {seeds} seed(s) per cell; total training wall time "
        f"{wall_hours:.2f} h. Accuracy in %. The paper's numbers: `results/paper/table{table}.csv` "
        "(arXiv:2210.01989). Hardware per row (from each run's summary).",
        "",
        _protocol_note(scale),
        "",
        "| " + " | ".join(shown) + " |",
        "|" + "---|" * len(shown),
    ]
    for row in rows:
        ours = _mean_text(row, "ours") + (f" (n={row['n']})" if row.get("n") else "")
        early = _mean_text(row, "ours_early_stopping") + (
            f" (stop ~{row['early_stopping_step_mean']:.0f})" if row.get("early_stopping_step_mean") else "")
        rules = (["" if row.get("top_operator") is None else " / ".join(
            f"{row[rule]:.1f}" for rule in listops_rules.RULES), row.get("learned", "")] if with_rules else [])
        cells = [str(row.get(k, "")) for k in labels] + [
            "" if row.get("paper") is None else f"{row['paper']:.2f}", ours,
            "" if row.get("delta") is None else f"{row['delta']:+.2f}", early, *rules,
            "" if row.get("steps") is None else f"{row['steps']:.0f}", row.get("data_source", ""),
            str(row.get("status", "")).replace("|", "/")]
        lines.append("| " + " | ".join(cells) + " |")
    hardware = sorted({row["hardware"] for row in rows if row.get("hardware")})
    lines += ["", f"Hardware: {'; '.join(hardware) or 'no run finished'}."]
    if with_rules:
        lines += ["", REFERENCE_NOTE]
    lines += ["", f"Every run: `{csv_path.stem}_runs.csv`; learning curves: `{csv_path.stem}_curves.csv` "
              "(fractions; the mean, std and interval of each cell recompute from the runs file)."]
    md_path = out / f"table{table}_{scale}.md"
    atomic.write_text(md_path, "\n".join(lines) + "\n")
    return [md_path, csv_path]


REFERENCE_NOTE = (
    "Reference rules (ListOps, `lra/experiments/listops_rules.py`), fitted on the train split of the cell's own "
    "data and scored on its test split: the majority class, the top-operator rule (the commonest answer per root "
    "operator) and top operator + shallow digits (the commonest answer per root operator and the value of that "
    "operator over the root's direct digit arguments). **learned** = yes only when the cell's mean is above the "
    "top-operator rule by more than its 90% t-interval (n/a below 2 seeds).")


def _mean_text(row: Mapping[str, Any], prefix: str) -> str:
    """``mean ± std [±90% half-width]`` of ``<prefix>_mean/_std/_ci90`` (what is there)."""
    if row.get(f"{prefix}_mean") is None:
        return ""
    text = f"{row[f'{prefix}_mean']:.2f}"
    if row.get(f"{prefix}_std") is not None:
        text += f" ± {row[f'{prefix}_std']:.2f}"
    if row.get(f"{prefix}_ci90") is not None:
        text += f" [±{row[f'{prefix}_ci90']:.2f}]"
    return text


def _protocol_note(scale: str) -> str:
    if scale == "paper":
        return ("Protocol: the paper's (A.4): early stopping after `min_steps` once validation has not improved "
                "for 10% of the steps; the test split scored on the best-validation state.")
    return ("Protocol: every run trains the same fixed number of steps (`early_stopping=False`); **ours** is the "
            "test accuracy of its best-validation state within that budget. **ours, A.4** replays the paper's "
            "early stopping (after the preset's `min_steps`, patience 10% of the steps) on the same run's "
            "validation curve, with the test accuracy of the state it would have kept (the runs score the test "
            "split at every evaluation). Generated ListOps follows LRA's generator exactly (the release's task "
            "with fresh samples, at the preset's shorter lengths here); generated Pathfinder deviates from the "
            "original as `lra/data/generators/pathfinder.py` documents.")


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


def table2_rows(cells: Sequence[dict], root: Path) -> list[dict]:
    """Table 2 = the averages of Table 4's cells (the paper prints only averages there)."""
    rows4 = table_rows("4", cells, root)
    paper2 = {cell_key(r): float(r["value"]) for r in paper_rows("2") if r.get("value")}
    rows = []
    for row in rows4:
        if row.get("task") in AVERAGES:
            row = dict(row, paper=paper2.get(cell_key(row)))
            if row.get("ours_mean") is not None and row["paper"] is not None:
                row["delta"] = row["ours_mean"] - row["paper"]
            rows.append(row)
    return rows

