"""Several runs compared: head metrics per run and per group (``--compare``, ``--group_by``), and the
direction in which the wavelet-like-properties seed found its RoPE model."""

from __future__ import annotations

import csv
import datetime
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lra import atomic
from lra.analysis.head_spectra import format_table
from lra.config import lookup
from lra.provenance import hardware_description
from wavspa_flax.errors import ConfigError

_MISSING = object()


def group_of(config, dotted: str):
    value = lookup(config, dotted, _MISSING)
    if value is _MISSING:
        raise ConfigError(f"--group_by={dotted!r}: the run's config has no key {dotted!r}")
    return value


def _mean_or_nan(values) -> float:
    """Mean of the values that are not nan; nan when none is (no empty-slice warning)."""
    values = np.asarray(values, np.float64)
    return float(np.nanmean(values)) if np.any(~np.isnan(values)) else float("nan")


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
                row[m] = _mean_or_nan([h.get(m, np.nan) for h in sel])  # nan: not computed for this run
            per_run.append(row)
    groups = []
    for group in dict.fromkeys(r["group"] for r in results):
        for layer in dict.fromkeys(r["layer"] for r in per_run if r["group"] == group):
            sel = [r for r in per_run if r["group"] == group and r["layer"] == layer]
            row = {"group": group, "layer": layer, "runs": len(sel), "seeds": "+".join(str(s["seed"]) for s in sel),
                   "heads": sum(s["heads"] for s in sel)}
            for m in ["test_accuracy"] + list(metrics):
                values = np.array([s[m] for s in sel], np.float64)
                row[m] = _mean_or_nan(values)
                row[f"{m}_sd"] = float(np.nanstd(values, ddof=1)) if np.sum(~np.isnan(values)) > 1 else float("nan")
            groups.append(row)
    return per_run, groups


# Eq. 10 in both readings (lra.analysis.head_spectra): ``scale_sensitivity_<alpha>`` the context reading,
# ``scale_sensitivity_dyadic_<alpha>`` the scale reading (absent when the scaled maps are not ~n / 2**s long).
SCALE_METRICS = ("scale_sensitivity_0.5", "scale_sensitivity_0.25",
                 "scale_sensitivity_dyadic_0.5", "scale_sensitivity_dyadic_0.25")
COMPARE_METRICS = SCALE_METRICS + ("entropy_correlation", "selectivity", "spectral_entropy", "positional_entropy",
                                   "band_low", "band_mid", "band_high", "reconstruction_error")


# The direction in which the wavelet-like-properties seed found its RoPE model (Table 4) against
# T5, BERT and no position encoding: lower scale sensitivity, the least negative position-spectrum
# correlation (read as better integration of position and spectrum), higher selectivity, lower
# spectral entropy.
SEED_ROPE_DIRECTION = tuple((m, True) for m in SCALE_METRICS) + (
    ("entropy_correlation", False), ("selectivity", False), ("spectral_entropy", True))


SCALE_READINGS = (
    "Eq. 10 (scale sensitivity, S = 1 - cos(W(x), W(x_alpha)), x_alpha: floor(alpha n) tokens sampled "
    "uniformly) in two readings: `scale_sensitivity_<alpha>` (context reading) restricts the full input's map "
    "to the sampled tokens and compares it with the sampled input's map at the same level, so S = 0 whenever a "
    "head attends to the sampled tokens as it did in context (a first-layer head without positions, exactly): "
    "it measures context dependence; `scale_sensitivity_dyadic_<alpha>` (scale reading) compares the levels of "
    "W(x_alpha) with the levels of W(x) log2(1/alpha) coarser (sampling every second token halves every "
    "distance), so S = 0 for a head whose pattern moves with the text's structure rather than token counts "
    "(computed only where every scaled map is about n / 2**s long: not for wavelet-band maps). "
    "The seed's values at alpha 0.5 (its Table 4, pretrained models; it does not say how it pairs "
    "coefficient vectors of different lengths): Llama-3.2 (RoPE) 0.038, GPT-2 (no PE) 0.141, BERT 0.507, "
    "flan-T5 0.627.")


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


def compare(results: Sequence[dict], prefix: str | Path, group_by: str, command: str) -> str:
    """``<prefix>.md``, ``<prefix>.csv`` (per group and layer) and ``<prefix>.png`` (every head)."""
    from lra.analysis.plots import plot_compare

    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    # A metric computed for some runs only (e.g. the dyadic reading, not for coefficient bands) stays, nan elsewhere.
    metrics = [m for m in COMPARE_METRICS if any(m in h for r in results for h in r["heads"])]
    per_run, groups = compare_rows(results, metrics)
    f = io.StringIO()
    writer = csv.DictWriter(f, list(groups[0]))
    writer.writeheader()
    for row in groups:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    atomic.write_text(f"{prefix}.csv", f.getvalue())
    per_head = [{"group": r["group"], "seed": r["seed"], **h} for r in results for h in r["heads"]]
    plot_compare(Path(f"{prefix}.png"), per_head, metrics[:8])
    verdicts = [separation(per_run, m, lower) for m, lower in SEED_ROPE_DIRECTION if m in metrics]
    walls = [r["wall_seconds"] or 0.0 for r in results]
    wall = sum(walls)
    first = results[0]
    short = ["group", "layer", "runs", "heads", "test_accuracy"] + [m for m in metrics if m in (
        SCALE_METRICS + ("entropy_correlation", "selectivity", "spectral_entropy"))]
    lines = [
        f"# Head metrics by `{group_by}`\n",
        f"Command: `{command}`\n",
        f"Written {datetime.datetime.now(datetime.UTC):%Y-%m-%d} UTC on {hardware_description()}. "
        f"{len(results)} runs of "
        f"`{first['variant']}` ({first['task']}), seeds {sorted({r['seed'] for r in results})}, "
        f"{sorted({r['steps'] for r in results})} steps each, {min(walls):.0f}-{max(walls):.0f} s of training per "
        f"run ({wall / 60:.1f} min summed); analysed: the {first['state']} state, maps of the "
        f"first {len(first['examples'])} test examples with {first['example_lengths'][0]}-"
        f"{first['example_lengths'][1]} tokens, db2 level {first['settings']['level']}.\n",
        SCALE_READINGS + "\n",
        "Means over each run's heads, then mean (and `_sd`: sample standard deviation) over the runs of a "
        "group; `layer` `all` pools the layers. All columns: the CSV; every head: the plot.\n",
        format_table(groups, short + [f"{m}_sd" for m in short[4:]]) + "\n",
        "## Per run\n",
        format_table([r for r in per_run if r["layer"] == "all"],
                        ["group", "seed", "test_accuracy", "steps", "wall_seconds"] + metrics) + "\n",
        "## Groups ordered in the direction the seed found for RoPE (runs pooled over layers)\n",
        "In the wavelet-like-properties seed (Table 4: Llama-3.2 with RoPE against flan-T5, BERT and GPT-2 "
        "without position encoding) the RoPE model had the lowest scale sensitivity, the least negative "
        "position-spectrum correlation and the lowest spectral entropy of the four, and a higher selectivity "
        "than the model without position encoding. `order`: the groups' means in that direction (`a > b`: a "
        "is the more RoPE-like by the seed's reading); `separated`: every run of the first group lies beyond "
        "every run of the others.\n",
        format_table(verdicts) + "\n",
        f"![heads]({prefix.name}.png)\n",
    ]
    text = "\n".join(lines)
    atomic.write_text(Path(f"{prefix}.md"), text)
    return text
