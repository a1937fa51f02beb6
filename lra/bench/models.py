"""The models the suites time: a config variant's model, train state and a random batch of its
task's shape, compiled train/eval steps, their FLOPs and compiled peak memory."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from lra.provenance import REPO

WAVELET_PARAM_NAMES = ("scaling_filters", "angles", "predict", "update")


def wavelet_param_count(params) -> int:
    """Parameters of the wavelet transforms themselves (Table 8's 'Add. Wavelet Parameters')."""
    total = 0
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        if getattr(path[-1], "key", None) in WAVELET_PARAM_NAMES:
            total += int(np.prod(leaf.shape))
    return total


def peak_bytes(compiled) -> int:
    stats = compiled.memory_analysis()
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
               - stats.alias_size_in_bytes)


def flops_of(compiled) -> float:
    analysis = compiled.cost_analysis()
    if isinstance(analysis, list):
        analysis = analysis[0]
    return float(analysis.get("flops", 0.0))


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


def model_and_batch(task: str, variant: str, overrides: dict):
    """``configs/<task>.py:<variant>`` with ``overrides``: (config, model, train state, a random batch
    sharded over the local devices, a replicated dropout key, the devices)."""
    from lra.config import load_config
    from lra.data import task_info
    from lra.steps import make_key, replicate
    from lra.train import create_train_state
    from wavspa_flax import build_model

    config = load_config(f"{REPO}/configs/{task}.py:{variant}", overrides)
    info = task_info(config)
    devices = jax.local_devices()
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    state = create_train_state(model, config, info, make_key(0))
    batch = random_batch(info, config.batch_size, len(devices))
    key = replicate(jax.random.key_data(make_key(1)), devices)
    return config, model, state, batch, key, devices


@dataclasses.dataclass
class Prepared:
    """A compiled train step and eval step of one config variant, ready to call repeatedly."""

    name: str
    params: int
    train: Callable[[], Any]
    eval: Callable[[], Any]
    compile_s: float
    memory_bytes: int
    config: Any
    wavelet_params: int = 0


def prepare(task: str, variant: str, overrides: dict, name: str | None = None) -> Prepared:
    """Build, compile and warm up the real train step (pmap, AdamW, the config's dropout with the
    training loop's rbg keys) and eval step of ``configs/<task>.py:<variant>`` with ``overrides``."""
    from lra.steps import data_parallel, eval_step, replicate, train_step
    from lra.train import param_count

    config, model, state, batch, key, devices = model_and_batch(task, variant, overrides)
    holder = {"state": replicate(state, devices)}
    start = time.perf_counter()
    p_train = data_parallel(train_step, devices, donate_argnums=(0,)).lower(holder["state"], batch, key).compile()
    p_eval = data_parallel(functools.partial(eval_step, apply_fn=model.apply), devices).lower(
        holder["state"].params, batch).compile()
    compile_s = time.perf_counter() - start

    def train():
        holder["state"], metrics = p_train(holder["state"], batch, key)
        return metrics

    def evaluate():
        return p_eval(holder["state"].params, batch)

    jax.block_until_ready(train())
    jax.block_until_ready(evaluate())
    return Prepared(name or variant, param_count(state.params), train, evaluate, compile_s, peak_bytes(p_train), config,
                    wavelet_param_count(state.params))


def compiled_train_step(task: str, variant: str, overrides: dict):
    """The train step of ``configs/<task>.py:<variant>`` lowered and compiled, not run."""
    from lra.steps import data_parallel, replicate, train_step

    _, _, state, batch, key, devices = model_and_batch(task, variant, overrides)
    return data_parallel(train_step, devices).lower(replicate(state, devices), batch, key).compile()


def step_flops(task: str, overrides: dict, variant: str = "transformer") -> float:
    return flops_of(compiled_train_step(task, variant, overrides))
