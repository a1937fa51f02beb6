"""Reproduce a table of the paper: run its grid (a sweep) and write our numbers beside the paper's.

    python -m lra.reproduce --table T --scale S [--out results] [--root runs/reproduce]
        [--backend local|ray|commands] [--seeds N] [--tasks a,b] [--attentions a,b] [--spaces a,b]
        [--set <key>=<value> ...] [--no-run]

``T`` is 1, 2, 3, 4, 7, 9, 10, 11 or ``lego`` (Fig. 3). Each is the sweep file
``configs/sweeps/table<T>.py`` (``lego.py``), whose runs carry the paper cell they fill; the runs
are ordinary ``lra.train`` jobs under ``<root>/<scale>/`` (:mod:`lra.sweep`: finished runs are
skipped, interrupted ones resume, the ``ray`` backend fans them out, ``commands`` prints them).
Runs whose data is not on this machine are not started: their cells say ``no data`` and why.

The table, ``<out>/table<T>_<scale>.md`` and ``.csv`` (``lego_<scale>.md/.csv/.png``), has one row
per cell of the paper's table (``results/paper/table<T>.csv``): the paper's number, ours (mean,
std, n over seeds, in % as the paper), the difference, the steps, the data source and the
hardware. Two protocols are reported:

* ``ours`` (the table's headline): what the run's protocol selected. At ``paper`` scale that is
  the paper's A.4 (early stopping after ``min_steps`` once validation stalls for 10% of the steps;
  the test split scored on the best-validation state). At ``smoke``/``small`` scale every run
  trains the same fixed number of steps (``early_stopping=False``) and reports the test accuracy of
  its best-validation state within that budget;
* ``ours_early_stopping``: at ``smoke``/``small`` scale the A.4 rule replayed on the run's
  validation curve (the runs score the test split at every evaluation, ``track_test=True``), so
  each cell is also given under the paper's protocol without training it twice.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import math
import os
import shlex
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lra import atomic
from lra import summaries as summaries_lib
from lra import sweep as sweep_lib
from lra.cli import ArgumentParser, run_main
from lra.config import SCALES, load_config
from lra.data import get_task
from lra.data.dataset import check_data_available
from lra.experiments import listops_rules, run_records
from lra.grid_filters import check_filters
from lra.metrics import read_metrics
from lra.train.early_stopping import patience_steps, stops_early
from wavspa_flax.errors import UserError

REPO = Path(__file__).resolve().parents[1]
TABLES = ("1", "2", "3", "4", "7", "9", "10", "11", "lego", "lego_extrapolation")
CELL_KEYS = ("task", "attention", "space", "wavelet", "level", "init")
AVERAGES = {"avg": ("listops", "text", "retrieval", "image", "pathfinder"),
            "avg_wo_r": ("listops", "text", "image", "pathfinder")}
CI_LEVEL = 0.90


class ReproduceError(UserError):
    """A mistake in the reproduction command line (an unknown table, scale or name)."""


# -- the grids (called by configs/sweeps/table<T>.py) --------------------------------------------

def parse_table_arg(arg: str | None) -> tuple[str, dict[str, list[str]], dict[str, Any]]:
    """``'<scale>[,tasks=a+b][,attentions=..][,spaces=..][,data=generate][,<dotted.key>=<value>]'`` ->
    (scale, filters, overrides). ``data=generate`` generates ListOps/Pathfinder/LEGO at any scale."""
    scale, filters, overrides = "paper", {}, {}
    for part in [p.strip() for p in (arg or "").split(",") if p.strip()]:
        key, eq, text = part.partition("=")
        if not eq:
            if key not in SCALES:
                raise ValueError(f"{part!r} is neither a scale {SCALES} nor <key>=<value>")
            scale = key
        elif key in ("tasks", "attentions", "spaces"):
            filters[key[:-1]] = text.split("+")
        elif key == "data":
            if text not in ("generate", "default"):
                raise ValueError(f"data={text!r}; expected generate or default")
            filters["data"] = [text]
        else:
            overrides[key] = sweep_lib.parse_literal(text)
    return scale, filters, overrides


def protocol_overrides(task: str, scale: str, data: str) -> dict[str, Any]:
    """The overrides every run of a table gets at ``scale`` (module docstring): the scale, generated
    data where the task has a generator (always below paper scale), the fixed budget with the test
    split tracked below paper scale."""
    overrides: dict[str, Any] = {"scale": scale}
    if "generate" in get_task(task).sources and (scale != "paper" or data == "generate"):
        overrides["data.source"] = "generate"
    if scale != "paper":
        overrides.update({"early_stopping": False, "track_test": True})
    return overrides


def table_runs(cells: Sequence[Mapping[str, Any]], arg: str | None) -> list[dict]:
    """Sweep entries for ``cells`` (``task``, ``attention``, ``space`` and the paper's other labels;
    ``overrides``: what the cell changes) at the scale and filters of ``arg``."""
    scale, filters, overrides = parse_table_arg(arg)
    data = (filters.pop("data", None) or ["default"])[0]
    entries = []
    for cell in cells:
        if any(cell.get(key) not in allowed for key, allowed in filters.items()):
            continue
        variant = cell["attention"] + ("" if cell.get("space", "none") == "none" else f",{cell['space']}")
        labels = {k: cell[k] for k in CELL_KEYS if k in cell}
        entries.append({
            "config": f"configs/{cell['task']}.py:{variant}",
            "overrides": {**protocol_overrides(cell["task"], scale, data), **cell.get("overrides", {}), **overrides},
            "cell": labels,
        })
    return entries


# -- results of runs ------------------------------------------------------------------------------

def replay_early_stopping(records: Sequence[Mapping], min_steps: int, patience: int) -> dict[str, Any] | None:
    """The paper's A.4 rule on a logged run: stop at the first evaluation at or after ``min_steps``
    with ``patience`` steps since the best validation accuracy; the test accuracy of that best state
    (from the ``test_tracked`` records). None if the run tracked no test accuracy."""
    val = {r["step"]: r["accuracy"] for r in records if r["split"] == "val"}
    test = {r["step"]: r["accuracy"] for r in records if r["split"] == "test_tracked"}
    if not test:
        return None
    best_step, best, stop = None, -math.inf, None
    for step in sorted(val):
        if val[step] > best:
            best, best_step = val[step], step
        if stops_early(step, best_step, min_steps, patience):
            stop = step
            break
    return {"test_accuracy": test.get(best_step), "best_step": best_step,
            "stop_step": stop if stop is not None else max(val)}


def run_result(run: sweep_lib.Run, root: Path) -> dict[str, Any] | None:
    """A finished run's numbers (None if not finished)."""
    folder = run.workdir(root)
    if summaries_lib.load(folder) is None:  # none, or damaged (the sweep reruns it)
        return None
    summary = json.loads((folder / "summary.json").read_text())
    config = summary["config"]
    replay = replay_early_stopping(read_metrics(folder), int(config["min_steps"]), patience_steps(config))
    return {"summary": summary, "early_stopping": replay}


