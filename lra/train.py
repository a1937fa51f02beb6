"""Train and evaluate one model on one LRA task.

    python -m lra.train --config=configs/listops.py:performer,ada --workdir=runs/listops_ada \\
        [--config.scale=small] [--config.model.space.wavelet=sym2] ...

Data-parallel over every local device (``lra.steps.data_parallel``: ``jax.pmap``). Validation every
``eval_every`` steps keeps the best state (``best/``); after at least ``min_steps`` the run stops
once validation has not improved for ``patience_fraction * num_train_steps`` steps (A.4). At the
end the test split is evaluated on the best state and ``summary.json`` is written.

A killed run restarts where it stopped: rerun the same command with the same workdir. It resumes
from the newest readable checkpoint (``checkpoints/``), with the optimiser state, the loop state
(best validation so far, patience) and the data position (a pure function of seed and step), so on
CPU the resumed run ends with exactly the parameters of an uninterrupted one.

Multi-host (TPU pods): pass ``--multihost`` to call ``jax.distributed.initialize()`` first; every
process then reads each step's global batch and keeps the slice for its own devices (tested on a
single host only).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from lra import config as lra_config
from lra.checkpoint import CheckpointStore
from lra.data import DataError, load_dataset
from lra.metrics import MetricWriter
from lra.optim import learning_rate_schedule, make_optimizer
from lra.steps import (TrainState, data_parallel, eval_step, make_key, replicate, train_step,
                       unreplicate)
from wavspa_flax import build_model

log = logging.getLogger("lra.train")


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the run stops and keeps its last good checkpoint."""


@dataclass
class RunResult:
    summary: dict
    state: TrainState  # final (unreplicated) train state of this process's run


def create_train_state(model, config: ml_collections.ConfigDict, info, key: jax.Array) -> TrainState:
    """Initialise parameters on a dummy batch of the task's shape and attach the optimiser."""
    shape = (1, 2, info.max_length) if info.kind == "dual" else (1, info.max_length)
    inputs = jnp.zeros(shape, jnp.int32)
    lengths = jnp.full(shape[:-1], info.max_length, jnp.int32)
    params = jax.jit(functools.partial(model.init, train=False))(key, inputs, lengths)["params"]
    return TrainState.create(apply_fn=model.apply, params=params, tx=make_optimizer(config))


def param_count(params: Any) -> int:
    return int(sum(np.prod(leaf.shape) for leaf in jax.tree.leaves(params)))


def _process_slice(batch: dict) -> dict:
    """This process's devices' rows of a global batch (identity on one host)."""
    if jax.process_count() == 1:
        return batch
    local = jax.local_device_count()
    start = jax.process_index() * local
    return {k: v[start : start + local] for k, v in batch.items()}


def evaluate(p_eval, params, dataset, split: str, config, num_devices: int) -> dict[str, Any]:
    """Accuracy and loss over ``split`` (all of it unless ``config.num_eval_batches``)."""
    totals: dict[str, np.ndarray] = {}
    batches = dataset.eval_batches(split, config.eval_batch_size or config.batch_size, num_devices)
    for index, batch in enumerate(batches):
        if config.num_eval_batches and index >= config.num_eval_batches:
            break
        sums = unreplicate(p_eval(params, _process_slice(batch)))
        for name, value in sums.items():
            totals[name] = totals.get(name, 0.0) + np.asarray(value, np.float64)
    weight = max(float(totals.get("weight_sum", 0.0)), 1e-9)
    result: dict[str, Any] = {
        "accuracy": float(totals.get("correct_sum", 0.0)) / weight,
        "loss": float(totals.get("loss_sum", 0.0)) / weight,
        "examples": float(totals.get("weight_sum", 0.0)),
    }
    if "index_weight" in totals:
        counts = totals["index_weight"]
        result["accuracy_by_index"] = [
            (float(c) / float(w) if w else None) for c, w in zip(totals["index_correct"], counts)
        ]
    return result


