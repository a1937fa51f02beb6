"""Sweeps: many ``lra.train`` runs from one Python file, one after another, on Ray, or as commands.

    python -m lra.sweep --sweep=configs/sweeps/<file>.py[:<arg>] --root=DIR \\
        --backend=local|ray|commands [--seeds=N] [--set=<key>=<value> ...]
    python -m lra.sweep --sweep=... --root=DIR [--seeds=N] --aggregate [--fields=a,b]

A sweep file defines ``get_sweep(arg=None)`` returning a list of runs, each
``{"config": "configs/<task>.py:<variant>", "overrides": {"<dotted.key>": value, ...}}`` (plain
Python: a grid is a comprehension). Every run is an ordinary training job,
``python -m lra.train --config=<config> --config.<key>=<value> ... --workdir=<folder>``, in a
folder under ``--root`` derived from the run alone (:meth:`Run.folder`), so rerunning the same
command skips the finished runs (their ``summary.json`` parses and has the aggregate's fields:
:mod:`lra.summaries`; a damaged one makes the run unfinished) and resumes the interrupted ones
from their checkpoints (``lra.train`` does that in a workdir it finds started).

Several drivers may share a root: a run whose workdir another live ``lra.train`` holds
(:mod:`lra.workdir_lock`), or that another driver finished meanwhile, is skipped with a message,
so each run is trained once between them. A job ends when its driver ends (``kill -9`` included:
:mod:`lra.parent_watch`), saving a checkpoint first.

``--seeds=N`` repeats each run with ``seed=0..N-1`` (the override ``seed``) unless the run sets
``seed`` itself. ``--set=<key>=<value>`` adds ``--config.<key>=<value>`` to every command without
being part of the folder name or the aggregate's rows: it is for where the data is and how
progress is shown (``data.dir``, ``progress_bar``), never for what is trained.

Backends: ``local`` runs the jobs here one after another (a failed job is reported and the
others go on; the exit status is 1 if any failed); ``ray`` submits one Ray task per job
(``--ray_address``, or a local Ray instance; resources per job from ``--cpus_per_run``,
``--gpus_per_run``, ``--resources``; a failed job is retried ``--max_retries`` times and resumes
from its checkpoint); ``commands`` prints one shell-quoted ``python -m lra.train ...`` line per
unfinished job (for SLURM arrays or ``ssh --worker=all``). Each job's output goes to
``<folder>/train.log``. Ray is imported only by the ``ray`` backend (``pip install -e ".[sweep]"``).

``--aggregate`` writes ``<root>/results.md`` and ``<root>/results.csv``: one row per distinct
run without its seed, with the mean, sample standard deviation (ddof=1) and count of the test
accuracy over the finished seeds, the mean steps and wall time, the mean (numbers) or the values
(anything else) of each ``--fields`` summary field, and the runs still missing.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime
import hashlib
import io
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lra import atomic
from lra.cli import ArgumentParser, run_main
from lra.config import lookup
from wavspa_flax.errors import UserError, did_you_mean

BACKENDS = ("local", "ray", "commands")
SEED_KEY = "seed"
MAX_NAME = 100      # a folder name longer than this is cut and gets the hash suffix
_SAFE = re.compile(r"[^A-Za-z0-9._+-]")  # characters kept as they are in folder names


class SweepError(UserError):
    """A mistake in a sweep file or in the sweep command line."""


# -- runs and their folders ----------------------------------------------------------------------

def render(value: Any) -> str:
    """``value`` as written after ``--config.<key>=`` (what ml_collections' config flags parse back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return repr(tuple(value))
    return repr(value)


def _canonical(overrides: Mapping[str, Any]) -> str:
    return json.dumps(sorted(overrides.items()), separators=(",", ":"), default=repr)


def _ordered(keys: Iterable[str]) -> list[str]:
    """Keys in name order with the seed last (folder names, commands, table rows)."""
    return sorted(keys, key=lambda k: (k == SEED_KEY, k))


@dataclasses.dataclass(frozen=True)
class Run:
    """One training job: a config spec (``configs/<task>.py[:<variant>]``) and its dotted overrides."""

    config: str
    overrides: tuple[tuple[str, Any], ...]  # in _ordered key order

    @classmethod
    def make(cls, config: str, overrides: Mapping[str, Any] | None = None) -> Run:
        overrides = dict(overrides or {})
        return cls(config, tuple((k, overrides[k]) for k in _ordered(overrides)))

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.overrides)

    @property
    def seed(self) -> Any:
        return self.values.get(SEED_KEY)

    def without_seed(self) -> Run:
        return Run.make(self.config, {k: v for k, v in self.overrides if k != SEED_KEY})

    def key(self) -> tuple[str, str]:
        return self.config, _canonical(self.values)

    def group(self) -> str:
        """``<config file stem>-<variant>`` (commas -> ``_``), or the stem without a variant."""
        path, _, variant = self.config.partition(":")
        stem = Path(path).name.removesuffix(".py")
        return _SAFE.sub("_", f"{stem}-{variant}" if variant else stem)

    def name(self) -> str:
        """``key=value,...`` (keys sorted, seed last); a hash suffix if shortened or not spelled exactly."""
        parts = [f"{key}={render(value)}" for key, value in self.overrides]
        safe = [_SAFE.sub("_", k) + "=" + _SAFE.sub("_", render(v)) for k, v in self.overrides]
        name = ",".join(safe) or "defaults"
        if safe != parts or len(name) > MAX_NAME:
            digest = hashlib.sha1(_canonical(self.values).encode()).hexdigest()[:8]
            name = name[: MAX_NAME - 20].rstrip(",") + "-" + digest
        return name

    def folder(self) -> str:
        """The run's folder relative to the root: ``<group>/<name>`` (the README's naming rule)."""
        return f"{self.group()}/{self.name()}"

    def workdir(self, root: str | Path) -> Path:
        return Path(root) / self.group() / self.name()

    def argv(self, root: str | Path, shared: Sequence[tuple[str, str]] = (), module: str = "lra.train",
             extra: Sequence[str] = ()) -> list[str]:
        """``-m <module> --config=... --config.<key>=<value> ... --workdir=...`` (after ``python``)."""
        return (["-m", module, f"--config={self.config}"]
                + [f"--config.{key}={render(value)}" for key, value in self.overrides]
                + [f"--config.{key}={text}" for key, text in shared]
                + [f"--workdir={self.workdir(root)}", *extra])

    def describe(self) -> str:
        return ", ".join(f"{k}={render(v)}" for k, v in self.overrides)


