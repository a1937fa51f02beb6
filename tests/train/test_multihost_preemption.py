"""A signal to one of several ``python -m lra.train --multihost`` processes stops all of them at one
step, through JAX's preemption service: each exits with 128 + its signal and the checkpoint holds
that step."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from lra.checkpoint import CheckpointStore

from .conftest import REPO, subprocess_env
from .test_multihost import free_port

SETTINGS = {"scale": "smoke", "progress_bar": False, "data.source": "generate", "num_train_steps": 400,
            "eval_every": 1000, "checkpoint_every": 1000, "log_every": 1, "batch_size": 8}


def _logged_step(workdir) -> int:
    try:
        lines = (workdir / "metrics.jsonl").read_text().splitlines()
        return max((json.loads(line)["step"] for line in lines if line.strip()), default=0)
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_one_process_stops_every_process_at_one_step(tmp_path, sig):
    workdir = tmp_path / "run"
    command = [sys.executable, "-m", "lra.train", f"--config={REPO}/configs/listops.py:transformer",
               f"--workdir={workdir}", "--multihost", f"--coordinator_address=127.0.0.1:{free_port()}",
               "--num_processes=2", f"--config.data.dir={tmp_path / 'data'}",
               *[f"--config.{k}={v}" for k, v in SETTINGS.items()]]
    env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=1")
    processes = [subprocess.Popen(command + [f"--process_id={i}"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(2)]
    deadline = time.monotonic() + 600
    while _logged_step(workdir) < 5 and all(p.poll() is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    processes[1].send_signal(sig)
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [128 + signal.SIGTERM, 128 + sig], errors[1][-3000:]
    store = CheckpointStore(workdir / "checkpoints", keep=2)
    (stopped_at,) = store.steps()
    store.close()
    assert 5 <= stopped_at < SETTINGS["num_train_steps"]
    assert all(f"stopped at step {stopped_at} with a checkpoint" in err for err in errors)
