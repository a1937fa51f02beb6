"""Linformer: keys and values projected along the sequence to k rows, then softmax attention.

``K' = E^T K``, ``V' = E^T V`` with one learned ``E [length, k]`` shared by keys, values and heads
(as the official WavSpA/LRA Linformer), sliced to the input length; memory O(n k).

Padding: keys and values are zeroed at masked positions before the projection, so padded
content cannot reach the output (the masked rows then add nothing to K', V'; an exact key mask
is not expressible after a projection). With ``k = n`` and ``E = I`` this is full attention.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from wavspa_flax.attention.base import ATTENTIONS, MultiHeadAttention, zero_masked
from wavspa_flax.attention.full import attention_probs, softmax_attention
from wavspa_flax.registry import option


@functools.partial(jax.jit, static_argnames=("dropout_rate",))
def linformer_attention(q, k, v, projection, mask=None, *, dropout_rate: float = 0.0, rng=None):
    """``q, k, v [B, n, H, dh]``, ``projection [>= n, k]`` -> ``[B, n, H, dh]``."""
    n = k.shape[1]
    e = projection[:n].astype(k.dtype)
    k_low = jnp.einsum("bnhd,nk->bkhd", zero_masked(k, mask), e)
    v_low = jnp.einsum("bnhd,nk->bkhd", zero_masked(v, mask), e)
    return softmax_attention(q, k_low, v_low, None, dropout_rate=dropout_rate, rng=rng)


@ATTENTIONS.register("linformer", preset={"use_bias": True})
class LinformerAttention(MultiHeadAttention):
    """Multi-head Linformer; ``k`` projected rows; ``length`` sizes E (default: the input length)."""

    k: int = option(128, "projected length k (the official code: 128)", key="linformer_k", minimum=1)

    def attend(self, q, k, v, mask, deterministic):
        n = k.shape[1]
        rows = self.length or n
        if n > rows:
            raise ValueError(f"Linformer projection has {rows} rows but the sequence has {n}")
        projection = self.param(
            "projection", nn.initializers.lecun_normal(in_axis=0, out_axis=1), (rows, self.k), jnp.float32
        )
        return linformer_attention(
            q, k, v, projection, mask, dropout_rate=self.dropout_rate, rng=self.dropout_rng(deterministic)
        )

    def attention_maps(self, q, k, mask):
        """``softmax(q (E^T K)^T / sqrt(dh))``: ``[B, H, n, k]``, each query's distribution over the
        k *projected rows*, not over tokens (the projected rows mix all positions), so token-position
        metrics (spectra, wavelet entropies, scale sensitivity) do not apply to it."""
        e = self.get_variable("params", "projection")[: k.shape[1]].astype(k.dtype)
        return attention_probs(q, jnp.einsum("bnhd,nk->bkhd", zero_masked(k, mask), e))