def _fetch_train_metrics(pending: list, step: int) -> dict[str, float]:
    """Host-side mean of the train metrics since the last fetch; raises on a non-finite loss."""
    fetched = [unreplicate(m) for m in pending]
    pending.clear()
    for offset, sums in enumerate(fetched):
        loss = float(sums["loss_sum"]) / max(float(sums["weight_sum"]), 1e-9)
        if not math.isfinite(loss):
            first_bad = step - len(fetched) + offset + 1
            raise NonFiniteLossError(
                f"training loss is {loss} at step {first_bad}; stopping. The last checkpoint "
                "before it is intact in the workdir's checkpoints/ (lower --config.learning_rate, "
                "set --config.grad_clip_norm, or use --config.model.dtype=float32)."
            )
        if not (math.isfinite(float(sums["grad_norm"])) and float(sums["params_finite"]) == 1.0):
            raise NonFiniteLossError(
                f"gradients or parameters became NaN/inf at step {step - len(fetched) + offset + 1}; "
                "stopping without saving them. The last checkpoint in the workdir's checkpoints/ is "
                "intact (lower --config.learning_rate or set --config.grad_clip_norm)."
            )
    weight = sum(float(s["weight_sum"]) for s in fetched)
    return {
        "loss": sum(float(s["loss_sum"]) for s in fetched) / max(weight, 1e-9),
        "accuracy": sum(float(s["correct_sum"]) for s in fetched) / max(weight, 1e-9),
        "grad_norm": float(fetched[-1]["grad_norm"]),
    }


def train_and_evaluate(
    config: ml_collections.ConfigDict,
    workdir: str | Path,
    *,
    devices: list | None = None,
    stop_after_steps: int | None = None,
) -> RunResult:
    """Run (or resume) training in ``workdir``; return the summary and the final state.

    ``config`` must already be scale-resolved (``lra.config.apply_scale``). ``devices`` defaults
    to all local devices. ``stop_after_steps`` ends this call after that many total steps without
    the final test evaluation, as a preemption would (used by the resume tests).
    """
    wall_start = time.time()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    devices = list(devices or jax.local_devices())
    num_devices = len(devices) * jax.process_count()
    lra_config.validate(config, num_devices)

    dataset = load_dataset(config)
    info = dataset.info
    model = build_model(
        config.model,
        vocab_size=info.vocab_size,
        num_classes=info.num_classes,
        max_length=info.max_length,
        task_kind=info.kind,
    )
    init_key, dropout_key = jax.random.split(make_key(config.seed))
    state = create_train_state(model, config, info, init_key)
    template = state  # the pytree structure checkpoints restore into
    num_params = param_count(state.params)

    store = CheckpointStore(workdir / "checkpoints", config.keep_checkpoints)
    best_store = CheckpointStore(workdir / "best", 1)
    loop = {"best_val_accuracy": None, "best_step": None, "last_improvement_step": 0,
            "wall_seconds": 0.0, "train_loss": None, "train_accuracy": None,
            "stop_reason": None}
    restored = store.restore_latest(template)
    if restored is not None:
        state, saved_loop = restored
        loop.update(saved_loop)
        log.info("resuming from %s at step %d", store.directory, int(state.step))
    start_step = int(state.step)
    wall_before = float(loop["wall_seconds"])
    (workdir / "config.json").write_text(config.to_json_best_effort(indent=2))

    p_train = data_parallel(train_step, devices, donate_argnums=(0,))
    # LEGO: per chain position accuracy (the paper's Fig. 3) from the batches' `target_index`.
    index_buckets = int(config.data.get("num_vars", 0)) if info.kind == "token" else 0
    p_eval = data_parallel(
        functools.partial(eval_step, apply_fn=model.apply, num_index_buckets=index_buckets), devices
    )
    rep_state = replicate(state, devices)
    rep_key = replicate(jax.random.key_data(dropout_key), devices)
    writer = MetricWriter(workdir)
    patience = int(config.patience_fraction * config.num_train_steps)
    train_batches = dataset.train_batches(config.batch_size, num_devices, config.seed, start_step=start_step)

    schedule = learning_rate_schedule(config)

    def save_to(target: CheckpointStore, at_step: int) -> None:
        # Saves happen right after _fetch_train_metrics checked every step since the last save.
        target.save(at_step, unreplicate(rep_state), _with_wall(loop, wall_before, wall_start))

    progress = _progress_bar(config, start_step)
    pending: list = []
    step = start_step
    last_step = start_step if loop["stop_reason"] else config.num_train_steps
    window_start = time.time()
    window_steps = 0
    try:
        for step in range(start_step + 1, last_step + 1):
            batch = _process_slice(next(train_batches))
            rep_state, metrics = p_train(rep_state, batch, rep_key)
            pending.append(metrics)
            window_steps += 1
            if progress is not None:
                progress.update(1)
            is_last = step == config.num_train_steps
            is_eval = step % config.eval_every == 0 or is_last
            is_save = step % config.checkpoint_every == 0 or is_last
            if step % config.log_every == 0 or is_eval or is_save:
                train = _fetch_train_metrics(pending, step)
                train["steps_per_second"] = window_steps / max(time.time() - window_start, 1e-9)
                train["learning_rate"] = float(schedule(step))
                window_start, window_steps = time.time(), 0
                loop["train_loss"], loop["train_accuracy"] = train["loss"], train["accuracy"]
                writer.write(step, "train", train)
                if progress is not None:
                    progress.set_postfix(loss=f"{train['loss']:.4f}", acc=f"{train['accuracy']:.3f}",
                                         steps_s=f"{train['steps_per_second']:.2f}")
            stopping = False
            if is_eval:
                val = evaluate(p_eval, rep_state.params, dataset, "val", config, num_devices)
                writer.write(step, "val", _scalars(val))
                best = loop["best_val_accuracy"]
                if best is None or val["accuracy"] > best:
                    loop.update(best_val_accuracy=val["accuracy"], best_step=step,
                                last_improvement_step=step)
                    save_to(best_store, step)
                log.info("step %d: val accuracy %.4f (best %.4f at %d)", step, val["accuracy"],
                         loop["best_val_accuracy"], loop["best_step"])
                if (patience and step >= config.min_steps
                        and step - loop["last_improvement_step"] >= patience):
                    stopping, loop["stop_reason"] = True, "early_stopping"
            if is_save or stopping:
                save_to(store, step)
            if is_eval or is_save:
                window_start = time.time()  # steps/s counts training steps only
            if stopping:
                break
            if stop_after_steps is not None and step >= stop_after_steps:
                writer.close()
                best_store.close()
                return RunResult(summary={"steps_completed": step, "interrupted": True},
                                 state=unreplicate(rep_state))
    finally:
        if progress is not None:
            progress.close()
        store.close()

    final_state = unreplicate(rep_state)
    best = best_store.restore_latest(template)
    best_state = best[0] if best is not None else final_state
    best_store.close()
    test = evaluate(p_eval, replicate(best_state.params, devices), dataset, "test", config,
                    num_devices)
    writer.write(step, "test", _scalars(test))
    writer.close()
    summary = {
        "task": config.task,
        "variant": config.variant,
        "scale": config.scale,
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "best_val_accuracy": loop["best_val_accuracy"],
        "best_step": loop["best_step"],
        "steps_completed": int(final_state.step),
        "stop_reason": loop["stop_reason"] or "num_train_steps",
        "final_train_loss": loop["train_loss"],
        "final_train_accuracy": loop["train_accuracy"],
        "num_classes": info.num_classes,
        "param_count": num_params,
        "wall_seconds": wall_before + time.time() - wall_start,
        "devices": num_devices,
        "device_kind": devices[0].device_kind,
        "platform": devices[0].platform,
        "host": platform.node(),
        "jax_version": jax.__version__,
        "config": json.loads(config.to_json_best_effort()),
    }
    if "accuracy_by_index" in test:
        summary["test_accuracy_by_index"] = test["accuracy_by_index"]
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2))
    log.info("done: test accuracy %.4f (best val %.4f at step %s); %s/summary.json",
             test["accuracy"], loop["best_val_accuracy"] or 0.0, loop["best_step"], workdir)
    return RunResult(summary=summary, state=final_state)


