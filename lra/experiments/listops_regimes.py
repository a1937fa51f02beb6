"""The ListOps regime map: where a CPU-sized model leaves the top-operator plateau, per length and depth.

    python -m lra.experiments.listops_regimes --root=runs/listops_regimes [--scale=small|smoke]
        [--seeds=N] [--out=results] [--data_base=DIR ...]

Reads the finished runs of ``configs/sweeps/listops_regimes.py`` (``:smoke`` at ``--scale=smoke``)
under ``--root`` (it never trains: start the sweep with ``lra.sweep``) and writes
``<out>/listops_regimes_<scale>.md``, ``.csv``, ``_runs.csv``, ``_curves.csv`` and ``.png``:

* one row per regime (``max_tokens``, ``max_depth``) and model: the test accuracy of the
  best-validation state (mean, std, 90% t-interval over seeds), the best validation accuracy
  reached by 1/4, 1/2 and all of the steps (the training-length axis), and the reference rules of
  :mod:`lra.experiments.listops_rules` on that regime's own train/test split;
* ``learned``: above the top-operator rule by more than the 90% t-interval over seeds; with one
  seed there is no such interval and the column gives the test split's binomial 90% interval
  instead, marked ``(1 seed, test-sampling interval)``;
* the plot: validation curves per regime (one panel each), both models, the majority, top-operator
  and top-operator + shallow-digit accuracies of that regime as horizontal lines.

A relative ``data.dir`` (the sweep's) is found under ``--data_base`` (the folder the sweep was
started from; default: here); data no longer on disk is generated again in a temporary folder.

``--records=<stem>`` (e.g. ``results/listops_regimes_small``) also reads an earlier map's
``<stem>_runs.csv`` and ``<stem>_curves.csv``: a run not finished under ``--root`` but recorded
there (same model, overrides and seed, whatever its folder was called) enters the map from those
rows, so runs trained on another machine stay in it; the Markdown says how many came from records.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lra import atomic
from lra.cli import run_main
from lra.experiments import curve_plots, listops_rules, run_records
from lra.experiments.run_records import model_labels
from lra.experiments.run_results import run_result
from lra.experiments.runs import Run
from lra.experiments.sweep_files import expand_seeds, load_entries
from lra.experiments.table_cells import REPO, reference_scratch
from wavspa_flax.errors import UserError

SWEEP = REPO / "configs" / "sweeps" / "listops_regimes.py"
FRACTIONS = (0.25, 0.5, 1.0)
REGIME_COLUMNS = ("max_tokens", "max_depth")


class RegimeError(UserError):
    """A mistake on the regime map's command line."""


def model_name(labels: Mapping[str, str]) -> str:
    return labels["attention"] + ("" if labels["space"] == "none" else "," + labels["space"])


def regime_cells(scale: str, seeds: int) -> list[dict]:
    """Per (regime, model): its labels and runs (seeds expanded), in the sweep's order."""
    arg = "smoke" if scale == "smoke" else None
    spec = f"{SWEEP}:{arg}" if arg else str(SWEEP)
    cells: dict[tuple, dict] = {}
    for entry in load_entries(spec):
        overrides = entry.get("overrides") or {}
        labels = {**model_labels(entry["config"]), "max_tokens": int(overrides["data.max_tokens"]),
                  "max_depth": int(overrides["data.max_depth"])}
        cell = cells.setdefault(tuple(labels.values()), {"labels": labels, "runs": []})
        cell["runs"] += expand_seeds([Run.make(entry["config"], overrides)], seeds)
    return list(cells.values())


def best_by(curve: Sequence[Mapping[str, Any]], step: float) -> float | None:
    """The best validation accuracy among evaluations at or before ``step``."""
    values = [row["val_accuracy"] for row in curve if row["step"] <= step and row["val_accuracy"] is not None]
    return max(values) if values else None


def _number_or_none(text: str, kind=float):
    return None if text in ("", None) else kind(float(text))


