"""Longformer: sliding-window local attention plus global tokens, in O(n * window) memory.

Pattern (one softmax per query over the union of its keys):

* local: query i sees keys j with ``-window/2 < j - i <= window/2`` (``window`` is the total
  width; the official config: 256 to the left including i itself, 256 to the right);
* global: the first ``num_global`` positions are seen by every query and see every key.

``window >= 2 n`` covers every pair, i.e. full attention. Implementation: queries in blocks of
``b = window/2`` attend to the three key blocks around them ([B, H, n, 3b] logits, exact window
mask inside), concatenated with the [B, H, n, g] logits of the global keys (which are removed
from the local part so no key counts twice); the g global query rows are full attention rows.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from wavspa_flax.attention.base import ATTENTIONS, MASK_VALUE, MultiHeadAttention, dropout_probs
from wavspa_flax.attention.full import softmax_attention
from wavspa_flax.registry import option


def _blocks_with_neighbours(x, b: int, num_blocks: int):
    """``x [B, nb*b, ...]`` -> ``[B, nb, 3b, ...]``: block t's keys are blocks t-1, t, t+1 (zero padded)."""
    pad = [(0, 0), (b, b)] + [(0, 0)] * (x.ndim - 2)
    xp = jnp.pad(x, pad).reshape((x.shape[0], num_blocks + 2, b) + x.shape[2:])
    return jnp.concatenate([xp[:, :-2], xp[:, 1:-1], xp[:, 2:]], axis=2)


@functools.partial(jax.jit, static_argnames=("window", "num_global", "dropout_rate"))
def longformer_attention(q, k, v, mask=None, *, window: int, num_global: int = 0,
                         dropout_rate: float = 0.0, rng=None):
    """``q, k, v [B, n, H, dh]``, key ``mask [B, n] | None`` -> ``[B, n, H, dh]``."""
    bsz, n, heads, dh = q.shape
    half = max(window // 2, 1)
    b = min(half, n)
    num_blocks = -(-n // b)
    n_pad = num_blocks * b
    g = min(num_global, n)
    if mask is None:
        mask = jnp.ones((bsz, n), bool)
    pad_rows = lambda x: jnp.pad(x, [(0, 0), (0, n_pad - n)] + [(0, 0)] * (x.ndim - 2))  # noqa: E731
    qb = pad_rows(q).reshape(bsz, num_blocks, b, heads, dh)
    kb = _blocks_with_neighbours(pad_rows(k), b, num_blocks)  # [B, nb, 3b, H, dh]
    vb = _blocks_with_neighbours(pad_rows(v), b, num_blocks)
    valid = _blocks_with_neighbours(pad_rows(mask), b, num_blocks)  # [B, nb, 3b] (pads False)

    # Static window pattern: query offset o in block t, key slot s -> j - i = s - b - o.
    offsets = np.arange(3 * b)[None, :] - b - np.arange(b)[:, None]  # [b, 3b]
    in_window = (offsets > -half) & (offsets <= half)
    key_index = np.arange(num_blocks)[:, None] * b - b + np.arange(3 * b)[None, :]  # [nb, 3b]
    not_global = key_index >= g
    allowed = (in_window[None, None, :, :] & not_global[None, :, None, :]) & valid[:, :, None, :]

    scale = dh ** -0.5
    local = jnp.einsum("btqhd,btkhd->bhtqk", qb, kb, preferred_element_type=jnp.float32) * scale
    local = jnp.where(allowed[:, None], local, MASK_VALUE).reshape(bsz, heads, n_pad, 3 * b)
    parts = [local]
    if g:
        glob = jnp.einsum("bqhd,bkhd->bhqk", pad_rows(q), k[:, :g], preferred_element_type=jnp.float32)
        glob = jnp.where(mask[:, None, None, :g], glob * scale, MASK_VALUE)
        parts.append(glob)
    probs = jax.nn.softmax(jnp.concatenate(parts, axis=-1), axis=-1)
    probs = dropout_probs(probs, dropout_rate, rng)
    local_p = probs[..., : 3 * b].reshape(bsz, heads, num_blocks, b, 3 * b).astype(v.dtype)
    out = jnp.einsum("bhtqk,btkhd->btqhd", local_p, vb).reshape(bsz, n_pad, heads, dh)
    if g:
        out = out + jnp.einsum("bhqk,bkhd->bqhd", probs[..., 3 * b:].astype(v.dtype), v[:, :g])
        global_rng = None if rng is None else jax.random.fold_in(rng, 1)
        rows = softmax_attention(q[:, :g], k, v, mask, dropout_rate=dropout_rate, rng=global_rng)
        out = out.at[:, :g].set(rows)
    return out[:, :n]


def longformer_pattern(n: int, window: int, num_global: int = 0) -> np.ndarray:
    """``[n, n]`` bool: key j is in query i's union of keys (window and global tokens)."""
    half = max(window // 2, 1)
    g = min(num_global, n)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    return ((j - i > -half) & (j - i <= half)) | (j < g) | (i < g)


def longformer_map(q, k, mask=None, *, window: int, num_global: int = 0):
    """The matrix :func:`longformer_attention` applies to ``v``: ``[B, H, n, n]`` float32, the
    softmax over each query's window and global keys, exactly 0 outside them (O(n^2): analysis)."""
    n = q.shape[1]
    allowed = jnp.asarray(longformer_pattern(n, window, num_global))[None, None]
    if mask is not None:
        allowed = allowed & mask[:, None, None, :]
    logits = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) * q.shape[-1] ** -0.5
    return jax.nn.softmax(jnp.where(allowed, logits, MASK_VALUE), axis=-1)


@ATTENTIONS.register("longformer")
class LongformerAttention(MultiHeadAttention):
    """Multi-head Longformer attention (``window`` total width, ``num_global`` global tokens)."""

    window: int = option(512, "total window width: keys with -window/2 < j - i <= window/2 (official: 512)",
                         minimum=1)
    num_global: int = option(
        0, "global tokens (the first positions). Default 0: LRA's and the official WavSpA Longformer have "
        "none, and inside a wavelet space position 0 of a band has no special meaning",
        key="num_global_tokens", minimum=0)

    def attend(self, q, k, v, mask, deterministic):
        return longformer_attention(
            q, k, v, mask, window=self.window, num_global=self.num_global,
            dropout_rate=self.dropout_rate, rng=self.dropout_rng(deterministic),
        )

    def attention_maps(self, q, k, mask):
        """The banded map (:func:`longformer_map`): full ``[B, H, n, n]``, zeros outside the window
        and global keys."""
        return longformer_map(q, k, mask, window=self.window, num_global=self.num_global)
