"""``build_model``: config -> linen module (classification, dual-encoder retrieval, per-token).

Call: ``module.apply({'params': p}, inputs, lengths, train=bool, rngs={'dropout': key})``.

* ``'classification'``: ``inputs [B, n]`` int, ``lengths [B]`` -> logits ``[B, C]``.
* ``'dual'``: ``inputs [B, 2, n]``, ``lengths [B, 2]`` -> ``[B, C]``; one shared encoder for both
  documents, pooled u, v combined by ``dual_interaction`` then an MLP head. With readout 'CLS'
  each document gets its own learned token prepended; the official dual encoder prepends none
  and reads token 0 (readout 'CLS2' or 'MEAN' prepend nothing here either).
* ``'token'``: ``inputs [B, n]`` -> ``[B, n, C]`` (LEGO); no CLS token, ``readout`` unused.

The mask is ``position < length`` (token id 0 may be a real token). ``module.encode(inputs,
lengths, train=...)`` returns the pooled vectors (``[B, d]``, dual: ``[B, 2, d]``).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from wavspa_flax.config import compute_dtype, validate_model_config
from wavspa_flax.encoder import Encoder
from wavspa_flax.heads import ClassifierHead, DualHead, TokenHead, pool
from wavspa_flax.mixers import mixer_factory
from wavspa_flax.registry import ModuleFactory


class WavspaModel(nn.Module):
    """Encoder + head for one ``task_kind``; built by :func:`build_model`."""

    encoder: ModuleFactory
    task_kind: str
    num_classes: int
    mlp_dim: int
    readout: str = "CLS"
    dual_interaction: str = "concat"
    dtype: Any = jnp.float32

    def setup(self):
        self.encoder_module = self.encoder(name="encoder")
        if self.task_kind == "classification":
            self.head = ClassifierHead(self.num_classes, self.mlp_dim, self.dtype, name="head")
        elif self.task_kind == "dual":
            self.head = DualHead(self.num_classes, self.mlp_dim, self.dual_interaction, self.dtype, name="head")
        else:
            self.head = TokenHead(self.num_classes, name="head")

    def _check(self, inputs, lengths):
        want = 3 if self.task_kind == "dual" else 2
        if inputs.ndim != want or lengths.shape != inputs.shape[:-1]:
            raise ValueError(
                f"task_kind={self.task_kind!r} expects inputs of rank {want} and lengths of shape "
                f"inputs.shape[:-1]; got inputs {inputs.shape}, lengths {lengths.shape}"
            )

    def encode(self, inputs, lengths, train: bool = False):
        """Pooled encodings ``[B, d]`` (dual: ``[B, 2, d]``)."""
        self._check(inputs, lengths)
        flat_inputs = inputs.reshape((-1, inputs.shape[-1]))
        x, mask = self.encoder_module(flat_inputs, lengths.reshape(-1), deterministic=not train)
        return pool(x, mask, self.readout).reshape(inputs.shape[:-1] + (x.shape[-1],))

    def __call__(self, inputs, lengths, train: bool = False):
        self._check(inputs, lengths)
        if self.task_kind == "token":
            x, _ = self.encoder_module(inputs, lengths, deterministic=not train)
            return self.head(x)
        pooled = self.encode(inputs, lengths, train)
        if self.task_kind == "dual":
            return self.head(pooled[:, 0], pooled[:, 1])
        return self.head(pooled)


def build_model(model_cfg, *, vocab_size: int, num_classes: int, max_length: int, task_kind: str) -> WavspaModel:
    """Validate ``model_cfg`` (``config.model``) and build the model (see module docstring)."""
    validate_model_config(model_cfg, task_kind)
    for name, value in (("vocab_size", vocab_size), ("num_classes", num_classes), ("max_length", max_length)):
        if int(value) < 1:
            raise ValueError(f"build_model: {name} must be >= 1, got {value}")
    dtype = compute_dtype(model_cfg)
    cls_token = task_kind != "token" and model_cfg.readout == "CLS"
    encoder = ModuleFactory(Encoder, (
        ("vocab_size", int(vocab_size)), ("max_length", int(max_length)), ("emb_dim", model_cfg.emb_dim),
        ("num_layers", model_cfg.num_layers), ("mixer", mixer_factory(model_cfg, dtype)),
        ("mlp_dim", model_cfg.mlp_dim), ("position", model_cfg.position), ("norm", model_cfg.norm),
        ("dropout", float(model_cfg.dropout)), ("activation", model_cfg.mlp_activation),
        ("cls_token", cls_token), ("dtype", dtype),
    ))
    return WavspaModel(
        encoder, task_kind, int(num_classes), model_cfg.mlp_dim, model_cfg.readout, model_cfg.dual_interaction, dtype
    )
