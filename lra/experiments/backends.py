"""The sweep's backends: ``local`` (jobs one after another here), ``ray`` (one Ray task per job)
and ``commands`` (one shell line per job); each job is ``python -m lra.train ...`` logging to
``<folder>/train.log``. :func:`execute` and :func:`_ray_job` use only the standard library: Ray
workers run them without this package's installed copy (``register_pickle_by_value``)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from lra.experiments.runs import Run, SweepError, damaged_summary, finished, trained_elsewhere

BACKENDS = ("local", "ray", "commands")
BUSY_MARK = " is in use by "  # lra.workdir_lock.BUSY_MARK: the job found its workdir held by another run
PARENT_ENV = "WAVSPA_PARENT_PID"  # lra.parent_watch.PARENT_ENV: the job ends when this process does
ERROR_FILE_ENV = "WAVSPA_ERROR_FILE"  # lra.cli.ERROR_FILE_ENV: where the job writes its error line
SWEEP_JOB_ENV = "WAVSPA_SWEEP_JOB"  # lra.summaries.SWEEP_JOB_ENV: a finished run found under the lock ends the job


def execute(argv: Sequence[str], cwd: str, workdir: str) -> tuple[int, str, float]:
    """Run ``python <argv>`` in ``cwd``, output appended to ``<workdir>/train.log``.

    Returns the exit status, this job's error line on failure (``lra.train``'s one-line error,
    read from a file of its own, so not another process's output to the same log; else the log's
    last line) and the seconds taken. The job watches this process and stops (with a checkpoint)
    when it ends. Only the standard library: this also runs on Ray workers.
    """
    import tempfile

    start = time.time()
    os.makedirs(workdir, exist_ok=True)
    log_path = os.path.join(workdir, "train.log")
    command = [sys.executable, *argv]
    handle, error_path = tempfile.mkstemp(prefix="wavspa-job-", suffix=".err")
    os.close(handle)
    env = dict(os.environ, **{PARENT_ENV: str(os.getpid()), ERROR_FILE_ENV: error_path, SWEEP_JOB_ENV: "1"})
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            offset = log.tell()
            log.write(f"\n# {datetime.datetime.now().isoformat(timespec='seconds')} on {os.uname().nodename}: "
                      f"{shlex.join(command)}\n")
            log.flush()
            code = subprocess.call(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env)
        with open(error_path, encoding="utf-8", errors="replace") as file:
            last = file.read().strip()
    finally:
        os.unlink(error_path)
    if not last:
        with open(log_path, encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            for line in log:
                line = line.strip().rsplit("\r", 1)[-1]
                if line:
                    last = line
    return code, last, time.time() - start


def _ray_job(argv: Sequence[str], cwd: str, workdir: str) -> float:
    """The Ray task of one job: raises (so Ray retries it) when the job fails."""
    code, last, seconds = execute(argv, cwd, workdir)
    if code != 0 and BUSY_MARK in last:
        return -1.0  # another process trains this run: not a failure to retry
    if code != 0:
        raise RuntimeError(f"exit status {code}: {last}")
    return seconds


@dataclasses.dataclass
class Outcome:
    run: Run
    ok: bool
    message: str
    elsewhere: bool = False  # skipped: another process trains (or finished) it


def _report(outcomes: Sequence[Outcome], skipped: int, out) -> int:
    failed = [o for o in outcomes if not o.ok]
    elsewhere = [o for o in outcomes if o.elsewhere]
    print(f"{len(outcomes) - len(failed) - len(elsewhere)} finished, {len(failed)} failed, {skipped} skipped "
          f"(already finished)" + (f", {len(elsewhere)} left to other processes" if elsewhere else ""), file=out)
    for outcome in failed:
        print(f"FAILED {outcome.run.folder()}: {outcome.message}", file=out)
    return 1 if failed else 0


def run_local(todo: Sequence[Run], root: Path, argv_of, out) -> list[Outcome]:
    outcomes = []
    for index, run in enumerate(todo, 1):
        workdir = run.workdir(root)
        elsewhere = _elsewhere(run, root)
        if elsewhere:
            print(f"[{index}/{len(todo)}] {run.folder()}: skipped, {elsewhere}", file=out, flush=True)
            outcomes.append(Outcome(run, True, elsewhere, elsewhere=True))
            continue
        print(f"[{index}/{len(todo)}] {run.folder()} (log: {workdir / 'train.log'})", file=out, flush=True)
        code, last, seconds = execute(argv_of(run, root), os.getcwd(), str(workdir))
        if code != 0 and BUSY_MARK in last:  # another process locked it between the check and the start
            message = "skipped, another process started training it"
            print(f"[{index}/{len(todo)}] {run.folder()}: {message}", file=out, flush=True)
            outcomes.append(Outcome(run, True, message, elsewhere=True))
            continue
        ok = code == 0 and finished(run, root)
        message = "ok" if ok else (f"exit status {code}: {last}" if code else _no_summary(run, root))
        print(f"[{index}/{len(todo)}] {run.folder()}: {message} ({seconds:.0f} s)", file=out, flush=True)
        outcomes.append(Outcome(run, ok, message))
    return outcomes


def _elsewhere(run: Run, root: Path) -> str | None:
    """Why this sweep should not start ``run`` now: another process finished it since the sweep
    started, or holds its workdir (trains it); None if it should."""
    if finished(run, root):
        return "finished by another process"
    holder = trained_elsewhere(run, root)
    return f"another process trains it ({holder})" if holder else None


def _no_summary(run: Run, root: Path) -> str:
    why = damaged_summary(run, root)
    return f"summary.json damaged: {why}" if why else "no summary.json written"


def _import_ray():
    try:
        import ray
    except ImportError:
        raise SweepError("--backend=ray needs Ray: pip install -e \".[sweep]\" (or pip install 'ray[default]')"
                         ) from None
    return ray


def run_ray(todo: Sequence[Run], root: Path, argv_of, args, out) -> list[Outcome]:
    ray = _import_ray()
    try:
        resources = json.loads(args.resources) if args.resources else {}
    except json.JSONDecodeError as error:
        raise SweepError(f"--resources={args.resources!r} is not JSON ({error}); e.g. --resources='{{\"TPU\": 4}}'"
                         ) from None
    if not isinstance(resources, dict):
        raise SweepError(f"--resources={args.resources!r}: expected a JSON object, e.g. '{{\"TPU\": 4}}'")
    # Workers then need only the standard library, not this module (the cluster's installed copy
    # of the package may predate it).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    init = {"address": args.ray_address} if args.ray_address else {"num_cpus": args.ray_num_cpus}
    ray.init(**init, log_to_driver=False)
    try:
        task = ray.remote(_ray_job).options(
            num_cpus=args.cpus_per_run, num_gpus=args.gpus_per_run, resources=resources,
            max_retries=args.max_retries, retry_exceptions=True)
        cwd = os.getcwd()
        elsewhere = {run: _elsewhere(run, root) for run in todo}
        outcomes = [Outcome(run, True, why, elsewhere=True) for run, why in elsewhere.items() if why]
        for outcome in outcomes:
            print(f"{outcome.run.folder()}: skipped, {outcome.message}", file=out, flush=True)
        pending = {task.remote(argv_of(run, root), cwd, str(run.workdir(root))): run
                   for run in todo if not elsewhere[run]}
        print(f"submitted {len(pending)} runs to Ray ({ray.cluster_resources()})", file=out, flush=True)
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(ref)
            try:
                seconds = ray.get(ref)
                if seconds < 0:
                    message = "skipped, another process started training it"
                    print(f"[{len(outcomes) + 1}/{len(todo)}] {run.folder()}: {message}", file=out, flush=True)
                    outcomes.append(Outcome(run, True, message, elsewhere=True))
                    continue
                ok = finished(run, root)
                message = "ok" if ok else _no_summary(run, root)
                print(f"[{len(outcomes) + 1}/{len(todo)}] {run.folder()}: {message} ({seconds:.0f} s)",
                      file=out, flush=True)
            except ray.exceptions.RayError as error:
                cause = getattr(error, "cause", None)
                ok, message = False, str(cause if cause is not None else error).strip().splitlines()[-1]
                message += f" (after {args.max_retries} retries)"
                print(f"[{len(outcomes) + 1}/{len(todo)}] {run.folder()}: {message}", file=out, flush=True)
            outcomes.append(Outcome(run, ok, message))
        return outcomes
    finally:
        ray.shutdown()


def print_commands(todo: Sequence[Run], root: str, argv_of, out) -> None:
    for run in todo:
        print(shlex.join(["python", *argv_of(run, root)]), file=out)
