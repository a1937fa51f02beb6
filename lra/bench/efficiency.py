"""Suite ``efficiency``: achieved FLOP/s of the full-attention train step vs the matmul peak
measured in the same run."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from lra.bench.measure import LoadLog, Timing, interleaved
from lra.bench.models import prepare, step_flops
from lra.bench.report import entry, header, table


def matmul_peak(loads: LoadLog, size: int = 2048, reps: int = 5) -> tuple[float, Timing]:
    a = jax.random.normal(jax.random.PRNGKey(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.PRNGKey(1), (size, size), jnp.float32)
    f = jax.jit(lambda a, b: a @ b)
    jax.block_until_ready(f(a, b))
    t = interleaved({"mm": functools.partial(f, a, b)}, reps, loads, progress=False)["mm"]
    return 2 * size ** 3 / t.median, t


def run_efficiency(args, command: str) -> tuple[str, list[dict]]:
    loads = LoadLog()
    rows, lines = [], []
    setups = (("paper", {"batch_size": args.batch or 8}), ("small", {"scale": "small", "batch_size": args.batch or 8}))
    for label, base in setups:
        for n in args.lengths:
            over = {"max_length": n, **base, **args.overrides}
            p = prepare(args.task, "transformer", over)
            # FLOPs from the unchunked compile of the same step: XLA's cost analysis counts a while
            # loop's body once, so the chunked (lax.map) form would be undercounted.
            flops = step_flops(args.task, {**over, "model.attention.chunk_size": 0})
            peak, _ = matmul_peak(loads)
            t = interleaved({"train": p.train}, args.reps, loads, progress=False)["train"]
            peak_after, _ = matmul_peak(loads)
            peak = max(peak, peak_after)
            achieved = flops / t.median
            cfg = p.config
            m = cfg.model
            row_label = f"{label}: {m.num_layers} x {m.emb_dim}, qkv {m.qkv_dim}, MLP {m.mlp_dim}"
            lines.append([row_label, f"{n}", f"{cfg.batch_size}", f"{flops / 1e9:.1f}", f"{t.median:.3f}",
                          f"{achieved / 1e9:.1f}", f"{peak / 1e9:.1f}", f"{100 * achieved / peak:.1f}%"])
            rows += [entry(row_label, f"{n} tokens", "train_flops", flops, "FLOP", loads),
                     entry(row_label, f"{n} tokens", "train_step_s", t.median, "s", loads),
                     entry(row_label, f"{n} tokens", "achieved", achieved / 1e9, "GFLOP/s", loads),
                     entry(row_label, f"{n} tokens", "matmul_peak", peak / 1e9, "GFLOP/s", loads),
                     entry(row_label, f"{n} tokens", "fraction_of_peak", 100 * achieved / peak, "%", loads)]
    extra = ("Full attention (transformer, original space), the real train step (dropout as configured, AdamW). "
             "FLOPs: XLA cost analysis of the same step compiled unchunked (a while loop's body is counted once, "
             "so the chunked form's count would be too low). Peak: a 2048^3 float32 matmul, the better of two "
             "measurements around each model, in the same process.")
    text = (header("Efficiency: achieved FLOP/s of the full-attention train step vs the matmul peak", command,
                    loads, extra) + "\n"
            + table(["model", "tokens", "batch", "GFLOP per step", "step s", "achieved GFLOP/s",
                      "matmul peak GFLOP/s", "fraction of peak"], lines))
    return text, rows
