"""One run's metrics as table rows: attention heads (seed eq. 1-11) per head and per layer, learned
wavelets (A.7) per channel and per layer, position tables as Fourier features."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from lra import analysis as an
from lra.analysis.maps import TOKENS, Unit
from lra.analysis.run import Run


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