def finished(run: Run, root: str | Path) -> bool:
    """Whether the run has a valid ``summary.json`` (a damaged one leaves it unfinished: lra.summaries)."""
    from lra import summaries

    return summaries.load(run.workdir(root)) is not None


def damaged_summary(run: Run, root: str | Path) -> str | None:
    """Why the run's ``summary.json`` is damaged, or None (valid or absent)."""
    from lra import summaries

    return summaries.read(run.workdir(root))[1]


def trained_elsewhere(run: Run, root: str | Path) -> str | None:
    """Who holds the run's workdir lock (another live ``lra.train``), or None."""
    from lra.workdir_lock import current_holder

    holder = current_holder(str(run.workdir(root)))
    return holder.describe() if holder else None


# -- sweep files ---------------------------------------------------------------------------------

def split_spec(spec: str) -> tuple[str, str | None]:
    """``'path/file.py:arg'`` -> ``('path/file.py', 'arg')``; no ``:arg`` -> ``(spec, None)``."""
    index = spec.find(".py:")
    if index < 0:
        return spec, None
    return spec[: index + 3], spec[index + 4 :]


def load_sweep(spec: str) -> list[Run]:
    """The runs of ``--sweep=FILE[:arg]`` (``get_sweep(arg)``), checked for shape, in file order."""
    return [Run.make(entry["config"], entry.get("overrides") or {}) for entry in load_entries(spec)]


