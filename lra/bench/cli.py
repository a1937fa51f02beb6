"""The command line of ``python -m lra.bench``: variants side by side, or one suite.

    python -m lra.bench --task listops --scale small <variant> [<variant> ...]
    python -m lra.bench --task text --scale small --steps 10 --out results/bench_text_small_cpu.md
    python -m lra.bench --suite table8 --host cpu2 [--lengths 2048 4096] [--reps 3]
    python -m lra.bench --suite {scaling,transforms,kernels,peer,efficiency,flops} --host cpu2

Variants (:mod:`.variants`): each is the task config at the given scale
(``configs/<task>.py:<variant>``); batches are random tokens of the task's shape, so no data set is
needed. After a warm-up step (compilation, reported separately), ``--steps`` train steps and as
many eval forwards are timed; the table gives steps/s and the latency relative to the first
variant (the paper's Table 8 layout). Absolute times hold only for the hardware printed with them.

Suites (``--suite``) measure side by side in one process (every case compiled first, then
``--reps`` rounds that run each case once in turn: interleaved repeats, medians; :mod:`.measure`)
and replace their own section of ``results/bench_<host>.md`` and their own rows of
``results/bench_<host>.csv`` (:mod:`.report`):

* :mod:`.table8`: the paper's Table 8 on our code: train-step and inference latency of every
  wavelet space as % of the same attention in the original space, and the added parameters.
* :mod:`.scaling`: compiled peak memory and step time vs sequence length per model; full
  attention compiled (not run) at lengths it cannot run at.
* :mod:`.transforms`: our DWT vs jaxwt vs pywt; learned filter banks forward+inverse and gradients.
* :mod:`.kernels`: kernels for the per-channel transform (shift-and-add, grouped and polyphase
  convolutions, FFT).
* :mod:`.peer`: spectrans 0.1.0's WaveletTransformer (its own venv) vs our ``wavelet_mixing`` and
  our no-mixer floor at equal config.
* :mod:`.efficiency`: achieved FLOP/s of the full-attention train step vs the matmul peak measured
  in the same run.
* :mod:`.flops`: compiled train-step FLOPs per space (nothing runs).

Timings are wall-clock medians; ``cpu`` columns are the process CPU time of the same calls. Each
section states how many cores other processes used during it (host busy time minus this
process's); other jobs inflate absolute times, ratios measured in one interleaved run are what the
tables compare.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from lra.bench.efficiency import run_efficiency
from lra.bench.flops import run_flops
from lra.bench.kernels import run_kernels
from lra.bench.measure import hardware
from lra.bench.peer import run_peer
from lra.bench.report import write_report
from lra.bench.scaling import run_scaling
from lra.bench.table8 import run_table8
from lra.bench.transforms import run_transforms
from lra.bench.variants import bench_variant, format_table
from lra.cli import ArgumentParser

SUITES = {"table8": run_table8, "scaling": run_scaling, "transforms": run_transforms, "kernels": run_kernels,
          "peer": run_peer, "efficiency": run_efficiency, "flops": run_flops}
DEFAULT_LENGTHS = {"table8": [2048, 4096], "scaling": [1024, 2048, 4096, 8192, 16384], "transforms": [4096],
                   "kernels": [4096], "peer": [1024, 4096], "efficiency": [1024], "flops": [1024, 2048]}


def main(argv: list[str] | None = None) -> str:
    parser = ArgumentParser(prog="python -m lra.bench", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", help="config arguments <attention>[,<space>], the first is the baseline")
    parser.add_argument("--task", default=None, help="task config (default: listops; suites: text)")
    parser.add_argument("--scale", default="small", choices=("smoke", "small", "paper"))
    parser.add_argument("--steps", type=int, default=5, help="timed steps per variant")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override applied to every variant, e.g. --set batch_size=8")
    parser.add_argument("--out", help="also write the table (markdown) to this file")
    suites = parser.add_argument_group("suites (--suite)")
    suites.add_argument("--suite", choices=tuple(SUITES))
    suites.add_argument("--host", default="cpu2", help="label of this machine: results/bench_<host>.md/.csv")
    suites.add_argument("--results-dir", default=None, help="where bench_<host>.md/.csv go (default results/)")
    suites.add_argument("--lengths", type=int, nargs="+", help="sequence lengths (suite defaults otherwise)")
    suites.add_argument("--reps", type=int, default=3, help="interleaved rounds (medians over them)")
    suites.add_argument("--batch", type=int, default=None, help="batch size (suite defaults otherwise)")
    suites.add_argument("--tokens", type=int, default=8192, help="table8: batch = tokens // length")
    suites.add_argument("--attentions", nargs="+", help="table8: attentions (default: the five)")
    suites.add_argument("--models", nargs="+", help="scaling: config variants")
    suites.add_argument("--layers", type=int, default=1, help="scaling: encoder layers")
    suites.add_argument("--fit-lengths", type=int, nargs="+", default=[4096, 8192, 16384, 32768],
                        help="scaling: lengths at which full attention is compiled (not run) for its memory")
    suites.add_argument("--channels", type=int, default=256, help="transforms: channels")
    suites.add_argument("--filter-length", type=int, default=16, help="transforms: learned filter length")
    suites.add_argument("--rounds", type=int, default=2, help="peer: rounds of ours-then-peer")
    suites.add_argument("--threads", type=int, default=2, help="peer: torch threads (XLA uses one per core)")
    suites.add_argument("--peer-python", default=None, help="peer: the spectrans venv's python")
    parser.add_argument("--prng", default=None, choices=("threefry2x32", "rbg", "unsafe_rbg"),
                        help="jax_default_prng_impl (dropout masks; threefry2x32, JAX's default, otherwise)")
    args = parser.parse_args(argv)
    if args.prng:
        import jax

        jax.config.update("jax_default_prng_impl", args.prng)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = _parse_value(value)
    command = "python -m lra.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.suite:
        return run_suite(args, overrides, command)
    if not args.variants:
        parser.error("give variants to compare, or --suite")
    task = args.task or "listops"
    rows = [bench_variant(task, v, args.scale, args.steps, overrides) for v in args.variants]
    report = (
        f"## {task}, scale `{args.scale}`: train and eval step time\n\n"
        f"Command: `{command}`  \nDate: {datetime.date.today()}  \nHardware: {hardware()}  \n"
        f"Timed steps per variant: {args.steps} (after one compiling step); random-token batches.\n\n"
        + format_table(rows) + "\n"
    )
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(report + "\n")
    return report


def run_suite(args, overrides: dict, command: str) -> str:
    """Run ``args.suite`` (one module of :mod:`lra.bench`) and write its section of the host's results."""

    args.task = args.task or "text"
    args.overrides = overrides
    args.lengths = args.lengths or DEFAULT_LENGTHS[args.suite]
    text, rows = SUITES[args.suite](args, command)
    path = write_report(args.host, args.suite, text, rows, args.results_dir)
    print(text)
    print(f"written: {path} and {path.with_suffix('.csv')}")
    return text


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)
