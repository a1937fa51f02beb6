"""SIGTERM (preemption) or Ctrl-C during a real ``python -m lra.train`` process: it saves a
checkpoint at the current step and exits with 128 + the signal; rerunning the same command ends
with exactly the parameters of an uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from lra.checkpoint import CheckpointStore
from lra.metrics import read_metrics
from lra.train import train_and_evaluate

from .conftest import REPO, smoke_config, subprocess_env

pytestmark = pytest.mark.slow  # every test here runs training or a subprocess

SETTINGS = {"num_train_steps": 100, "eval_every": 1000, "checkpoint_every": 1000, "log_every": 1,
            "batch_size": 16, "data.num_train": 64}


def _command(tmp_path, workdir):
    overrides = {"scale": "smoke", "progress_bar": False, "data.dir": str(tmp_path / "data"),
                 "data.source": "generate", **SETTINGS}
    return [sys.executable, "-m", "lra.train", f"--config={REPO}/configs/listops.py:transformer,ada",
            f"--workdir={workdir}", *[f"--config.{k}={v}" for k, v in overrides.items()]]


def _last_train_step(workdir) -> int:
    try:
        return max((r["step"] for r in read_metrics(workdir) if r["split"] == "train"), default=0)
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def _interrupt(tmp_path, workdir, sig) -> int:
    """Start a run, send ``sig`` once it has trained 20 steps; the step its checkpoint holds."""
    process = subprocess.Popen(_command(tmp_path, workdir), cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _last_train_step(workdir) < 20 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(sig)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + sig, err[-3000:]
    assert "rerun the same command to resume" in err
    store = CheckpointStore(workdir / "checkpoints", keep=2)
    (stopped_at,) = store.steps()
    store.close()
    assert 20 <= stopped_at < SETTINGS["num_train_steps"]
    assert not (workdir / "summary.json").exists()
    return stopped_at


def test_sigterm_saves_a_checkpoint_and_the_rerun_resumes_exactly(tmp_path):
    workdir = tmp_path / "preempted"
    _interrupt(tmp_path, workdir, signal.SIGTERM)
    rerun = subprocess.run(_command(tmp_path, workdir), cwd=REPO, env=subprocess_env(), capture_output=True,
                           text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    steps = [r["step"] for r in read_metrics(workdir) if r["split"] == "train"]
    assert steps[-1] == SETTINGS["num_train_steps"] and len(steps) == len(set(steps))  # no step twice

    full = train_and_evaluate(smoke_config("listops", tmp_path, variant="transformer,ada", **SETTINGS),
                              tmp_path / "full")
    store = CheckpointStore(workdir / "checkpoints", keep=2)
    resumed, _ = store.restore_latest(full.state)
    store.close()
    assert int(resumed.step) == SETTINGS["num_train_steps"]
    for a, b in zip(jax.tree.leaves(full.state.params), jax.tree.leaves(resumed.params)):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["test_accuracy"] == full.summary["test_accuracy"]


def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path):
    _interrupt(tmp_path, tmp_path / "interrupted", signal.SIGINT)
