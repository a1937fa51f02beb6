"""What a trained run learned: tables (``.csv``, ``.md``) and plots (``.png``) from its best state.

    python -m lra.analyze --workdir=RUN --out=DIR [--examples=16] [--min_length=0] [--state=best]
    python -m lra.analyze --workdir='runs/pe/*/*' --out=DIR --compare=results/x --group_by=model.position

Reads ``RUN/config.json`` and the state in ``RUN/best/`` (``--state=final``: the newest
``RUN/checkpoints/``), rebuilds the model, and writes into DIR (``report.md`` links everything):

1. **Learned wavelets** (Ada/Ortho spaces; WavSpA A.7, Fig. 4): ``wavelet_symmetry.csv/.md`` (per
   layer and channel: the A.7 symmetry measure of the learned scaling filter, of its initial
   filter and of its QMF wavelet, the distance moved ``||h - h0|| / ||h0||``),
   ``wavelet_layers.csv/.md`` (per layer), ``wavelet_symmetry.png`` (violins per layer, initial
   value marked), ``wavelet_responses.png`` (learned and initial frequency responses),
   ``wavelet_distance.png``. The initial filters are the run's own: the parameters ``lra.train``
   initialised (``create_train_state`` with the first half of ``split(make_key(seed))``).
2. **Attention-head spectra** (seed eq. 1-11, :mod:`lra.analysis.head_spectra`) on the first
   ``--examples`` test examples of the run's own task (those with at least ``--min_length``
   tokens): ``heads.csv/.md`` (per layer, sequence, head), ``layers.csv/.md`` (per layer;
   ``entropy_correlation`` is then rho_layer, eq. 9), ``attention_maps.png``,
   ``head_spectra.png``, ``head_entropies.png``, ``head_metrics.png``.
3. **Position encodings as Fourier features** (:mod:`lra.analysis.position_kernels`):
   ``position_kernels.csv/.md`` and ``position_kernels.png``: the kernel ``<P_i, P_j>`` of the
   sinusoidal table and of the learned table (after training and at initialisation) over ``i - j``,
   its spectrum and its shift invariance.

How the maps are obtained. The model is applied with the flax collection ``"intermediates"``
mutable; every attention then sows its ``[B, H, n, m]`` maps (``MultiHeadAttention``,
``wavspa_flax/attention/base.py``; nothing is computed otherwise). Each example's map is cropped
to its valid positions (the sown mask: tokens plus the CLS token in the input space, the
coefficients whose support touches a token in a wavelet space), so no padding is analysed.

* ``full``/``transformer``: ``softmax(q k^T / sqrt(dh))``; ``longformer``: the same over its window
  and global keys, zeros elsewhere; ``linear`` and ``performer``: the implied normalised kernel
  matrix ``D^-1 phi(Q) phi(K)^T`` (never formed in training; it is the linear map applied to the
  values; FAVOR+: the model's own random-feature estimate). Every metric applies to these.
* ``linformer``: each query's softmax over the k *projected rows*: not a token-to-token map, so
  only the row entropy over the projected rows is reported (``projected_row_entropy``); spectra,
  wavelet entropies, scale sensitivity and reconstruction need token positions and are not given.
* ``identity``, ``linear_map`` and the attention-free mixers have no maps: the section says so.
* Inside a transformed space the attention acts on each coefficient band: the maps are per band
  (``sequence`` = ``band_<j>`` in the space's band order, ``band_0`` the coarsest; a shared module
  called on several bands gives ``attention#<j>``), and each band is analysed as a sequence of
  coefficients. In the input space ``sequence`` is ``tokens``.

Scale sensitivity (eq. 10). The scaled input ``x_alpha`` of an example of ``len`` tokens keeps the
tokens ``sample_indices(len, alpha)`` (evenly spread: every second / fourth token for alpha 0.5 /
0.25, so it spans the same expression), padded like any input. In the input space the full
map is compared on exactly those tokens (the CLS token, when the model prepends one, is kept at
position 0: ``index = [0, 1 + kept]``). In a band, coefficient ``k`` of the scaled input is
compared with coefficient ``floor(k n_j / m_j)`` of the full one (the library's uniform rule on
the band lengths: an approximation, a coefficient's support is not a token). Examples with fewer
than ``2 / min(alpha)`` tokens are skipped.

Levels: the DWT level of the wavelet entropies and the reconstruction is the default level of the
shortest analysed map of the run (the seed's rule), the FFT grid that of the longest.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import glob
import json
import logging
import math
import os
import platform
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lra import analysis as an
from lra.cli import run_main
from wavspa_flax.errors import ConfigError, UserError

log = logging.getLogger("lra.analyze")

ALPHAS = (0.5, 0.25)
TOKENS = "tokens"
LEARNED_SPACES = ("ada", "ortho")
NO_MAPS = ("identity", "linear_map")


# ---------------------------------------------------------------------------------------------
# Loading a run


@dataclasses.dataclass
class Run:
    workdir: Path
    config: Any            # ml_collections.ConfigDict
    info: Any              # lra.data.tasks.TaskInfo
    model: Any
    params: Any            # the analysed state's parameters (numpy)
    init_params: Any       # the parameters lra.train initialised the run with
    step: int
    state: str             # 'best' | 'final'
    summary: dict | None

    @property
    def name(self) -> str:
        return self.workdir.name

    @property
    def attention_kind(self) -> str:
        """The attention inside the mixer ('' for an attention-free mixer)."""
        from wavspa_flax.spaces import SPACES

        model = self.config.model
        if model.mixer != "attention":
            return ""
        return SPACES.entry(model.space.kind).meta.get("attention") or model.attention.kind

    @property
    def space_kind(self) -> str:
        return str(self.config.model.space.kind) if self.config.model.mixer == "attention" else ""


def read_config(workdir: Path, data_dir: str | None = None):
    """The run's resolved config from ``config.json`` (``data_dir`` replaces ``data.dir``), with the
    options added since the run at their current defaults."""
    from lra.config import with_current_defaults

    path = workdir / "config.json"
    if not path.exists():
        raise ConfigError(f"{path} not found: --workdir must be a folder lra.train wrote (config.json, best/)")
    config = with_current_defaults(json.loads(path.read_text()))
    if data_dir is not None:
        config.data.dir = data_dir
    return config


def load_run(workdir: str | Path, state: str = "best", data_dir: str | None = None) -> Run:
    """Rebuild the model of ``workdir``, its initial parameters and the ``state`` ('best' or 'final')."""
    import jax

    from lra.checkpoint import CheckpointStore
    from lra.data import get_task
    from lra.steps import make_key
    from lra.train import create_train_state
    from wavspa_flax import build_model

    workdir = Path(workdir)
    config = read_config(workdir, data_dir)
    info = get_task(config.task).info(config)
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    init_key, _ = jax.random.split(make_key(config.seed))
    template = create_train_state(model, config, info, init_key)
    folder = {"best": "best", "final": "checkpoints"}.get(state)
    if folder is None:
        raise ConfigError(f"--state must be 'best' or 'final', got {state!r}")
    if not (workdir / folder).is_dir():
        raise ConfigError(f"{workdir / folder} not found: the run has no {state} state yet")
    store = CheckpointStore(workdir / folder, 1 if state == "best" else 1_000_000)
    try:
        restored = store.restore_latest(template)
    finally:
        store.close()
    if restored is None:
        raise ConfigError(f"no checkpoint in {workdir / folder} restores into this config's model")
    to_numpy = lambda tree: jax.tree.map(np.asarray, tree)  # noqa: E731
    summary_path = workdir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Run(workdir, config, info, model, to_numpy(restored[0].params), to_numpy(template.params),
               int(restored[0].step), state, summary)


_DATASETS: dict[str, Any] = {}


def dataset_of(config):
    """``lra.data.load_dataset(config)``, loaded once per data config in this process."""
    from lra.data import load_dataset

    key = json.dumps({"task": config.task, "max_length": config.max_length,
                      "data": json.loads(config.data.to_json_best_effort())}, sort_keys=True)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(config)
    return _DATASETS[key]


def analysis_examples(config, count: int, min_length: int = 0, split: str = "test"):
    """The first ``count`` examples of ``split`` with at least ``min_length`` tokens (every document
    of a pair): ``(inputs [E, ..., n], lengths [E, ...], indices [E])``."""
    arrays = dataset_of(config).splits[split]
    lengths = np.asarray(arrays["lengths"])
    shortest = lengths.reshape(len(lengths), -1).min(axis=1)
    chosen = np.nonzero(shortest >= min_length)[0][:count]
    if len(chosen) == 0:
        raise UserError(f"no {split} example has {min_length} tokens or more (lower --min_length)")
    return np.asarray(arrays["inputs"])[chosen], lengths[chosen], chosen


# ---------------------------------------------------------------------------------------------
# Attention maps out of the model


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
        idx = an.sample_indices(int(length), alpha)
        out[i, : len(idx)] = x[idx]
        new_len[i] = len(idx)
        kept.append(idx)
    return out.reshape(inputs.shape), new_len.reshape(lengths.shape), kept


# ---------------------------------------------------------------------------------------------
# Head metrics


def head_rows(units: Sequence[Unit], scaled_units: Mapping[float, Sequence[Unit]] | None,
              kept: Mapping[float, list] | None, *, token_to_token: bool, cls_token: bool,
              level: int | None = None) -> tuple[list[dict], dict]:
    """One row per (layer, sequence, head) and the settings used (level, nfft)."""
    crops = {(u.layer, u.sequence): u.cropped(token_to_token) for u in units}
    if not token_to_token:
        rows = []
        for u in units:
            for h in range(u.maps.shape[1]):
                ent = np.concatenate([an.positional_entropy(c[h]) for c in crops[(u.layer, u.sequence)]])
                rows.append({"layer": u.layer, "sequence": u.sequence, "head": h,
                             "maps": len(crops[(u.layer, u.sequence)]), "projected_row_entropy": float(ent.mean())})
        return rows, {}
    sizes = [c.shape[-1] for cs in crops.values() for c in cs]
    level = an.default_level(min(sizes)) if level is None else level
    nfft = an.fft_length(max(sizes))
    scaled_crops = {alpha: {(u.layer, u.sequence): u.cropped() for u in us}
                    for alpha, us in (scaled_units or {}).items()}
    rows = []
    for u in units:
        key = (u.layer, u.sequence)
        for h in range(u.maps.shape[1]):
            scaled = {alpha: [c[h] for c in sc[key]] for alpha, sc in scaled_crops.items()}
            index = None
            if u.sequence == TOKENS and kept:
                index = {alpha: [np.r_[0, 1 + k] if cls_token else k for k in ks] for alpha, ks in kept.items()}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pywt: boundary effects at the level of short maps
                metrics = an.head_metrics([c[h] for c in crops[key]], scaled, level=level, nfft=nfft,
                                          scaled_index=index)
            rows.append({"layer": u.layer, "sequence": u.sequence, "head": h, "maps": len(crops[key]),
                         "mean_length": float(np.mean([c.shape[-1] for c in crops[key]])), **metrics})
    return rows, {"level": level, "nfft": nfft}


def layer_rows(rows: Sequence[dict]) -> list[dict]:
    """Means over the (sequence, head) rows of each layer (NaN left out); ``heads`` counts them."""
    out = []
    for layer in sorted({r["layer"] for r in rows}):
        group = [r for r in rows if r["layer"] == layer]
        keys = [k for k, v in group[0].items() if k not in ("layer", "head", "maps") and isinstance(v, float)]
        row = {"layer": layer, "heads": len(group)}
        for k in keys:
            values = np.array([g[k] for g in group], np.float64)
            row[k] = float(np.nanmean(values)) if np.any(~np.isnan(values)) else float("nan")
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# Learned wavelets


def learned_filters(params, config) -> dict[int, np.ndarray]:
    """``{layer: scaling filters [d, L]}`` of an Ada or Ortho space (empty for other spaces)."""
    from wavspa_flax.wavelets import lattice_scaling_filter

    kind = config.model.space.kind if config.model.mixer == "attention" else ""
    out = {}
    encoder = params.get("encoder", {})
    for name in sorted(encoder, key=lambda s: int(s.split("_")[1]) if s.startswith("block_") else -1):
        if not name.startswith("block_"):
            continue
        mixer = encoder[name].get("mixer", {})
        if kind == "ada" and "scaling_filters" in mixer:
            out[int(name.split("_")[1])] = np.asarray(mixer["scaling_filters"], np.float64)
        elif kind == "ortho" and "angles" in mixer:
            h = lattice_scaling_filter(np.asarray(mixer["angles"], np.float64),
                                       lowpass=bool(config.model.space.ortho_lowpass))
            out[int(name.split("_")[1])] = np.asarray(h, np.float64)
    return out


def wavelet_rows(learned: Mapping[int, np.ndarray], initial: Mapping[int, np.ndarray]):
    """Per (layer, channel) and per-layer rows of the A.7 measures."""
    rows, layers = [], []
    for layer, h in learned.items():
        h0 = initial[layer]
        sym, sym0 = an.symmetry(h), an.symmetry(h0)
        sym_w = an.symmetry(h, of="wavelet")
        moved = an.relative_change(h, h0)
        for c in range(h.shape[0]):
            rows.append({"layer": layer, "channel": c, "symmetry": float(sym[c]), "symmetry_initial": float(sym0[c]),
                         "symmetry_wavelet": float(sym_w[c]), "relative_change": float(moved[c]),
                         "lowpass_sum": float(h[c].sum())})
        layers.append({
            "layer": layer, "channels": int(h.shape[0]), "length": int(h.shape[1]),
            "symmetry_mean": float(sym.mean()), "symmetry_std": float(sym.std(ddof=1)) if len(sym) > 1 else 0.0,
            "symmetry_min": float(sym.min()), "symmetry_max": float(sym.max()),
            "symmetry_initial_mean": float(sym0.mean()),
            "initial_filters_identical": bool(np.allclose(h0, h0[:1])),
            "fraction_less_symmetric_than_initial": float(np.mean(sym > sym0)),
            "relative_change_mean": float(moved.mean()), "relative_change_max": float(moved.max()),
        })
    return rows, layers


# ---------------------------------------------------------------------------------------------
# Position tables


def position_tables(run: Run, used_rows: int) -> list[dict]:
    """``[{'name', 'table' [n, d], 'used_by_model'}]``: the sinusoidal table (always, as the reference
    when the model does not add it) and the learned one, trained and initial."""
    from wavspa_flax.position import sinusoidal_table

    model = run.config.model
    rows = run.info.max_length + int(run.info.kind != "token" and model.readout == "CLS")
    tables = [{"name": "sinusoidal", "table": sinusoidal_table(rows, model.emb_dim).astype(np.float64),
               "used_by_model": model.position == "sinusoidal"}]
    position = run.params.get("encoder", {}).get("position", {})
    if "pos_embedding" in position:
        tables.append({"name": "learned", "table": np.asarray(position["pos_embedding"], np.float64),
                       "used_by_model": True})
        tables.append({"name": "learned (initial)",
                       "table": np.asarray(run.init_params["encoder"]["position"]["pos_embedding"], np.float64),
                       "used_by_model": False})
    for t in tables:
        t["used_rows"] = min(used_rows, len(t["table"]))
    return tables


def position_rows(tables: Sequence[dict]) -> list[dict]:
    out = []
    for t in tables:
        p = t["table"]
        out.append({
            "table": t["name"], "used_by_model": t["used_by_model"], "rows": int(p.shape[0]), "dim": int(p.shape[1]),
            "shift_invariance": float(an.shift_invariance(p)),
            "used_rows": t["used_rows"], "shift_invariance_used_rows": float(an.shift_invariance(p[: t["used_rows"]])),
        })
    return out


# ---------------------------------------------------------------------------------------------
# Output helpers


def write_table(out: Path, stem: str, rows: Sequence[dict], title: str = "", note: str = "",
                after: str = "") -> str:
    """``<stem>.csv`` and ``<stem>.md`` (title, note, table, ``after``); returns the markdown."""
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    text = ((f"## {title}\n\n" if title else "") + (f"{note}\n\n" if note else "") + an.format_table(rows, columns)
            + (f"\n\n{after}" if after else ""))
    (out / f"{stem}.md").write_text(text + "\n")
    return text


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(count: int, cols: int, size=(3.2, 2.6)):
    plt = _pyplot()
    cols = max(1, min(cols, count))
    rows = max(1, math.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.ravel()[count:]:
        ax.axis("off")
    return plt, fig, axes.ravel()


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)


def plot_wavelets(out: Path, learned, initial, label: str) -> None:
    plt = _pyplot()
    layers = sorted(learned)
    sym = [an.symmetry(learned[layer]) for layer in layers]
    sym0 = [an.symmetry(initial[layer]) for layer in layers]
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 + 1.2 * len(layers)), 3.6))
    positions = np.arange(1, len(layers) + 1)
    ax.violinplot(sym, positions=positions, showmeans=True, widths=0.7)
    shared = all(np.allclose(s0, s0[0]) for s0 in sym0)
    for x, s0 in zip(positions, sym0):
        if shared:
            ax.hlines(s0[0], x - 0.4, x + 0.4, colors="red", linestyles="dotted", linewidth=2)
        else:
            parts = ax.violinplot([s0], positions=[x + 0.35], widths=0.3, showextrema=False)
            for body in parts["bodies"]:
                body.set_facecolor("grey")
    if shared:
        ax.plot([], [], "r:", label=f"initial ({label})")
    else:
        ax.fill_between([], [], color="grey", alpha=0.5, label=f"initial ({label}), per channel")
    ax.set_xticks(positions, [str(layer) for layer in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("symmetry (A.7; 0 = symmetric)")
    ax.set_title("learned scaling filters (one per channel)", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    _save(fig, out / "wavelet_symmetry.png")

    plt, fig, axes = _grid(len(layers), 4)
    for ax, layer in zip(axes, layers):
        omega, lo, hi = an.frequency_response(learned[layer])
        _, lo0, hi0 = an.frequency_response(initial[layer])
        ax.plot(omega, lo.T, color="tab:blue", alpha=0.15, linewidth=0.7)
        ax.plot(omega, hi.T, color="tab:orange", alpha=0.15, linewidth=0.7)
        ax.plot(omega, lo0[0], "k--", linewidth=1.2, label="initial low-pass")
        ax.plot(omega, hi0[0], "k:", linewidth=1.2, label="initial high-pass")
        ax.set_title(f"layer {layer}: |H(e^iw)|")
        ax.set_xlabel("omega (rad/sample)")
        ax.set_xlim(0, np.pi)
    axes[0].plot([], [], color="tab:blue", label="learned low-pass")
    axes[0].plot([], [], color="tab:orange", label="learned high-pass")
    axes[0].legend(fontsize=6)
    _save(fig, out / "wavelet_responses.png")

    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 + 1.2 * len(layers)), 3.2))
    ax.violinplot([an.relative_change(learned[layer], initial[layer]) for layer in layers], positions=positions,
                  showmeans=True, widths=0.7)
    ax.set_xticks(positions, [str(layer) for layer in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("||h - h0|| / ||h0||")
    ax.set_title("distance moved from the initial filter")
    _save(fig, out / "wavelet_distance.png")


def plot_maps(out: Path, units: Sequence[Unit], token_to_token: bool) -> None:
    heads = units[0].maps.shape[1]
    plt, fig, axes = _grid(len(units) * heads, heads, size=(2.8, 2.6))
    for i, u in enumerate(units):
        first = u.cropped(token_to_token)[0]
        for h in range(heads):
            ax = axes[i * heads + h]
            ax.imshow(first[h], cmap="viridis", aspect="auto", interpolation="nearest")
            ax.set_title(f"L{u.layer} {u.sequence} h{h}", fontsize=8)
            ax.set_xlabel("key", fontsize=7)
            ax.set_ylabel("query", fontsize=7)
    _save(fig, out / "attention_maps.png")


def mean_spectrum(maps: Sequence[np.ndarray], nfft: int):
    """Mean over all rows of the row-normalised PSD: ``(freqs, [K])``."""
    total, count, freqs = 0.0, 0, None
    for a in maps:
        freqs, power = an.psd(a, nfft)
        power = power / np.maximum(power.sum(axis=-1, keepdims=True), an.head_spectra.EPS)
        total = total + power.sum(axis=0)
        count += power.shape[0]
    return freqs, total / max(count, 1)


def plot_heads(out: Path, units: Sequence[Unit], rows: Sequence[dict], settings: dict) -> None:
    plt, fig, axes = _grid(len(units), 4)
    for ax, u in zip(axes, units):
        crops = u.cropped()
        for h in range(u.maps.shape[1]):
            freqs, spec = mean_spectrum([c[h] for c in crops], settings["nfft"])
            ax.semilogy(freqs, spec, label=f"head {h}")
        for edge in (0.25, 0.75):
            ax.axvline(edge, color="grey", linestyle=":", linewidth=0.8)
        ax.set_title(f"layer {u.layer} {u.sequence}", fontsize=9)
        ax.set_xlabel("frequency / Nyquist")
    axes[0].set_ylabel("mean normalised PSD")
    axes[0].legend(fontsize=7)
    _save(fig, out / "head_spectra.png")

    plt, fig, axes = _grid(len(units), 4)
    rho = {(r["layer"], r["sequence"], r["head"]): r["entropy_correlation"] for r in rows}
    for ax, u in zip(axes, units):
        for h in range(u.maps.shape[1]):
            hp, hs = zip(*(an.row_entropies(c[h], settings["nfft"]) for c in u.cropped()))
            ax.scatter(np.concatenate(hp), np.concatenate(hs), s=3, alpha=0.4,
                       label=f"h{h} rho={rho[(u.layer, u.sequence, h)]:.2f}")
        ax.set_title(f"layer {u.layer} {u.sequence}", fontsize=9)
        ax.set_xlabel("positional entropy (nats)")
        ax.set_ylabel("spectral entropy (nats)")
        ax.legend(fontsize=7, markerscale=3)
    _save(fig, out / "head_entropies.png")

    labels = [f"L{r['layer']}{'' if r['sequence'] == TOKENS else ' ' + r['sequence']} h{r['head']}" for r in rows]
    x = np.arange(len(rows))
    scales = [k for k in rows[0] if k.startswith("wavelet_entropy_")]
    sens = [k for k in rows[0] if k.startswith("scale_sensitivity_")]
    plt, fig, axes = _grid(4, 2, size=(max(4.0, 0.5 * len(rows) + 2), 2.8))
    bottom = np.zeros(len(rows))
    for band in an.BAND_NAMES:
        values = np.array([r[f"band_{band}"] for r in rows])
        axes[0].bar(x, values, bottom=bottom, label=band)
        bottom += values
    axes[0].set_title("band power fractions (eq. 2)")
    axes[0].legend(fontsize=7)
    axes[1].bar(x, [r["selectivity"] for r in rows])
    axes[1].set_title("frequency selectivity (eq. 3)")
    width = 0.8 / max(len(sens), 1)
    for i, k in enumerate(sens):
        axes[2].bar(x + i * width, [r[k] for r in rows], width=width, label=k.replace("scale_sensitivity_", "alpha "))
    axes[2].set_title("scale sensitivity (eq. 10)")
    if sens:
        axes[2].legend(fontsize=7)
    for k in scales:
        axes[3].plot(x, [r[k] for r in rows], marker="o", label=k.replace("wavelet_entropy_", ""))
    axes[3].set_title("db2 wavelet entropy per scale (eq. 5)")
    axes[3].legend(fontsize=7)
    for ax in axes[:4]:
        ax.set_xticks(x, labels, rotation=60, fontsize=7)
    _save(fig, out / "head_metrics.png")


def plot_positions(out: Path, tables: Sequence[dict]) -> None:
    plt, fig, axes = _grid(3, 3, size=(4.0, 3.2))
    styles = {"sinusoidal": "-", "learned": "-", "learned (initial)": "--"}
    for t in tables:
        p = t["table"][: t["used_rows"]]
        k = an.offset_average(an.position_kernel(p))
        delta = an.offsets(len(p))
        label = t["name"] + ("" if t["used_by_model"] or "initial" in t["name"] else " (reference)")
        axes[0].plot(delta, k / max(abs(k[len(p) - 1]), 1e-12), styles.get(t["name"], "-"), label=label)
        omega, spectrum = an.kernel_spectrum(p)
        axes[1].semilogy(omega, np.maximum(np.abs(spectrum), 1e-12) / max(np.abs(spectrum).max(), 1e-12),
                         styles.get(t["name"], "-"), label=label)
    axes[0].set_title("kernel k(i - j) / k(0), first used rows")
    axes[0].set_xlabel("i - j")
    axes[0].legend(fontsize=7)
    axes[1].set_title("spectrum of k (normalised)")
    axes[1].set_xlabel("omega (rad/token)")
    shown = next((t for t in tables if t["name"] == "learned"), tables[0])
    p = shown["table"][: shown["used_rows"]]
    im = axes[2].imshow(an.position_kernel(p), cmap="RdBu_r", interpolation="nearest")
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    axes[2].set_title(f"<P_i, P_j> ({shown['name']})")
    axes[2].set_xlabel("j")
    axes[2].set_ylabel("i")
    _save(fig, out / "position_kernels.png")


# ---------------------------------------------------------------------------------------------
# One run


def analyze_run(run: Run, out: str | Path, *, examples: int = 16, min_length: int = 0,
                alphas: Sequence[float] = ALPHAS, level: int | None = None, plots: bool = True,
                command: str | None = None) -> dict:
    """Every section for ``run`` into ``out``; returns what it wrote (rows and notes)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config, info = run.config, run.info
    result: dict[str, Any] = {"run": str(run.workdir), "state": run.state, "step": run.step,
                              "variant": config.variant, "task": config.task, "notes": []}
    sections = [f"# Analysis of `{run.workdir}`",
                f"Task `{config.task}`, variant `{config.variant}`, position `{config.model.position}`, seed "
                f"{config.seed}; {run.state} state at step {run.step}"
                + (f"; test accuracy {run.summary['test_accuracy']:.4f}" if run.summary else "") + ". "
                f"Written {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by `python -m lra.analyze` "
                f"on {hardware()}." + (f"\n\nCommand: `{command}`" if command else "")]

    # 1. learned wavelets
    learned = learned_filters(run.params, config)
    if learned:
        initial = learned_filters(run.init_params, config)
        channel_rows, layers = wavelet_rows(learned, initial)
        space = config.model.space
        init_label = (f"db{space.wavelet_length // 2}" if run.space_kind == "ada" and space.init == "wavelet"
                      and not space.init_wavelet else space.init_wavelet or getattr(space, "init", ""))
        if run.space_kind == "ortho":
            init_label = f"lattice, {space.ortho_init} angles"
        write_table(out, "wavelet_symmetry", channel_rows)
        sections.append(write_table(
            out, "wavelet_layers", layers, "Learned wavelets (A.7, Fig. 4)",
            f"Space `{run.space_kind}`, filter length {space.wavelet_length}, initial filters: {init_label}. "
            "`symmetry`: sum_k |u_k - u_(L-1-k)| of the unit-normalised scaling filter (0 = symmetric); "
            "`symmetry_wavelet`: the same of its QMF high-pass; `relative_change`: ||h - h0|| / ||h0||. "
            "Per channel: `wavelet_symmetry.csv`.",
            "![symmetry](wavelet_symmetry.png)\n\n![responses](wavelet_responses.png)\n\n"
            "![distance](wavelet_distance.png)" if plots else ""))
        if plots:
            plot_wavelets(out, learned, initial, init_label)
        result["wavelet_layers"] = layers
    else:
        sections.append("## Learned wavelets\n\nNot applicable: the space is "
                        f"`{run.space_kind or config.model.mixer}` (only `ada` and `ortho` learn filters).")

    # 2. attention-head spectra
    kind = run.attention_kind
    if not kind or kind in NO_MAPS:
        sections.append(f"## Attention heads\n\nNo attention maps: the mixer is `{kind or config.model.mixer}`.")
    else:
        token_to_token = kind != "linformer"
        min_tokens = max(int(min_length), math.ceil(2 / min(alphas)) if alphas else 1)
        inputs, lengths, chosen = analysis_examples(config, examples, min_tokens)
        units = collect_maps(run.model, run.params, inputs, lengths, run.space_kind)
        scaled_units, kept = {}, {}
        if token_to_token:
            for alpha in alphas:
                x_a, len_a, kept[alpha] = scaled_inputs(inputs, lengths, alpha)
                scaled_units[alpha] = collect_maps(run.model, run.params, x_a, len_a, run.space_kind)
        cls_token = info.kind != "token" and config.model.readout == "CLS"
        rows, settings = head_rows(units, scaled_units, kept, token_to_token=token_to_token,
                                   cls_token=cls_token, level=level)
        layers = layer_rows(rows)
        how = ("" if not token_to_token else
               f"Maps of the first {len(chosen)} test examples with >= {min_tokens} tokens (lengths "
               f"{int(lengths.min())}-{int(lengths.max())}), each cropped to its valid positions; db2 level "
               f"{settings['level']}, FFT length {settings['nfft']}; scaled inputs keep every 1/alpha-th token "
               f"(alpha {', '.join(f'{a:g}' for a in alphas)}).")
        what = {"linear": "the implied normalised kernel matrix D^-1 phi(Q) phi(K)^T (phi = elu + 1)",
                "performer": "the implied normalised kernel matrix D^-1 phi(Q) phi(K)^T of the LayerNorm-ed q, k",
                "longformer": "the banded softmax map (zeros outside the window and global keys)",
                "linformer": "each query's softmax over the k projected rows (not token-to-token: only the "
                             "row entropy over those rows applies)"}.get(kind, "softmax(q k^T / sqrt(dh))")
        bands = "" if run.space_kind == "none" else (
            f" Inside the `{run.space_kind}` space the attention acts on each coefficient band: each band is "
            "analysed as a sequence (`sequence`).")
        note = f"Attention `{kind}`: the maps are {what}.{bands} {how}"
        write_table(out, "heads", rows)
        sections.append(write_table(out, "layers", layers, "Attention heads (seed eq. 1-11)",
                                    note + " Per head: `heads.csv` / `heads.md`."))
        sections.append(an.format_table(rows))
        if plots:
            plot_maps(out, units, token_to_token)
            if token_to_token:
                plot_heads(out, units, rows, settings)
                sections.append("![maps](attention_maps.png)\n\n![spectra](head_spectra.png)\n\n"
                                "![entropies](head_entropies.png)\n\n![metrics](head_metrics.png)")
        result.update(heads=rows, layers=layers, settings=settings, examples=chosen.tolist(),
                      example_lengths=[int(lengths.min()), int(lengths.max())])
        result["notes"].append(note)

    # 3. position encodings
    lengths_all = np.asarray(_train_lengths(config))
    used = int(lengths_all.max()) + int(info.kind != "token" and config.model.readout == "CLS")
    tables = position_tables(run, used)
    pos_rows = position_rows(tables)
    sections.append(write_table(
        out, "position_kernels", pos_rows, "Position encodings as Fourier features",
        f"Model position encoding: `{config.model.position}`. Kernel K = P P^T of each table; "
        "`shift_invariance` = ||Toeplitz part||^2 / ||K||^2 (1: a kernel of i - j only); `used_rows`: the "
        "positions the training data reached (the longest train sequence, + CLS), the rest of a learned "
        "table never receives a gradient. " + ("RoPE has no table: it rotates q and k by the sinusoidal "
        "frequencies, so its q-k kernel is relative by construction; the sinusoidal row is a reference. "
        if config.model.position == "rope" else ""), "![kernels](position_kernels.png)" if plots else ""))
    if plots:
        plot_positions(out, tables)
    result["positions"] = pos_rows
    (out / "report.md").write_text("\n\n".join(sections) + "\n")
    (out / "analysis.json").write_text(json.dumps(result, indent=1, default=_json_default))
    return result


