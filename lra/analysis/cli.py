"""The command line of ``python -m lra.analyze``: one report per run folder, optionally compared.

    python -m lra.analyze --workdir=RUN --out=DIR [--examples=16] [--min_length=0] [--state=best]
    python -m lra.analyze --workdir='runs/pe/*/*' --out=DIR --compare=results/x --group_by=model.position
"""

from __future__ import annotations

import argparse
import glob
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from lra.analysis.compare import compare, group_of
from lra.analysis.report import analyze_run
from lra.analysis.run import load_run
from wavspa_flax.errors import ConfigError

log = logging.getLogger("lra.analyze")


def _expand(patterns: Sequence[str]) -> list[Path]:
    runs = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        runs += [Path(m) for m in matches if (Path(m) / "config.json").exists() or not any(c in pattern for c in "*?[")]
    if not runs:
        raise ConfigError(f"--workdir {list(patterns)} matched no run folder (one with config.json)")
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lra.analyze", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", action="append", required=True,
                        help="a run folder (repeat, or a quoted glob, for several runs)")
    parser.add_argument("--out", required=True, help="output folder (one subfolder per run when several)")
    parser.add_argument("--state", default="best", choices=("best", "final"))
    parser.add_argument("--examples", type=int, default=16, help="test examples whose maps are analysed")
    parser.add_argument("--min_length", type=int, default=0, help="skip test examples with fewer tokens")
    parser.add_argument("--alphas", default="0.5,0.25", help="scale factors of eq. 10 ('' for none)")
    parser.add_argument("--level", type=int, default=None, help="DWT level (default: that of the shortest map)")
    parser.add_argument("--data_dir", default=None, help="replaces the run's data.dir")
    parser.add_argument("--no_plots", action="store_true")
    parser.add_argument("--compare", default=None, help="path prefix of a table (.md/.csv) and plot (.png) "
                        "comparing the runs' head metrics, grouped by --group_by")
    parser.add_argument("--group_by", default="model.position", help="config key that names a run's group")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("absl").setLevel(logging.WARNING)
    alphas = tuple(float(a) for a in args.alphas.split(",") if a.strip())
    workdirs = _expand(args.workdir)
    results = []
    command = "python -m lra.analyze " + " ".join(
        a if "*" not in a else f"'{a}'" for a in (argv if argv is not None else sys.argv[1:]))
    for workdir in workdirs:
        run = load_run(workdir, args.state, args.data_dir)
        out = Path(args.out) if len(workdirs) == 1 else Path(args.out) / run.name
        log.info("analysing %s -> %s", workdir, out)
        result = analyze_run(run, out, examples=args.examples, min_length=args.min_length, alphas=alphas,
                             level=args.level, plots=not args.no_plots, command=command)
        summary = run.summary or {}
        result.update(group=str(group_of(run.config, args.group_by)), seed=int(run.config.seed),
                      test_accuracy=summary.get("test_accuracy_final_state" if args.state == "final"
                                                else "test_accuracy", float("nan")),
                      steps=summary.get("steps_completed", run.step), wall_seconds=summary.get("wall_seconds"))
        results.append(result)
    if args.compare:
        if any("heads" not in r or "scale_sensitivity_0.5" not in r["heads"][0] for r in results):
            raise ConfigError("--compare needs runs with token-to-token attention maps and --alphas 0.5")
        compare(results, args.compare, args.group_by, command)
        log.info("wrote %s.md/.csv/.png", args.compare)
    return 0
