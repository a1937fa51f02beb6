"""Train and evaluate one model on one LRA task (the command line is :mod:`lra.train.cli`).

    python -m lra.train --config=configs/<task>.py:<attention>[,<space>] --workdir=DIR \\
        [--config.scale=small] [--config.<key>=<value> ...]

Data-parallel over every device of every process (``lra.steps.data_parallel``: ``jax.pmap``;
each process feeds its own devices' slice of the global batch; only process 0 writes metrics,
TensorBoard, ``config.json`` and ``summary.json``; all take part in the checkpoints). Validation every
``eval_every`` steps keeps the best state (``best/``); after at least ``min_steps`` the run stops
once validation has not improved for ``patience_fraction * num_train_steps`` steps (A.4). At the
end the test split is evaluated on the best state (and on the final state) and ``summary.json``
is written.

SIGTERM (preemption) or Ctrl-C saves a checkpoint at the current step and returns (the command
exits with 128 + the signal number). A killed run restarts where it stopped: rerun the same
command with the same workdir. It resumes
from the newest readable checkpoint (``checkpoints/``), with the optimiser state, the loop state
(:class:`LoopState`) and the data position (a pure function of seed and step), so on CPU the
resumed run ends with exactly the parameters of an uninterrupted one.

One run writes a workdir at a time (:mod:`lra.workdir_lock`); a run started by a sweep ends with
its sweep driver (:mod:`lra.parent_watch`). A NaN/inf loss stops the run with an error that lists
the checkpoints and how to restart (``config.restart_from``, :mod:`lra.restart`); a full disk
stops it with an error naming the intact checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import json
import logging
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax.training.train_state import TrainState

from lra import atomic, restart, summaries
from lra import config as lra_config
from lra.checkpoint import CheckpointStore
from lra.data import get_task, load_dataset
from lra.data.prefetch import device_batches
from lra.metrics import MetricWriter, NullWriter
from lra.optim import learning_rate_schedule, make_optimizer
from lra.parent_watch import watch_parent
from lra.paths import workdir_path
from lra.preemption import PreemptionGuard
from lra.provenance import hardware_description, software_versions
from lra.steps import DEFAULT_PRNG_IMPL, data_parallel, eval_step, make_key, replicate, train_step, unreplicate
from lra.train.early_stopping import patience_steps, stops_early
from lra.workdir_lock import WorkdirBusyError, WorkdirLock, create_workdir
from wavspa_flax import build_model
from wavspa_flax.errors import UserError

log = logging.getLogger("lra.train")


class NonFiniteLossError(UserError, FloatingPointError):
    """The training loss became NaN or infinite; the run stops and keeps its last good checkpoint."""


class DiskFullError(UserError, OSError):
    """No space left while writing the workdir; the checkpoints already written are intact."""


class RunFinishedElsewhere(Exception):
    """A sweep's job found its run finished by another sweep's job once it held the workdir lock."""


@dataclasses.dataclass
class LoopState:
    """What the loop carries across checkpoints besides the train state (saved as JSON)."""

    best_val_accuracy: float | None = None
    best_step: int | None = None  # step of the last improvement; patience counts from it
    wall_seconds: float = 0.0     # training wall time of the earlier attempts of this run
    train_loss: float | None = None
    train_accuracy: float | None = None
    stop_reason: str | None = None  # 'early_stopping' once decided (a resumed run then only tests)
    restart_from: str | None = None  # config.restart_from applied to this run (lra.restart), applied once
    # The wavspa commit of the run's first attempt, then of each resumption that ran another one:
    # the summary names the commit the run started with, not the checkout's when it finished.
    commits: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def from_json(cls, saved: dict) -> LoopState:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in names})


@dataclasses.dataclass
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


def local_rows(devices: list) -> slice:
    """The rows of a ``[len(devices), ...]`` global batch that feed this process's devices."""
    rows = [i for i, d in enumerate(devices) if d.process_index == jax.process_index()]
    if not rows or rows != list(range(rows[0], rows[-1] + 1)):
        raise ValueError(f"this process's devices are not a contiguous block of {devices}")
    return slice(rows[0], rows[-1] + 1)


