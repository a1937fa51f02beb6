"""The analysis plots (matplotlib, Agg backend; imported only when plots are written)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lra import analysis as an
from lra.analysis.maps import TOKENS, Unit


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
                    values = [r.get(m, math.nan) for r in sel if r["layer"] == layer]
                    x = gi + (si - (len(seeds) - 1) / 2) * 0.25 + rng.uniform(-0.05, 0.05, len(values))
                    ax.scatter(x, values, s=14, marker=markers[layer % len(markers)], color=f"C{si}", alpha=0.7,
                               label=f"seed {s}, layer {layer}" if gi == 0 else None)
            values = [r[m] for r in per_head if r["group"] == g and not math.isnan(r.get(m, math.nan))]
            if values:
                ax.hlines(np.mean(values), gi - 0.4, gi + 0.4, colors="black")
        ax.set_xticks(range(len(groups)), groups, fontsize=8)
        ax.set_title(m, fontsize=9)
    axes[0].legend(fontsize=6)
    _save(fig, path)
