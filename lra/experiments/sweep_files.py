"""Sweep files (``get_sweep(arg=None)``) and the sweep command line's run options, checked before
any job starts: the runs, their seeds, distinct folders and the ``--set`` values."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lra.config import lookup
from lra.experiments.runs import SEED_KEY, Run, SweepError
from wavspa_flax.errors import UserError


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
