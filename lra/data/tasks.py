"""The task registry: one :class:`TaskSpec` per task holds everything the runner needs to know.

A new task is ``configs/<task>.py``, ``lra/data/<task>.py`` (its loader) and one
``register_task(TaskSpec(...))`` in that file; every module of ``lra.data`` is imported by the
package, so nothing else changes.

The ``data`` sub-config (:func:`default_data_config`) is the common keys below plus the task's
own ``TaskSpec.data``; every key a user may override exists (ml_collections rejects unknown keys):

  source        where the data come from: 'release' | 'tfds' | 'generate' (the task's ``sources``;
                the first is the default)
  dir           release root (the unpacked ``lra_release/``), tfds data_dir, or where generated data
                are written. Empty -> ``./data/<data_dir>`` (``TaskSpec.data_dir``, default the name).
  cache_dir     where tokenised arrays are cached. Empty -> ``<dir>/_wavspa_cache``.
  use_cache     False: tokenise into memory on every load.
  limit_train / limit_eval   keep only the first k examples of train / of val and test (0 = all).
  generator_seed             seed of the offline generators (the data set is a fixed artefact,
                             independent of the training seed).
  num_train / num_val / num_test   generator sizes (ignored for release/tfds data).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import ml_collections

from wavspa_flax.config import TASK_KINDS
from wavspa_flax.errors import ConfigError, did_you_mean


class TaskInfo(NamedTuple):
    """What the model builder needs of a task: kind 'classification' (one label per sequence),
    'dual' (retrieval pairs, inputs [.., 2, n]) or 'token' (one label per position, LEGO)."""

    name: str
    kind: str
    vocab_size: int
    num_classes: int
    max_length: int


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One task: its facts, data defaults, loader and where its data come from."""

    name: str
    kind: str                      # 'classification' | 'dual' | 'token'
    vocab_size: int                # token ids 0..vocab_size-1 (0 = pad where there is padding)
    num_classes: int
    sources: tuple[str, ...]       # accepted data.source values; the first is the default
    load: Callable                 # load(config, info, root, cache_root) -> (splits, stats)
    download_hint: str             # where real data come from (named by "data not found" errors)
    max_length: int | Callable[[Any], int]  # default config.max_length (or a function of config.data)
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # the task's own data keys
    data_dir: str = ""             # default folder under ./data ('' -> the task name)
    check: Callable[[Any], None] | None = None  # check(config): max_length vs data (ConfigError)
    locate: Callable[[Any, str], None] | None = None  # locate(config, root): DataError if the data are not
                                                    # on this machine (cheap: no loading); None: generated
    index_buckets: Callable[[Any], int] | None = None  # per-position accuracy buckets (LEGO Fig. 3)
    val_is_test: Callable[[Any], bool] = lambda data: False  # validation is the test split (IMDB)
    num_train_default: int = 0     # generator sizes (data.num_train/num_val/num_test defaults)
    num_val_default: int = 0
    num_test_default: int = 0

    def default_max_length(self, data_config=None) -> int:
        if callable(self.max_length):
            return int(self.max_length(data_config if data_config is not None else self.data_config()))
        return int(self.max_length)

    def data_config(self) -> ml_collections.ConfigDict:
        """The ``data`` sub-config of this task (see the module docstring)."""
        d = dict(source=self.sources[0], dir="", cache_dir="", use_cache=True, limit_train=0, limit_eval=0,
                 generator_seed=0, num_train=self.num_train_default, num_val=self.num_val_default,
                 num_test=self.num_test_default)
        d.update(self.data)
        return ml_collections.ConfigDict(d)

    def info(self, config) -> TaskInfo:
        """TaskInfo for ``config`` (checking ``config.max_length`` against the task and data)."""
        n = int(config.max_length)
        if n < 1:
            raise ConfigError(f"config.max_length={n} must be positive")
        if self.check is not None:
            self.check(config)
        return TaskInfo(self.name, self.kind, self.vocab_size, self.num_classes, n)


_TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to the registry (its name must be new)."""
    if spec.name in _TASKS:
        raise ValueError(f"task {spec.name!r} is already registered")
    if spec.kind not in TASK_KINDS:
        raise ValueError(f"task {spec.name!r}: kind {spec.kind!r} is not one of {TASK_KINDS}")
    _TASKS[spec.name] = spec
    return spec


def task_names() -> tuple[str, ...]:
    return tuple(_TASKS)


def get_task(name: str) -> TaskSpec:
    """The registered task ``name``; a :class:`ConfigError` naming the choices otherwise."""
    if name not in _TASKS:
        raise ConfigError(f"unknown task {name!r}{did_you_mean(name, _TASKS)}; expected one of {task_names()}")
    return _TASKS[name]


def default_data_config(task: str) -> ml_collections.ConfigDict:
    """The ``data`` sub-config for ``task`` (see the module docstring)."""
    return get_task(task).data_config()


def default_max_length(task: str, data_config: ml_collections.ConfigDict | None = None) -> int:
    """The LRA/WavSpA ``config.max_length`` of ``task`` (LEGO: 5 tokens a clause)."""
    return get_task(task).default_max_length(data_config)
