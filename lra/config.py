"""The config system: one ml_collections ConfigDict per run, built by `configs/<task>.py`.

A task file's ``get_config(arg)`` starts from :func:`base_config`, writes the task's values (the
paper's Table 6 for the model, the LRA reference for the optimiser), then calls
:func:`apply_variant` with ``arg`` = ``<attention>[,<space>]`` (or an attention-free mixer):

    configs/listops.py:transformer          full attention, input space
    configs/text.py:performer,ada           Performer inside AdaWavSpA
    configs/image.py:linformer,fixed        Linformer inside the fixed db2 space
    configs/listops.py:fnet                 attention-free FNet baseline

``config.scale`` picks how much of the paper to run: ``paper`` is Table 6 untouched; ``small`` and
``smoke`` overwrite the fields listed in ``config.scales.<scale>`` (data size, length, steps, width)
when the run starts (:func:`apply_scale`). A field the user sets on the command line always wins
over the preset.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import ml_collections

from lra.data import default_data_config
from wavspa_flax.config import default_model_config

TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "lego")
SCALES = ("smoke", "small", "paper")
# Command-line attention name -> model.attention.kind.
ATTENTIONS = {
    "transformer": "full",
    "linformer": "linformer",
    "linear": "linear",
    "longformer": "longformer",
    "performer": "performer",
}
# Attention-free baselines: command-line name -> model.mixer.
MIXERS = ("wavelet_mixing", "fnet")
SPACES = ("none", "fixed", "ada", "ortho", "lift", "fourier", "fourier_forward", "linear")
# Spaces whose wavelets are learned or lifted (the paper's "parameterised WavSpA", Table 4).
PARAMETERISED_SPACES = ("ada", "ortho", "lift")
SCHEDULES = ("rsqrt", "cosine", "constant")


def base_config(task: str) -> ml_collections.ConfigDict:
    """Fields every task config has, at neutral defaults the task file then overwrites."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    config = ml_collections.ConfigDict()
    config.task = task
    config.variant = "transformer"  # the get_config argument, recorded for summaries/tables
    config.scale = "paper"
    config.seed = 0
    config.max_length = 1024
    # Optimisation: AdamW(b1=0.9, b2=0.98, eps=1e-9) as in the LRA / WavSpA train scripts.
    config.batch_size = 32  # global batch, split over all local devices
    config.eval_batch_size = 0  # 0 -> batch_size
    config.learning_rate = 0.05
    config.schedule = "rsqrt"  # rsqrt: constant*linear_warmup*rsqrt_decay (LRA); cosine; constant
    config.warmup_steps = 1000
    config.cosine_cycle_steps = 0  # cosine: restart period (LRA image tasks); 0 -> num_train_steps
    config.weight_decay = 0.1
    config.grad_clip_norm = 0.0  # 0 -> no clipping
    # Loop: early stopping as in A.4 (min_steps, then patience = 10% of num_train_steps).
    config.num_train_steps = 5000
    config.min_steps = 0
    config.patience_fraction = 0.1
    config.eval_every = 500
    config.num_eval_batches = 0  # 0 -> the whole validation split
    config.checkpoint_every = 500
    config.keep_checkpoints = 2
    config.log_every = 50
    config.progress_bar = True
    config.data = default_data_config(task)
    config.model = default_model_config()
    config.scales = ml_collections.ConfigDict({"smoke": {}, "small": {}})
    return config


def parse_variant(arg: str) -> tuple[str, str, str]:
    """``'<attention>[,<space>]'`` or ``'<mixer>'`` -> (mixer, attention kind, space kind)."""
    parts = [p.strip() for p in (arg or "transformer").split(",") if p.strip()]
    if not parts or len(parts) > 2:
        raise ValueError(
            f"config argument {arg!r}: expected '<attention>[,<space>]' with attention in "
            f"{sorted(ATTENTIONS)} (or an attention-free mixer {MIXERS}) and space in {SPACES}"
        )
    name = parts[0]
    space = parts[1] if len(parts) == 2 else "none"
    if space not in SPACES:
        raise ValueError(f"config argument {arg!r}: unknown space {space!r}; expected one of {SPACES}")
    if name in MIXERS:
        if space != "none":
            raise ValueError(
                f"config argument {arg!r}: {name} is attention-free and takes no space; "
                f"use '{name}' alone"
            )
        return name, "identity", "none"
    if name not in ATTENTIONS:
        raise ValueError(
            f"config argument {arg!r}: unknown attention {name!r}; expected one of "
            f"{sorted(ATTENTIONS)} or an attention-free mixer {MIXERS}"
        )
    return "attention", ATTENTIONS[name], space


