"""Dropout key implementations side by side: the real train step with threefry, rbg and unsafe_rbg
keys (``config.prng_impl``) and without dropout, interleaved in one process.

    python scripts/bench_prng.py [--task text] [--length 1024] [--batch 4] [--reps 3] [--set KEY=VALUE] \\
        [--out results/prng_cpu.md]

Prints (and writes, with ``--out``) a markdown table: median step time, and its share of the
no-dropout step (what generating the masks costs).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import sys
import time

import jax  # noqa: E402

from lra.bench.measure import LoadLog, hardware, interleaved  # noqa: E402
from lra.bench.models import model_and_batch  # noqa: E402
from lra.steps import PRNG_IMPLS, data_parallel, make_key, replicate, train_step  # noqa: E402


def compiled_case(task: str, overrides: dict, prng_impl: str):
    """A zero-argument callable running the compiled train step with ``prng_impl`` dropout keys."""
    _, _, state, batch, _, devices = model_and_batch(task, "transformer", overrides)
    key = replicate(jax.random.key_data(make_key(1, prng_impl)), devices)
    step = data_parallel(functools.partial(train_step, prng_impl=prng_impl), devices)
    rep_state = replicate(state, devices)
    compiled = step.lower(rep_state, batch, key).compile()
    run = functools.partial(compiled, rep_state, batch, key)
    jax.block_until_ready(run())
    return run


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="text")
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = parser.parse_args(argv)
    over = {"max_length": args.length, "batch_size": args.batch}
    for item in args.set:
        key, _, value = item.partition("=")
        over[key] = value
    loads = LoadLog()
    cases = {name: compiled_case(args.task, over, name) for name in PRNG_IMPLS}
    cases["no dropout"] = compiled_case(args.task, {**over, "model.dropout": 0.0,
                                                     "model.attention_dropout": 0.0}, "rbg")
    timings = interleaved(cases, args.reps, loads)
    floor = timings["no dropout"].median
    lines = ["| keys | step s (spread) | vs no dropout | dropout share of the step |", "|---|---|---|---|"]
    for name, t in timings.items():
        share = "" if name == "no dropout" else f"{100 * (1 - floor / t.median):.0f}%"
        lines.append(f"| {name} | {t.median:.3f} ({t.spread}) | {t.median / floor:.2f}x | {share} |")
    text = (f"## Dropout key implementations: `{args.task}` paper config, full attention, {args.length} tokens, "
            f"batch {args.batch}, train step (fwd+bwd+AdamW)\n\nCommand: `python scripts/bench_prng.py "
            f"{' '.join(argv if argv is not None else sys.argv[1:])}`  \nDate: {datetime.date.today()}  \n"
            f"Hardware: {hardware()}  \n{loads.note()}  \n{args.reps} interleaved rounds, medians.\n\n"
            + "\n".join(lines) + "\n")
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    return text


if __name__ == "__main__":
    start = time.time()
    main()
    print(f"({time.time() - start:.0f} s)")
