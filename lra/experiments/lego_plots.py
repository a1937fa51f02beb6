"""LEGO (the paper's Fig. 3): test accuracy per chain position and model with its 90% t-interval,
written as ``<name>_<scale>.md``, ``.csv`` and ``.png``."""

from __future__ import annotations

import csv
import datetime
import io
import math
from collections.abc import Sequence
from pathlib import Path

from lra import atomic
from lra.experiments.run_results import hardware_text, mean_std, run_result, t_quantile
from lra.experiments.tables import csv_value

CI_LEVEL = 0.90


def lego_rows(cells: Sequence[dict], root: Path) -> tuple[list[dict], dict]:
    """Per model and chain position: mean test accuracy over runs and its 90% t-interval."""
    rows, meta = [], {"num_train_vars": None, "num_vars": None, "summaries": [], "positions": []}
    for cell in cells:
        finished = [(run, r) for run, r in ((run, run_result(run, root)) for run in cell["runs"]) if r is not None]
        model = cell["labels"]["attention"] + ("" if cell["labels"].get("space", "none") == "none"
                                              else "," + cell["labels"]["space"])
        if cell["no_data"] or not finished:
            rows.append({"model": model, "status": cell["no_data"] or "no finished run"})
            continue
        summaries = [r["summary"] for _, r in finished]
        meta["summaries"] += summaries
        meta["num_vars"] = summaries[0]["config"]["data"]["num_vars"]
        meta["num_train_vars"] = summaries[0]["config"]["data"]["num_train_vars"]
        meta["data_dir"] = summaries[0]["config"]["data"].get("dir")
        for run, result in finished:  # one row per run and position: what the means and intervals recompute from
            meta["positions"] += [{"model": model, "seed": run.seed, "index": index,
                                   "trained": index < meta["num_train_vars"], "test_accuracy": accuracy}
                                  for index, accuracy in enumerate(result["summary"]["test_accuracy_by_index"])]
        per_index = list(zip(*[s["test_accuracy_by_index"] for s in summaries]))
        for index, values in enumerate(per_index):
            values = [100 * v for v in values if v is not None]
            mean, std = mean_std(values)
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
    rule = (meta.get("rules") or {}).get("root_sign")  # lra.experiments.lego_rules on the runs' test split
    columns = ["model", "index", "trained", "paper", "ours_mean", "ci90_low", "ci90_high", "n", "status",
               *(["root_sign_rule"] if rule else [])]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        if rule and row.get("index") is not None and row["index"] < len(rule):
            row = {**row, "root_sign_rule": 100 * rule[row["index"]]}
        writer.writerow({c: csv_value(row.get(c)) for c in columns})
    paths = [out / f"{name}_{scale}.csv", out / f"{name}_{scale}.md"]
    atomic.write_text(paths[0], buffer.getvalue())
    models = list(dict.fromkeys(r["model"] for r in rows))
    indices = sorted({r["index"] for r in rows if "index" in r})
    lines = [f"# LEGO (the paper's Fig. 3) at `{scale}` scale: test accuracy per chain position", "",
             f"Made by `{command}` on {datetime.date.today()}; total training wall time {wall_hours:.2f} h; "
             f"hardware: {hardware_text(meta['summaries']) or 'no run finished'}. Accuracy in % (mean over runs, "
             f"[90% t-interval]); positions < {meta['num_train_vars']} were supervised in training, the others "
             f"test extrapolation (chains of {meta['num_vars']} variables). The paper gives Fig. 3 as a plot only: "
             "no number of it is transcribed, so there is no paper column to compare against."
             + (" **root-sign rule**: the accuracy, on the same test split, of giving every variable its own "
                "clause's sign times the root clause's sign (`lra/experiments/lego_rules.py`): what a model scores "
                "that finds only the root clause, exact at positions 0-1; a position is learned only above it."
                if rule else ""), "",
             "| position | " + " | ".join(models) + (" | root-sign rule" if rule else "") + " |",
             "|" + "---|" * (len(models) + 1 + bool(rule))]
    for index in indices:
        cells = []
        for model in models:
            match = [r for r in rows if r["model"] == model and r.get("index") == index]
            r = match[0] if match else None
            cells.append("" if r is None or r.get("ours_mean") is None else (
                f"{r['ours_mean']:.1f} [{r['ci90_low']:.1f}, {r['ci90_high']:.1f}] (n={r['n']})"
                if r.get("ci90_low") is not None else f"{r['ours_mean']:.1f} (n={r['n']})"))
        if rule:
            cells.append(f"{100 * rule[index]:.1f}" if index < len(rule) else "")
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
    rule = (meta.get("rules") or {}).get("root_sign")
    if rule:
        ax.plot(range(len(rule)), [100 * a for a in rule], color="black", linestyle=":", linewidth=1,
                label="root-sign rule")
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

