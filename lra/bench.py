"""Training / inference speed of model variants, measured side by side in one process.

    python -m lra.bench --task listops --scale small <variant> [<variant> ...]
    python -m lra.bench --task text --scale small --steps 10 --out results/bench_text_small_cpu.md

    python -m lra.bench --suite table8 --host cpu2 [--lengths 2048 4096] [--reps 3]
    python -m lra.bench --suite {scaling,transforms,peer,efficiency,flops} --host cpu2

Each variant is the task config at the given scale (``configs/<task>.py:<variant>``); batches are
random tokens of the task's shape, so no data set is needed. After a warm-up step (compilation,
reported separately), ``--steps`` train steps and as many eval forwards are timed; the table gives
steps/s and the latency relative to the first variant (the paper's Table 8 layout). Absolute times
hold only for the hardware printed with them.

``--suite`` runs one of the benchmark suites of :mod:`lra.bench_suites` (Table 8 analogue,
scaling, transforms, the spectrans peer, FLOP/s efficiency) and replaces its section of
``results/bench_<host>.md`` and its rows of ``results/bench_<host>.csv``.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import time
from pathlib import Path

import jax
import numpy as np

from lra import bench_suites
from lra.cli import ArgumentParser, run_main
from lra.data import task_info
from lra.steps import data_parallel, eval_step, replicate, train_step
from lra.train import param_count


def random_batch(info, global_batch: int, num_devices: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A batch of random tokens shaped like the task's (README batch contract), all positions valid."""
    rng = np.random.default_rng(seed)
    per_device = global_batch // num_devices
    lead = (num_devices, per_device) + ((2,) if info.kind == "dual" else ())
    inputs = rng.integers(1, info.vocab_size, lead + (info.max_length,), dtype=np.int32)
    lengths = np.full(lead, info.max_length, np.int32)
    label_shape = (num_devices, per_device) + ((info.max_length,) if info.kind == "token" else ())
    return {
        "inputs": inputs,
        "lengths": lengths,
        "targets": rng.integers(0, info.num_classes, label_shape, dtype=np.int32),
        "weights": np.ones(label_shape, np.float32),
    }


def _timed(fn, steps: int) -> float:
    start = time.perf_counter()
    out = None
    for _ in range(steps):
        out = fn()
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / steps


def bench_variant(task: str, variant: str, scale: str, steps: int, overrides: dict) -> dict:
    """Seconds per train step and per eval forward of one variant (after one compiling call)."""
    config, model, state, batch, key, devices = bench_suites.model_and_batch(
        task, variant, {"scale": scale, **overrides})
    info = task_info(config)
    p_train = data_parallel(train_step, devices, donate_argnums=(0,))
    p_eval = data_parallel(functools.partial(eval_step, apply_fn=model.apply), devices)
    rep_state = replicate(state, devices)

    start = time.perf_counter()
    rep_state, metrics = p_train(rep_state, batch, key)
    jax.block_until_ready(metrics)
    compile_seconds = time.perf_counter() - start
    jax.block_until_ready(p_eval(rep_state.params, batch))

    holder = {"state": rep_state}

    def one_train_step():
        holder["state"], out = p_train(holder["state"], batch, key)
        return out

    train_seconds = _timed(one_train_step, steps)
    eval_seconds = _timed(lambda: p_eval(holder["state"].params, batch), steps)
    return {
        "variant": variant,
        "batch": config.batch_size,
        "length": info.max_length,
        "layers": config.model.num_layers,
        "width": config.model.emb_dim,
        "params": param_count(state.params),
        "compile_s": compile_seconds,
        "train_step_s": train_seconds,
        "eval_step_s": eval_seconds,
    }


def format_table(rows: list[dict]) -> str:
    base_train, base_eval = rows[0]["train_step_s"], rows[0]["eval_step_s"]
    lines = [
        f"| variant | batch x length | layers x width | params | train step (s) | steps/s | "
        f"train latency vs {rows[0]['variant']} | eval step (s) | eval latency vs {rows[0]['variant']} | compile (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['batch']} x {r['length']} | {r['layers']} x {r['width']} | "
            f"{r['params']:,} | {r['train_step_s']:.3f} | {1 / r['train_step_s']:.2f} | "
            f"{100 * r['train_step_s'] / base_train:.1f}% | {r['eval_step_s']:.3f} | "
            f"{100 * r['eval_step_s'] / base_eval:.1f}% | {r['compile_s']:.1f} |"
        )
    return "\n".join(lines)


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
    suites.add_argument("--suite", choices=("table8", "scaling", "transforms", "peer", "efficiency", "flops"))
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
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = _parse_value(value)
    command = "python -m lra.bench " + " ".join(argv if argv is not None else os.sys.argv[1:])
    if args.suite:
        return run_suite(args, overrides, command)
    if not args.variants:
        parser.error("give variants to compare, or --suite")
    task = args.task or "listops"
    rows = [bench_variant(task, v, args.scale, args.steps, overrides) for v in args.variants]
    report = (
        f"## {task}, scale `{args.scale}`: train and eval step time\n\n"
        f"Command: `{command}`  \nDate: {datetime.date.today()}  \nHardware: {bench_suites.hardware()}  \n"
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
    """Run ``args.suite`` (:mod:`lra.bench_suites`) and write its section of the host's results."""

    args.task = args.task or "text"
    args.overrides = overrides
    args.lengths = args.lengths or bench_suites.DEFAULT_LENGTHS[args.suite]
    text, rows = bench_suites.SUITES[args.suite](args, command)
    path = bench_suites.write_report(args.host, args.suite, text, rows, args.results_dir)
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


if __name__ == "__main__":
    run_main(lambda: main() and 0)  # a mistake (unknown variant or task) ends in one error: line
