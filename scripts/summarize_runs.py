"""Tabulate finished runs: one markdown row per ``<workdir>/summary.json``.

    python scripts/summarize_runs.py runs/quickstart runs/quickstart_transformer \\
        --out results/quickstart_cpu.md --title "Quickstart on the 2-core CPU"

Each row states what the numbers need to be read: task, variant, scale, steps, seed, test and best
validation accuracy, wall time, parameter count, device kind and count.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from lra.paths import workdir_path

COLUMNS = ("task", "variant", "scale", "steps", "seed", "test acc", "best val acc (step)",
           "train loss", "wall s", "params", "devices")


def row(summary: dict) -> list[str]:
    config = summary.get("config", {})
    return [
        summary["task"], summary["variant"], summary["scale"], str(summary["steps_completed"]),
        str(config.get("seed", "")), f"{summary['test_accuracy']:.4f}",
        f"{summary['best_val_accuracy']:.4f} ({summary['best_step']})",
        f"{summary['final_train_loss']:.4f}", f"{summary['wall_seconds']:.0f}",
        f"{summary['param_count']:,}", f"{summary['devices']} x {summary['device_kind']}",
    ]


def table(workdirs: list[str]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for workdir in workdirs:
        summary = json.loads((workdir_path(workdir) / "summary.json").read_text())  # gs:// too
        lines.append("| " + " | ".join(row(summary)) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdirs", nargs="+")
    parser.add_argument("--title", default="Runs")
    parser.add_argument("--note", default="", help="a line under the title (commands, hardware)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = f"## {args.title}\n\n"
    if args.note:
        text += args.note + "\n\n"
    text += f"Tabulated {datetime.date.today()} by `python scripts/summarize_runs.py " + " ".join(
        sys.argv[1:] if argv is None else argv) + "`.\n\n" + table(args.workdirs) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return text


if __name__ == "__main__":
    main()
