"""The config system: one ml_collections ConfigDict per run, built by ``configs/<task>.py``.

A task file's ``get_config(arg)`` starts from :func:`base_config`, writes the task's values (the
paper's Table 6 for the model, the LRA reference for the optimiser), then calls
:func:`apply_variant` with ``arg`` = ``<attention>[,<space>]`` (or an attention-free mixer);
the names come from the registries (``wavspa_flax.attention``, ``wavspa_flax.spaces``,
``wavspa_flax.mixers``), so a newly registered attention or space is a valid argument (the
README lists them). A missing space means the input space ``none``.

``config.scale`` picks how much of the paper to run: ``paper`` is Table 6 untouched; ``smoke`` and
``small`` apply the task file's ``SCALES[scale]`` preset (flat ``{"dotted.key": value}``: data size,
length, steps, width). :func:`load_config` (what ``--config=...`` resolves through) applies the
preset and then the user's overrides, so a key set on the command line always wins.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
from collections.abc import Mapping
from typing import Any

import ml_collections
from flax import traverse_util

from lra.data import get_task
from lra.data.pipeline import check_global_batch
from lra.steps import DEFAULT_PRNG_IMPL, PRNG_IMPLS
from wavspa_flax.attention import ATTENTIONS
from wavspa_flax.config import default_model_config, validate_model_config
from wavspa_flax.errors import ConfigError, UserError, did_you_mean
from wavspa_flax.mixers import ATTENTION_MIXER, MIXERS
from wavspa_flax.spaces import SPACES

SCALES = ("smoke", "small", "paper")
SCHEDULES = ("rsqrt", "cosine", "constant")


def base_config(task: str) -> ml_collections.ConfigDict:
    """Fields every task config has, at neutral defaults the task file then overwrites."""
    spec = get_task(task)
    config = ml_collections.ConfigDict()
    config.task = task
    config.variant = ""            # the get_config argument (set by apply_variant), for summaries/tables
    config.scale = "paper"          # 'paper' (Table 6) | 'small' (CPU-sized) | 'smoke' (seconds): SCALES presets
    config.seed = 0
    config.prng_impl = DEFAULT_PRNG_IMPL  # dropout/init keys: 'threefry' | 'rbg' | 'unsafe_rbg' (lra.steps.PRNG_IMPLS);
                                    # a resumed run keeps the one it started with
    config.max_length = spec.default_max_length()
    # Optimisation: AdamW(b1=0.9, b2=0.98, eps=1e-9) as in the LRA / WavSpA train scripts.
    config.batch_size = 32          # global batch, split over all devices of all processes
    config.grad_accum_steps = 1     # >1: each device's share runs as this many micro-batches (same update)
    config.eval_batch_size = 0      # 0 -> batch_size
    config.learning_rate = 0.05
    config.schedule = "rsqrt"       # 'rsqrt': constant*linear_warmup*rsqrt_decay (LRA) | 'cosine' | 'constant'
    config.warmup_steps = 1000
    config.cosine_cycle_steps = 0   # cosine: restart period (LRA image tasks); 0 -> num_train_steps
    config.weight_decay = 0.1
    config.grad_clip_norm = 0.0     # 0 -> no clipping
    # Loop: early stopping as in A.4 (min_steps, then patience = patience_fraction * num_train_steps).
    config.num_train_steps = 5000
    config.min_steps = 0
    config.patience_fraction = 0.1
    config.early_stopping = True    # False: always run num_train_steps (a fixed budget; min_steps unused)
    config.track_test = False       # True: also score the test split at every evaluation (metrics split
                                    # 'test_tracked'), so any stopping rule can be replayed from metrics.jsonl
    config.eval_every = 500
    config.num_eval_batches = 0     # 0 -> the whole validation split
    config.checkpoint_every = 500
    config.keep_checkpoints = 2
    config.log_every = 50
    config.progress_bar = True
    config.restart_from = ""        # a used workdir: '' resumes from the newest checkpoint; 'init' | 'best' |
                                    # '<step>' restart from scratch / the best state / that step (lra.restart)
    config.prefetch_batches = 2     # train batches put on the devices ahead of their step (0: none)
    config.data = spec.data_config()
    config.model = default_model_config()
    return config


# -- variants ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Variant:
    """What ``'<attention>[,<space>]'`` (or ``'<mixer>'``) names: registry names of the three choices."""

    mixer: str
    attention: str
    space: str


def _attention_names() -> list[str]:
    names = ATTENTIONS.names(ablations=False)
    aliases = [a for a, n in ATTENTIONS.aliases().items() if n in names]
    return aliases + [n for n in names if n not in ATTENTIONS.aliases().values()]


def parse_variant(arg: str) -> Variant:
    """``'<attention>[,<space>]'`` or ``'<mixer>'`` -> :class:`Variant` (a ConfigError names the fix)."""
    parts = [p.strip() for p in (arg or "").split(",") if p.strip()]
    free_mixers = [m for m in MIXERS.names() if m != ATTENTION_MIXER]
    usage = (f"expected '<attention>[,<space>]' with attention in {_attention_names()} (or an attention-free "
             f"mixer {free_mixers}) and space in {list(SPACES.names())}")
    if not parts or len(parts) > 2:
        raise ConfigError(f"config argument {arg!r}: {usage}")
    name, space = parts[0], parts[1] if len(parts) == 2 else "none"
    if space not in SPACES:
        raise ConfigError(f"config argument {arg!r}: unknown space {space!r}{did_you_mean(space, SPACES.names())}; "
                          f"{usage}")
    if name in free_mixers:
        if space != "none":
            raise ConfigError(f"config argument {arg!r}: {name} is attention-free and takes no space; use '{name}'")
        return Variant(name, "identity", "none")
    if name not in ATTENTIONS:
        known = list(ATTENTIONS.names()) + list(ATTENTIONS.aliases()) + free_mixers
        raise ConfigError(f"config argument {arg!r}: unknown attention {name!r}{did_you_mean(name, known)}; {usage}")
    return Variant(ATTENTION_MIXER, ATTENTIONS.resolve(name), SPACES.resolve(space))


def apply_variant(config: ml_collections.ConfigDict, arg: str,
                  space_presets: Mapping[str, Mapping[str, Any]] | None = None) -> ml_collections.ConfigDict:
    """Set ``config.model`` for the variant named by ``arg`` (in place; also returned).

    The chosen attention's and space's registry presets are applied (the official code's values,
    e.g. a projection bias or a decomposition level), then ``space_presets[space]``: the task's Table 6
    values for that space, as ``{"<key relative to config.model>": value}``.
    """
    variant = parse_variant(arg)
    config.variant = arg
    model = config.model
    model.mixer, model.attention.kind, model.space.kind = variant.mixer, variant.attention, variant.space
    model.attention.update(ATTENTIONS.entry(variant.attention).preset)
    model.space.update(SPACES.entry(variant.space).preset)
    update(model, (space_presets or {}).get(variant.space, {}), f"the Table 6 presets of {variant.space!r}",
           prefix="model.")
    return config


# -- scale presets and overrides -----------------------------------------------------------------

def smoke_preset(max_length: int = 64, *, data: Mapping | None = None, **top) -> dict[str, Any]:
    """A few-second run (tests, CI): tiny data, one narrow layer, a handful of steps."""
    preset = {"max_length": max_length, "batch_size": 4, "eval_batch_size": 4, "num_train_steps": 4,
              "min_steps": 0, "warmup_steps": 2, "eval_every": 2, "checkpoint_every": 2, "log_every": 1,
              "model.num_layers": 1, "model.emb_dim": 16, "model.qkv_dim": 16, "model.mlp_dim": 32,
              "model.num_heads": 2}
    return {**preset, **{f"data.{k}": v for k, v in (data or {}).items()}, **top}


def small_preset(*, data: Mapping | None = None, **top) -> dict[str, Any]:
    """A CPU-sized run (tens of minutes on 2 cores): 2 layers 64 wide, a few thousand steps."""
    preset = {"batch_size": 32, "num_train_steps": 3_000, "min_steps": 1_000, "eval_every": 250,
              "checkpoint_every": 250, "warmup_steps": 300, "model.num_layers": 2, "model.emb_dim": 64,
              "model.qkv_dim": 64, "model.mlp_dim": 128}
    return {**preset, **{f"data.{k}": v for k, v in (data or {}).items()}, **top}


def lookup(tree: Any, dotted: str, default: Any = None) -> Any:
    """The value at ``dotted`` (e.g. ``'model.space.level'``) in a nested ConfigDict or mapping
    (a run's config, a ``summary.json``); ``default`` where a part is missing."""
    node = tree
    for part in dotted.split("."):
        if not hasattr(node, "keys") or part not in node:
            return default
        node = node[part]
    return node


def update(config: ml_collections.ConfigDict, values: Mapping[str, Any], source: str, prefix: str = "") -> None:
    """Set dotted ``values`` on ``config``; an unknown key or a value of the wrong type is a
    ConfigError naming the key, where it came from (``source``) and close matches."""
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = config
        for name in parents:
            node = node.get(name) if isinstance(node, ml_collections.ConfigDict) else None
        if not isinstance(node, ml_collections.ConfigDict) or leaf not in node or isinstance(
                node[leaf], ml_collections.ConfigDict):
            known = [prefix + k for k in traverse_util.flatten_dict(config.to_dict(), sep=".")]
            raise ConfigError(f"unknown config key {prefix + dotted!r} (from {source})"
                              f"{did_you_mean(prefix + dotted, known)}")
        try:
            node[leaf] = value
        except TypeError as error:
            raise ConfigError(f"config.{prefix}{dotted} = {value!r} (from {source}): {error}") from None


@functools.cache
def _load_module(path: str):
    """The config file ``path`` as a module, executed once per process."""
    module_spec = importlib.util.spec_from_file_location(f"_wavspa_config_{abs(hash(path))}", path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"config file {path!r} not found (expected e.g. configs/listops.py)")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except FileNotFoundError:
        raise ConfigError(f"config file {path!r} not found (expected e.g. configs/listops.py)") from None
    except UserError:
        raise
    except Exception as error:  # a syntax error, or the file's own code failing as it is imported
        raise ConfigError(f"config file {describe_code_error(path, error)}") from error
    return module


def describe_code_error(path: str, error: BaseException) -> str:
    """``'<path>' line <n>: <ErrorType>: <message>`` for an error raised by (or compiling) the file ``path``."""
    import os
    import traceback

    line = None
    if isinstance(error, SyntaxError) and error.filename and os.path.samefile(error.filename, path):
        line = error.lineno
    else:
        frames = [f for f in traceback.extract_tb(error.__traceback__)
                  if os.path.exists(f.filename) and os.path.samefile(f.filename, path)]
        line = frames[-1].lineno if frames else None
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    where = f"{path!r} line {line}" if line else repr(path)
    return f"{where}: {type(error).__name__}: {message}"


def load_config(spec: str, overrides: Mapping[str, Any] | None = None,
                source: str = "the overrides") -> ml_collections.ConfigDict:
    """The resolved config of ``'configs/<task>.py[:<variant>]'`` with dotted ``overrides``.

    What ``--config=<spec> --config.<key>=<value> ...`` resolves to: the file's config, then its
    ``SCALES`` preset for the scale (the override's, else the file's), then the overrides (from
    ``source``, named in errors).
    """
    path, _, arg = spec.partition(":")
    module = _load_module(path)
    if not callable(getattr(module, "get_config", None)):
        raise ConfigError(f"config file {path!r} has no get_config() function (see configs/listops.py)")
    try:
        config = module.get_config(arg) if arg else module.get_config()
    except UserError:
        raise
    except Exception as error:
        raise ConfigError(f"config file {describe_code_error(path, error)} (in get_config({arg!r}))") from error
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(f"config file {path!r}: get_config() returned {type(config).__name__}; expected an "
                          "ml_collections.ConfigDict (start from lra.config.base_config(task))")
    overrides = dict(overrides or {})
    scale = overrides.get("scale", config.scale)
    if scale not in SCALES:
        raise ConfigError(f"config.scale = {scale!r} is not valid{did_you_mean(scale, SCALES)}; "
                          f"expected one of {SCALES}")
    if scale != "paper":
        update(config, getattr(module, "SCALES", {}).get(scale, {}), f"{path} SCALES[{scale!r}]")
    update(config, overrides, source)
    check_chosen_options(config, overrides)
    return config


# key -> (smallest allowed value, whether the smallest is allowed)
_HYPERPARAMETER_BOUNDS = {"learning_rate": (0.0, False), "weight_decay": (0.0, True), "grad_clip_norm": (0.0, True),
                          "warmup_steps": (0, True), "cosine_cycle_steps": (0, True), "min_steps": (0, True),
                          "model.dropout": (0.0, True), "model.attention_dropout": (0.0, True)}


def check_hyperparameters(config: ml_collections.ConfigDict) -> None:
    """A ConfigError for a non-finite value or one below its bound (e.g. ``learning_rate=nan``, ``<= 0``)."""
    for dotted, (low, inclusive) in _HYPERPARAMETER_BOUNDS.items():
        node = config
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, ml_collections.ConfigDict) else None
        if node is None or isinstance(node, bool) or not isinstance(node, (int, float)):
            continue
        value = float(node)
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            bound = f">= {low}" if inclusive else f"> {low}"
            raise ConfigError(f"config.{dotted} = {node!r} must be a finite number {bound}")
    for name in ("dropout", "attention_dropout"):
        value = config.model.get(name) if "model" in config else None
        if isinstance(value, float) and value >= 1.0:
            raise ConfigError(f"config.model.{name} = {value!r} must be below 1")


