"""Orbax checkpoints of a run: the train state plus the loop's own state (best metric, patience).

Two stores live in a workdir:

- ``checkpoints/``: periodic saves, the newest ``keep`` kept; a run resumes from the newest one
  that restores cleanly (a truncated or corrupt directory is skipped with a warning and moved to
  ``checkpoints_damaged/``);
- ``best/``: the state with the best validation accuracy so far (one kept); the test split is
  evaluated on it at the end of the run.

The directories may be URIs (``gs://bucket/run/checkpoints``): they are ``etils.epath`` paths,
which orbax writes through tensorstore (see :mod:`lra.paths`).

The data position needs no saving: the train batch at step ``s`` is a pure function of
``(seed, s)`` (see ``lra.data``), and the dropout key is folded with the step.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from etils import epath

from lra.paths import is_remote, workdir_path

log = logging.getLogger(__name__)


class CheckpointStore:
    """One orbax CheckpointManager with two items: ``state`` (a pytree) and ``loop`` (JSON)."""

    def __init__(self, directory: str | os.PathLike, keep: int):
        self.directory = workdir_path(directory)
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=max(int(keep), 1), create=True, enable_async_checkpointing=False
            ),
            item_names=("state", "loop"),
        )

    def save(self, step: int, state: Any, loop: dict) -> None:
        """Write ``state`` (e.g. an unreplicated TrainState) and ``loop`` (JSON-able) at ``step``.

        A checkpoint already at ``step`` is replaced: it was written by an earlier attempt of a run
        that has since resumed from an older step, so it is stale.
        """
        if int(step) in self._manager.all_steps():
            self._manager.delete(int(step))
        self._manager.save(
            int(step),
            args=ocp.args.Composite(state=ocp.args.StandardSave(state), loop=ocp.args.JsonSave(loop)),
            force=True,
        )
        self._manager.wait_until_finished()

    def steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def restore_latest(self, target: Any) -> tuple[Any, dict] | None:
        """The newest checkpoint that restores into ``target``'s structure, or None if none does.

        ``target`` is a pytree of arrays (jax or numpy) with the saved structure, shapes and dtypes.
        A checkpoint that does not restore is moved to ``<directory>_damaged/`` with one warning
        line (orbax's own error logs are silenced; ``WAVSPA_TRACEBACK=1`` logs the traceback).
        """
        for step in reversed(self.steps()):
            try:
                return self.restore(step, target)
            except Exception as error:  # orbax raises many types for damaged directories
                moved_to = self.set_aside(step)
                log.warning(
                    "checkpoint %s/%d cannot be restored (%s: %s); moved it to %s and trying an "
                    "older one", self.directory, step, type(error).__name__,
                    (str(error).splitlines() or [""])[0][:200], moved_to,
                    exc_info=error if os.environ.get("WAVSPA_TRACEBACK") else None,
                )
        return None

    def restore(self, step: int, target: Any) -> tuple[Any, dict]:
        """The checkpoint at ``step`` as ``(state, loop)``; raises if it does not restore."""
        target = jax.tree.map(jnp.asarray, target)
        with _quiet_orbax():
            restored = self._manager.restore(
                int(step),
                args=ocp.args.Composite(state=ocp.args.StandardRestore(target), loop=ocp.args.JsonRestore()),
            )
        return restored["state"], dict(restored["loop"])

    def set_aside(self, step: int, reason: str = "damaged") -> epath.Path:
        """Move a step directory out of the way, to ``<directory>_<reason>/<step>`` (kept for
        inspection, never reused): ``damaged`` ones, or ``discarded`` ones a restart skips.
        Process 0 moves it; every process waits for the move before looking again."""
        damaged = self.directory.parent / f"{self.directory.name}_{reason}"
        target = damaged / f"{step}"
        if jax.process_index() == 0:
            damaged.mkdir(parents=True, exist_ok=True)
            suffix = 0
            while target.exists():
                suffix += 1
                target = damaged / f"{step}.{suffix}"
            _move_tree(self.directory / str(step), target)
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices(f"checkpoint set aside {self.directory} {step}")
        self._manager.reload()
        return target

    def close(self) -> None:
        self._manager.close()


@contextlib.contextmanager
def _quiet_orbax():
    """Silence orbax's error logs (absl, with tracebacks) while a restore is tried: a damaged
    checkpoint is reported by :meth:`CheckpointStore.restore_latest` in one line."""
    if os.environ.get("WAVSPA_TRACEBACK"):
        yield
        return
    _ignore_closed_loop_callbacks()
    loggers = [logging.getLogger(name) for name in ("absl", "orbax", "orbax.checkpoint")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _ignore_closed_loop_callbacks() -> None:
    """Drop the unraisable ``RuntimeError('Event loop is closed')`` that tensorstore's remaining
    read callbacks raise once a failed restore has closed orbax's event loop (one traceback per
    pending read, hundreds for a train state); any other unraisable error is printed as before."""
    previous = sys.unraisablehook
    if getattr(previous, "_wavspa_filter", False):
        return

    def hook(unraisable):
        value = unraisable.exc_value
        if isinstance(value, RuntimeError) and str(value) == "Event loop is closed":
            return
        previous(unraisable)

    hook._wavspa_filter = True
    sys.unraisablehook = hook
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, _AbandonedReadFilter) for f in asyncio_log.filters):
        asyncio_log.addFilter(_AbandonedReadFilter())


class _AbandonedReadFilter(logging.Filter):
    """Drops asyncio's "Task/Future exception was never retrieved" for the tensorstore reads a
    failed restore abandoned (garbage-collected later, so logged after the restore has returned);
    any other asyncio log passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if not text.startswith(("Task exception was never retrieved", "Future exception was never retrieved")):
            return True
        exc = record.exc_info[1] if record.exc_info else None
        return not any(word in text + str(exc) for word in ("tensorstore", "kvstore", "async_deserialize", "OCDBT"))


def _move_tree(source: epath.Path, target: epath.Path) -> None:
    """Move the directory ``source`` to ``target``: a rename locally; on an object store (which has
    no rename, nor empty directories) a copy of every object, then a delete of ``source``."""
    if not is_remote(source):
        source.rename(target)
        return
    _copy_tree(source, target)
    source.rmtree()


def _copy_tree(source: epath.Path, target: epath.Path) -> None:
    for child in source.iterdir():
        if child.is_dir():
            _copy_tree(child, target / child.name)
        else:
            child.copy(target / child.name)
