"""Transformed spaces around an attention, one registry: ``SPACES[name] -> SpaceSpec``.

======================  ===============================================================
none                    attention on the input
fixed                   fixed wavelet, 2-D db2 level 1 (default) or 1-D per channel
ada / ortho / lift      learnable wavelets (direct, lattice, lifting), 1-D per channel
fourier                 FFT -> attention -> inverse FFT
fourier_forward         FFT -> attention (FNet-like, forward only)
linear                  fixed wavelet space, attention replaced by a linear map (Table 9)
======================  ===============================================================

A space's options come from ``config.model.space`` by field name (a class field called ``level``
reads ``space.level``; ``CONFIG_ALIASES`` maps the few renamed fields), so no code exists per
(attention, space) pair.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from wavspa_flax.attention import attention_factory
from wavspa_flax.spaces.base import LAYOUTS, ModuleFactory, attend_bands
from wavspa_flax.spaces.fourier import FourierSpace, InputSpace
from wavspa_flax.spaces.wavelet import (
    AdaWaveletSpace,
    FixedWaveletSpace,
    LiftingSpace,
    OrthoWaveletSpace,
    WaveletSpace,
)


@dataclasses.dataclass(frozen=True)
class SpaceSpec:
    """A space class, fixed options, and the attention kind it forces (``linear``: linear_map)."""

    cls: type
    fixed: tuple = ()
    attention_kind: str | None = None


SPACES = {
    "none": SpaceSpec(InputSpace),
    "fixed": SpaceSpec(FixedWaveletSpace),
    "ada": SpaceSpec(AdaWaveletSpace),
    "ortho": SpaceSpec(OrthoWaveletSpace),
    "lift": SpaceSpec(LiftingSpace),
    "fourier": SpaceSpec(FourierSpace),
    "fourier_forward": SpaceSpec(FourierSpace, (("forward_only", True),)),
    "linear": SpaceSpec(FixedWaveletSpace, attention_kind="linear_map"),
}

# class field -> config.model.space key, where the field cannot carry the config name.
CONFIG_ALIASES = {"scaling_init": "init"}


def space_factory(cfg, dtype=jnp.float32) -> ModuleFactory:
    """``cfg`` = ``config.model`` -> factory of the space module (holding its attention factory)."""
    kind = cfg.space.kind
    if kind not in SPACES:
        raise ValueError(f"config.model.space.kind = {kind!r} is not valid; expected one of {tuple(SPACES)}")
    spec = SPACES[kind]
    attention = attention_factory(cfg, dtype=dtype, use_rope=cfg.position == "rope", kind=spec.attention_kind)
    fields = {f.name for f in dataclasses.fields(spec.cls)}
    keys = {name: CONFIG_ALIASES.get(name, name) for name in fields}
    options = {name: cfg.space[key] for name, key in keys.items() if key in cfg.space}
    options.update(dict(spec.fixed))
    options.update(attention=attention, dtype=dtype)
    return ModuleFactory(spec.cls, tuple(sorted(options.items())))


__all__ = [
    "SPACES", "SpaceSpec", "space_factory", "ModuleFactory", "attend_bands", "LAYOUTS", "InputSpace",
    "FourierSpace", "WaveletSpace", "FixedWaveletSpace", "AdaWaveletSpace", "OrthoWaveletSpace", "LiftingSpace",
]
