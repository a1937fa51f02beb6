"""What every transformed space shares: the registry and attention over coefficient bands.

A space is a linen module ``space(x [B, n, d], mask [B, n] | None, *, deterministic) -> [B, n, d]``
holding a factory of its attention (eq. 1-3: forward transform, attention on the coefficients,
backward transform). :data:`SPACES` is the one registry of spaces: a new space is one file in this
package with ``@SPACES.register("<name>")`` on its class (options declared with
:func:`~wavspa_flax.registry.option`; ``preset`` holds the values choosing it sets, e.g. Table 6's
lifting level 3). Registration meta ``attention='<kind>'`` forces the attention inside the space.

The contract every space keeps (``tests/models/test_contract.py`` checks each registered one;
``python -m pytest -m "not slow" -k <name>`` runs it for a new one):

* **Fields.** ``attention`` (a :class:`~wavspa_flax.registry.ModuleFactory`, called as
  ``attention(length=m, name=...)``) and ``dtype`` (the compute dtype; the output is ``dtype``,
  parameters float32); its own options as :func:`~wavspa_flax.registry.option` fields. A space
  uses only the options it declares (``lra.config`` rejects an override of another space's key).
* **Masks.** Zero the padded rows before the forward transform (``zero_masked``), so no coefficient
  depends on padded content; give each band a mask (True where the coefficient's support touches a
  valid position) and zero the outputs at masked coefficients (:func:`attend_bands` does both for
  the bands); zero the padded rows of the output. Padded content must never change a valid output.
* **Zero rows.** The attention then sees exact-zero rows, some of them valid (see
  :mod:`wavspa_flax.attention.base`): outputs and gradients must stay finite.
* **Shapes.** ``[B, n, d] -> [B, n, d]`` for every ``n`` the task uses (odd too).

Band layouts (``layout``):

* ``'per_band'`` (default; the official code behind the paper's numbers, reference D.1a): each
  band gets its own attention module (own weights); bands never see each other. With full
  attention the cost is the sum of squared band lengths (A.6).
* ``'per_band_shared'``: one attention module (one set of weights) applied to each band.
* ``'joint'``: the bands are concatenated along the sequence and attended as one sequence
  (all bands must have the same feature width).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from wavspa_flax.attention.base import zero_masked
from wavspa_flax.registry import Registry

SPACES = Registry("model.space")
LAYOUTS = ("per_band", "per_band_shared", "joint")


def _per_band(attention, bands, masks, deterministic):
    return [attention(length=b.shape[-2], name=f"band_{j}")(b, m, deterministic=deterministic)
            for j, (b, m) in enumerate(zip(bands, masks))]


def _per_band_shared(attention, bands, masks, deterministic):
    shared = attention(length=max(b.shape[-2] for b in bands), name="attention")
    return [shared(b, m, deterministic=deterministic) for b, m in zip(bands, masks)]


def _joint(attention, bands, masks, deterministic):
    widths = {b.shape[-1] for b in bands}
    if len(widths) > 1:
        raise ValueError(f"layout 'joint' needs bands of one feature width, got {sorted(widths)}")
    lengths = [b.shape[-2] for b in bands]
    joint_mask = None
    if any(m is not None for m in masks):
        joint_mask = jnp.concatenate(
            [jnp.ones(b.shape[:-1], bool) if m is None else m for b, m in zip(bands, masks)], axis=-1)
    joint = attention(length=sum(lengths), name="attention")(
        jnp.concatenate(bands, axis=-2), joint_mask, deterministic=deterministic)
    return jnp.split(joint, [int(s) for s in np.cumsum(lengths)[:-1]], axis=-2)


_LAYOUT_FNS = {"per_band": _per_band, "per_band_shared": _per_band_shared, "joint": _joint}


def attend_bands(attention, bands, masks, layout: str, deterministic: bool):
    """Attention over coefficient ``bands`` (list of ``[B, n_j, f_j]``) with band ``masks``.

    Must be called inside the owning space's compact method (the attention modules become its
    submodules: ``band_<j>`` per band, or one ``attention``). Outputs at masked coefficients are
    zeroed, so coefficients that only see padding feed nothing into the backward transform.
    """
    outs = _LAYOUT_FNS[layout](attention, bands, masks, deterministic)
    return [zero_masked(o, m) for o, m in zip(outs, masks)]