def load_entries(spec: str) -> list[dict]:
    """The checked entries of ``--sweep=FILE[:arg]``: ``{"config", "overrides"[, "cell"]}`` dicts
    (``cell``: free-form labels, e.g. the paper-table cell a run fills; not part of its identity)."""
    import importlib.util

    path, arg = split_spec(spec)
    if not os.path.isfile(path):
        raise SweepError(f"sweep file {path!r} not found (expected e.g. configs/sweeps/example.py[:<arg>])")
    module_spec = importlib.util.spec_from_file_location(f"_wavspa_sweep_{abs(hash(path))}", path)
    if module_spec is None or module_spec.loader is None:
        raise SweepError(f"sweep file {path!r} is not a Python file (expected e.g. configs/sweeps/example.py)")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except UserError:
        raise
    except Exception as error:  # a syntax error, or the file's own code failing as it is imported
        from lra.config import describe_code_error

        raise SweepError(f"sweep file {describe_code_error(path, error)}") from error
    if not hasattr(module, "get_sweep"):
        raise SweepError(f"sweep file {path!r} has no get_sweep(arg=None) function returning a list of runs")
    try:
        entries = module.get_sweep(arg) if arg is not None else module.get_sweep()
    except (ValueError, KeyError, TypeError) as error:  # the file's own check of its argument
        raise SweepError(f"{path}: get_sweep({arg!r}): {error}") from None
    if isinstance(entries, Mapping) or not isinstance(entries, Iterable):
        raise SweepError(f"{path}: get_sweep() returned {type(entries).__name__}; expected a list of "
                         "{'config': 'configs/<task>.py:<variant>', 'overrides': {...}}")
    checked = []
    for index, entry in enumerate(entries):
        where = f"{path}: run {index}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("config"), str):
            raise SweepError(f"{where} is {entry!r}; expected {{'config': 'configs/<task>.py:<variant>', "
                             "'overrides': {'<dotted.key>': value}}")
        unknown = set(entry) - {"config", "overrides", "cell"}
        if unknown:
            raise SweepError(f"{where} has unknown keys {sorted(unknown)} (a run has 'config', 'overrides' "
                             "and optionally 'cell')")
        overrides = entry.get("overrides") or {}
        if not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides):
            raise SweepError(f"{where}: 'overrides' must map dotted config keys to values, got {overrides!r}")
        checked.append(dict(entry))
    return checked


def expand_seeds(runs: Iterable[Run], seeds: int) -> list[Run]:
    """Each run without a ``seed`` override repeated with seeds 0..seeds-1; duplicates dropped."""
    if seeds < 1:
        raise SweepError(f"--seeds={seeds} must be at least 1")
    out: dict[tuple[str, str], Run] = {}
    for run in runs:
        copies = [run] if run.seed is not None else [
            Run.make(run.config, {**run.values, SEED_KEY: seed}) for seed in range(seeds)]
        for copy in copies:
            out.setdefault(copy.key(), copy)
    return list(out.values())


def check_folders(runs: Sequence[Run]) -> None:
    """Two different runs must not share a folder (e.g. two config files with the same name)."""
    seen: dict[str, Run] = {}
    for run in runs:
        other = seen.setdefault(run.folder(), run)
        if other is not run:
            raise SweepError(f"runs {other.config} [{other.describe()}] and {run.config} [{run.describe()}] "
                             f"both map to the folder {run.folder()!r}; rename one config file")


def parse_shared(items: Sequence[str], runs: Sequence[Run]) -> list[tuple[str, str]]:
    """``--set key=value`` items -> ``[(key, text)]``; a key a run also overrides is a mistake."""
    shared = []
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip().removeprefix("config.")
        if not eq or not key:
            raise SweepError(f"--set={item!r}: expected --set=<dotted.key>=<value>, e.g. --set=data.dir=/data/lra")
        if any(key in run.values for run in runs):
            raise SweepError(f"--set={item!r}: the sweep file also sets {key!r}; set it in one place")
        shared.append((key, text))
    return shared


def parse_literal(text: str) -> Any:
    """A value written on a command line: a Python literal (``2``, ``1e-3``, ``True``) or the text."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"true": True, "false": False}.get(text.lower(), text)


def _parse_like(current: Any, key: str, text: str) -> Any:
    """A ``--config.<key>=<text>`` string as the config flags would read it (by the field's type)."""
    import ast

    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return text.lower() in ("true", "1")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, str):
            return text
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as error:
        if current is None or isinstance(current, (tuple, list)):
            return text
        raise SweepError(f"--set={key}={text}: not a {type(current).__name__} ({error})") from None


def validate_runs(runs: Sequence[Run], shared: Sequence[tuple[str, str]]) -> None:
    """Resolve every run's config here (unknown keys, names and types end the sweep before it starts)."""
    from lra import config as lra_config

    for run in runs:
        try:
            config = lra_config.load_config(run.config, run.values)
            values = {}
            for key, text in shared:
                values[key] = _parse_like(lookup(config, key), key, text)
            lra_config.update(config, values, "--set")
        except UserError as error:
            raise SweepError(f"run {run.config} [{run.describe()}]: {error}") from None


# -- jobs ----------------------------------------------------------------------------------------