def _train_lengths(config):
    return np.asarray(dataset_of(config).splits["train"]["lengths"])


def _json_default(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    raise TypeError(type(value).__name__)


# ---------------------------------------------------------------------------------------------
# Several runs compared


def _lookup(config, dotted: str):
    node = config
    for part in dotted.split("."):
        if not hasattr(node, "keys") or part not in node:
            raise ConfigError(f"--group_by={dotted!r}: the run's config has no key {dotted!r}")
        node = node[part]
    return node


def compare_rows(results: Sequence[dict], metrics: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """Per-run rows (mean over its heads, overall and per layer) and per-group rows (mean and sample
    standard deviation over the group's runs of those run means)."""
    per_run = []
    for r in results:
        heads = r["heads"]
        for layer in ["all"] + sorted({h["layer"] for h in heads}):
            sel = [h for h in heads if layer == "all" or h["layer"] == layer]
            row = {"group": r["group"], "seed": r["seed"], "layer": layer, "heads": len(sel),
                   "test_accuracy": r["test_accuracy"], "steps": r["steps"], "wall_seconds": r["wall_seconds"]}
            for m in metrics:
                values = np.array([h[m] for h in sel], np.float64)
                row[m] = float(np.nanmean(values)) if np.any(~np.isnan(values)) else float("nan")
            per_run.append(row)
    groups = []
    for group in dict.fromkeys(r["group"] for r in results):
        for layer in dict.fromkeys(r["layer"] for r in per_run if r["group"] == group):
            sel = [r for r in per_run if r["group"] == group and r["layer"] == layer]
            row = {"group": group, "layer": layer, "runs": len(sel), "seeds": "+".join(str(s["seed"]) for s in sel),
                   "heads": sum(s["heads"] for s in sel)}
            for m in ["test_accuracy"] + list(metrics):
                values = np.array([s[m] for s in sel], np.float64)
                row[m] = float(np.nanmean(values))
                row[f"{m}_sd"] = float(np.nanstd(values, ddof=1)) if np.sum(~np.isnan(values)) > 1 else float("nan")
            groups.append(row)
    return per_run, groups


COMPARE_METRICS = ("scale_sensitivity_0.5", "scale_sensitivity_0.25", "entropy_correlation", "selectivity",
                   "spectral_entropy", "positional_entropy", "band_low", "band_mid", "band_high",
                   "reconstruction_error")


# The direction in which the wavelet-like-properties seed found its RoPE model (Table 4) against
# T5, BERT and no position encoding: lower scale sensitivity, the least negative position-spectrum
# correlation (read as better integration of position and spectrum), higher selectivity, lower
# spectral entropy.
SEED_ROPE_DIRECTION = (("scale_sensitivity_0.5", True), ("scale_sensitivity_0.25", True),
                       ("entropy_correlation", False), ("selectivity", False), ("spectral_entropy", True))


def separation(per_run: Sequence[dict], metric: str, lower_first: bool = True) -> dict:
    """The groups ordered by their mean over runs (layer 'all') in the given direction, and whether
    every run of the first group lies beyond every run of the others (``separated``)."""
    runs = [r for r in per_run if r["layer"] == "all" and not math.isnan(r[metric])]
    groups = list(dict.fromkeys(r["group"] for r in runs))
    sign = 1.0 if lower_first else -1.0
    means = {g: np.mean([sign * r[metric] for r in runs if r["group"] == g]) for g in groups}
    order = sorted(means, key=means.get)
    worst_first = max(sign * r[metric] for r in runs if r["group"] == order[0])
    others = [sign * r[metric] for r in runs if r["group"] != order[0]]
    return {"metric": metric, "seed_rope_direction": "lower" if lower_first else "higher",
            "order": " > ".join(order), "first": order[0], "separated": bool(others) and worst_first < min(others)}


def hardware() -> str:
    """``'<CPU model>, <n> cores'`` (or the machine type when /proc/cpuinfo is unreadable)."""
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def plot_compare(path: Path, per_head: Sequence[dict], metrics: Sequence[str]) -> None:
    plt, fig, axes = _grid(len(metrics), 3, size=(3.6, 3.0))
    groups = list(dict.fromkeys(r["group"] for r in per_head))
    seeds = sorted({r["seed"] for r in per_head})
    markers = ["o", "s", "^", "D", "v", "P"]
    rng = np.random.default_rng(0)
    for ax, m in zip(axes, metrics):
        for gi, g in enumerate(groups):
            for si, s in enumerate(seeds):
                sel = [r for r in per_head if r["group"] == g and r["seed"] == s]
                for layer in sorted({r["layer"] for r in sel}):
                    values = [r[m] for r in sel if r["layer"] == layer]
                    x = gi + (si - (len(seeds) - 1) / 2) * 0.25 + rng.uniform(-0.05, 0.05, len(values))
                    ax.scatter(x, values, s=14, marker=markers[layer % len(markers)], color=f"C{si}", alpha=0.7,
                               label=f"seed {s}, layer {layer}" if gi == 0 else None)
            values = [r[m] for r in per_head if r["group"] == g and not math.isnan(r[m])]
            if values:
                ax.hlines(np.mean(values), gi - 0.4, gi + 0.4, colors="black")
        ax.set_xticks(range(len(groups)), groups, fontsize=8)
        ax.set_title(m, fontsize=9)
    axes[0].legend(fontsize=6)
    _save(fig, path)


def compare(results: Sequence[dict], prefix: str | Path, group_by: str, command: str) -> str:
    """``<prefix>.md``, ``<prefix>.csv`` (per group and layer) and ``<prefix>.png`` (every head)."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    metrics = [m for m in COMPARE_METRICS if all(m in h for r in results for h in r["heads"])]
    per_run, groups = compare_rows(results, metrics)
    with open(f"{prefix}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(groups[0]))
        writer.writeheader()
        for row in groups:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    per_head = [{"group": r["group"], "seed": r["seed"], **h} for r in results for h in r["heads"]]
    plot_compare(Path(f"{prefix}.png"), per_head, metrics[:6])
    verdicts = [separation(per_run, m, lower) for m, lower in SEED_ROPE_DIRECTION if m in metrics]
    walls = [r["wall_seconds"] or 0.0 for r in results]
    wall = sum(walls)
    first = results[0]
    short = ["group", "layer", "runs", "heads", "test_accuracy"] + [m for m in metrics if m in (
        "scale_sensitivity_0.5", "scale_sensitivity_0.25", "entropy_correlation", "selectivity", "spectral_entropy")]
    lines = [
        f"# Head metrics by `{group_by}`\n",
        f"Command: `{command}`\n",
        f"Written {datetime.datetime.now(datetime.UTC):%Y-%m-%d} UTC on {hardware()}. {len(results)} runs of "
        f"`{first['variant']}` ({first['task']}), seeds {sorted({r['seed'] for r in results})}, "
        f"{sorted({r['steps'] for r in results})} steps each, {min(walls):.0f}-{max(walls):.0f} s of training per "
        f"run ({wall / 60:.1f} min in all, one run at a time); analysed: the {first['state']} state, maps of the "
        f"first {len(first['examples'])} test examples with {first['example_lengths'][0]}-"
        f"{first['example_lengths'][1]} tokens, db2 level {first['settings']['level']}.\n",
        "Means over each run's heads, then mean (and `_sd`: sample standard deviation) over the runs of a "
        "group; `layer` `all` pools the layers. All columns: the CSV; every head: the plot.\n",
        an.format_table(groups, short + [f"{m}_sd" for m in short[4:]]) + "\n",
        "## Per run\n",
        an.format_table([r for r in per_run if r["layer"] == "all"],
                        ["group", "seed", "test_accuracy", "steps", "wall_seconds"] + metrics) + "\n",
        "## Groups ordered in the direction the seed found for RoPE (runs pooled over layers)\n",
        "In the wavelet-like-properties seed (Table 4: Llama-3.2 with RoPE against flan-T5, BERT and GPT-2 "
        "without position encoding) the RoPE model had the lowest scale sensitivity, the least negative "
        "position-spectrum correlation and the lowest spectral entropy of the four, and a higher selectivity "
        "than the model without position encoding. `order`: the groups' means in that direction (`a > b`: a "
        "is the more RoPE-like by the seed's reading); `separated`: every run of the first group lies beyond "
        "every run of the others.\n",
        an.format_table(verdicts) + "\n",
        f"![heads]({prefix.name}.png)\n",
    ]
    text = "\n".join(lines)
    Path(f"{prefix}.md").write_text(text)
    return text


# ---------------------------------------------------------------------------------------------
# Command line


def _expand(patterns: Sequence[str]) -> list[Path]:
    runs = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        runs += [Path(m) for m in matches if (Path(m) / "config.json").exists() or not any(c in pattern for c in "*?[")]
    if not runs:
        raise ConfigError(f"--workdir {list(patterns)} matched no run folder (one with config.json)")
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m lra.analyze", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", action="append", required=True,
                        help="a run folder (repeat, or a quoted glob, for several runs)")
    parser.add_argument("--out", required=True, help="output folder (one subfolder per run when several)")
    parser.add_argument("--state", default="best", choices=("best", "final"))
    parser.add_argument("--examples", type=int, default=16, help="test examples whose maps are analysed")
    parser.add_argument("--min_length", type=int, default=0, help="skip test examples with fewer tokens")
    parser.add_argument("--alphas", default="0.5,0.25", help="scale factors of eq. 10 ('' for none)")
    parser.add_argument("--level", type=int, default=None, help="DWT level (default: that of the shortest map)")
    parser.add_argument("--data_dir", default=None, help="replaces the run's data.dir")
    parser.add_argument("--no_plots", action="store_true")
    parser.add_argument("--compare", default=None, help="path prefix of a table (.md/.csv) and plot (.png) "
                        "comparing the runs' head metrics, grouped by --group_by")
    parser.add_argument("--group_by", default="model.position", help="config key that names a run's group")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("absl").setLevel(logging.WARNING)
    alphas = tuple(float(a) for a in args.alphas.split(",") if a.strip())
    workdirs = _expand(args.workdir)
    results = []
    command = "python -m lra.analyze " + " ".join(
        a if "*" not in a else f"'{a}'" for a in (argv if argv is not None else sys.argv[1:]))
    for workdir in workdirs:
        run = load_run(workdir, args.state, args.data_dir)
        out = Path(args.out) if len(workdirs) == 1 else Path(args.out) / run.name
        log.info("analysing %s -> %s", workdir, out)
        result = analyze_run(run, out, examples=args.examples, min_length=args.min_length, alphas=alphas,
                             level=args.level, plots=not args.no_plots, command=command)
        summary = run.summary or {}
        result.update(group=str(_lookup(run.config, args.group_by)), seed=int(run.config.seed),
                      test_accuracy=summary.get("test_accuracy_final_state" if args.state == "final"
                                                else "test_accuracy", float("nan")),
                      steps=summary.get("steps_completed", run.step), wall_seconds=summary.get("wall_seconds"))
        results.append(result)
    if args.compare:
        if any("heads" not in r or "scale_sensitivity_0.5" not in r["heads"][0] for r in results):
            raise ConfigError("--compare needs runs with token-to-token attention maps and --alphas 0.5")
        compare(results, args.compare, args.group_by, command)
        log.info("wrote %s.md/.csv/.png", args.compare)
    return 0


if __name__ == "__main__":
    run_main(main)
