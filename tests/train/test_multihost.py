"""Several processes joined by ``jax.distributed.initialize`` (CPU collectives over gloo) train
exactly like one process with the same total number of devices, and write their outputs once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections import Counter

import jax
import numpy as np
import pytest

from lra.checkpoint import CheckpointStore
from lra.metrics import read_metrics
from lra.train import train_and_evaluate

from .conftest import REPO, smoke_config, subprocess_env

pytestmark = pytest.mark.slow  # every test here runs training or a subprocess

SETTINGS = {"num_train_steps": 6, "eval_every": 3, "checkpoint_every": 3, "batch_size": 8, "eval_batch_size": 8,
            "model.dropout": 0.0, "model.attention_dropout": 0.0, "learning_rate": 1e-3, "schedule": "constant",
            "log_every": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_processes(num_processes: int, devices_per_process: int, workdir, data_dir, variant: str) -> list:
    """``python -m lra.train --multihost ...`` in ``num_processes`` real processes; their results."""
    port = free_port()
    env = subprocess_env(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices_per_process}")
    overrides = {"scale": "smoke", "progress_bar": False, "data.dir": str(data_dir), "data.source": "generate",
                 **SETTINGS}
    command = [sys.executable, "-m", "lra.train", f"--config={REPO}/configs/listops.py:{variant}",
               f"--workdir={workdir}", "--multihost", f"--coordinator_address=127.0.0.1:{port}",
               f"--num_processes={num_processes}",
               *[f"--config.{k}={v}" for k, v in overrides.items()]]
    processes = [subprocess.Popen(command + [f"--process_id={i}"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(num_processes)]
    return [p.communicate(timeout=600) + (p.returncode,) for p in processes]


@pytest.mark.multidevice
def test_two_processes_train_like_one_process_with_their_devices(tmp_path):
    per_process = max(jax.local_device_count() // 2, 1)
    variant = "transformer,ada"
    single = train_and_evaluate(smoke_config("listops", tmp_path, variant=variant, **SETTINGS), tmp_path / "one",
                                devices=jax.local_devices()[: 2 * per_process])
    results = run_processes(2, per_process, tmp_path / "two", tmp_path / "data", variant)
    for _out, err, code in results:
        assert code == 0, err[-3000:]

    def curve(name):
        return [r["loss"] for r in read_metrics(tmp_path / name) if r["split"] == "train"]

    np.testing.assert_allclose(curve("two"), curve("one"), rtol=2e-5)
    records = Counter((r["step"], r["split"]) for r in read_metrics(tmp_path / "two"))
    assert max(records.values()) == 1  # only process 0 writes metrics
    store = CheckpointStore(tmp_path / "two" / "checkpoints", keep=2)
    assert store.steps()[-1] == SETTINGS["num_train_steps"]
    state, _ = store.restore_latest(single.state)
    store.close()
    for a, b in zip(jax.tree.leaves(single.state.params), jax.tree.leaves(state.params)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-5, atol=1e-7)
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["devices"] == 2 * per_process and summary["processes"] == 2
    assert summary["test_accuracy"] == pytest.approx(single.summary["test_accuracy"])
    printed = [[line for line in out.splitlines() if line.startswith("{")] for out, _, _ in results]
    assert len(printed[0]) == 1 and printed[1] == []  # process 1 reports nothing
