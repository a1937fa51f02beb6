"""The attention maps of a model's forward pass: every map an attention sows into the flax
collection ``"intermediates"``, per layer and sequence (or band), and the token-subsampled inputs
of the scale-sensitivity metric (eq. 10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from lra.analysis.head_spectra import sample_indices

TOKENS = "tokens"


@dataclasses.dataclass
class Unit:
    """The maps of one attention call: ``maps [E, H, n, m]`` for the E analysed sequences (a pair's
    two documents count as two), ``mask [E, n]`` of valid positions or None."""

    layer: int
    sequence: str
    maps: np.ndarray
    mask: np.ndarray | None

    def cropped(self, square: bool = True) -> list[np.ndarray]:
        """Each sequence's ``[H, n_valid, m_valid]`` map (columns kept whole when not ``square``)."""
        out = []
        for e in range(self.maps.shape[0]):
            if self.mask is None:
                out.append(self.maps[e])
                continue
            idx = np.nonzero(self.mask[e])[0]
            a = self.maps[e][:, idx]
            out.append(a[:, :, idx] if square else a)
        return out


def _walk(tree, path=()):
    if isinstance(tree, Mapping):
        for key in tree:
            yield from _walk(tree[key], path + (str(key),))
    else:
        yield path, tree


def _sequence_name(mixer_path: tuple, index: int, calls: int, space: str) -> str:
    if space == "none" and mixer_path == ("attention",):
        return TOKENS
    name = "/".join(mixer_path) or "mixer"
    return f"{name}#{index}" if calls > 1 else name


def collect_maps(model, params, inputs, lengths, space: str, batch_size: int = 16) -> list[Unit]:
    """Run the model with ``"intermediates"`` mutable and gather every sown attention map."""
    import jax

    sown = _sow_function(model)
    count = len(inputs)
    chunks: list[dict] = []
    for start in range(0, count, batch_size):
        idx = np.minimum(np.arange(start, start + batch_size), count - 1)  # fixed shape: one compile
        tree = jax.tree.map(np.asarray, sown(params, inputs[idx], lengths[idx]))
        take = min(batch_size, count - start)
        chunks.append({"/".join(p): [np.asarray(v)[:take * _per_example(inputs)] for v in leaf]
                       for p, leaf in _walk(tree)})
    merged = {key: [np.concatenate([c[key][j] for c in chunks]) for j in range(len(chunks[0][key]))]
              for key in chunks[0]}
    units = []
    for key, values in merged.items():
        parts = tuple(key.split("/"))
        if parts[-1] != "attention_maps":
            continue
        block = next((p for p in parts if p.startswith("block_")), None)
        layer = int(block.split("_")[1]) if block else 0
        mixer_path = parts[parts.index("mixer") + 1:-1] if "mixer" in parts else parts[:-1]
        masks = merged.get("/".join(parts[:-1] + ("attention_mask",)))
        for j, maps in enumerate(values):
            units.append(Unit(layer, _sequence_name(mixer_path, j, len(values), space), maps,
                              None if masks is None else masks[j]))
    units.sort(key=lambda u: (u.layer, u.sequence))
    return units


_SOW_FUNCTIONS: dict[int, tuple[Any, Any]] = {}


def _sow_function(model):
    """``jit((params, inputs, lengths) -> intermediates)`` of ``model``, one per model (the scaled
    inputs have the same padded shape, so they reuse its compilation)."""
    import jax

    if id(model) not in _SOW_FUNCTIONS:
        def sown(params, x, lengths):
            _, state = model.apply({"params": params}, x, lengths, train=False, mutable=["intermediates"])
            return state.get("intermediates", {})

        _SOW_FUNCTIONS[id(model)] = (model, jax.jit(sown))  # the model is kept so its id stays unique
    return _SOW_FUNCTIONS[id(model)][1]


def _per_example(inputs) -> int:
    return int(np.prod(inputs.shape[1:-1])) if inputs.ndim > 2 else 1


def scaled_inputs(inputs, lengths, alpha: float):
    """Inputs keeping the tokens ``sample_indices(len, alpha)`` of each sequence (padded with 0):
    ``(inputs, lengths, kept)`` with ``kept`` the token positions per sequence (flattened pairs)."""
    n = inputs.shape[-1]
    flat, flat_len = inputs.reshape(-1, n), lengths.reshape(-1)
    out, new_len, kept = np.zeros_like(flat), np.zeros_like(flat_len), []
    for i, (x, length) in enumerate(zip(flat, flat_len)):
        idx = sample_indices(int(length), alpha)
        out[i, : len(idx)] = x[idx]
        new_len[i] = len(idx)
        kept.append(idx)
    return out.reshape(inputs.shape), new_len.reshape(lengths.shape), kept
