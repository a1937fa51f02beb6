"""A sweep's run: its config spec and overrides, the folder named after them, and its state there.

A run's folder under the sweep's root is ``<group>/<name>`` (:meth:`Run.folder`, the README's
naming rule), derived from the run alone, so rerunning a sweep finds its finished runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from wavspa_flax.errors import UserError

SEED_KEY = "seed"
MAX_NAME = 100      # a folder name longer than this is cut and gets the hash suffix
_SAFE = re.compile(r"[^A-Za-z0-9._+-]")  # characters kept as they are in folder names


class SweepError(UserError):
    """A mistake in a sweep file or in the sweep command line."""



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

