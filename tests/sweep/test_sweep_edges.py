"""The sweep at its edges: two drivers on one root, a killed driver, damaged summaries, and each
job's own error line. The jobs are ``tests.sweep.fake_train`` (the workdir lock and the parent
watch of ``lra.train`` without JAX), except in the one test that kills a real ``lra.train``'s driver."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lra import sweep
from lra.workdir_lock import Holder

REPO = Path(__file__).resolve().parents[2]
SWEEP = "tests/sweep/tiny_sweep.py"


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), JAX_PLATFORMS="cpu", **extra)


def _driver(root: Path, *args, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lra.sweep", f"--sweep={SWEEP}:all", f"--root={root}", "--seeds=2",
         "--train_module=tests.sweep.fake_train", *args],
        cwd=REPO, env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _runs(seeds: int = 2) -> list[sweep.Run]:
    return sweep.expand_seeds(sweep.load_sweep(f"{REPO / SWEEP}:all"), seeds)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its new parent) counts as ended
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.slow
def test_two_sweeps_on_one_root_train_every_run_exactly_once(tmp_path):
    root = tmp_path / "runs"
    first, second = _driver(root), _driver(root)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    for run in _runs():
        attempts = (run.workdir(root) / "attempts.txt").read_text().split()
        assert len(attempts) == 1, (run.folder(), attempts, outputs)
        assert sweep.finished(run, root)
    text = "\n".join(outputs)
    assert "another process" in text, text  # the second driver said why it skipped a run


@pytest.mark.slow
def test_killing_the_driver_ends_its_job(tmp_path):
    root = tmp_path / "runs"
    driver = _driver(root, FAKE_TRAIN_SECONDS="600")
    lock = _runs()[0].workdir(root) / "lock.json"
    job = _wait_for(lambda: lock.exists() and Holder.parse(lock.read_text()), 120, "the first job's lock")
    assert _alive(job.pid)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    _wait_for(lambda: not _alive(job.pid), 30, f"the orphaned job {job.pid} to end")


@pytest.mark.slow
def test_killing_the_driver_of_a_real_lra_train_stops_it_with_a_checkpoint(tmp_path):
    root = tmp_path / "runs"
    driver = subprocess.Popen(
        [sys.executable, "-m", "lra.sweep", f"--sweep={SWEEP}:one", f"--root={root}", "--set=progress_bar=false",
         f"--set=data.dir={tmp_path / 'data'}", "--set=num_train_steps=100000", "--set=checkpoint_every=100000",
         "--set=early_stopping=false"],
        cwd=REPO, env=_env(JAX_COMPILATION_CACHE_DIR=str(REPO / ".pytest_cache" / "jax")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = sweep.expand_seeds(sweep.load_sweep(f"{REPO / SWEEP}:one"), 1)[0]
    workdir = run.workdir(root)
    job = _wait_for(lambda: (workdir / "lock.json").exists() and Holder.parse((workdir / "lock.json").read_text()),
                    300, "lra.train's lock")
    _wait_for(lambda: (workdir / "metrics.jsonl").exists() and (workdir / "metrics.jsonl").stat().st_size, 300,
              "the first training step")
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    _wait_for(lambda: not _alive(job.pid), 120, f"the orphaned lra.train {job.pid} to end")
    assert [p.name for p in (workdir / "checkpoints").iterdir() if p.name.isdigit()]  # saved as on SIGTERM
    assert not (workdir / "lock.json").exists()  # released


def _damage(root: Path, run: sweep.Run, text: str) -> None:
    run.workdir(root).mkdir(parents=True, exist_ok=True)
    (run.workdir(root) / "summary.json").write_text(text)


def test_a_damaged_summary_leaves_the_run_unfinished_and_is_listed_by_the_aggregate(tmp_path):
    root = tmp_path / "runs"
    good, cut, incomplete, _ = _runs()
    _damage(root, good, json.dumps({"test_accuracy": 0.5, "steps_completed": 4, "wall_seconds": 1.0}))
    _damage(root, cut, '{"test_accuracy": ')
    _damage(root, incomplete, json.dumps({"steps_completed": 4}))
    assert sweep.finished(good, root) and not sweep.finished(cut, root) and not sweep.finished(incomplete, root)
    out = io.StringIO()
    assert sweep.main([f"--sweep={REPO / SWEEP}:all", f"--root={root}", "--seeds=2", "--backend=commands"], out) == 0
    commands = out.getvalue()
    assert str(cut.workdir(root)) in commands and str(incomplete.workdir(root)) in commands
    assert str(good.workdir(root)) not in commands
    out = io.StringIO()
    assert sweep.main([f"--sweep={REPO / SWEEP}:all", f"--root={root}", "--seeds=2", "--aggregate"], out) == 0
    assert "2 with a damaged summary.json" in out.getvalue()
    report = (root / "results.md").read_text()
    assert "Damaged runs (2" in report
    assert f"- `{cut.folder()}`" in report and f"- `{incomplete.folder()}`" in report


def test_a_job_error_line_is_its_own_not_another_writer_of_the_log(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    # The job fails with its one-line error; after it, another writer appends to the same log.
    job = ("import atexit\nfrom lra.cli import fail\n"
           f"atexit.register(lambda: open({str(workdir / 'train.log')!r}, 'a').write('other output\\n'))\n"
           "fail('my own failure')\n")
    code, last, _ = sweep.execute(["-c", job], str(REPO), str(workdir))
    assert code == 1
    assert (workdir / "train.log").read_text().strip().splitlines()[-1] == "other output"
    assert last == "error: my own failure"


def test_a_job_whose_parent_is_gone_stops_itself_with_sigterm():
    # The recorded parent is not this job's parent (as after the driver died): SIGTERM at once.
    job = "import time; from lra.parent_watch import watch_parent; watch_parent(); time.sleep(30)"
    done = subprocess.run([sys.executable, "-c", job], cwd=REPO, timeout=20,
                          env=_env(WAVSPA_PARENT_PID=str(os.getpid() + 10_000_000)))
    assert done.returncode == -signal.SIGTERM
    # Its real parent alive: it keeps running.
    job = "import time; from lra.parent_watch import watch_parent; watch_parent(); time.sleep(1.5)"
    done = subprocess.run([sys.executable, "-c", job], cwd=REPO, timeout=20,
                          env=_env(WAVSPA_PARENT_PID=str(os.getpid())))
    assert done.returncode == 0


def test_a_run_whose_workdir_is_held_is_skipped_without_starting_a_job(tmp_path):
    from lra.workdir_lock import WorkdirLock

    root = tmp_path / "runs"
    run = _runs(1)[0]
    run.workdir(root).mkdir(parents=True)
    started = []
    out = io.StringIO()
    with WorkdirLock(run.workdir(root)):
        outcomes = sweep.run_local([run], root, lambda r, at: started.append(r) or ["-c", "pass"], out)
    assert started == [] and outcomes[0].elsewhere and outcomes[0].ok
    assert f"skipped, another process trains it (pid {os.getpid()} on host" in out.getvalue()
    assert sweep._report(outcomes, 0, out) == 0


def test_a_sweep_job_ends_when_its_run_was_finished_meanwhile(tmp_path, monkeypatch):
    """Under the lock, a sweep's job (``WAVSPA_SWEEP_JOB``) whose workdir has a valid summary ends;
    a damaged summary or a job not started by a sweep goes on."""
    from lra.summaries import SWEEP_JOB_ENV, finished_before_this_sweep_job

    (tmp_path / "summary.json").write_text(json.dumps({"test_accuracy": 0.5, "steps_completed": 4}))
    monkeypatch.delenv(SWEEP_JOB_ENV, raising=False)
    assert not finished_before_this_sweep_job(tmp_path)
    monkeypatch.setenv(SWEEP_JOB_ENV, "1")
    assert finished_before_this_sweep_job(tmp_path)
    (tmp_path / "summary.json").write_text('{"test_accuracy": ')
    assert not finished_before_this_sweep_job(tmp_path)
