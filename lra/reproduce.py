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
hardware. Beside it: ``_runs.csv`` and ``_curves.csv`` (every run, every evaluation) and
for LEGO ``<name>_<scale>_positions.csv`` (every run's test accuracy per chain position);
``table<T>_<scale>.png`` (validation curves per task x attention, one colour per space, the ListOps
reference rules as lines: :mod:`lra.experiments.curve_plots`). Two protocols are reported:

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
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from lra import atomic
from lra import sweep as sweep_lib
from lra.cli import ArgumentParser, run_main
from lra.config import SCALES
from lra.experiments import curve_plots, lego_rules, run_records
from lra.experiments.lego_plots import lego_rows, write_lego
from lra.experiments.paper_grids import CELL_KEYS, parse_table_arg, table_runs
from lra.experiments.run_results import run_result
from lra.experiments.runs import Run
from lra.experiments.sweep_files import load_entries
from lra.experiments.table_cells import REPO, attach_references, collect, reference_scratch, run_file_rows, sweep_file
from lra.experiments.tables import table2_rows, table_rows, write_table
from lra.grid_filters import check_filters
from wavspa_flax.errors import UserError

__all__ = ["TABLES", "ReproduceError", "main", "parse_table_arg", "parser", "run", "table_runs"]

TABLES = ("1", "2", "3", "4", "7", "9", "10", "11", "lego", "lego_extrapolation")


class ReproduceError(UserError):
    """A mistake in the reproduction command line (an unknown table, scale or name)."""


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
    check_filters(load_entries(f"{sweep_file(table_for_runs)}:{args.scale}"), filters, ReproduceError)
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
    lego = args.table.startswith("lego")
    if lego:
        rows, meta = lego_rows(cells, root)
        meta["rules"] = lego_rules.rules_on_test_split(meta.get("data_dir"), [*args.data_base, os.getcwd()])
        paths = write_lego(args.scale, rows, meta, Path(args.out), command, wall_hours, name=args.table)
        stem = Path(args.out) / f"{args.table}_{args.scale}"
        paths.append(stem.with_name(stem.name + "_positions.csv"))
        atomic.write_text(paths[-1], run_records.csv_text(("model", "seed", "index", "trained", "test_accuracy"),
                                                          meta["positions"]))
    else:
        attach_references(cells, root, [*args.data_base, os.getcwd()], reference_scratch())
        restricted = any(filters.values())
        rows = table2_rows(cells, root) if args.table == "2" else table_rows(args.table, cells, root, restricted)
    if not rows:
        raise ReproduceError(f"table {args.table} at scale {args.scale} has no rows for these filters; nothing written")
    if not lego:
        paths = write_table(args.table, args.scale, rows, Path(args.out), command, args.seeds, wall_hours)
        stem = Path(args.out) / f"table{args.table}_{args.scale}"
    runs, curves = run_file_rows(cells, root)
    paths += run_records.write_run_files(stem, runs, curves, labels=CELL_KEYS)
    if not lego and curves:
        paths.append(curve_plots.plot_validation_panels(
            curve_plots.table_panels(rows, curves), stem.with_suffix(".png"),
            f"Table {args.table} ({args.scale}): validation curves, reference rules on the test split"))
    print("wrote " + ", ".join(str(p) for p in paths), file=out)
    return 0


def _sweep_argv(args, runs: Sequence[Run], root: Path) -> list[str]:
    return ["--backend", args.backend, "--root", str(root), *[f"--set={s}" for s in args.shared],
            *([f"--ray_address={args.ray_address}"] if args.ray_address else []),
            *([f"--ray_num_cpus={args.ray_num_cpus}"] if args.ray_num_cpus else []),
            f"--cpus_per_run={args.cpus_per_run}", f"--gpus_per_run={args.gpus_per_run}",
            *([f"--resources={args.resources}"] if args.resources else []), f"--max_retries={args.max_retries}"]


def _run_sweep(sweep_argv: Sequence[str], runs: Sequence[Run], out) -> int:
    return sweep_lib.run_runs(runs, sweep_argv, out)


def run() -> None:
    """Entry point: mistakes end in one ``error:`` line (``lra.cli``)."""
    run_main(main)


if __name__ == "__main__":
    run()
