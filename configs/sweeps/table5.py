"""Table 5's reruns: the dagger (†) cells of Table 3, Linformer and Linear attention on Image and
Pathfinder in the input (N/A), Fourier (F) and fixed wavelet (W) spaces, each trained with the five
extra hyperparameter sets of the paper's Table 5 (``results/paper/table5.csv``: layers, widths,
heads, dropouts), at the task's Table 6 values otherwise. Table 4 has no dagger cells.

    python -m lra.sweep --sweep=configs/sweeps/table5.py[:<scale>[,tasks=..][,attentions=..][,spaces=..]] \\
        --root=runs/table5 [--seeds=N]

The paper reports, per cell, the best of its configurations (A.4: "we experimented with five
additional configurations"); :func:`best_configuration` picks it the same way from finished runs:
the configuration with the best mean validation accuracy, whose test accuracy is the cell's. Each
entry's ``cell`` carries ``config`` (1-5) beside the Table 3 labels. Table 5's sizes apply at every
scale (they set the model, the scale preset the data and steps); the rerun proper is a paper-scale
job (Image needs tfds' CIFAR-10; Pathfinder is generated below paper scale).
"""
import csv
import statistics
from pathlib import Path

from lra.reproduce import parse_table_arg, table_runs

TABLE5 = Path(__file__).resolve().parents[2] / "results" / "paper" / "table5.csv"
TASKS = ("image", "pathfinder")
ATTENTIONS = ("linformer", "linear")
SPACES = ("none", "fourier", "fixed")


def configurations() -> dict[int, dict[str, object]]:
    """Table 5 as ``{config number: {"model.<key>": value}}``."""
    configs: dict[int, dict[str, object]] = {}
    with open(TABLE5, newline="") as handle:
        for row in csv.DictReader(handle):
            value = float(row["value"])
            configs.setdefault(int(row["config"]), {})[f"model.{row['hyperparameter']}"] = (
                int(value) if value.is_integer() and "dropout" not in row["hyperparameter"] else value)
    return configs


def get_sweep(arg=None):
    parse_table_arg(arg)  # a malformed argument fails here, before any entry
    entries = []
    for number, overrides in configurations().items():
        cells = [dict(task=t, attention=a, space=s, overrides=overrides)
                 for a in ATTENTIONS for t in TASKS for s in SPACES]
        for entry in table_runs(cells, arg):
            entry["cell"] = {**entry["cell"], "config": number}
            entries.append(entry)
    return entries


def best_configuration(results: list[dict]) -> dict | None:
    """Of one cell's finished runs (``{"config": n, "summary": summary.json}``, any seeds), the
    configuration with the best mean validation accuracy: ``{"config", "val", "test", "n"}``."""
    by_config: dict[int, list[dict]] = {}
    for result in results:
        by_config.setdefault(result["config"], []).append(result["summary"])
    if not by_config:
        return None
    best = max(by_config, key=lambda n: (statistics.fmean(s["best_val_accuracy"] for s in by_config[n]), -n))
    runs = by_config[best]
    return {"config": best, "val": statistics.fmean(s["best_val_accuracy"] for s in runs),
            "test": statistics.fmean(s["test_accuracy"] for s in runs), "n": len(runs)}