def _stats(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def t_quantile(probability: float, dof: int) -> float:
    """Student-t quantile (scipy)."""
    from scipy import stats

    return float(stats.t.ppf(probability, dof))


# -- the table -----------------------------------------------------------------------------------

def sweep_file(table: str) -> Path:
    return REPO / "configs" / "sweeps" / (f"{table}.py" if table.startswith("lego") else f"table{table}.py")


def paper_rows(table: str) -> list[dict[str, str]]:
    path = REPO / "results" / "paper" / f"table{table}.csv"
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _key(labels: Mapping[str, Any]) -> tuple:
    return tuple(str(labels.get(k, "")) for k in CELL_KEYS)


def collect(table: str, scale: str, root: Path, seeds: int, filters: Mapping[str, Sequence[str]],
            shared: Sequence[str] = (), data: str = "default") -> tuple[list[dict], dict]:
    """Per cell: the runs (with seeds), whether their data is here, their results."""
    arg = ",".join([scale, f"data={data}"] + [f"{k}s={'+'.join(v)}" for k, v in filters.items() if v])
    entries = sweep_lib.load_entries(f"{sweep_file(table)}:{arg}")
    cells: dict[tuple, dict] = {}
    for entry in entries:
        base = sweep_lib.Run.make(entry["config"], entry.get("overrides") or {})
        runs = sweep_lib.expand_seeds([base], seeds)
        cell = cells.setdefault(_key(entry["cell"]), {"labels": entry["cell"], "runs": [], "no_data": None})
        cell["runs"].extend(runs)
        if cell["no_data"] is None:
            cell["no_data"] = _missing_data(base, shared)
    return list(cells.values()), {"entries": len(entries)}


def _missing_data(run: sweep_lib.Run, shared: Sequence[str]) -> str | None:
    overrides = dict(run.values)
    for item in shared:
        key, _, text = item.partition("=")
        overrides[key.removeprefix("config.")] = sweep_lib.parse_literal(text)
    try:
        check_data_available(load_config(str(REPO / run.config.partition(":")[0]) + (
            ":" + run.config.partition(":")[2] if ":" in run.config else ""), overrides))
    except UserError as error:
        return str(error).split(". Get it")[0]
    return None


def _hardware(summaries: Sequence[Mapping]) -> str:
    kinds = []
    for s in summaries:
        text = s.get("hardware") or f"{s.get('devices')} x {s.get('device_kind')} ({s.get('platform')})"
        if text not in kinds:
            kinds.append(text)
    return " / ".join(kinds)


def table_rows(table: str, cells: Sequence[dict], root: Path, restricted: bool = False) -> list[dict[str, Any]]:
    """One row per paper cell (and per cell we ran that the paper lacks), in the paper's order;
    with ``restricted`` (a filtered grid) only the grid's cells and the averages."""
    by_key = {_key(c["labels"]): c for c in cells}
    rows, seen = [], set()
    paper = paper_rows(table)
    for prow in paper:
        key = _key(prow)
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
    row["early_stopping_step_mean"] = _stats([r["early_stopping"]["stop_step"] for r in results
                                              if r["early_stopping"]])[0]
    both = row["ours_mean"] is not None and row["paper"] is not None
    row["delta"] = row["ours_mean"] - row["paper"] if both else None
    summaries = [r["summary"] for r in results]
    row["steps"] = _stats([s["steps_completed"] for s in summaries])[0]
    row["wall_seconds"] = _stats([s["wall_seconds"] for s in summaries])[0]
    row["data_source"] = " / ".join(sorted({s.get("data_source", "?") for s in summaries}))
    row["hardware"] = _hardware(summaries)
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
        writer.writerow({c: _csv_value(row.get(c)) for c in columns})
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


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


# -- every run, and the reference rules of ListOps cells -------------------------------------------

def run_file_rows(cells: Sequence[dict], root: Path) -> tuple[list[dict], list[dict]]:
    """The rows of ``_runs.csv`` and ``_curves.csv`` (:mod:`lra.experiments.run_records`) of every
    finished run of ``cells``."""
    runs, curves = [], []
    for cell in cells:
        for run in cell["runs"]:
            result = run_result(run, root)
            if result is None:
                continue
            folder = run.workdir(root)
            runs.append(run_records.run_record(cell["labels"], run.without_seed().describe(), folder,
                                               result["summary"], result["early_stopping"]))
            curves += run_records.curve_records(cell["labels"], folder, run.seed)
    return runs, curves


def reference_scratch() -> str:
    """Where a ListOps folder no longer on disk is generated again for the reference rules."""
    import tempfile

    return str(Path(tempfile.gettempdir()) / "wavspa_listops_references")


def attach_references(cells: Sequence[dict], root: Path, bases: Sequence[str], scratch: str | None) -> None:
    """``cell["references"]``: the ListOps reference rules (:mod:`lra.experiments.listops_rules`) on the data
    of the cell's first finished run (None when that data cannot be found or made)."""
    cache: dict[str, dict | None] = {}
    for cell in cells:
        if cell["labels"].get("task") != "listops":
            continue
        summaries = [r["summary"] for r in (run_result(run, root) for run in cell["runs"]) if r]
        if not summaries:
            continue
        data = summaries[0]["config"]["data"]
        key = json.dumps(data, sort_keys=True)
        if key not in cache:
            folder = listops_rules.run_data_folder(data, bases, scratch)
            cache[key] = listops_rules.reference_accuracies(folder) if folder else None
        cell["references"] = cache[key]


# -- LEGO (Fig. 3) -------------------------------------------------------------------------------

def lego_rows(cells: Sequence[dict], root: Path) -> tuple[list[dict], dict]:
    """Per model and chain position: mean test accuracy over runs and its 90% t-interval."""
    rows, meta = [], {"num_train_vars": None, "num_vars": None, "summaries": []}
    for cell in cells:
        results = [r for r in (run_result(run, root) for run in cell["runs"]) if r is not None]
        model = cell["labels"]["attention"] + ("" if cell["labels"].get("space", "none") == "none"
                                              else "," + cell["labels"]["space"])
        if cell["no_data"] or not results:
            rows.append({"model": model, "status": cell["no_data"] or "not run"})
            continue
        summaries = [r["summary"] for r in results]
        meta["summaries"] += summaries
        meta["num_vars"] = summaries[0]["config"]["data"]["num_vars"]
        meta["num_train_vars"] = summaries[0]["config"]["data"]["num_train_vars"]
        per_index = list(zip(*[s["test_accuracy_by_index"] for s in summaries]))
        for index, values in enumerate(per_index):
            values = [100 * v for v in values if v is not None]
            mean, std = _stats(values)
            half = (t_quantile(0.5 + CI_LEVEL / 2, len(values) - 1) * std / math.sqrt(len(values))
                    if std is not None else None)
            rows.append({"model": model, "index": index, "trained": index < meta["num_train_vars"],
                         "ours_mean": mean, "ci90_low": None if half is None else mean - half,
                         "ci90_high": None if half is None else mean + half, "n": len(values),
                         "paper": None, "status": "ok"})
    return rows, meta


def write_lego(scale: str, rows: Sequence[dict], meta: dict, out: Path, command: str, wall_hours: float,
               name: str = "lego") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    columns = ["model", "index", "trained", "paper", "ours_mean", "ci90_low", "ci90_high", "n", "status"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _csv_value(row.get(c)) for c in columns})
    paths = [out / f"{name}_{scale}.csv", out / f"{name}_{scale}.md"]
    atomic.write_text(paths[0], buffer.getvalue())
    models = list(dict.fromkeys(r["model"] for r in rows))
    indices = sorted({r["index"] for r in rows if "index" in r})
    lines = [f"# LEGO (the paper's Fig. 3) at `{scale}` scale: test accuracy per chain position", "",
             f"Made by `{command}` on {datetime.date.today()}; total training wall time {wall_hours:.2f} h; "
             f"hardware: {_hardware(meta['summaries']) or 'no run finished'}. Accuracy in % (mean over runs, "
             f"[90% t-interval]); positions < {meta['num_train_vars']} were supervised in training, the others "
             f"test extrapolation (chains of {meta['num_vars']} variables). The paper gives Fig. 3 as a plot only: "
             "no number of it is transcribed, so there is no paper column to compare against.", "",
             "| position | " + " | ".join(models) + " |", "|" + "---|" * (len(models) + 1)]
    for index in indices:
        cells = []
        for model in models:
            match = [r for r in rows if r["model"] == model and r.get("index") == index]
            r = match[0] if match else None
            cells.append("" if r is None or r.get("ours_mean") is None else (
                f"{r['ours_mean']:.1f} [{r['ci90_low']:.1f}, {r['ci90_high']:.1f}] (n={r['n']})"
                if r.get("ci90_low") is not None else f"{r['ours_mean']:.1f} (n={r['n']})"))
        lines.append(f"| {index}{'' if index < (meta['num_train_vars'] or 0) else ' (test only)'} | "
                     + " | ".join(cells) + " |")
    for row in rows:
        if row.get("status") not in (None, "ok"):
            lines.append(f"\n{row['model']}: {row['status']}")
    atomic.write_text(paths[1], "\n".join(lines) + "\n")
    if indices:
        paths.append(_plot_lego(scale, rows, meta, out / f"{name}_{scale}.png", models))
    return paths


