"""Attentions, one registry (:data:`ATTENTIONS`); every module of this package is imported here,
so a new attention is one file with ``@ATTENTIONS.register("<name>")`` on its class (the README
lists the registered ones; ``ATTENTIONS.names()`` too).

Every module: ``attn(x [B, n, f], mask [B, n] bool | None, *, deterministic) -> [B, n, f]``.
Each file holds a pure kernel function wrapped in ``jax.jit`` (inlined under an outer jit; used
eagerly it compiles once per shape), tested against an explicit O(n^2) NumPy formula in
``tests/models/test_attention.py``, and the module class around it.
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