def _scalars(result: dict) -> dict[str, float]:
    return {k: v for k, v in result.items() if isinstance(v, (int, float))}


def _with_wall(loop: dict, wall_before: float, wall_start: float) -> dict:
    return dict(loop, wall_seconds=wall_before + time.time() - wall_start)


def _progress_bar(config, start_step: int):
    if not config.progress_bar:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.num_train_steps, initial=start_step, desc=f"{config.task}:{config.variant}",
                unit="step", dynamic_ncols=True, file=sys.stderr)


def main(argv: list[str]) -> None:
    del argv
    from absl import flags
    from ml_collections import config_flags

    flags_ = flags.FLAGS
    if flags_.multihost:
        jax.distributed.initialize()
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("absl").setLevel(logging.WARNING)  # orbax logs every save/restore at INFO
    overridden = config_flags.get_override_values(flags_["config"]).keys()
    config = lra_config.apply_scale(flags_.config, overridden)
    try:
        result = train_and_evaluate(config, flags_.workdir)
    except (DataError, NonFiniteLossError) as error:  # user-facing: the message says the fix
        sys.exit(f"error: {error}")
    print(json.dumps({k: result.summary[k] for k in (
        "test_accuracy", "best_val_accuracy", "steps_completed", "wall_seconds", "param_count")}))


def _define_flags() -> None:
    from absl import flags
    from ml_collections import config_flags

    config_flags.DEFINE_config_file(
        "config", None, "Task config file and variant, e.g. configs/listops.py:performer,ada",
        lock_config=True)
    flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and summary.json")
    flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() (multi-host TPU pods)")
    flags.mark_flags_as_required(["config", "workdir"])


if __name__ == "__main__":
    from absl import app

    _define_flags()
    app.run(main)