def evaluate(p_eval, params, dataset, split: str, config, devices: list) -> dict[str, Any]:
    """Accuracy and loss over ``split`` (all of it unless ``config.num_eval_batches``)."""
    totals: dict[str, np.ndarray] = {}
    rows = local_rows(devices)
    batches = dataset.eval_batches(split, config.eval_batch_size or config.batch_size, len(devices))
    for index, batch in enumerate(batches):
        if config.num_eval_batches and index >= config.num_eval_batches:
            break
        sums = unreplicate(p_eval(params, {k: v[rows] for k, v in batch.items()}))
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
                f"training loss is {loss} at step {first_bad}; stopping without saving it.")
        if not (math.isfinite(float(sums["grad_norm"])) and float(sums["params_finite"]) == 1.0):
            raise NonFiniteLossError(
                f"gradients or parameters became NaN/inf at step {step - len(fetched) + offset + 1}; "
                "stopping without saving them.")
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

    ``config`` is a resolved config (:func:`lra.config.load_config`). ``devices`` defaults to
    every device of every process (the same list on every process). ``stop_after_steps`` ends
    this call after that many total steps without the final test evaluation, as a kill would
    (used by the resume tests).

    The run holds the workdir's lock (:mod:`lra.workdir_lock`) throughout: a second run on the
    same workdir ends with a :class:`~lra.workdir_lock.WorkdirBusyError` before writing anything.
    """
    workdir = workdir_path(workdir)  # an etils.epath.Path: a URI (gs://...) stays one
    devices = list(devices or jax.devices())
    lra_config.validate(config, len(devices))
    create_workdir(workdir)
    watch_parent()
    with _workdir_lock(workdir):
        if summaries.finished_before_this_sweep_job(workdir):
            raise RunFinishedElsewhere(f"{workdir} was finished by another process meanwhile: nothing to do")
        try:
            return _train_and_evaluate(config, workdir, devices, stop_after_steps)
        except NonFiniteLossError as error:
            if jax.process_index() == 0:
                restart.mark_diverged(workdir, str(error))
            raise NonFiniteLossError(f"{error} {restart.advice(workdir)}") from error
        except Exception as error:  # OSError(ENOSPC), or orbax's and tensorstore's wrappings of it
            if not _is_disk_full(error):
                raise
            raise _disk_full_error(workdir, error) from error


def _is_disk_full(error: BaseException) -> bool:
    return getattr(error, "errno", None) == errno.ENOSPC or "No space left on device" in str(error)


def _disk_full_error(workdir, error: BaseException) -> DiskFullError:
    steps = restart.checkpoint_steps(workdir / "checkpoints")
    saved = (f"the checkpoints at steps {steps} are intact" if steps else "no checkpoint had been saved yet")
    return DiskFullError(f"no space left on the device while writing {workdir} ({type(error).__name__}); {saved}: "
                         "free some space and rerun the same command to resume")


@contextlib.contextmanager
def _workdir_lock(workdir):
    """The workdir's lock, taken by process 0; every process learns whether it got it."""
    if jax.process_count() == 1:
        with WorkdirLock(workdir):
            yield
        return
    from jax.experimental import multihost_utils

    with contextlib.ExitStack() as stack:
        error = None
        if jax.process_index() == 0:
            try:
                stack.enter_context(WorkdirLock(workdir))
            except UserError as caught:
                error = caught
        held = multihost_utils.broadcast_one_to_all(np.int32(error is None))
        if error is not None:
            raise error
        if not int(held):
            raise WorkdirBusyError(f"workdir {workdir}: process 0 could not lock it (see its error line)")
        yield