def _plot_lego(scale: str, rows: Sequence[dict], meta: dict, path: Path, models: Sequence[str]) -> Path:
    """Per model: mean accuracy per chain position with its 90% interval as error bars; integer
    positions, each model's points shifted a little sideways and drawn with its own marker so that
    equal values stay visible; the supervised | extrapolated boundary as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    markers = "osD^v<>"
    width = 0.3
    for number, model in enumerate(models):
        points = sorted((r for r in rows if r["model"] == model and r.get("ours_mean") is not None),
                        key=lambda r: r["index"])
        if not points:
            continue
        offset = (number - (len(models) - 1) / 2) * width / max(len(models) - 1, 1)
        x = [r["index"] + offset for r in points]
        y = [r["ours_mean"] for r in points]
        errors = None
        if all(r.get("ci90_low") is not None for r in points):
            errors = [[r["ours_mean"] - r["ci90_low"] for r in points],
                      [r["ci90_high"] - r["ours_mean"] for r in points]]
        ax.errorbar(x, y, yerr=errors, marker=markers[number % len(markers)], markersize=5, capsize=3,
                    linewidth=1.2, label=f"{model} (n={points[0]['n']})")
    boundary = (meta["num_train_vars"] or 0) - 0.5
    ax.axvline(boundary, color="gray", linestyle="--")
    ax.text(boundary - 0.1, 3, "supervised", ha="right", color="gray", fontsize=8)
    ax.text(boundary + 0.1, 3, "extrapolated", ha="left", color="gray", fontsize=8)
    positions = sorted({r["index"] for r in rows if "index" in r})
    ax.set_xticks(positions)
    ax.set_xlabel("chain position of the variable")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 102)
    ax.set_title(f"LEGO, {scale} scale ({meta['num_vars']} variables, first {meta['num_train_vars']} supervised): "
                 "mean and 90% t-interval over runs", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# -- command line --------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m lra.reproduce", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", required=True, choices=TABLES)
    p.add_argument("--scale", required=True, choices=SCALES)
    p.add_argument("--out", default=str(REPO / "results"), help="where the table files go")
    p.add_argument("--root", default=str(REPO / "runs" / "reproduce"), help="the runs' workdirs: <root>/<scale>/...")
    p.add_argument("--backend", choices=sweep_lib.BACKENDS, default="local")
    p.add_argument("--seeds", type=int, default=3)
    for key in ("tasks", "attentions", "spaces"):
        p.add_argument(f"--{key}", default="", help=f"only these {key} (comma-separated)")
    p.add_argument("--set", dest="shared", action="append", default=[], metavar="KEY=VALUE",
                   help="--config.KEY=VALUE for every run, not part of its identity (data.dir, progress_bar)")
    p.add_argument("--no-run", action="store_true", help="only tabulate the runs already finished")
    p.add_argument("--data_base", action="append", default=[], metavar="DIR",
                   help="where the runs were started (a relative data.dir is found under it; default: here)")
    p.add_argument("--data", choices=("default", "generate"), default="default",
                   help="generate: generated ListOps/Pathfinder/LEGO at paper scale too (always below it)")
    for name, kwargs in (("--ray_address", {"default": None}), ("--ray_num_cpus", {"type": int, "default": None}),
                         ("--cpus_per_run", {"type": float, "default": 1.0}),
                         ("--gpus_per_run", {"type": float, "default": 0.0}), ("--resources", {"default": ""}),
                         ("--max_retries", {"type": int, "default": 2})):
        p.add_argument(name, **kwargs)
    return p


def main(argv: Sequence[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    filters = {key[:-1]: [v.strip() for v in getattr(args, key).split(",") if v.strip()]
               for key in ("tasks", "attentions", "spaces")}
    if args.table == "2":
        table_for_runs = "4"  # Table 2 averages Table 4's runs
    else:
        table_for_runs = args.table
    root = Path(args.root) / args.scale
    check_filters(sweep_lib.load_entries(f"{sweep_file(table_for_runs)}:{args.scale}"), filters, ReproduceError)
    cells, _ = collect(table_for_runs, args.scale, root, args.seeds, filters, args.shared, args.data)
    runnable = [run for cell in cells if not cell["no_data"] for run in cell["runs"]]
    command = shlex.join(["python", "-m", "lra.reproduce", *(argv if argv is not None else sys.argv[1:])])
    if not args.no_run and runnable:
        sweep_argv = _sweep_argv(args, runnable, root)
        if args.backend == "commands":
            return _run_sweep(sweep_argv, runnable, out)
        code = _run_sweep(sweep_argv, runnable, out)
        if code:
            print("some runs failed; the table shows what finished", file=out)
    summaries = [r["summary"] for c in cells for r in (run_result(run, root) for run in c["runs"]) if r]
    wall_hours = sum(s.get("wall_seconds", 0.0) for s in summaries) / 3600
    if args.table.startswith("lego"):
        rows, meta = lego_rows(cells, root)
        paths = write_lego(args.scale, rows, meta, Path(args.out), command, wall_hours, name=args.table)
        stem = Path(args.out) / f"{args.table}_{args.scale}"
    else:
        attach_references(cells, root, [*args.data_base, os.getcwd()], reference_scratch())
        restricted = any(filters.values())
        rows = _table2_rows(cells, root) if args.table == "2" else table_rows(args.table, cells, root, restricted)
    if not rows:
        raise ReproduceError(f"table {args.table} at scale {args.scale} has no rows for these filters; nothing written")
        paths = write_table(args.table, args.scale, rows, Path(args.out), command, args.seeds, wall_hours)
        stem = Path(args.out) / f"table{args.table}_{args.scale}"
    paths += run_records.write_run_files(stem, *run_file_rows(cells, root), labels=CELL_KEYS)
    print("wrote " + ", ".join(str(p) for p in paths), file=out)
    return 0


def _table2_rows(cells: Sequence[dict], root: Path) -> list[dict]:
    """Table 2 = the averages of Table 4's cells (the paper prints only averages there)."""
    rows4 = table_rows("4", cells, root)
    paper2 = {_key(r): float(r["value"]) for r in paper_rows("2") if r.get("value")}
    rows = []
    for row in rows4:
        if row.get("task") in AVERAGES:
            row = dict(row, paper=paper2.get(_key(row)))
            if row.get("ours_mean") is not None and row["paper"] is not None:
                row["delta"] = row["ours_mean"] - row["paper"]
            rows.append(row)
    return rows


def _sweep_argv(args, runs: Sequence[sweep_lib.Run], root: Path) -> list[str]:
    return ["--backend", args.backend, "--root", str(root), *[f"--set={s}" for s in args.shared],
            *([f"--ray_address={args.ray_address}"] if args.ray_address else []),
            *([f"--ray_num_cpus={args.ray_num_cpus}"] if args.ray_num_cpus else []),
            f"--cpus_per_run={args.cpus_per_run}", f"--gpus_per_run={args.gpus_per_run}",
            *([f"--resources={args.resources}"] if args.resources else []), f"--max_retries={args.max_retries}"]


def _run_sweep(sweep_argv: Sequence[str], runs: Sequence[sweep_lib.Run], out) -> int:
    return sweep_lib.run_runs(runs, sweep_argv, out)


def run() -> None:
    """Entry point: mistakes end in one ``error:`` line (``lra.cli``)."""
    run_main(main)


if __name__ == "__main__":
    run()