def _choices(model: ml_collections.ConfigDict) -> dict[str, tuple[Any, str | None, str]]:
    """``{section: (registry, chosen name or None, what)}`` of ``config.model``'s three sections."""
    if model.mixer != ATTENTION_MIXER:
        return {"attention": (ATTENTIONS, None, f"the attention-free mixer {model.mixer!r}"),
                "space": (SPACES, None, f"the attention-free mixer {model.mixer!r}"),
                "mixing": (MIXERS, model.mixer, f"mixer {model.mixer!r}")}
    attention = SPACES.entry(model.space.kind).meta.get("attention") or model.attention.kind
    return {"attention": (ATTENTIONS, attention, f"attention {attention!r}"),
            "space": (SPACES, model.space.kind, f"space {model.space.kind!r}"),
            "mixing": (MIXERS, None, "the attention mixer")}


def check_chosen_options(config: ml_collections.ConfigDict, keys) -> None:
    """A ConfigError for an override ``model.<attention|space|mixing>.<key>`` that the chosen class
    does not use (``--config.model.space.level=7`` for a space without levels would change nothing)."""
    choices = None
    for dotted in keys:
        parts = dotted.split(".")
        if len(parts) != 3 or parts[0] != "model" or parts[1] not in ("attention", "space", "mixing") \
                or parts[2] == "kind":
            continue
        choices = choices or _choices(config.model)
        registry, name, what = choices[parts[1]]
        used = registry.options_of_choice(name) if name is not None else {}
        if parts[2] not in used:
            raise ConfigError(f"config.{dotted} is not an option of {what} (its options: {sorted(used) or 'none'}); "
                              "drop it or choose a variant that uses it")


