"""What every transformed space shares: the factory type and attention over coefficient bands.

A space is a linen module ``space(x [B, n, d], mask [B, n] | None, *, deterministic) -> [B, n, d]``
holding an :class:`~wavspa_flax.attention.AttentionFactory` (eq. 1-3: forward transform,
attention on the coefficients, backward transform). Band layouts (``layout``):

* ``'per_band'`` (default; the official code behind the paper's numbers, reference D.1a): each
  band gets its own attention module (own weights); bands never see each other. With full
  attention the cost is the sum of squared band lengths (A.6).
* ``'per_band_shared'``: one attention module (one set of weights) applied to each band.
* ``'joint'``: the bands are concatenated along the sequence and attended as one sequence
  (all bands must have the same feature width).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from wavspa_flax.attention.base import zero_masked

LAYOUTS = ("per_band", "per_band_shared", "joint")


@dataclasses.dataclass(frozen=True)
class ModuleFactory:
    """``factory(**more)`` -> ``cls(**options, **more)``; hashable (a valid module attribute)."""

    cls: type
    options: tuple = ()  # (key, value) pairs

    def __call__(self, **more):
        return self.cls(**dict(self.options), **more)


def attend_bands(attention, bands, masks, layout: str, deterministic: bool):
    """Attention over coefficient ``bands`` (list of ``[B, n_j, f_j]``) with band ``masks``.

    Must be called inside the owning space's compact method (the attention modules become its
    submodules: ``band_<j>`` per band, or one ``attention``). Outputs at masked coefficients are
    zeroed, so coefficients that only see padding feed nothing into the backward transform.
    """
    lengths = [b.shape[-2] for b in bands]
    if layout == "per_band":
        outs = [attention(n_j, f"band_{j}")(b, m, deterministic=deterministic)
                for j, (n_j, b, m) in enumerate(zip(lengths, bands, masks))]
    elif layout == "per_band_shared":
        shared = attention(max(lengths), "attention")
        outs = [shared(b, m, deterministic=deterministic) for b, m in zip(bands, masks)]
    elif layout == "joint":
        widths = {b.shape[-1] for b in bands}
        if len(widths) > 1:
            raise ValueError(
                f"space.layout='joint' needs bands of one feature width, got {sorted(widths)} "
                "(a 2-D transform with level > 1); use layout='per_band' or space.dims='1d'"
            )
        joint_mask = None
        if any(m is not None for m in masks):
            joint_mask = jnp.concatenate(
                [jnp.ones(b.shape[:-1], bool) if m is None else m for b, m in zip(bands, masks)], axis=-1
            )
        joint = attention(sum(lengths), "attention")(
            jnp.concatenate(bands, axis=-2), joint_mask, deterministic=deterministic
        )
        outs = jnp.split(joint, [int(s) for s in np.cumsum(lengths)[:-1]], axis=-2)
    else:
        raise ValueError(f"space.layout = {layout!r} is not valid; expected one of {LAYOUTS}")
    return [zero_masked(o, m) for o, m in zip(outs, masks)]