def committed_records(stem: Path) -> dict[tuple, dict]:
    """An earlier map's runs by ``(attention, space, overrides, seed)``: ``{"run": its
    ``_runs.csv`` row, "curve": its ``_curves.csv`` rows}``, numbers parsed (a missing runs file is a
    :class:`RegimeError`; a missing curves file leaves the curves empty)."""
    runs_path, curves_path = (stem.with_name(stem.name + suffix) for suffix in ("_runs.csv", "_curves.csv"))
    if not runs_path.is_file():
        raise RegimeError(f"--records={stem}: {runs_path} not found (give the stem, e.g. "
                          "results/listops_regimes_small)")
    ints = ("seed", "max_tokens", "max_depth", "steps_completed", "best_step", "a4_best_step", "a4_stop_step", "step")
    floats = ("best_val_accuracy", "test_accuracy", "a4_best_val_accuracy", "a4_test_accuracy", "wall_seconds",
              "val_accuracy")

    def parsed(row: dict) -> dict:
        return {k: _number_or_none(v, int) if k in ints else _number_or_none(v) if k in floats else v
                for k, v in row.items()}

    with open(runs_path, newline="", encoding="utf-8") as handle:
        runs = list(map(parsed, csv.DictReader(handle)))
    # A curve row names its run by folder, group and seed; the run rows give its overrides.
    by_folder = {(r["attention"], r["space"], r["run"], r["seed"]): r for r in runs}
    records = {(r["attention"], r["space"], r["overrides"], r["seed"]): {"run": r, "curve": []} for r in runs}
    if curves_path.is_file():
        with open(curves_path, newline="", encoding="utf-8") as handle:
            for row in map(parsed, csv.DictReader(handle)):
                run = by_folder.get((row["attention"], row["space"], row["run"], row["seed"]))
                if run is not None:
                    records[(run["attention"], run["space"], run["overrides"], run["seed"])]["curve"].append(row)
    return records


def gather_records(cells: Sequence[dict], root: Path, committed: Mapping[tuple, dict]) -> None:
    """``cell["records"]``: per finished run, its ``_runs.csv`` row and ``_curves.csv`` rows and
    where they came from (``"root"``: its workdir under ``root``; ``"records"``: ``committed``)."""
    for cell in cells:
        labels = {**cell["labels"], "model": model_name(cell["labels"])}
        cell["records"] = []
        for run in cell["runs"]:
            folder = run.workdir(root)
            result = run_result(run, root)
            if result is not None:
                cell["records"].append({
                    "run": run_records.run_record(labels, run.without_seed().describe(), folder, result["summary"],
                                                  result["early_stopping"]),
                    "curve": run_records.curve_records(labels, folder, run.seed),
                    "data": result["summary"]["config"]["data"], "source": "root",
                    "num_train_steps": int(result["summary"]["config"]["num_train_steps"])})
                continue
            earlier = committed.get((labels["attention"], labels["space"], run.without_seed().describe(), run.seed))
            if earlier is not None and all(earlier["run"].get(k) == labels[k] for k in REGIME_COLUMNS):
                cell["records"].append({"run": {**earlier["run"], "model": labels["model"]},
                                        "curve": [{**c, "model": labels["model"]} for c in earlier["curve"]],
                                        "data": None, "source": "records",
                                        "num_train_steps": int(_planned_config(run).num_train_steps)})


def cell_row(cell: Mapping, references: Mapping[str, float] | None) -> dict[str, Any]:
    """The map's row of one (regime, model) cell (its ``records``: :func:`gather_records`):
    accuracies in %, references in %, the learned flag."""
    row: dict[str, Any] = {**cell["labels"], "model": model_name(cell["labels"])}
    records = [r["run"] for r in cell["records"]]
    row["n"] = len(records)
    row["status"] = "ok" if len(records) == len(cell["runs"]) else f"{len(cell['runs']) - len(records)} runs missing"
    if references:
        row.update({rule: 100 * references[rule] for rule in listops_rules.RULES})
        row["num_test"] = references["num_test"]
    if not records:
        return row
    tests = [100 * r["test_accuracy"] for r in records]
    row["test_mean"], row["test_std"], row["test_ci90"] = run_records.mean_std_interval(tests)
    steps = cell["records"][0]["num_train_steps"]
    curves = [r["curve"] for r in cell["records"]]
    for fraction in FRACTIONS:
        values = [best_by(c, fraction * steps) for c in curves]
        row[f"best_val_{fraction:g}"] = (100 * sum(values) / len(values)) if None not in values else None
    row["best_step_mean"] = sum(r["best_step"] or 0 for r in records) / len(records)
    row["steps"] = sum(r["steps_completed"] for r in records) / len(records)
    row["wall_seconds"] = sum(r["wall_seconds"] for r in records) / len(records)
    row["hardware"] = " / ".join(sorted({r.get("hardware") or "?" for r in records}))
    if references:
        row["margin_over_top_operator"] = row["test_mean"] - row["top_operator"]
        if row["test_ci90"] is not None:
            row["learned"] = listops_rules.learned_flag(row["test_mean"], row["test_ci90"], row["top_operator"])
        else:
            half = 100 * listops_rules.binomial_half_width(row["test_mean"] / 100, references["num_test"])
            row["learned"] = (listops_rules.learned_flag(row["test_mean"], half, row["top_operator"])
                              + f" (1 seed, test-sampling interval ±{half:.1f})")
    return row