def _train_and_evaluate(config, workdir, devices: list, stop_after_steps: int | None) -> RunResult:
    wall_start = time.time()
    num_devices = len(devices)
    rows = local_rows(devices)
    is_primary = jax.process_index() == 0

    # ---------------------------------------------------------------- data, model, state
    dataset = _load_dataset_once(config, is_primary)
    info = dataset.info
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    prng_impl = _recorded_prng_impl(config, workdir)
    init_key, dropout_key = jax.random.split(make_key(config.seed, prng_impl))
    template = create_train_state(model, config, info, init_key)  # also the structure restores fill
    num_params = param_count(template.params)
    task = get_task(config.task)
    schedule = learning_rate_schedule(config)
    patience = patience_steps(config)
    index_buckets = task.index_buckets(config.data) if task.index_buckets else 0
    p_train = data_parallel(functools.partial(train_step, accum_steps=config.grad_accum_steps,
                                              prng_impl=prng_impl), devices, donate_argnums=(0,))
    p_eval = data_parallel(
        functools.partial(eval_step, apply_fn=model.apply, num_index_buckets=index_buckets), devices)

    with contextlib.ExitStack() as resources:
        store = resources.enter_context(contextlib.closing(
            CheckpointStore(workdir / "checkpoints", config.keep_checkpoints)))
        best_store = resources.enter_context(contextlib.closing(CheckpointStore(workdir / "best", 1)))
        writer = resources.enter_context(contextlib.closing(MetricWriter(workdir) if is_primary else NullWriter()))
        guard = resources.enter_context(PreemptionGuard())

        # ------------------------------------------------------------ resume
        restored, saved_loop = restart.starting_point(config.get("restart_from", ""), store, best_store, template,
                                                      workdir)
        state, loop = (template if restored is None else restored), LoopState.from_json(saved_loop)
        if restored is not None:
            log.info("resuming from %s at step %d", store.directory, int(state.step))
        start_step = int(state.step)
        wall_before = loop.wall_seconds
        versions = software_versions()  # read now: the checkout may move while the run trains
        if loop.commits[-1:] != [versions["wavspa_commit"]]:
            loop.commits.append(versions["wavspa_commit"])
        if is_primary:
            atomic.write_text(workdir / "config.json", config.to_json_best_effort(indent=2))

        def save_to(target: CheckpointStore, at_step: int) -> None:
            # Saves follow _fetch_train_metrics, which checked every step since the last save.
            loop.wall_seconds = wall_before + time.time() - wall_start
            target.save(at_step, unreplicate(rep_state), dataclasses.asdict(loop))

        # ------------------------------------------------------------ train
        rep_state = replicate(state, devices)
        rep_key = replicate(jax.random.key_data(dropout_key), devices)
        train_batches = device_batches(
            dataset.train_batches(config.batch_size, num_devices, config.seed, start_step=start_step),
            devices, rows, config.prefetch_batches)
        progress = resources.enter_context(_progress_bar(config, start_step, is_primary))
        pending: list = []
        step = start_step
        last_step = start_step if loop.stop_reason else config.num_train_steps
        window_start, window_steps = time.time(), 0
        for step in range(start_step + 1, last_step + 1):
            rep_state, metrics = p_train(rep_state, next(train_batches), rep_key)
            pending.append(metrics)
            window_steps += 1
            progress.update(1)
            preempted = guard.stop_requested(step)
            is_last = step == config.num_train_steps
            is_eval = step % config.eval_every == 0 or is_last
            is_save = step % config.checkpoint_every == 0 or is_last or preempted
            if step % config.log_every == 0 or is_eval or is_save:
                train = _fetch_train_metrics(pending, step)
                train["steps_per_second"] = window_steps / max(time.time() - window_start, 1e-9)
                train["learning_rate"] = float(schedule(step - 1))  # optax's update at step s used count s-1
                window_start, window_steps = time.time(), 0
                loop.train_loss, loop.train_accuracy = train["loss"], train["accuracy"]
                writer.write(step, "train", train)
                progress.set_postfix(loss=f"{train['loss']:.4f}", acc=f"{train['accuracy']:.3f}",
                                     steps_s=f"{train['steps_per_second']:.2f}")
            stopping = False
            if is_eval:
                val = evaluate(p_eval, rep_state.params, dataset, "val", config, devices)
                writer.write(step, "val", _scalars(val))
                if loop.best_val_accuracy is None or val["accuracy"] > loop.best_val_accuracy:
                    loop.best_val_accuracy, loop.best_step = val["accuracy"], step
                    save_to(best_store, step)
                log.info("step %d: val accuracy %.4f (best %.4f at %d)", step, val["accuracy"],
                         loop.best_val_accuracy, loop.best_step)
                if config.track_test:
                    tracked = evaluate(p_eval, rep_state.params, dataset, "test", config, devices)
                    writer.write(step, "test_tracked", _scalars(tracked))
                if config.early_stopping and stops_early(step, loop.best_step, config.min_steps, patience):
                    stopping, loop.stop_reason = True, "early_stopping"
            if is_save or stopping:
                save_to(store, step)
            if is_eval or is_save:
                window_start = time.time()  # steps/s counts training steps only
            if stopping:
                break
            if preempted:
                log.warning("signal %s: stopped at step %d with a checkpoint; rerun the same command to resume",
                            guard.signal_number, step)
                return RunResult(summary={"steps_completed": step, "interrupted": True,
                                          "signal": guard.signal_number}, state=unreplicate(rep_state))
            if stop_after_steps is not None and step >= stop_after_steps:
                return RunResult(summary={"steps_completed": step, "interrupted": True},
                                 state=unreplicate(rep_state))

        # ------------------------------------------------------------ test
        final_state = unreplicate(rep_state)
        best = best_store.restore_latest(template)
        best_state = best[0] if best is not None else final_state
        test = evaluate(p_eval, replicate(best_state.params, devices), dataset, "test", config, devices)
        test_final = evaluate(p_eval, rep_state.params, dataset, "test", config, devices)
        writer.write(step, "test", _scalars(test))
        writer.write(step, "test_final_state", _scalars(test_final))

    val_is_test = bool(task.val_is_test(config.data))
    summary = {
        "task": config.task,
        "variant": config.variant,
        "scale": config.scale,
        "test_accuracy": test["accuracy"],  # of the best-on-validation state
        "test_loss": test["loss"],
        "test_accuracy_final_state": test_final["accuracy"],
        "best_val_accuracy": loop.best_val_accuracy,
        "best_step": loop.best_step,
        "val_is_test": val_is_test,
        "steps_completed": int(final_state.step),
        "stop_reason": loop.stop_reason or "num_train_steps",
        "final_train_loss": loop.train_loss,
        "final_train_accuracy": loop.train_accuracy,
        "num_classes": info.num_classes,
        "param_count": num_params,
        "wall_seconds": wall_before + time.time() - wall_start,
        "devices": num_devices,
        "processes": jax.process_count(),
        "device_kind": devices[0].device_kind,
        "platform": devices[0].platform,
        "hardware": hardware_description(devices),
        "host": platform.node(),
        "data_source": str(config.data.source),
        "versions": {**versions, "wavspa_commit": loop.commits[0]},
        **({"wavspa_commits": loop.commits} if len(loop.commits) > 1 else {}),
        "config": json.loads(config.to_json_best_effort()),
    }
    if val_is_test:
        summary["note"] = ("the validation split is the test split (IMDb has none; as LRA and the official "
                           "code): test_accuracy is of the state chosen on it; test_accuracy_final_state is "
                           "the unbiased figure (LRA reported the last checkpoint)")
    if "accuracy_by_index" in test:
        summary["test_accuracy_by_index"] = test["accuracy_by_index"]
    if is_primary:
        atomic.write_text(workdir / "summary.json", json.dumps(summary, indent=2))
    log.info("done: test accuracy %.4f (best val %.4f at step %s); %s/summary.json",
             test["accuracy"], loop.best_val_accuracy or 0.0, loop.best_step, workdir)
    return RunResult(summary=summary, state=final_state)


