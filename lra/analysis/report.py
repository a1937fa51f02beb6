"""One run's analysis report: what it learned, as tables (``.csv``, ``.md``) and plots (``.png``).

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

import datetime
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lra import atomic
from lra.analysis.head_spectra import format_table
from lra.analysis.maps import collect_maps, scaled_inputs
from lra.analysis.rows import head_rows, layer_rows, learned_filters, position_rows, position_tables, wavelet_rows
from lra.analysis.run import Run, analysis_examples, train_lengths
from lra.analysis.tables import json_default, write_table
from lra.provenance import hardware_description

ALPHAS = (0.5, 0.25)
NO_MAPS = ("identity", "linear_map")


def analyze_run(run: Run, out: str | Path, *, examples: int = 16, min_length: int = 0,
                alphas: Sequence[float] = ALPHAS, level: int | None = None, plots: bool = True,
                command: str | None = None) -> dict:
    """Every section for ``run`` into ``out``; returns what it wrote (rows and notes)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if plots:
        from lra.analysis import plots as figures
    config, info = run.config, run.info
    result: dict[str, Any] = {"run": str(run.workdir), "state": run.state, "step": run.step,
                              "variant": config.variant, "task": config.task, "notes": []}
    sections = [f"# Analysis of `{run.workdir}`",
                f"Task `{config.task}`, variant `{config.variant}`, position `{config.model.position}`, seed "
                f"{config.seed}; {run.state} state at step {run.step}"
                + (f"; test accuracy {run.summary['test_accuracy']:.4f}" if run.summary else "") + ". "
                f"Written {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by `python -m lra.analyze` "
                f"on {hardware_description()}." + (f"\n\nCommand: `{command}`" if command else "")]

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
            figures.plot_wavelets(out, learned, initial, init_label)
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
        sections.append(format_table(rows))
        if plots:
            figures.plot_maps(out, units, token_to_token)
            if token_to_token:
                figures.plot_heads(out, units, rows, settings)
                sections.append("![maps](attention_maps.png)\n\n![spectra](head_spectra.png)\n\n"
                                "![entropies](head_entropies.png)\n\n![metrics](head_metrics.png)")
        result.update(heads=rows, layers=layers, settings=settings, examples=chosen.tolist(),
                      example_lengths=[int(lengths.min()), int(lengths.max())])
        result["notes"].append(note)

    # 3. position encodings
    lengths_all = np.asarray(train_lengths(config))
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
        figures.plot_positions(out, tables)
    result["positions"] = pos_rows
    atomic.write_text((out / "report.md"), "\n\n".join(sections) + "\n")
    atomic.write_text((out / "analysis.json"), json.dumps(result, indent=1, default=json_default))
    return result
