"""Attentions, one registry (:data:`ATTENTIONS`); every module of this package is imported here,
so a new attention is one file with ``@ATTENTIONS.register("<name>")`` on its class.

Every module: ``attn(x [B, n, f], mask [B, n] bool | None, *, deterministic) -> [B, n, f]``.

============  =======================================================  ===================
name          what                                                     memory
============  =======================================================  ===================
full          softmax attention (chunked above ``chunk_size``)          O(n^2) / O(n chunk)
linformer     keys/values projected along the sequence to k rows        O(n k)
linear        Linear Transformer, elu+1 feature map                     O(n)
longformer    sliding window (+ optional global tokens)                 O(n window)
performer     generalized ReLU kernel (default) or FAVOR+               O(n)
identity      y = x (space-only ablation; a space around it reconstructs x)  -
linear_map    y = x W + b (Table 9 'Linear' ablation)                   -
============  =======================================================  ===================

The kernels (``full.softmax_attention``, ``longformer.longformer_attention``, ...) are pure
functions wrapped in ``jax.jit`` (inlined under an outer jit; used eagerly they compile once per
shape). Each is tested against an explicit O(n^2) NumPy formula in ``tests/models/test_attention.py``.
"""

from __future__ import annotations

import importlib
import pkgutil

import jax.numpy as jnp

from wavspa_flax.attention.base import ATTENTIONS, Attention, MultiHeadAttention
from wavspa_flax.registry import ModuleFactory

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def attention_factory(cfg, *, dtype=jnp.float32, kind: str | None = None) -> ModuleFactory:
    """``cfg`` = ``config.model`` -> factory of the chosen attention (``kind`` overrides
    ``cfg.attention.kind``); call it as ``factory(length=n, name=...)``."""
    entry = ATTENTIONS.entry(kind or cfg.attention.kind)
    options = ATTENTIONS.kwargs(entry.name, cfg.attention)
    return ModuleFactory.of(entry.cls, dtype=dtype, **options, **entry.cls.context_from_config(cfg))


__all__ = ["ATTENTIONS", "Attention", "MultiHeadAttention", "attention_factory"]
