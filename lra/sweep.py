"""Sweeps: many ``lra.train`` runs from one Python file, one after another, on Ray, or as commands.

    python -m lra.sweep --sweep=configs/sweeps/<file>.py[:<arg>] --root=DIR \\
        --backend=local|ray|commands [--seeds=N] [--set=<key>=<value> ...]
    python -m lra.sweep --sweep=... --root=DIR [--seeds=N] --aggregate [--fields=a,b]

A sweep file defines ``get_sweep(arg=None)`` returning a list of runs, each
``{"config": "configs/<task>.py:<variant>", "overrides": {"<dotted.key>": value, ...}}`` (plain
Python: a grid is a comprehension). Every run is an ordinary training job,
``python -m lra.train --config=<config> --config.<key>=<value> ... --workdir=<folder>``, in a
folder under ``--root`` derived from the run alone (:meth:`Run.folder`), so rerunning the same
command skips the finished runs (their ``summary.json`` parses and has the aggregate's fields:
:mod:`lra.summaries`; a damaged one makes the run unfinished) and resumes the interrupted ones
from their checkpoints (``lra.train`` does that in a workdir it finds started).

Several drivers may share a root: a run whose workdir another live ``lra.train`` holds
(:mod:`lra.workdir_lock`), or that another driver finished meanwhile, is skipped with a message,
so each run is trained once between them. A job ends when its driver ends (``kill -9`` included:
:mod:`lra.parent_watch`), saving a checkpoint first.

``--seeds=N`` repeats each run with ``seed=0..N-1`` (the override ``seed``) unless the run sets
``seed`` itself. ``--set=<key>=<value>`` adds ``--config.<key>=<value>`` to every command without
being part of the folder name or the aggregate's rows: it is for where the data is and how
progress is shown (``data.dir``, ``progress_bar``), never for what is trained.

Backends: ``local`` runs the jobs here one after another (a failed job is reported and the
others go on; the exit status is 1 if any failed); ``ray`` submits one Ray task per job
(``--ray_address``, or a local Ray instance; resources per job from ``--cpus_per_run``,
``--gpus_per_run``, ``--resources``; a failed job is retried ``--max_retries`` times and resumes
from its checkpoint); ``commands`` prints one shell-quoted ``python -m lra.train ...`` line per
unfinished job (for SLURM arrays or ``ssh --worker=all``). Each job's output goes to
``<folder>/train.log``. Ray is imported only by the ``ray`` backend (``pip install -e ".[sweep]"``).

``--aggregate`` writes ``<root>/results.md`` and ``<root>/results.csv``: one row per distinct
run without its seed, with the mean, sample standard deviation (ddof=1) and count of the test
accuracy over the finished seeds, the mean steps and wall time, the mean (numbers) or the values
(anything else) of each ``--fields`` summary field, and the runs still missing; and every finished
run's row and validation curve, ``<root>/results_runs.csv`` and ``<root>/results_curves.csv``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from lra.cli import ArgumentParser, run_main
from lra.experiments.aggregate import aggregate, write_results, write_run_files
from lra.experiments.backends import BACKENDS, _report, execute, print_commands, run_local, run_ray
from lra.experiments.runs import MAX_NAME, SEED_KEY, Run, SweepError, finished, render
from lra.experiments.sweep_files import (
    check_folders,
    expand_seeds,
    load_entries,
    load_sweep,
    parse_literal,
    parse_shared,
    validate_runs,
)

# The sweep's Python API (scripts and tests import it from here; the code lives in lra.experiments).
__all__ = ["BACKENDS", "MAX_NAME", "SEED_KEY", "Run", "SweepError", "aggregate", "check_folders", "execute",
           "expand_seeds", "finished", "load_entries", "load_sweep", "main", "parse_literal", "render", "run",
           "run_local", "run_runs", "write_results"]


def parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m lra.sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sweep", required=True, help="sweep file and optional argument: FILE[:arg]")
    p.add_argument("--root", required=True, help="folder holding one workdir per run (and the results)")
    p.add_argument("--backend", choices=BACKENDS, default="local")
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 for each run that sets no seed")
    p.add_argument("--set", dest="shared", action="append", default=[], metavar="KEY=VALUE",
                   help="--config.KEY=VALUE for every run, not in folder names (data.dir, progress_bar)")
    p.add_argument("--aggregate", action="store_true",
                   help="write ROOT/results.md, results.csv, results_runs.csv and results_curves.csv")
    p.add_argument("--fields", default="", help="summary fields to add to the aggregate (dotted: config.seed)")
    p.add_argument("--multihost", action="store_true", help="add --multihost to every job (TPU pods: run each "
                   "command on every host, e.g. with the commands backend and ssh --worker=all)")
    p.add_argument("--train_module", default="lra.train", help="module each job runs (python -m MODULE)")
    ray = p.add_argument_group("ray backend")
    ray.add_argument("--ray_address", default=None, help="an existing cluster ('auto', 'ray://host:10001'); "
                     "unset: start a local Ray instance")
    ray.add_argument("--ray_num_cpus", type=int, default=None, help="CPUs of the local Ray instance (default: all)")
    ray.add_argument("--cpus_per_run", type=float, default=1.0)
    ray.add_argument("--gpus_per_run", type=float, default=0.0)
    ray.add_argument("--resources", default="", help='custom resources per run as JSON, e.g. \'{"TPU": 4}\'')
    ray.add_argument("--max_retries", type=int, default=2, help="retries of a failed run (each resumes)")
    return p


def run_runs(runs: Sequence[Run], argv: Sequence[str], out=None) -> int:
    """Run (or print, or aggregate) the given ``runs`` with the command line's other options
    (``--root``, ``--backend``, ``--set``, the Ray options): what ``lra.reproduce`` calls."""
    return main([*argv, "--sweep=<given runs>"], out, runs=runs)


def main(argv: Sequence[str] | None = None, out=None, runs: Sequence[Run] | None = None) -> int:
    """The command line; returns the exit status (1 if a run failed). Mistakes raise SweepError."""
    out = out or sys.stdout
    args = parser().parse_args(argv)
    runs = list(runs) if runs is not None else expand_seeds(load_sweep(args.sweep), args.seeds)
    check_folders(runs)
    root = Path(args.root)
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    if args.aggregate:
        if not root.is_dir():
            raise SweepError(f"--root={args.root!r} does not exist (nothing to aggregate)")
        rows = aggregate(runs, root, fields)
        write_results(rows, root, fields, shlex.join(["python", "-m", "lra.sweep", *(argv or sys.argv[1:])]))
        write_run_files(runs, root)
        missing = sum(row["missing"] for row in rows)
        damaged = sum(len([f for f in row["damaged_runs"].split(";") if f]) for row in rows)
        print(f"{root / 'results.md'}, {root / 'results.csv'} (+ results_runs.csv, results_curves.csv): "
              f"{len(rows)} rows, {len(runs) - missing} finished "
              f"runs, {missing} missing" + (f" ({damaged} with a damaged summary.json)" if damaged else ""), file=out)
        return 0
    shared = parse_shared(args.shared, runs)
    validate_runs(runs, shared)
    extra = ["--multihost"] if args.multihost else []

    def argv_of(run: Run, at: str | Path) -> list[str]:
        return run.argv(at, shared, args.train_module, extra)

    todo = [run for run in runs if not finished(run, root)]
    skipped = len(runs) - len(todo)
    if args.backend == "commands":
        print_commands(todo, args.root, argv_of, out)
        print(f"# {len(todo)} commands; {skipped} finished runs skipped", file=sys.stderr)
        return 0
    root = root.resolve()
    print(f"{len(runs)} runs: {len(todo)} to run, {skipped} already finished (under {root})", file=out, flush=True)
    if not todo:
        return 0
    if args.backend == "ray":
        outcomes = run_ray(todo, root, argv_of, args, out)
    else:
        outcomes = run_local(todo, root, argv_of, out)
    return _report(outcomes, skipped, out)


def run() -> None:
    """Entry point: mistakes end in one ``error:`` line (``lra.cli``)."""
    run_main(main)


if __name__ == "__main__":
    run()