def _recorded_prng_impl(config, workdir) -> str:
    """``config.prng_impl``, or the one recorded in ``workdir/config.json`` by the run being resumed
    (its dropout stream continues only with the same implementation); the config is updated to it."""
    recorded_file = workdir / "config.json"
    if recorded_file.exists():
        recorded = json.loads(recorded_file.read_text()).get("prng_impl", DEFAULT_PRNG_IMPL)
        if recorded != config.prng_impl:
            log.warning("resuming a run started with prng_impl=%r: keeping it (config asked for %r)",
                        recorded, config.prng_impl)
            config.prng_impl = recorded
    return config.prng_impl


def _load_dataset_once(config, is_primary: bool):
    """``load_dataset``; with several processes, process 0 first (it generates and caches the data
    where the disk is shared), then the others (from its cache, or their own disk's)."""
    if jax.process_count() == 1:
        return load_dataset(config)
    from jax.experimental import multihost_utils

    dataset = load_dataset(config) if is_primary else None
    multihost_utils.sync_global_devices("lra.train: data prepared by process 0")
    return dataset if is_primary else load_dataset(config)


def _scalars(result: dict) -> dict[str, float]:
    return {k: v for k, v in result.items() if isinstance(v, (int, float))}


class _NoProgress:
    def update(self, n):
        pass

    def set_postfix(self, **kwargs):
        pass

    def close(self):
        pass


def _progress_bar(config, start_step: int, show: bool = True):
    if not (config.progress_bar and show):
        return contextlib.closing(_NoProgress())
    from tqdm.auto import tqdm

    return tqdm(total=config.num_train_steps, initial=start_step, desc=f"{config.task}:{config.variant}",
                unit="step", dynamic_ncols=True, file=sys.stderr)
