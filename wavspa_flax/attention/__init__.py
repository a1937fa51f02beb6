"""Attention modules, one registry: ``ATTENTIONS[name] -> class``, built by :class:`AttentionFactory`.

Every module: ``attn(x [B, n, f], mask [B, n] bool | None, *, deterministic) -> [B, n, f]``.

============  =======================================================  ===================
name          what                                                     memory
============  =======================================================  ===================
full          softmax attention (chunked above ``chunk_size``)          O(n^2) / O(n chunk)
linformer     keys/values projected along the sequence to k rows        O(n k)
linear        Linear Transformer, elu+1 feature map                     O(n)
longformer    sliding window + global tokens                            O(n window)
performer     generalized ReLU kernel (default) or FAVOR+               O(n)
identity      y = x (tests)                                             -
linear_map    y = x W + b (Table 9 'Linear' ablation)                   -
============  =======================================================  ===================

The kernels (``softmax_attention``, ``longformer_attention``, ...) are pure functions wrapped in
``jax.jit`` (inlined under an outer jit; used eagerly they compile once per shape). Each is tested
against an explicit O(n^2) NumPy formula in ``tests/models/test_attention.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from wavspa_flax.attention.base import MultiHeadAttention
from wavspa_flax.attention.full import FullAttention, softmax_attention
from wavspa_flax.attention.identity import IdentityAttention, LinearMap
from wavspa_flax.attention.linear import LinearAttention, linear_attention
from wavspa_flax.attention.linformer import LinformerAttention, linformer_attention
from wavspa_flax.attention.longformer import LongformerAttention, longformer_attention
from wavspa_flax.attention.performer import (
    PerformerAttention,
    favor_attention,
    generalized_attention,
    orthogonal_random_features,
)

ATTENTIONS = {
    "full": FullAttention,
    "linformer": LinformerAttention,
    "linear": LinearAttention,
    "longformer": LongformerAttention,
    "performer": PerformerAttention,
    "identity": IdentityAttention,
    "linear_map": LinearMap,
}


@dataclasses.dataclass(frozen=True)
class AttentionFactory:
    """Makes attention modules of one kind; ``factory(length, name)`` -> module.

    ``length`` is the longest sequence the module will see (Linformer sizes its projection with
    it). Hashable, so spaces can hold it as a module attribute.
    """

    kind: str
    options: tuple = ()  # sorted (key, value) pairs passed to the class
    dtype: Any = jnp.float32

    def __call__(self, length: int | None = None, name: str | None = None):
        cls = ATTENTIONS[self.kind]
        kwargs = dict(self.options)
        if issubclass(cls, MultiHeadAttention):
            kwargs["length"] = length
        return cls(dtype=self.dtype, name=name, **kwargs)


def attention_factory(cfg, *, dtype=jnp.float32, use_rope: bool = False, kind: str | None = None) -> AttentionFactory:
    """The factory for ``cfg`` = ``config.model`` (``kind`` overrides ``cfg.attention.kind``)."""
    kind = kind or cfg.attention.kind
    if kind not in ATTENTIONS:
        raise ValueError(f"config.model.attention.kind = {kind!r} is not valid; expected one of {tuple(ATTENTIONS)}")
    a = cfg.attention
    options = {}
    if issubclass(ATTENTIONS[kind], MultiHeadAttention):
        options = dict(num_heads=cfg.num_heads, qkv_dim=cfg.qkv_dim, dropout_rate=float(cfg.attention_dropout),
                       use_bias=bool(a.use_bias), use_rope=use_rope)
    extra = {
        "full": dict(impl=a.full_impl, chunk_size=a.chunk_size),
        "linformer": dict(k=a.linformer_k),
        "longformer": dict(window=a.window, num_global=a.num_global_tokens),
        "performer": dict(kernel=a.performer_kernel, num_features=a.num_features, seed=a.performer_seed),
    }.get(kind, {})
    options.update(extra)
    return AttentionFactory(kind, tuple(sorted(options.items())), dtype)


__all__ = [
    "ATTENTIONS", "AttentionFactory", "attention_factory", "MultiHeadAttention", "FullAttention",
    "LinformerAttention", "LinearAttention", "LongformerAttention", "PerformerAttention",
    "IdentityAttention", "LinearMap", "softmax_attention", "linformer_attention", "linear_attention",
    "longformer_attention", "favor_attention", "generalized_attention", "orthogonal_random_features",
]