def with_current_defaults(saved: Mapping[str, Any]) -> ml_collections.ConfigDict:
    """A run's saved ``config.json`` (a dict) with every key the current code has and the run did
    not save (an option added since) at its current default (:func:`base_config` of its task):
    what the run computed with, read by the current code. Saved keys are kept as saved."""

    def merge(defaults: dict, values: Mapping) -> dict:
        out = dict(defaults)
        for key, value in values.items():
            out[key] = merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) \
                else value
        return out

    return ml_collections.ConfigDict(merge(base_config(saved["task"]).to_dict(), saved))


def validate(config: ml_collections.ConfigDict, num_devices: int = 1) -> None:
    """Reject values the run cannot start with (loop, task and model), naming the key and the fix."""
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"config.schedule = {config.schedule!r} is not valid"
                          f"{did_you_mean(config.schedule, SCHEDULES)}; expected one of {SCHEDULES}")
    if config.prng_impl not in PRNG_IMPLS:
        raise ConfigError(f"config.prng_impl = {config.prng_impl!r} is not valid"
                          f"{did_you_mean(config.prng_impl, PRNG_IMPLS)}; expected one of {tuple(PRNG_IMPLS)}")
    for key in ("batch_size", "num_train_steps", "eval_every", "checkpoint_every", "log_every", "keep_checkpoints"):
        if int(config[key]) <= 0:
            raise ConfigError(f"config.{key} = {config[key]} must be positive")
    check_global_batch(config.batch_size, num_devices, "config.batch_size")
    if int(config.grad_accum_steps) < 1 or (config.batch_size // num_devices) % int(config.grad_accum_steps):
        raise ConfigError(f"config.grad_accum_steps = {config.grad_accum_steps} must divide the per-device batch "
                          f"{config.batch_size // num_devices} (batch_size / devices)")
    check_global_batch(config.eval_batch_size or config.batch_size, num_devices, "config.eval_batch_size")
    if not 0.0 <= config.patience_fraction <= 1.0:
        raise ConfigError(f"config.patience_fraction = {config.patience_fraction} must be in [0, 1]")
    check_hyperparameters(config)
    from lra.restart import parse_restart_from

    parse_restart_from(config.get("restart_from", ""))
    info = get_task(config.task).info(config)
    validate_model_config(config.model, info.kind)
