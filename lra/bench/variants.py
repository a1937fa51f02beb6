"""Train-step and eval-step time of config variants side by side (``python -m lra.bench <variant> ...``)."""

from __future__ import annotations

import functools
import time

import jax

from lra.bench.measure import timed
from lra.bench.models import model_and_batch
from lra.data import task_info
from lra.steps import data_parallel, eval_step, replicate, train_step
from lra.train import param_count


def bench_variant(task: str, variant: str, scale: str, steps: int, overrides: dict) -> dict:
    """Seconds per train step and per eval forward of one variant (after one compiling call)."""
    config, model, state, batch, key, devices = model_and_batch(
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

    train_seconds = timed(one_train_step, steps)
    eval_seconds = timed(lambda: p_eval(holder["state"].params, batch), steps)
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
