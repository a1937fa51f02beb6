"""Loading a trained run for analysis: its config, model, initial and trained parameters, and
examples of its own task."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from wavspa_flax.errors import ConfigError, UserError


@dataclasses.dataclass
class Run:
    workdir: Path
    config: Any            # ml_collections.ConfigDict
    info: Any              # lra.data.tasks.TaskInfo
    model: Any
    params: Any            # the analysed state's parameters (numpy)
    init_params: Any       # the parameters lra.train initialised the run with
    step: int
    state: str             # 'best' | 'final'
    summary: dict | None

    @property
    def name(self) -> str:
        return self.workdir.name

    @property
    def attention_kind(self) -> str:
        """The attention inside the mixer ('' for an attention-free mixer)."""
        from wavspa_flax.spaces import SPACES

        model = self.config.model
        if model.mixer != "attention":
            return ""
        return SPACES.entry(model.space.kind).meta.get("attention") or model.attention.kind

    @property
    def space_kind(self) -> str:
        return str(self.config.model.space.kind) if self.config.model.mixer == "attention" else ""


def read_config(workdir: Path, data_dir: str | None = None):
    """The run's resolved config from ``config.json`` (``data_dir`` replaces ``data.dir``), with the
    options added since the run at their current defaults."""
    from lra.config import with_current_defaults

    path = workdir / "config.json"
    if not path.exists():
        raise ConfigError(f"{path} not found: --workdir must be a folder lra.train wrote (config.json, best/)")
    config = with_current_defaults(json.loads(path.read_text()))
    if data_dir is not None:
        config.data.dir = data_dir
    return config


def load_run(workdir: str | Path, state: str = "best", data_dir: str | None = None) -> Run:
    """Rebuild the model of ``workdir``, its initial parameters and the ``state`` ('best' or 'final')."""
    import jax

    from lra.checkpoint import CheckpointStore
    from lra.data import get_task
    from lra.restart import checkpoint_steps
    from lra.steps import make_key
    from lra.train import create_train_state
    from wavspa_flax import build_model

    workdir = Path(workdir)
    config = read_config(workdir, data_dir)
    info = get_task(config.task).info(config)
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    init_key, _ = jax.random.split(make_key(config.seed))
    template = create_train_state(model, config, info, init_key)
    folder = {"best": "best", "final": "checkpoints"}.get(state)
    if folder is None:
        raise ConfigError(f"--state must be 'best' or 'final', got {state!r}")
    if not (workdir / folder).is_dir() or not checkpoint_steps(workdir / folder):
        raise ConfigError(f"{workdir / folder} holds no {state} state yet: the run has "
                          + ("not been evaluated yet (best/ is written at its first evaluation)" if state == "best"
                             else "saved no checkpoint yet"))
    store = CheckpointStore(workdir / folder, 1 if state == "best" else 1_000_000)
    try:
        restored = store.restore_latest(template)
    finally:
        store.close()
    if restored is None:
        raise ConfigError(f"no checkpoint in {workdir / folder} restores into this config's model")
    to_numpy = lambda tree: jax.tree.map(np.asarray, tree)  # noqa: E731
    summary_path = workdir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Run(workdir, config, info, model, to_numpy(restored[0].params), to_numpy(template.params),
               int(restored[0].step), state, summary)


_DATASETS: dict[str, Any] = {}


def dataset_of(config):
    """``lra.data.load_dataset(config)``, loaded once per data config in this process."""
    from lra.data import load_dataset

    key = json.dumps({"task": config.task, "max_length": config.max_length,
                      "data": json.loads(config.data.to_json_best_effort())}, sort_keys=True)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(config)
    return _DATASETS[key]


def analysis_examples(config, count: int, min_length: int = 0, split: str = "test"):
    """The first ``count`` examples of ``split`` with at least ``min_length`` tokens (every document
    of a pair): ``(inputs [E, ..., n], lengths [E, ...], indices [E])``."""
    arrays = dataset_of(config).splits[split]
    lengths = np.asarray(arrays["lengths"])
    shortest = lengths.reshape(len(lengths), -1).min(axis=1)
    chosen = np.nonzero(shortest >= min_length)[0][:count]
    if len(chosen) == 0:
        raise UserError(f"no {split} example has {min_length} tokens or more (lower --min_length)")
    return np.asarray(arrays["inputs"])[chosen], lengths[chosen], chosen


def train_lengths(config):
    return np.asarray(dataset_of(config).splits["train"]["lengths"])
