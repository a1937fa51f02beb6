"""The first run on an accelerator: what the CPU could not measure, in one short script.

    bash scripts/device_check.sh            # installs .[cuda12], then runs this (about 8 minutes on one GPU)
    python scripts/device_check.py --dry-run --out /tmp/bench_gpu.md   # the same steps, shapes shrunk (CPU)

Parts, each under a time budget (a part that would start past ``--budget_s`` is listed as skipped):

1. matmul peak: bf16 and fp32 ``[n, n] @ [n, n]`` FLOP/s on the device.
2. preflight against the device: for the Text and ListOps paper configs, the compiled plan's peak
   (:mod:`lra.preflight`, this backend's compiler) next to ``device.memory_stats()['peak_bytes_in_use']``
   after one real train step (each config in a fresh process, so the peak is its own).
3. Table 8 (``lra.bench --suite table8``: every space vs the Transformer, train and inference) at
   2048 and 4096 tokens, float32 and bfloat16.
4. the efficiency suite (full-attention train step FLOP/s) in bfloat16, with the MFU against the
   bf16 matmul peak of part 1.
5. full attention's implementations side by side (ours vs ``jax.nn.dot_product_attention`` xla
   and cuDNN), eval forward at 4096 tokens in bf16: what ``impl=auto`` should pick on this GPU.
6. 500 steps of the paper-scale ListOps run (generated data) for the Transformer and AdaWavSpA:
   steps/s from the training loop itself.
7. dropout key implementations (``config.prng_impl``: threefry, rbg, unsafe_rbg, and no dropout)
   side by side on the Text config's full-attention train step (``scripts/bench_prng.py``).

Everything goes to ``--out`` (default ``results/bench_gpu.md``) with the hardware line first.
``--dry-run`` shrinks every shape (smoke configs, short sequences, a few steps, one variant or config
where a part loops over several) so the whole script runs on a CPU in a few minutes: that is how it
is tested.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

PREFLIGHT_CONFIGS = (("text", "transformer", "float32"), ("text", "transformer", "bfloat16"),
                     ("listops", "transformer", "bfloat16"), ("listops", "transformer,ada", "bfloat16"))
PARTS = ("matmul", "preflight", "table8", "efficiency", "impls", "listops", "prng")


@dataclasses.dataclass
class Shapes:
    """What each part runs at: the real sizes, or the dry run's."""

    scale: str
    matmul: int
    table8_lengths: tuple
    table8_dtypes: tuple
    table8_tokens: int
    table8_attentions: tuple
    efficiency_lengths: tuple
    impl_length: int
    reps: int
    preflight_configs: int
    train_steps: int
    train_variants: tuple
    train_overrides: dict


REAL = Shapes(scale="paper", matmul=8192, table8_lengths=(2048, 4096), table8_dtypes=("float32", "bfloat16"),
              table8_tokens=8192, table8_attentions=("transformer",), efficiency_lengths=(1024, 2048),
              impl_length=4096, reps=5, preflight_configs=len(PREFLIGHT_CONFIGS), train_steps=500,
              train_variants=("transformer", "transformer,ada"), train_overrides={"num_eval_batches": 8})
# The dry run takes every code path once at the least compile work: Table 8 in float32 only (XLA:CPU
# compiles bfloat16 about 2x slower; part 4 runs a bfloat16 train step), for one attention with only
# its fixed space (2 variants, not the Transformer's 5), one preflight config, one ListOps run.
DRY = Shapes(scale="smoke", matmul=256, table8_lengths=(64,), table8_dtypes=("float32",), table8_tokens=128,
             table8_attentions=("linformer",), efficiency_lengths=(64,), impl_length=128, reps=1, preflight_configs=1,
             train_steps=4, train_variants=("transformer",),
             train_overrides={"data.num_train": 64, "data.num_val": 16, "data.num_test": 16})


def hardware_line() -> str:
    device = jax.devices()[0]
    memory = _device_memory(device)
    return (f"{jax.device_count()} x {device.device_kind} ({device.platform}"
            f"{f', {memory / 2 ** 30:.0f} GiB' if memory else ''}); host {platform.machine()}, "
            f"{os.cpu_count()} cores; jax {jax.__version__}; {datetime.datetime.now().isoformat(timespec='minutes')}")