def regime_references(cells: Sequence[Mapping], bases: Sequence[str],
                      scratch: str | None) -> dict[tuple, dict | None]:
    """The reference rules per regime, on the data of the regime's first finished run (a run from
    records: the data its config resolves to, generated again if not on disk); with no finished
    run, on the data its first run resolves to if already generated (never generated here)."""
    references: dict[tuple, dict | None] = {}
    for cell in cells:
        regime = tuple(cell["labels"][k] for k in REGIME_COLUMNS)
        if references.get(regime) is not None:
            continue
        if cell["records"]:
            data = cell["records"][0]["data"] or _planned_data(cell["runs"][0])
            folder = listops_rules.run_data_folder(data, bases, scratch)
        else:
            folder = listops_rules.run_data_folder(_planned_data(cell["runs"][0]), bases, None)
        references[regime] = listops_rules.reference_accuracies(folder) if folder else None
    return references


def _planned_config(run: Run):
    """The config ``run`` trains with (as ``lra.train`` resolves its command line)."""
    from lra.config import load_config

    path, _, variant = run.config.partition(":")
    return load_config(f"{REPO / path}:{variant}", run.values)


def _planned_data(run: Run) -> dict:
    """``config.data`` (a dict) that ``run`` will train on."""
    return json.loads(_planned_config(run).data.to_json_best_effort())


COLUMNS = REGIME_COLUMNS + (
    "model", "n", "test_mean", "test_std", "test_ci90", *(f"best_val_{f:g}" for f in FRACTIONS), "best_step_mean",
    *listops_rules.RULES, "num_test", "margin_over_top_operator", "learned", "steps", "wall_seconds", "hardware",
    "status")