BUSY_MARK = " is in use by "  # lra.workdir_lock.BUSY_MARK: the job found its workdir held by another run
PARENT_ENV = "WAVSPA_PARENT_PID"  # lra.parent_watch.PARENT_ENV: the job ends when this process does
ERROR_FILE_ENV = "WAVSPA_ERROR_FILE"  # lra.cli.ERROR_FILE_ENV: where the job writes its error line


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
    env = dict(os.environ, **{PARENT_ENV: str(os.getpid()), ERROR_FILE_ENV: error_path})
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
    if __name__ != "__main__":
        # Workers then need only the standard library, not this module (the cluster's installed
        # copy of the package may predate it); under `python -m lra.sweep` this is cloudpickle's default.
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


# -- aggregate -----------------------------------------------------------------------------------

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mean(values: Sequence[Any]) -> float | None:
    numbers = [float(v) for v in values if _is_number(v)]
    return statistics.fmean(numbers) if numbers else None


def _combine(values: Sequence[Any]) -> Any:
    """Mean of numbers; otherwise the distinct values in order (`` / ``-joined)."""
    present = [v for v in values if v is not None]
    if present and all(_is_number(v) for v in present):
        return statistics.fmean(float(v) for v in present)
    distinct = []
    for value in present:
        text = value if isinstance(value, str) else json.dumps(value)
        if text not in distinct:
            distinct.append(text)
    return " / ".join(distinct) if distinct else None


