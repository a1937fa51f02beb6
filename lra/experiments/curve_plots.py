"""Validation curves of runs, with the ListOps reference rules drawn as lines where a panel has them:
one panel per group (a regime of the map, a task x attention of a table), one colour per model or space.

Each run is a thin line, the mean over its line's seeds at every step a thick one with markers,
the reference rules (majority class, top-operator rule, top operator + shallow digits on the
panel's own test split) horizontal grey lines. Every panel shares one y axis from 0, so a panel's
height never exaggerates a difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lra.experiments import listops_rules

RULE_STYLES = {"majority": ":", "top_operator": "--", "top_operator_digits": "-."}


@dataclass
class Panel:
    """One panel: ``lines[label][run] = [(step, validation accuracy in %), ...]``; ``references``:
    rule -> accuracy in % (None: no rule lines); ``empty_note``: what an empty panel says."""

    title: str
    lines: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    references: Mapping[str, float] | None = None
    empty_note: str = "no finished run"


def panels_from_curves(curves: Sequence[Mapping], panel_of, line_of, titles: Mapping, line_order: Sequence[str],
                       references: Mapping | None = None) -> list[Panel]:
    """Panels from ``_curves.csv`` rows: ``panel_of(row)`` / ``line_of(row)`` key a row's panel and
    line; ``titles``: panel key -> title, in panel order; ``references``: panel key -> rules (in %)."""
    panels = {key: Panel(title, {label: {} for label in line_order}, (references or {}).get(key))
              for key, title in titles.items()}
    for row in curves:
        panel, line = panels.get(panel_of(row)), line_of(row)
        if panel is None or row.get("val_accuracy") is None or line not in panel.lines:
            continue
        panel.lines[line].setdefault(str(row["run"]), []).append((int(row["step"]), 100 * row["val_accuracy"]))
    return list(panels.values())


def line_label(labels: Mapping) -> str:
    """A table cell's line within its task x attention panel: its space and the labels that refine it
    (wavelet, level, initialisation), e.g. ``'fixed db2 1'``."""
    return " ".join(str(labels[k]) for k in ("space", "wavelet", "level", "init") if labels.get(k) not in (None, ""))


def table_panels(rows: Sequence[Mapping], curves: Sequence[Mapping]) -> list[Panel]:
    """A reproduced table's panels: one per task x attention that has curves, one line per space
    (:func:`line_label`), the ListOps reference rules of the cell's own data where the row has them."""
    key = lambda row: (row["task"], row["attention"])  # noqa: E731
    keys = list(dict.fromkeys(key(c) for c in curves))
    references = {key(r): r for r in rows if r.get("top_operator") is not None and key(r) in keys}
    lines = list(dict.fromkeys(line_label(c) for c in curves))
    return panels_from_curves(curves, key, line_label, {k: f"{k[0]}, {k[1]}" for k in keys}, lines, references)


def plot_validation_panels(panels: Sequence[Panel], path: Path, title: str, columns: int = 3) -> Path:
    """Draws ``panels`` (module docstring) into ``path`` (a PNG) and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = max(1, min(columns, len(panels)))
    grid_rows = max(1, math.ceil(len(panels) / columns))
    size = (max(4.2 * columns, 6.4), 3.4 * grid_rows + (0.8 if columns == 1 else 0))  # room for a lone panel's title
    fig, axes = plt.subplots(grid_rows, columns, figsize=size, squeeze=False, sharey=True)
    labels = list(dict.fromkeys(label for panel in panels for label in panel.lines))
    colors = {label: f"C{i}" for i, label in enumerate(labels)}
    last_step = max((s for p in panels for runs in p.lines.values() for c in runs.values() for s, _ in c), default=1)
    values = [v for p in panels for runs in p.lines.values() for c in runs.values() for _, v in c]
    for ax, panel in zip(axes.flat, panels, strict=False):
        drawn = False
        for label, runs in panel.lines.items():
            by_step: dict[int, list[float]] = {}
            for curve in runs.values():
                curve = sorted(curve)
                ax.plot([s for s, _ in curve], [v for _, v in curve], color=colors[label], alpha=0.3, linewidth=0.8)
                for step, value in curve:
                    by_step.setdefault(step, []).append(value)
            if by_step:
                drawn = True
                steps = sorted(by_step)
                ax.plot(steps, [sum(by_step[s]) / len(by_step[s]) for s in steps], color=colors[label], marker="o",
                        markersize=3, label=f"{label} (n={len(runs)})")
        if not drawn:
            ax.text(0.5, 0.5, panel.empty_note, transform=ax.transAxes, ha="center", color="gray")
            ax.set_xlim(0, last_step)  # the other panels' step axis
        for rule, style in RULE_STYLES.items():
            if panel.references and panel.references.get(rule) is not None:
                ax.axhline(panel.references[rule], color="gray", linestyle=style, linewidth=1,
                           label=listops_rules.RULE_LABELS[rule])
                values.append(panel.references[rule])
        ax.set_title(panel.title)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
        if drawn or panel.references:
            ax.legend(fontsize=7, loc="lower right")
    axes.flat[0].set_ylim(0, max(values, default=95) + 5)  # shared: every panel on one scale from 0
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("validation accuracy (%)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