def _number(value: Any, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def markdown(rows: Sequence[Mapping], scale: str, command: str, wall_hours: float, from_records: int = 0) -> str:
    shown = ["max tokens", "depth", "model", "test (mean ± std [90% CI], n)",
             *(f"best val by {f:g} of the steps" for f in FRACTIONS), "majority / top-op / top-op+digits",
             "margin over top-op", "learned", "steps", "status"]
    lines = [f"# ListOps regime map at `{scale}` scale: where the models leave the top-operator plateau", "",
             f"Made by `{command}` on {datetime.date.today()} from the runs of `configs/sweeps/listops_regimes.py`; "
             f"total training wall time {wall_hours:.2f} h. Accuracy in %. Lengths: min_tokens < length < "
             "max_tokens with min = max / 4; each regime's data is its own generated split.", "",
             "**test**: the test accuracy of the best-validation state within the fixed budget. **best val by f**: "
             "the best validation accuracy reached within that fraction of the steps (mean over seeds). "
             + listops_rules_note(), "",
             "| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in rows:
        test = "" if row.get("test_mean") is None else (
            _number(row["test_mean"], 2) + (f" ± {row['test_std']:.2f}" if row.get("test_std") is not None else "")
            + (f" [±{row['test_ci90']:.2f}]" if row.get("test_ci90") is not None else "") + f" (n={row['n']})")
        rules = "" if row.get("top_operator") is None else " / ".join(
            f"{row[r]:.1f}" for r in listops_rules.RULES)
        cells = [str(row["max_tokens"]), str(row["max_depth"]), row["model"], test,
                 *(_number(row.get(f"best_val_{f:g}")) for f in FRACTIONS), rules,
                 "" if row.get("margin_over_top_operator") is None else f"{row['margin_over_top_operator']:+.1f}",
                 row.get("learned", ""), _number(row.get("steps"), 0), row["status"]]
        lines.append("| " + " | ".join(cells) + " |")
    hardware = sorted({row["hardware"] for row in rows if row.get("hardware")})
    if from_records:
        lines += ["", f"{from_records} of the runs were read from the committed `listops_regimes_{scale}_runs.csv` "
                  "and `_curves.csv` (`--records`): their folders were not on the machine that made this map; "
                  "their rows keep the commit and hardware they were trained with."]
    lines += ["", f"Hardware: {'; '.join(hardware) or 'no run finished'}. Every run: "
              f"`listops_regimes_{scale}_runs.csv`; learning curves: `listops_regimes_{scale}_curves.csv`; "
              f"plot: `listops_regimes_{scale}.png`."]
    return "\n".join(lines) + "\n"


def listops_rules_note() -> str:
    return ("Reference rules (`lra/experiments/listops_rules.py`), fitted on each regime's train split and "
            "scored on its test split: majority class, top-operator rule (the commonest answer per root operator), "
            "top operator + shallow digits (per root operator and its value over the root's direct digits). "
            "**learned** = the test mean is above the top-operator rule by more than its 90% t-interval over "
            "seeds (one seed: by more than the test split's binomial 90% interval, which ignores seed noise).")


def plot(rows: Sequence[Mapping], curves: Sequence[Mapping], path: Path, scale: str) -> Path:
    """One panel per regime: validation curves of both models (thin: each seed, thick: the mean over
    seeds), the reference rules as horizontal lines (:mod:`lra.experiments.curve_plots`)."""
    regime_of = lambda row: tuple(row[k] for k in REGIME_COLUMNS)  # noqa: E731
    regimes = list(dict.fromkeys(regime_of(r) for r in rows))
    references = {regime_of(r): r for r in rows if r.get("top_operator") is not None}
    panels = curve_plots.panels_from_curves(
        curves, regime_of, model_name, {regime: f"{regime[0]} tokens max, depth {regime[1]}" for regime in regimes},
        list(dict.fromkeys(r["model"] for r in rows)), references)
    return curve_plots.plot_validation_panels(
        panels, path, f"ListOps regime map ({scale}): validation curves and reference rules (test split)")


def write_map(cells: Sequence[dict], out: Path, scale: str, command: str,
              references: Mapping[tuple, dict | None]) -> list[Path]:
    """Writes the map of ``cells`` (with their ``records``: :func:`gather_records`) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [cell_row(c, references.get(tuple(c["labels"][k] for k in REGIME_COLUMNS))) for c in cells]
    runs = [r["run"] for c in cells for r in c["records"]]
    curves = [point for c in cells for r in c["records"] for point in r["curve"]]
    from_records = sum(r["source"] == "records" for c in cells for r in c["records"])
    wall = sum(r["wall_seconds"] or 0.0 for r in runs)
    stem = out / f"listops_regimes_{scale}"
    paths = [stem.with_suffix(".md"), stem.with_suffix(".csv")]
    atomic.write_text(paths[0], markdown(rows, scale, command, wall / 3600, from_records))
    atomic.write_text(paths[1], run_records.csv_text(COLUMNS, rows))
    paths += run_records.write_run_files(stem, runs, curves, labels=REGIME_COLUMNS)
    paths.append(plot(rows, curves, stem.with_suffix(".png"), scale))
    return paths


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lra.experiments.listops_regimes", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="the sweep's --root (its runs' workdirs)")
    p.add_argument("--scale", choices=("small", "smoke"), default="small")
    p.add_argument("--seeds", type=int, default=1, help="the sweep's --seeds")
    p.add_argument("--out", default=str(REPO / "results"))
    p.add_argument("--data_base", action="append", default=[], metavar="DIR",
                   help="the folder the sweep was started from (relative data.dir); default: here")
    p.add_argument("--records", metavar="STEM",
                   help="an earlier map's <STEM>_runs.csv and _curves.csv: runs not finished under --root are "
                        "read from there (e.g. results/listops_regimes_small)")
    return p


def main(argv: Sequence[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        raise RegimeError(f"--root={args.root} is not a folder; give the regime sweep's --root")
    cells = regime_cells(args.scale, args.seeds)
    gather_records(cells, root, committed_records(Path(args.records)) if args.records else {})
    references = regime_references(cells, [*args.data_base, os.getcwd()], reference_scratch())
    command = shlex.join(["python", "-m", "lra.experiments.listops_regimes",
                          *(argv if argv is not None else sys.argv[1:])])
    paths = write_map(cells, Path(args.out), args.scale, command, references)
    print(json.dumps({"wrote": [str(p) for p in paths]}), file=out)
    return 0


def run() -> None:
    run_main(main)


if __name__ == "__main__":
    run()
