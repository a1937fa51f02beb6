"""Where a run in a used workdir starts: its newest checkpoint, or ``--config.restart_from``.

``config.restart_from`` (default ``''``: resume from the newest checkpoint that restores):

- ``init``: from scratch; every checkpoint and the best state are moved to
  ``checkpoints_discarded/`` and ``best_discarded/``;
- ``best``: from the best-on-validation state (``best/``); newer checkpoints are discarded;
- ``<step>``: from the checkpoint at that step; newer checkpoints (and a newer best state) are
  discarded.

A restart is applied once: the run records it in its loop state, so rerunning the same command
(e.g. after a preemption) resumes from the newest checkpoint of the restarted run. A stop on a
non-finite loss writes ``diverged.json``, which arms the restart again. This is the way out of a
diverged run: its newest checkpoints may hold finite but already diverged parameters, from which
any learning rate fails again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from etils import epath

from lra import atomic
from wavspa_flax.errors import ConfigError, UserError

if TYPE_CHECKING:
    from lra.checkpoint import CheckpointStore

DIVERGED_FILE = "diverged.json"
NAMED = ("init", "best")


def parse_restart_from(value: Any) -> str | int:
    """``''``, ``'init'``, ``'best'`` or a step (int >= 0); a ConfigError otherwise."""
    text = str(value).strip()
    if text in ("", *NAMED):
        return text
    if text.isdigit():
        return int(text)
    raise ConfigError(f"config.restart_from = {value!r} is not valid; expected 'init', 'best', a checkpoint step "
                      "(e.g. 200) or '' (resume from the newest checkpoint)")


def checkpoint_steps(directory: epath.Path) -> list[int]:
    """The steps saved under ``directory`` (orbax's step folders), without opening orbax."""
    try:
        return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit())
    except (OSError, FileNotFoundError):
        return []


def advice(workdir: epath.Path) -> str:
    """What exists in ``workdir`` and how to restart from it (the end of a non-finite-loss error)."""
    steps, best = checkpoint_steps(workdir / "checkpoints"), checkpoint_steps(workdir / "best")
    saved = (f"checkpoints at steps {steps} (the newest may already hold diverged parameters)" if steps
             else "no checkpoint was saved before it")
    if best:
        saved += f", best state from step {best[-1]}"
    options = "from scratch with --config.restart_from=init"
    if best:
        options += ", from the best state with --config.restart_from=best"
    if len(steps) > 1:
        options += f", or from an earlier checkpoint with --config.restart_from={steps[0]}"
    return (f"In {workdir}: {saved}. To go on in this workdir, rerun with a lower --config.learning_rate "
            f"(or --config.grad_clip_norm=1.0) and restart {options}.")


def mark_diverged(workdir: epath.Path, reason: str) -> None:
    """Record a non-finite stop; it arms ``restart_from`` again (module docstring)."""
    atomic.write_text(workdir / DIVERGED_FILE, json.dumps({"reason": reason}))


def starting_point(restart_from: Any, store: CheckpointStore, best_store: CheckpointStore, template: Any,
                   workdir: epath.Path) -> tuple[Any, dict]:
    """``(state, loop)`` to start from, applying ``restart_from`` as the module docstring says
    (``state`` None: a fresh start from the template; ``loop``: the saved loop state, as JSON)."""
    choice = parse_restart_from(restart_from)
    latest = store.restore_latest(template)
    marker = workdir / DIVERGED_FILE
    if choice == "" or (latest is not None and latest[1].get("restart_from") == str(choice)
                        and not marker.exists()):
        return latest if latest is not None else (None, {})
    if choice == "init":
        for step in store.steps():
            store.set_aside(step, "discarded")
        for step in best_store.steps():
            best_store.set_aside(step, "discarded")
        start = None
    elif choice == "best":
        start = best_store.restore_latest(template)
        if start is None:
            raise UserError(f"--config.restart_from=best: {workdir}/best holds no state yet (no evaluation has "
                            "run); use --config.restart_from=init or a checkpoint step")
        _discard_after(store, int(start[0].step))
    else:
        if choice not in store.steps():
            raise UserError(f"--config.restart_from={choice}: no checkpoint at that step in {store.directory} "
                            f"(saved steps: {store.steps()}); use one of them, 'best' or 'init'")
        start = store.restore(choice, template)
        _discard_after(store, choice)
        _discard_after(best_store, choice)
    try:
        marker.unlink()
    except FileNotFoundError:
        pass
    state, loop = start if start is not None else (None, {})
    return state, {**loop, "restart_from": str(choice)}


def _discard_after(store: CheckpointStore, step: int) -> None:
    for later in store.steps():
        if later > step:
            store.set_aside(later, "discarded")

