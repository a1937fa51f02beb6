"""Transformed spaces around an attention, one registry (:data:`SPACES`); every module of this
package is imported here, so a new space is one file with ``@SPACES.register("<name>")`` (the
README lists the registered ones; ``SPACES.names()`` too).

A space's options are its :func:`~wavspa_flax.registry.option` fields, read from
``config.model.space`` by key, so no code exists per (attention, space) pair.
"""

from __future__ import annotations

import importlib
import pkgutil

import jax.numpy as jnp

from wavspa_flax.attention import attention_factory
from wavspa_flax.registry import ModuleFactory
from wavspa_flax.spaces.base import LAYOUTS, SPACES, attend_bands

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def space_factory(cfg, dtype=jnp.float32) -> ModuleFactory:
    """``cfg`` = ``config.model`` -> factory of the space module (holding its attention's factory)."""
    entry = SPACES.entry(cfg.space.kind)
    attention = attention_factory(cfg, dtype=dtype, kind=entry.meta.get("attention"))
    return ModuleFactory.of(entry.cls, attention=attention, dtype=dtype, **SPACES.kwargs(entry.name, cfg.space))


__all__ = ["SPACES", "LAYOUTS", "attend_bands", "space_factory"]
