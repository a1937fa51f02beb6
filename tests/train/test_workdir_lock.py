"""One writer per workdir (``lra.workdir_lock``), with real processes holding and dying with the lock."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lra.workdir_lock import (
    Holder,
    WorkdirBusyError,
    WorkdirLock,
    WorkdirNotWritableError,
    create_workdir,
    current_holder,
)

from .conftest import REPO, subprocess_env

# A process that holds the lock of argv[1], says so on stdout, and waits to be killed.
HOLD = ("import sys, time; from lra.workdir_lock import WorkdirLock\n"
        "with WorkdirLock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(600)\n")


def _hold(workdir: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(workdir)], cwd=REPO, env=subprocess_env(),
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_second_lock_in_one_process_is_refused_and_names_the_holder(tmp_path):
    with WorkdirLock(tmp_path):
        holder = current_holder(tmp_path)
        assert holder is not None and holder.pid == os.getpid()
        with pytest.raises(WorkdirBusyError, match=f"in use by pid {os.getpid()} on host"):
            WorkdirLock(tmp_path).__enter__()
    assert current_holder(tmp_path) is None and not (tmp_path / "lock.json").exists()


def test_lock_of_a_live_process_blocks_and_of_a_killed_one_is_taken_over(tmp_path, caplog):
    holder = _hold(tmp_path)
    try:
        with pytest.raises(WorkdirBusyError, match=f"pid {holder.pid} on host .* since 20"):
            WorkdirLock(tmp_path).__enter__()
        assert current_holder(tmp_path).pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # kill -9: the holder could not release anything; its lock.json is still there.
    assert Holder.parse((tmp_path / "lock.json").read_text()).pid == holder.pid
    assert current_holder(tmp_path) is None
    with caplog.at_level(logging.WARNING, logger="lra.workdir_lock"):
        with WorkdirLock(tmp_path):
            assert Holder.parse((tmp_path / "lock.json").read_text()).pid == os.getpid()
    assert any(f"took over the lock of pid {holder.pid}" in r.getMessage() for r in caplog.records)


def test_workdir_that_is_a_file_or_not_writable_is_one_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(WorkdirNotWritableError, match="is an existing file"):
        create_workdir(tmp_path / "file")
    with pytest.raises(WorkdirNotWritableError, match="cannot be created or written"):
        create_workdir(tmp_path / "file" / "run")
    read_only = Path("/proc/wavspa-run") if os.geteuid() == 0 else tmp_path / "ro" / "run"
    if os.geteuid() != 0:
        (tmp_path / "ro").mkdir(mode=0o500)
    with pytest.raises(WorkdirNotWritableError, match="cannot be created or written"):
        create_workdir(read_only)


@pytest.mark.slow
def test_lra_train_on_a_workdir_in_use_ends_in_one_line_without_touching_it(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    holder = _hold(workdir)
    try:
        before = sorted((p.name, p.stat().st_mtime_ns) for p in workdir.iterdir())
        done = subprocess.run(
            [sys.executable, "-m", "lra.train", "--config=configs/quickstart.py", "--config.scale=smoke",
             f"--config.data.dir={tmp_path / 'data'}", f"--workdir={workdir}"],
            cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300)
        after = sorted((p.name, p.stat().st_mtime_ns) for p in workdir.iterdir())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert done.returncode == 1, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: workdir {workdir} is in use by pid {holder.pid} on host "), last
    assert "Traceback" not in done.stderr
    assert after == before  # nothing written, nothing created


def test_lock_is_released_when_the_body_raises(tmp_path):
    with pytest.raises(RuntimeError):
        with WorkdirLock(tmp_path):
            raise RuntimeError("boom")
    with WorkdirLock(tmp_path):
        pass


def test_a_half_written_metrics_line_is_cut_when_the_run_resumes(tmp_path):
    from lra.metrics import MetricWriter, read_metrics

    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "split": "train", "loss": 1.0}\n{"step": 2, "spl')
    writer = MetricWriter(tmp_path, tensorboard=False)
    writer.write(2, "train", {"loss": 0.5})
    writer.close()
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2]
