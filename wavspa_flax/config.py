"""The model config (``config.model`` of every training config) and its validation.

The encoder-level fields are defined here, one per line with its meaning; the sections
``attention``, ``space`` and ``mixing`` hold the options the registered attentions, spaces and
mixers declare next to their classes (:mod:`wavspa_flax.registry`), so a newly registered class's
options are config keys without editing this file. :func:`validate_model_config` is called by
:func:`wavspa_flax.build_model` and raises a one-line :class:`~wavspa_flax.errors.ConfigError`
naming the key, the bad value and the valid choices.
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections

from wavspa_flax.attention import ATTENTIONS, MultiHeadAttention
from wavspa_flax.encoder import ACTIVATIONS, NORMS
from wavspa_flax.errors import ConfigError, did_you_mean
from wavspa_flax.heads import INTERACTIONS, READOUTS
from wavspa_flax.mixers import ATTENTION_MIXER, MIXERS
from wavspa_flax.position import POSITIONS
from wavspa_flax.spaces import SPACES

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
TASK_KINDS = ("classification", "dual", "token")


def default_model_config() -> ml_collections.ConfigDict:
    """The model defaults (small LRA-like sizes); task configs overwrite them (Table 6)."""
    c = ml_collections.ConfigDict()
    c.mixer = ATTENTION_MIXER  # 'attention' (a space around an attention) or an attention-free mixer
    c.num_layers = 2           # Table 6 sizes: layers, embedding, total q/k/v features (split over
    c.emb_dim = 128            # the heads: qkv_dim % num_heads == 0), MLP width, heads
    c.qkv_dim = 64
    c.mlp_dim = 128
    c.num_heads = 1
    c.dropout = 0.1            # on the embeddings, each sublayer output and inside the MLP
    c.attention_dropout = 0.1  # on the attention probabilities (softmax attentions only)
    c.position = "sinusoidal"  # 'learned' | 'sinusoidal' | 'rope' | 'none' (wavspa_flax.position)
    c.norm = "pre"             # 'pre' (LRA) | 'post' | 'wavspa_official' (wavspa_flax.encoder)
    c.readout = "CLS"          # 'CLS' (a learned token is prepended) | 'CLS2' (first + last valid token,
                               # as the official code) | 'MEAN' (mask-aware)
    c.dual_interaction = "concat"  # retrieval head input: 'concat' [u, v] (official / LRA) | 'nli' [u, v, u*v, u-v]
    c.dtype = "float32"        # compute dtype 'float32' | 'bfloat16' (params, softmax, norms, logits float32)
    c.mlp_activation = "gelu"  # 'gelu' (LRA / official MlpBlock) | 'relu'
    c.attention = ml_collections.ConfigDict({"kind": "full", **ATTENTIONS.defaults()})
    c.space = ml_collections.ConfigDict({"kind": "none", **SPACES.defaults()})
    c.mixing = ml_collections.ConfigDict(MIXERS.defaults())
    return c


def _choice(cfg, key: str, valid) -> None:
    if cfg[key] not in valid:
        raise ConfigError(f"config.model.{key} = {cfg[key]!r} is not valid{did_you_mean(cfg[key], valid)}; "
                          f"expected one of {tuple(valid)}")


def _positive_int(cfg, key: str) -> None:
    value = cfg[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"config.model.{key} = {value!r} must be an integer >= 1")


def compute_dtype(cfg) -> jnp.dtype:
    """``cfg.dtype`` name -> jnp dtype."""
    return DTYPES[cfg.dtype]


def validate_model_config(cfg, task_kind: str) -> None:
    """Raise :class:`ConfigError` for unknown names or inconsistent sizes (names the key and the fix)."""
    if task_kind not in TASK_KINDS:
        raise ValueError(f"task_kind={task_kind!r} is not valid; expected one of {TASK_KINDS}")
    for key, valid in (("position", POSITIONS), ("norm", NORMS), ("readout", READOUTS),
                       ("dual_interaction", INTERACTIONS), ("dtype", DTYPES), ("mlp_activation", ACTIVATIONS)):
        _choice(cfg, key, valid)
    for key in ("num_layers", "emb_dim", "qkv_dim", "mlp_dim", "num_heads"):
        _positive_int(cfg, key)
    for key in ("dropout", "attention_dropout"):
        if not 0.0 <= float(cfg[key]) < 1.0:
            raise ConfigError(f"config.model.{key} = {cfg[key]!r} must be in [0, 1)")
    MIXERS.validate(cfg.mixer, cfg.mixing)
    ATTENTIONS.validate(cfg.attention.kind, cfg.attention)
    SPACES.validate(cfg.space.kind, cfg.space)
    if cfg.qkv_dim % cfg.num_heads:
        raise ConfigError(
            f"config.model.qkv_dim = {cfg.qkv_dim} is not divisible by num_heads = {cfg.num_heads}; "
            "each head gets qkv_dim / num_heads features")
    if cfg.position == "sinusoidal" and cfg.emb_dim % 2:
        raise ConfigError(f"config.model.position='sinusoidal' needs an even emb_dim (got {cfg.emb_dim})")
    if cfg.position == "rope":
        head_dim = cfg.qkv_dim // cfg.num_heads
        if head_dim % 2:
            raise ConfigError(
                f"config.model.position='rope' needs an even head dimension qkv_dim/num_heads (got {head_dim})")
        attention = SPACES.entry(cfg.space.kind).meta.get("attention") or cfg.attention.kind
        if cfg.mixer != ATTENTION_MIXER or not issubclass(ATTENTIONS.entry(attention).cls, MultiHeadAttention):
            raise ConfigError(
                "config.model.position='rope' rotates queries and keys inside attention; the chosen "
                f"mixer={cfg.mixer!r} / attention {attention!r} has none. Use position='sinusoidal' or 'learned'.")