def aggregate(runs: Sequence[Run], root: Path, fields: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One row per distinct run without its seed (first-appearance order): statistics over seeds."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault(run.without_seed().key(), []).append(run)
    from lra import summaries as summaries_lib

    read = {run: summaries_lib.read(run.workdir(root)) for run in runs}
    summaries = {run: summary for run, (summary, _) in read.items() if summary is not None}
    damaged = {run for run, (_, why) in read.items() if why}
    for field in fields:
        if summaries and all(lookup(s, field) is None for s in summaries.values()):
            known = sorted({k for s in summaries.values() for k in s})
            raise SweepError(f"--fields: no finished run has the summary field {field!r}{did_you_mean(field, known)}")
    rows = []
    for members in groups.values():
        done = [summaries[r] for r in members if r in summaries]
        accuracy = [float(s["test_accuracy"]) for s in done]
        row: dict[str, Any] = {
            "config": members[0].config,
            "overrides": members[0].without_seed().describe(),
            "n": len(done),
            "missing": len(members) - len(done),
            "test_accuracy_mean": statistics.fmean(accuracy) if accuracy else None,
            "test_accuracy_std": statistics.stdev(accuracy) if len(accuracy) > 1 else None,
            "steps_mean": _mean([s.get("steps_completed") for s in done]),
            "wall_seconds_mean": _mean([s.get("wall_seconds") for s in done]),
        }
        for field in fields:
            row[field] = _combine([lookup(s, field) for s in done])
        row["missing_runs"] = ";".join(r.folder() for r in members if r not in summaries)
        row["damaged_runs"] = ";".join(r.folder() for r in members if r in damaged)
        rows.append(row)
    return rows


def _cell(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if _is_number(value):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return str(value).replace("|", "\\|")


def write_results(rows: Sequence[dict[str, Any]], root: Path, fields: Sequence[str], command: str) -> None:
    columns = list(rows[0]) if rows else []
    with io.StringIO() as buffer:
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        atomic.write_text(root / "results.csv", buffer.getvalue())
    shown = ["config", "overrides", "n", "test_accuracy_mean", "test_accuracy_std", "steps_mean",
             "wall_seconds_mean", *fields, "missing"]
    lines = [f"## Sweep results ({datetime.date.today()})", "",
             f"`{command}`", "",
             "Test accuracy over seeds: mean, sample std (ddof=1; empty for n=1), n finished runs; mean steps "
             "and wall seconds; " + (f"{', '.join(fields)}: mean over seeds (numbers) or the values; " if fields
                                     else "") + "missing: runs without a summary.json.", "",
             "| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in rows:
        digits = {"steps_mean": 1, "wall_seconds_mean": 1}
        lines.append("| " + " | ".join(_cell(row[c], digits.get(c, 4)) for c in shown) + " |")
    missing = [folder for row in rows for folder in row["missing_runs"].split(";") if folder]
    lines += ["", f"Missing runs ({len(missing)}):" if missing else "Missing runs: none."]
    lines += [f"- `{folder}`" for folder in missing]
    damaged = [folder for row in rows for folder in row["damaged_runs"].split(";") if folder]
    if damaged:
        lines += ["", f"Damaged runs ({len(damaged)}; their summary.json does not parse or lacks fields: rerun the "
                  "sweep, which resumes or re-tests them from their checkpoints):"]
        lines += [f"- `{folder}`" for folder in damaged]
    atomic.write_text(root / "results.md", "\n".join(lines) + "\n")


# -- command line --------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m lra.sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sweep", required=True, help="sweep file and optional argument: FILE[:arg]")
    p.add_argument("--root", required=True, help="folder holding one workdir per run (and the results)")
    p.add_argument("--backend", choices=BACKENDS, default="local")
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 for each run that sets no seed")
    p.add_argument("--set", dest="shared", action="append", default=[], metavar="KEY=VALUE",
                   help="--config.KEY=VALUE for every run, not in folder names (data.dir, progress_bar)")
    p.add_argument("--aggregate", action="store_true", help="write ROOT/results.md and ROOT/results.csv")
    p.add_argument("--fields", default="", help="summary fields to add to the aggregate (dotted: config.seed)")
    p.add_argument("--multihost", action="store_true", help="add --multihost to every job (TPU pods: run each "
                   "command on every host, e.g. with the commands backend and ssh --worker=all)")
    p.add_argument("--train_module", default="lra.train", help="module each job runs (python -m MODULE)")
    ray = p.add_argument_group("ray backend")
    ray.add_argument("--ray_address", default=None, help="an existing cluster ('auto', 'ray://host:10001'); "
                     "unset: start a local Ray instance")
    ray.add_argument("--ray_num_cpus", type=int, default=None, help="CPUs of the local Ray instance (default: all)")
    ray.add_argument("--cpus_per_run", type=float, default=1.0)
    ray.add_argument("--gpus_per_run", type=float, default=0.0)
    ray.add_argument("--resources", default="", help='custom resources per run as JSON, e.g. \'{"TPU": 4}\'')
    ray.add_argument("--max_retries", type=int, default=2, help="retries of a failed run (each resumes)")
    return p


def run_runs(runs: Sequence[Run], argv: Sequence[str], out=None) -> int:
    """Run (or print, or aggregate) the given ``runs`` with the command line's other options
    (``--root``, ``--backend``, ``--set``, the Ray options): what ``lra.reproduce`` calls."""
    return main([*argv, "--sweep=<given runs>"], out, runs=runs)


def main(argv: Sequence[str] | None = None, out=None, runs: Sequence[Run] | None = None) -> int:
    """The command line; returns the exit status (1 if a run failed). Mistakes raise SweepError."""
    out = out or sys.stdout
    args = parser().parse_args(argv)
    runs = list(runs) if runs is not None else expand_seeds(load_sweep(args.sweep), args.seeds)
    check_folders(runs)
    root = Path(args.root)
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    if args.aggregate:
        if not root.is_dir():
            raise SweepError(f"--root={args.root!r} does not exist (nothing to aggregate)")
        rows = aggregate(runs, root, fields)
        write_results(rows, root, fields, shlex.join(["python", "-m", "lra.sweep", *(argv or sys.argv[1:])]))
        missing = sum(row["missing"] for row in rows)
        damaged = sum(len([f for f in row["damaged_runs"].split(";") if f]) for row in rows)
        print(f"{root / 'results.md'}, {root / 'results.csv'}: {len(rows)} rows, {len(runs) - missing} finished "
              f"runs, {missing} missing" + (f" ({damaged} with a damaged summary.json)" if damaged else ""), file=out)
        return 0
    shared = parse_shared(args.shared, runs)
    validate_runs(runs, shared)
    extra = ["--multihost"] if args.multihost else []

    def argv_of(run: Run, at: str | Path) -> list[str]:
        return run.argv(at, shared, args.train_module, extra)

    todo = [run for run in runs if not finished(run, root)]
    skipped = len(runs) - len(todo)
    if args.backend == "commands":
        print_commands(todo, args.root, argv_of, out)
        print(f"# {len(todo)} commands; {skipped} finished runs skipped", file=sys.stderr)
        return 0
    root = root.resolve()
    print(f"{len(runs)} runs: {len(todo)} to run, {skipped} already finished (under {root})", file=out, flush=True)
    if not todo:
        return 0
    if args.backend == "ray":
        outcomes = run_ray(todo, root, argv_of, args, out)
    else:
        outcomes = run_local(todo, root, argv_of, out)
    return _report(outcomes, skipped, out)


def run() -> None:
    """Entry point: mistakes end in one ``error:`` line (``lra.cli``)."""
    run_main(main)


if __name__ == "__main__":
    run()