def _device_memory(device) -> int | None:
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    return int(stats["bytes_limit"]) if stats and "bytes_limit" in stats else None


def matmul_flops(n: int, dtype, reps: int) -> float:
    """Median FLOP/s of an ``[n, n] @ [n, n]`` matmul in ``dtype`` (after one compiling call)."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype)
    b = jax.random.normal(jax.random.PRNGKey(1), (n, n), dtype)
    f = jax.jit(lambda a, b: a @ b)
    jax.block_until_ready(f(a, b))
    times = []
    for _ in range(max(reps, 3)):
        start = time.perf_counter()
        jax.block_until_ready(f(a, b))
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / sorted(times)[len(times) // 2]


def measure_one_config(task: str, variant: str, dtype: str, scale: str) -> dict:
    """Plan peak and measured peak of one config (runs in its own process: see ``--one``)."""
    from lra import preflight
    from lra.config import load_config

    config = load_config(f"{REPO}/configs/{task}.py:{variant}", {"scale": scale, "model.dtype": dtype})
    batch = int(config.batch_size)
    inputs = preflight.one_device_inputs(config, batch)
    compiled = preflight.compile_train(config, batch, inputs)
    _, state, batch_arrays, key = inputs
    state, metrics = compiled(state, batch_arrays, key)
    jax.block_until_ready(metrics)
    stats = jax.devices()[0].memory_stats()
    measured = int(stats["peak_bytes_in_use"]) if stats and "peak_bytes_in_use" in stats else None
    flops, _ = preflight.counted_flops(config, batch, compiled)
    return {"task": task, "variant": variant, "dtype": dtype, "batch": batch,
            "plan_peak": preflight.Memory.of(compiled).peak, "measured_peak": measured, "gflop": flops / 1e9}


def part_preflight(shapes: Shapes) -> str:
    lines = ["| config | dtype | batch | plan peak GiB | measured peak GiB | measured / plan | GFLOP/step |",
             "|---|---|---|---|---|---|---|"]
    for task, variant, dtype in PREFLIGHT_CONFIGS[:shapes.preflight_configs]:
        out = subprocess.run([sys.executable, __file__, "--one", task, variant, dtype, shapes.scale],
                             capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        rows = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode or not rows:
            error = (out.stderr.strip().splitlines() or ["no output"])[-1][:200]
            lines.append(f"| {task}:{variant} | {dtype} | | | | error: {error} | |")
            continue
        r = json.loads(rows[-1])
        measured = r["measured_peak"]
        ratio = f"{measured / r['plan_peak']:.2f}" if measured else "n/a (no memory_stats on this backend)"
        lines.append(f"| {task}:{variant} | {dtype} | {r['batch']} | {r['plan_peak'] / 2 ** 30:.3f} | "
                     f"{'n/a' if measured is None else f'{measured / 2 ** 30:.3f}'} | {ratio} | {r['gflop']:.1f} |")
    return ("Plan: `lra.preflight` on this backend (compiled, not run). Measured: "
            "`memory_stats()['peak_bytes_in_use']` after one train step, each config in a fresh process "
            f"(scale `{shapes.scale}`).\n\n" + "\n".join(lines) + "\n")


def _suite_args(**values):
    defaults = dict(task="text", overrides={}, lengths=None, reps=3, batch=None, tokens=8192, attentions=None,
                    models=None, layers=1, fit_lengths=[], channels=256, filter_length=16, rounds=1, threads=2,
                    peer_python=None)
    return argparse.Namespace(**{**defaults, **values})


def part_table8(shapes: Shapes) -> str:
    from lra.bench.cli import SUITES

    texts = []
    for dtype in shapes.table8_dtypes:
        over = {"model.dtype": dtype, **({"scale": "smoke"} if shapes.scale == "smoke" else {})}
        args = _suite_args(overrides=over, lengths=list(shapes.table8_lengths), reps=shapes.reps,
                           tokens=shapes.table8_tokens, attentions=list(shapes.table8_attentions))
        text, _ = SUITES["table8"](args, f"device_check table8 {dtype}")
        texts.append(f"### {dtype}\n\n" + text.replace("## ", "#### ", 1))
    return "\n".join(texts)


def part_efficiency(shapes: Shapes, bf16_peak: float) -> str:
    from lra.bench.cli import SUITES

    over = {"model.dtype": "bfloat16", **({"scale": "smoke"} if shapes.scale == "smoke" else {})}
    args = _suite_args(overrides=over, lengths=list(shapes.efficiency_lengths), reps=shapes.reps)
    text, rows = SUITES["efficiency"](args, "device_check efficiency bfloat16")
    if not bf16_peak == bf16_peak:  # part 1 not run: measure the peak here
        bf16_peak = matmul_flops(shapes.matmul, jnp.bfloat16, shapes.reps)
    mfu = ["| model | tokens | achieved GFLOP/s | MFU vs the bf16 matmul peak |", "|---|---|---|---|"]
    for r in rows:
        if r["metric"] == "achieved":
            mfu.append(f"| {r['section']} | {r['case']} | {r['value']} | "
                       f"{100 * float(r['value']) * 1e9 / bf16_peak:.1f}% |")
    return (text.replace("## ", "#### ", 1) + f"\nMFU against the bf16 matmul peak of part 1 "
            f"({bf16_peak / 1e12:.1f} TFLOP/s):\n\n" + "\n".join(mfu) + "\n")


def part_attention_impls(shapes: Shapes) -> str:
    from wavspa_flax.attention.full import cudnn_supports, softmax_attention

    b, h, dh = 4, 4, 64
    q, k, v = (jax.random.normal(jax.random.PRNGKey(i), (b, shapes.impl_length, h, dh), jnp.bfloat16)
               for i in range(3))
    mask = jnp.arange(shapes.impl_length)[None, :] < jnp.array([shapes.impl_length, shapes.impl_length // 2,
                                                                   shapes.impl_length, 7])[:, None]
    lines = ["| impl | forward ms | note |", "|---|---|---|"]
    for impl in ("einsum", "chunked", "xla", "cudnn"):
        if impl == "cudnn" and not cudnn_supports(q):
            lines.append("| cudnn | | not supported here (needs a GPU, 16-bit inputs, head dim <= 128) |")
            continue
        fn = jax.jit(lambda q, k, v, m, impl=impl: softmax_attention(q, k, v, m, impl=impl, chunk_size=1024))
        try:
            jax.block_until_ready(fn(q, k, v, mask))
            times = []
            for _ in range(max(shapes.reps, 3)):
                start = time.perf_counter()
                jax.block_until_ready(fn(q, k, v, mask))
                times.append(time.perf_counter() - start)
            lines.append(f"| {impl} | {1e3 * sorted(times)[len(times) // 2]:.2f} | |")
        except Exception as error:  # a kernel the device lacks is a row, not the end of the run
            lines.append(f"| {impl} | | error: {type(error).__name__}: {str(error).splitlines()[0][:120]} |")
    return (f"Eval forward (no dropout), q/k/v [{b}, {shapes.impl_length}, {h}, {dh}] bfloat16, key padding "
            "mask (prefix).\n\n" + "\n".join(lines) + "\n")


def part_listops(shapes: Shapes, workdir: Path) -> str:
    lines = ["| variant | steps | steps/s (loop's last window) | wall s | test accuracy |", "|---|---|---|---|---|"]
    for variant in shapes.train_variants:
        run_dir = workdir / variant.replace(",", "_")
        overrides = {"scale": shapes.scale, "data.source": "generate", "data.dir": str(workdir / "data"),
                     "num_train_steps": shapes.train_steps, "eval_every": shapes.train_steps,
                     "checkpoint_every": shapes.train_steps, "log_every": max(1, shapes.train_steps // 5),
                     "early_stopping": False, "progress_bar": False, **shapes.train_overrides}
        command = [sys.executable, "-m", "lra.train", f"--config={REPO}/configs/listops.py:{variant}",
                   f"--workdir={run_dir}"] + [f"--config.{k}={v}" for k, v in overrides.items()]
        out = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
        if out.returncode:
            lines.append(f"| {variant} | | | | error: {(out.stderr.strip().splitlines() or ['?'])[-1][:200]} |")
            continue
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        rates = [r["steps_per_second"] for r in records if "steps_per_second" in r]
        summary = json.loads((run_dir / "summary.json").read_text())
        lines.append(f"| {variant} | {summary['steps_completed']} | {rates[-1] if rates else float('nan'):.2f} | "
                     f"{summary['wall_seconds']:.0f} | {summary['test_accuracy']:.3f} |")
    return (f"`python -m lra.train --config=configs/listops.py:<variant> --config.scale={shapes.scale} "
            f"--config.data.source=generate --config.num_train_steps={shapes.train_steps} ...` (generated "
            "ListOps; steps/s as the loop logs it, evaluation excluded).\n\n" + "\n".join(lines) + "\n")


def part_prng(shapes: Shapes) -> str:
    from scripts.bench_prng import main as bench_prng

    argv = ["--length", str(shapes.table8_lengths[0]), "--batch", "4", "--reps", str(shapes.reps)]
    if shapes.scale == "smoke":
        argv += ["--set", "scale=smoke"]
    return bench_prng(argv).split("\n", 2)[2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="shrink every shape (CPU test of the script)")
    parser.add_argument("--out", default=str(REPO / "results" / "bench_gpu.md"))
    parser.add_argument("--budget_s", type=float, default=None,
                        help="start no part after this many seconds (default 480; none with --dry-run)")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS, help="which parts to run")
    parser.add_argument("--one", nargs=4, metavar=("TASK", "VARIANT", "DTYPE", "SCALE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one_config(*args.one)))
        return 0
    shapes = DRY if args.dry_run else REAL
    if args.budget_s is None:
        args.budget_s = float("inf") if args.dry_run else 480.0
    start = time.time()
    sections = [f"# First device check{' (dry run: shapes shrunk, not a measurement)' if args.dry_run else ''}\n",
                f"Command: `python scripts/device_check.py {' '.join(argv if argv is not None else sys.argv[1:])}`  ",
                f"Hardware: {hardware_line()}\n"]
    peaks = {}

    def section(title: str, make) -> None:
        part = PARTS[int(title.split(".")[0]) - 1]
        if part not in args.parts:
            return
        if time.time() - start > args.budget_s:
            sections.append(f"## {title}\n\nskipped: the {args.budget_s:.0f} s budget was spent\n")
            return
        began = time.time()
        try:
            body = make()
        except Exception as error:  # one failing part must not lose the others' results
            body = f"error: {type(error).__name__}: {str(error).strip().splitlines()[0][:300]}\n"
        sections.append(f"## {title}\n\n{body}\n({time.time() - began:.0f} s)\n")
        print(f"done: {title} ({time.time() - began:.0f} s)", flush=True)
        Path(args.out).write_text("\n".join(sections))

    def matmul():
        for dtype in (jnp.bfloat16, jnp.float32):
            peaks[jnp.dtype(dtype).name] = matmul_flops(shapes.matmul, dtype, shapes.reps)
        return "\n".join(f"- {name}: {flops / 1e12:.3g} TFLOP/s ([{shapes.matmul}, {shapes.matmul}] matmul, "
                         "median)" for name, flops in peaks.items()) + "\n"

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        section("1. Matmul peak", matmul)
        section("2. Preflight plan vs the device's measured peak", lambda: part_preflight(shapes))
        section("3. Table 8 (float32 and bfloat16)", lambda: part_table8(shapes))
        section("4. Efficiency (bfloat16) and MFU",
                lambda: part_efficiency(shapes, peaks.get("bfloat16", float("nan"))))
        section("5. Full attention: ours vs the library kernels", lambda: part_attention_impls(shapes))
        section(f"6. ListOps, {shapes.train_steps} steps", lambda: part_listops(shapes, Path(scratch)))
        section("7. Dropout key implementations", lambda: part_prng(shapes))
    sections.append(f"Total: {time.time() - start:.0f} s\n")
    Path(args.out).write_text("\n".join(sections))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
