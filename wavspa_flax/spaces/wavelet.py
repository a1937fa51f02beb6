"""Wavelet spaces (eq. 1-3): forward wavelet transform -> attention on the bands -> backward.

All transforms come from :mod:`wavspa_flax.wavelets` (pywt-exact, boundary ``mode``; default
'periodization': bands of exactly ceil(n / 2^j), A.6). The transforms run in float32; the
attention runs in the compute dtype.

=========  ====================================================================  =====================
kind       transform                                                             added parameters
=========  ====================================================================  =====================
fixed      ``dims='2d'`` (default, the paper's text): ``wavedec2`` over          0
           (sequence, hidden), bands ``[cA, (cH, cV, cD)_J, ...]`` of width
           ~d/2^j; ``dims='1d'``: ``wavedec`` along the sequence, one shared
           filter for every channel (the official code's fixed transform)
ada        per-channel learned scaling filters ``(d, L)``, high-pass by the QMF   L * d   (Table 8)
           relation (eq. 4) on every call, 1-D along the sequence (3.2)
ortho      per-channel lattice angles ``(d, L/2)`` -> orthogonal filters (eq. 5)  L/2 * d (Table 8)
lift       lifting scheme (3.4); default the fixed LeGall 5/3 steps (what every   0       (Table 8)
           official lift config ran), learnable predict/update filters behind
           ``lifting_learnable``
linear     ``fixed`` with the attention replaced by :class:`LinearMap` (Table 9)   (the map's f*f + f)
=========  ====================================================================  =====================

Padding (mask-correct; the official code is not): padded rows are zeroed before the forward
transform, so no coefficient depends on padded content; the band masks (True where a
coefficient's support touches a valid position, from ``coefficient_support_masks`` /
``lifting_support_masks``) are the attention key masks, and the attention outputs of masked
coefficients are zeroed before the backward transform.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from wavspa_flax import wavelets as wl
from wavspa_flax.attention.base import zero_masked
from wavspa_flax.errors import ConfigError
from wavspa_flax.registry import option
from wavspa_flax.spaces.base import LAYOUTS, SPACES, attend_bands
from wavspa_flax.spaces.fourier import dims_option
from wavspa_flax.wavelets.init import LATTICE_INITS, SCALING_INITS


class Transform(NamedTuple):
    """``forward(x [B, n, d]) -> coeffs`` (a pytree of bands), ``inverse(coeffs) -> [B, n, d]``,
    ``masks(mask [B, n]) -> list`` of band masks in ``jax.tree.leaves(coeffs)`` order."""

    forward: Callable
    inverse: Callable
    masks: Callable


# Jitted entry points into the wavelet library (sequence axis -2, masks along -1). Under an outer
# jit they are inlined; used eagerly (tests, notebooks) each compiles once per shape instead of
# op by op. ``bank`` is a FilterBank of arrays or None (then the static pywt name ``wavelet``);
# the keyword-only arguments are static (names, levels, modes, lengths, shapes).


@functools.partial(jax.jit, static_argnames=("wavelet", "level", "mode", "channel_axis"))
def seq_wavedec(x, bank=None, *, wavelet=None, level, mode, channel_axis=None):
    return wl.wavedec(x, wavelet if bank is None else bank, level, axis=-2, mode=mode, channel_axis=channel_axis)


@functools.partial(jax.jit, static_argnames=("wavelet", "mode", "channel_axis", "length"))
def seq_waverec(coeffs, bank=None, *, wavelet=None, mode, channel_axis=None, length):
    return wl.waverec(coeffs, wavelet if bank is None else bank, axis=-2, mode=mode, channel_axis=channel_axis,
                      length=length)


@functools.partial(jax.jit, static_argnames=("wavelet", "level", "mode"))
def seq_wavedec2(x, *, wavelet, level, mode):
    return wl.wavedec2(x, wavelet, level, axes=(-2, -1), mode=mode)


@functools.partial(jax.jit, static_argnames=("wavelet", "mode", "shape"))
def seq_waverec2(coeffs, *, wavelet, mode, shape):
    return wl.waverec2(coeffs, wavelet, axes=(-2, -1), mode=mode, shape=shape)


@functools.partial(jax.jit, static_argnames=("filter_length", "level", "mode"))
def support_masks(mask, *, filter_length, level, mode):
    return wl.coefficient_support_masks(mask, filter_length, level, axis=-1, mode=mode)


@functools.partial(jax.jit, static_argnames=("level", "channel_axis"))
def seq_lifting_dec(x, predict=None, update=None, *, level, channel_axis=None):
    return wl.lifting_dec(x, level, axis=-2, predict=predict, update=update, channel_axis=channel_axis)


@functools.partial(jax.jit, static_argnames=("channel_axis", "length"))
def seq_lifting_rec(coeffs, predict=None, update=None, *, channel_axis=None, length):
    return wl.lifting_rec(coeffs, axis=-2, predict=predict, update=update, channel_axis=channel_axis, length=length)


@functools.partial(jax.jit, static_argnames=("level", "taps"))
def lifting_masks(mask, *, level, taps):
    return wl.lifting_support_masks(mask, level, axis=-1, predict_length=taps, update_length=taps)


def _expand_2d_masks(masks_1d):
    """1-D sequence-axis masks ``[mA, mD_J, ..., mD_1]`` -> leaf order of ``[cA, (cH, cV, cD)_J, ...]``.

    Along the sequence the three detail bands of a level share one filter chain length, hence
    one support mask.
    """
    return [masks_1d[0]] + [m for m_d in masks_1d[1:] for m in (m_d, m_d, m_d)]


def filter_transform(bank, filter_length: int, level: int, mode: str, n: int, channel_axis) -> Transform:
    """1-D transform along the sequence with ``bank``: a pywt name (str) or a FilterBank ((L,) or (d, L))."""
    named = dict(wavelet=bank) if isinstance(bank, str) else dict(bank=bank)
    return Transform(
        forward=lambda x: seq_wavedec(x, **named, level=level, mode=mode, channel_axis=channel_axis),
        inverse=lambda c: seq_waverec(c, **named, mode=mode, channel_axis=channel_axis, length=n),
        masks=lambda m: support_masks(m, filter_length=filter_length, level=level, mode=mode),
    )


def wavelet_name(name: str) -> None:
    """Option check: ``name`` is a pywt discrete wavelet (the library's message lists close matches)."""
    try:
        wl.filter_bank(name)
    except wl.UnknownWaveletError as error:
        raise wl.UnknownWaveletError(f"is not a wavelet: {error}") from None


def _even(value: int) -> None:
    if value % 2:
        raise ConfigError("must be even (QMF pairs; ortho uses L/2 lattice angles)")


class WaveletSpace(nn.Module):
    """Base of the wavelet spaces; subclasses implement ``transform(n, d) -> Transform``.

    ``attention`` is the factory of the attention modules (one per band with layout 'per_band').
    """

    attention: Any
    level: int = option(1, "decomposition levels (fixed/linear/ada/ortho: Table 6 uses 1, lift 3)", minimum=0)
    mode: str = option("periodization", "boundary mode of the wavelet transforms; 'periodization' gives "
                       "bands of exactly ceil(n / 2^j) (A.6: 4096 -> 2048, 1024, 512, 512)", choices=wl.MODES)
    layout: str = option("per_band", "'per_band' (own attention weights per band, the official code) | "
                         "'per_band_shared' | 'joint' (bands concatenated, one attention)", choices=LAYOUTS)
    dtype: Any = jnp.float32

    def transform(self, n: int, d: int) -> Transform:  # pragma: no cover - abstract
        raise NotImplementedError

    def bands(self, x, mask=None):
        """The coefficient pytree, its leaf masks and the transform (the first step of ``__call__``)."""
        n, d = x.shape[-2:]
        t = self.transform(n, d)
        coeffs = t.forward(zero_masked(x, mask).astype(jnp.float32))
        leaves = jax.tree.leaves(coeffs)
        masks = [None] * len(leaves) if mask is None else t.masks(mask)
        return coeffs, masks, t

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        coeffs, masks, t = self.bands(x, mask)
        leaves, treedef = jax.tree.flatten(coeffs)
        if len(masks) != len(leaves):
            raise AssertionError(f"{len(masks)} band masks for {len(leaves)} bands")
        outs = attend_bands(
            self.attention, [b.astype(self.dtype) for b in leaves], masks, self.layout, deterministic
        )
        y = t.inverse(jax.tree.unflatten(treedef, [o.astype(jnp.float32) for o in outs]))
        return y.astype(self.dtype)


@SPACES.register("fixed", preset={"wavelet": "db2", "level": 1})
class FixedWaveletSpace(WaveletSpace):
    """``fixed`` (and ``linear``): a named pywt wavelet, 2-D (default) or 1-D (see module doc)."""

    wavelet: str = option("db2", "pywt wavelet of the fixed and linear spaces (A.4: db2, level 1)",
                          check=wavelet_name)
    dims: str = dims_option()

    @classmethod
    def check_options(cls, options) -> None:
        if options["dims"] == "2d" and options["layout"] == "joint" and options["level"] != 1:
            raise ConfigError(
                "config.model.space.layout='joint' with dims='2d' needs space.level=1: the 2-D bands of "
                "different levels have different hidden widths and cannot be concatenated. Use "
                "layout='per_band' or dims='1d'.")

    def transform(self, n, d):
        length = wl.bank_length(self.wavelet)
        if self.dims == "1d":
            return filter_transform(self.wavelet, length, self.level, self.mode, n, None)
        return Transform(
            forward=lambda x: seq_wavedec2(x, wavelet=self.wavelet, level=self.level, mode=self.mode),
            inverse=lambda c: seq_waverec2(c, wavelet=self.wavelet, mode=self.mode, shape=(n, d)),
            masks=lambda m: _expand_2d_masks(
                support_masks(m, filter_length=length, level=self.level, mode=self.mode)
            ),
        )


class LearnedFilterSpace(WaveletSpace):
    """Base of the spaces with learned filters of length ``wavelet_length`` (ada, ortho)."""

    wavelet_length: int = option(40, "filter length L (Table 6: Ada 40, Text 16; Ortho 16)", minimum=2,
                                 check=_even)


@SPACES.register("ada", preset={"level": 1})
class AdaWaveletSpace(LearnedFilterSpace):
    """AdaWavSpA (3.2): ``scaling_filters [d, L]`` learned, QMF high-pass (eq. 4), per channel.

    Initialised by ``wavelets.init_scaling_filters`` (config ``space.init``; the field cannot be
    called ``init``, which would shadow ``Module.init``).
    """

    scaling_init: str = option("wavelet", "Ada initialiser: 'wavelet' (the scaling filter of init_wavelet) | "
                               "'gaussian' N(0, 0.02) | 'damped_cos' (Table 11)", key="init",
                               choices=SCALING_INITS)
    init_wavelet: str = option("", "Ada 'wavelet' init; '' -> db{L/2} (the official code)",
                               check=lambda name: name and wavelet_name(name))

    def transform(self, n, d):
        length = self.wavelet_length
        filters = self.param(
            "scaling_filters",
            lambda key: wl.init_scaling_filters(
                self.scaling_init, d, length, key=key, wavelet=self.init_wavelet or None
            ).astype(jnp.float32),
        )
        return filter_transform(wl.qmf_filter_bank(filters), length, self.level, self.mode, n, -1)


@SPACES.register("ortho", preset={"wavelet_length": 16, "level": 1})
class OrthoWaveletSpace(LearnedFilterSpace):
    """OrthoWavSpA (3.3): ``angles [d, L/2]`` -> lattice (orthogonal) scaling filters per channel.

    ``ortho_init``: 'uniform' U[0, 2 pi) (the official code) or 'wavelet' (the exact lattice angles
    of db{L/2}). ``ortho_lowpass``: False (default, the official code) uses the raw lattice filter
    (orthogonal, so perfect reconstruction, but not forced to be low-pass); True shifts the angles
    to sum pi/4 first so the filter also sums to sqrt(2) (a true scaling filter).
    """

    ortho_init: str = option("uniform", "'uniform' U[0, 2 pi) angles (the official code) | 'wavelet' (the "
                             "lattice angles of db{L/2})", choices=LATTICE_INITS)
    ortho_lowpass: bool = option(False, "False: the raw lattice filter (official) | True: angles shifted to "
                                 "sum pi/4 so the filter sums to sqrt 2")

    def transform(self, n, d):
        length = self.wavelet_length
        def init(key):
            return wl.init_lattice_angles(self.ortho_init, d, length, key=key).astype(jnp.float32)

        angles = self.param("angles", init)
        filters = wl.lattice_scaling_filter(angles, lowpass=self.ortho_lowpass)
        return filter_transform(wl.qmf_filter_bank(filters), length, self.level, self.mode, n, -1)


@SPACES.register("lift", preset={"level": 3})
class LiftingSpace(WaveletSpace):
    """LiftWavSpA (3.4): lifting along the sequence, bands ``[s_L, d_L, ..., d_1]`` of ceil(n/2^j).

    Default: the fixed LeGall 5/3 steps ``d = o - (e_k + e_{k+1})/2``, ``s = e + (d_{k-1} + d_k)/4``
    with circular neighbours, no parameters (every official lift config; Table 8: 0). With
    ``lifting_learnable``: per-channel predict and update taps ``[d, P]`` (``P =
    lifting_filter_length``, LeGall-initialised), 2 P d parameters; exact inverse for any taps.
    ``mode`` is unused (lifting is circular).
    """

    lifting_learnable: bool = option(False, "learnable predict/update filters (off: LeGall 5/3, 0 parameters "
                                     "as every official lift config and Table 8)")
    lifting_filter_length: int = option(2, "taps of each learnable lifting filter (even)", minimum=2,
                                        check=_even)

    def transform(self, n, d):
        taps = self.lifting_filter_length if self.lifting_learnable else 2
        predict = update = None
        channel_axis = None
        if self.lifting_learnable:
            init = lambda key: wl.init_lifting_weights(d, taps, taps)  # noqa: E731
            predict = self.param("predict", lambda key: init(key)[0])
            update = self.param("update", lambda key: init(key)[1])
            channel_axis = -1
        return Transform(
            forward=lambda x: seq_lifting_dec(x, predict, update, level=self.level, channel_axis=channel_axis),
            inverse=lambda c: seq_lifting_rec(c, predict, update, channel_axis=channel_axis, length=n),
            masks=lambda m: lifting_masks(m, level=self.level, taps=taps),
        )


SPACES.add("linear", FixedWaveletSpace, preset={"wavelet": "db2", "level": 1}, attention="linear_map")
