"""Shared helpers for tests/models: tiny configs, keys, explicit NumPy references."""

from __future__ import annotations

import jax
import numpy as np

from wavspa_flax import default_model_config


def key(seed: int = 0):
    """A typed 'rbg' key: cheap to compile on CPU (threefry dropout masks compile slowly)."""
    return jax.random.key(seed, impl="rbg")


def tiny_config(**overrides):
    """A 1-layer width-8 model config; ``overrides`` use '__' for nesting (``space__kind='ada'``)."""
    cfg = default_model_config()
    cfg.num_layers, cfg.emb_dim, cfg.qkv_dim, cfg.mlp_dim, cfg.num_heads = 1, 8, 8, 16, 2
    cfg.attention_dropout = 0.0  # block dropout stays on; attention dropout is tested where asked for
    cfg.attention.linformer_k = 8
    cfg.attention.window = 6
    cfg.attention.num_features = 16
    cfg.space.wavelet_length = 4
    for name, value in overrides.items():
        node = cfg
        *path, last = name.split("__")
        for part in path:
            node = node[part]
        node[last] = value
    return cfg


def masked_softmax_reference(q, k, v, allowed):
    """Explicit O(n^2) attention: ``q, k, v [B, n, H, dh]``, ``allowed`` broadcastable to [B, H, n, n]."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
    logits = np.where(allowed, logits, -1e30)
    p = np.exp(logits - logits.max(-1, keepdims=True)) * allowed
    p = p / np.maximum(p.sum(-1, keepdims=True), 1e-300)
    return np.einsum("bhqk,bkhd->bqhd", p, v)


def random_qkv(shape, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for _ in range(3)]


def length_mask(lengths, n):
    return np.arange(n)[None, :] < np.asarray(lengths)[:, None]