def apply_variant(
    config: ml_collections.ConfigDict,
    arg: str,
    *,
    ada_wavelet_length: int,
    ortho_wavelet_length: int = 16,
    lift_levels: int = 3,
    parameterised_readout: str | None = None,
) -> ml_collections.ConfigDict:
    """Set ``config.model`` for the variant named by ``arg`` (in place; also returned).

    The wavelet lengths and lifting levels are the task's Table 6 column; fixed WavSpA is db2,
    level 1 (A.4). ``parameterised_readout`` overrides the readout for ada/ortho/lift (Table 6:
    CLS2 on Image).
    """
    mixer, attention, space = parse_variant(arg)
    config.variant = arg
    model = config.model
    model.mixer = mixer
    model.attention.kind = attention
    model.space.kind = space
    if space in ("fixed", "linear"):
        model.space.wavelet = "db2"
        model.space.level = 1
    elif space == "ada":
        model.space.wavelet_length = ada_wavelet_length
        model.space.level = 1
    elif space == "ortho":
        model.space.wavelet_length = ortho_wavelet_length
        model.space.level = 1
    elif space == "lift":
        model.space.level = lift_levels
    if space in PARAMETERISED_SPACES and parameterised_readout:
        model.readout = parameterised_readout
    return config


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (ConfigDicts and dicts alike)."""
    flat = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, (Mapping, ml_collections.ConfigDict)):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def apply_scale(
    config: ml_collections.ConfigDict, overridden: Iterable[str] = ()
) -> ml_collections.ConfigDict:
    """Return a copy of ``config`` with the ``config.scales[config.scale]`` preset applied.

    Keys in ``overridden`` (dotted paths the user set on the command line) keep their value.
    ``paper`` applies nothing. A preset key that names no config field is an error.
    """
    if config.scale not in SCALES:
        raise ValueError(f"config.scale={config.scale!r}; expected one of {SCALES}")
    resolved = copy.deepcopy(config)
    if config.scale == "paper":
        return resolved
    overridden = set(overridden)
    known = flatten(config)
    for key, value in flatten(config.scales[config.scale]).items():
        if key not in known:
            raise KeyError(
                f"config.scales.{config.scale}.{key}: names no field of the config; "
                "fix the preset in the task's config file"
            )
        if key not in overridden:
            _set_path(resolved, key, value)
    return resolved


def load_config(spec: str, overrides: Mapping[str, Any] | None = None) -> ml_collections.ConfigDict:
    """The resolved config of ``'configs/<task>.py[:<variant>]'`` with dotted ``overrides``.

    The Python twin of ``--config=<spec> --config.<key>=<value> ...``: overrides are applied to
    the file's config (an unknown key is an error naming it), then the scale preset, which never
    touches an overridden key.
    """
    import importlib.util

    path, _, arg = spec.partition(":")
    module_spec = importlib.util.spec_from_file_location(f"_wavspa_config_{abs(hash(path))}", path)
    if module_spec is None or module_spec.loader is None:
        raise FileNotFoundError(f"config file {path!r} not found (expected e.g. configs/listops.py)")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    config = module.get_config(arg) if arg else module.get_config()
    overrides = dict(overrides or {})
    known = flatten(config)
    for key, value in overrides.items():
        if key not in known:
            raise KeyError(f"unknown config key {key!r} for {spec}; see the fields of {path}")
        _set_path(config, key, value)
    return apply_scale(config, overrides.keys())


def _set_path(config: ml_collections.ConfigDict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = config
    for name in parents:
        node = node[name]
    node[leaf] = value


def validate(config: ml_collections.ConfigDict, num_devices: int = 1) -> None:
    """Reject values the loop cannot run with, naming the key and the fix."""
    if config.task not in TASKS:
        raise ValueError(f"config.task={config.task!r}; expected one of {TASKS}")
    if config.schedule not in SCHEDULES:
        raise ValueError(f"config.schedule={config.schedule!r}; expected one of {SCHEDULES}")
    for key in ("batch_size", "num_train_steps", "eval_every", "checkpoint_every", "max_length"):
        if int(config[key]) <= 0:
            raise ValueError(f"config.{key}={config[key]} must be positive")
    eval_batch = config.eval_batch_size or config.batch_size
    for key, value in (("batch_size", config.batch_size), ("eval_batch_size", eval_batch)):
        if value % num_devices:
            raise ValueError(
                f"config.{key}={value} is not divisible by the {num_devices} local devices; "
                f"set --config.{key} to a multiple of {num_devices}"
            )
    if not 0.0 <= config.patience_fraction <= 1.0:
        raise ValueError(f"config.patience_fraction={config.patience_fraction} must be in [0, 1]")


def smoke_preset(max_length: int = 64, **extra: Any) -> dict[str, Any]:
    """A few-second run: tiny data, one narrow layer, a handful of steps (tests, CI)."""
    preset = {
        "max_length": max_length,
        "batch_size": 4,
        "eval_batch_size": 4,
        "num_train_steps": 4,
        "min_steps": 0,
        "warmup_steps": 2,
        "eval_every": 2,
        "checkpoint_every": 2,
        "log_every": 1,
        "model": {"num_layers": 1, "emb_dim": 16, "qkv_dim": 16, "mlp_dim": 32, "num_heads": 2},
    }
    return _merge(preset, extra)


def small_preset(**extra: Any) -> dict[str, Any]:
    """A CPU-sized run (tens of minutes on 2 cores): 2 layers 64 wide, a few thousand steps."""
    preset = {
        "batch_size": 32,
        "num_train_steps": 3_000,
        "min_steps": 1_000,
        "eval_every": 250,
        "checkpoint_every": 250,
        "warmup_steps": 300,
        "model": {"num_layers": 2, "emb_dim": 64, "qkv_dim": 64, "mlp_dim": 128},
    }
    return _merge(preset, extra)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
