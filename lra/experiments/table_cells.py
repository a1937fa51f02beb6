"""A table's cells: the runs of each paper cell (from its sweep file, with seeds), whether their
data is on this machine, the rows of every finished run, and the ListOps reference rules per cell."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lra.config import load_config
from lra.data.dataset import check_data_available
from lra.experiments import listops_rules, run_records
from lra.experiments.paper_grids import CELL_KEYS
from lra.experiments.run_results import run_result
from lra.experiments.runs import Run
from lra.experiments.sweep_files import expand_seeds, load_entries, parse_literal
from wavspa_flax.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def sweep_file(table: str) -> Path:
    return REPO / "configs" / "sweeps" / (f"{table}.py" if table.startswith("lego") else f"table{table}.py")


def cell_key(labels: Mapping[str, Any]) -> tuple:
    return tuple(str(labels.get(k, "")) for k in CELL_KEYS)


def collect(table: str, scale: str, root: Path, seeds: int, filters: Mapping[str, Sequence[str]],
            shared: Sequence[str] = (), data: str = "default") -> tuple[list[dict], dict]:
    """Per cell: the runs (with seeds), whether their data is here, their results."""
    arg = ",".join([scale, f"data={data}"] + [f"{k}s={'+'.join(v)}" for k, v in filters.items() if v])
    entries = load_entries(f"{sweep_file(table)}:{arg}")
    cells: dict[tuple, dict] = {}
    for entry in entries:
        base = Run.make(entry["config"], entry.get("overrides") or {})
        runs = expand_seeds([base], seeds)
        cell = cells.setdefault(cell_key(entry["cell"]), {"labels": entry["cell"], "runs": [], "no_data": None})
        cell["runs"].extend(runs)
        if cell["no_data"] is None:
            cell["no_data"] = _missing_data(base, shared)
    return list(cells.values()), {"entries": len(entries)}


def _missing_data(run: Run, shared: Sequence[str]) -> str | None:
    overrides = dict(run.values)
    for item in shared:
        key, _, text = item.partition("=")
        overrides[key.removeprefix("config.")] = parse_literal(text)
    try:
        check_data_available(load_config(str(REPO / run.config.partition(":")[0]) + (
            ":" + run.config.partition(":")[2] if ":" in run.config else ""), overrides))
    except UserError as error:
        return str(error).split(". Get it")[0]
    return None


def run_file_rows(cells: Sequence[dict], root: Path,
                  curve_labels: Callable[[dict], dict] = dict) -> tuple[list[dict], list[dict]]:
    """The rows of ``_runs.csv`` and ``_curves.csv`` (:mod:`lra.experiments.run_records`) of every
    finished run of ``cells``; ``curve_labels(cell labels)`` labels its curve rows."""
    runs, curves = [], []
    for cell in cells:
        for run in cell["runs"]:
            result = run_result(run, root)
            if result is None:
                continue
            folder = run.workdir(root)
            runs.append(run_records.run_record(cell["labels"], run.without_seed().describe(), folder,
                                               result["summary"], result["early_stopping"]))
            curves += run_records.curve_records(curve_labels(cell["labels"]), folder, run.seed)
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

