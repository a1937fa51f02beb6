"""The paper's grids as sweep entries: what ``configs/sweeps/table<T>.py`` (and ``lego*.py``) call.

A table's argument ``'<scale>[,tasks=..][,attentions=..][,spaces=..][,data=generate][,<key>=<value>]'``
picks the scale, the cells and extra overrides; every run at a scale gets the same protocol
(:func:`protocol_overrides`: fixed budget and the test split tracked below paper scale).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lra.config import SCALES
from lra.data import get_task
from lra.experiments.sweep_files import parse_literal

CELL_KEYS = ("task", "attention", "space", "wavelet", "level", "init")


def parse_table_arg(arg: str | None) -> tuple[str, dict[str, list[str]], dict[str, Any]]:
    """``'<scale>[,tasks=a+b][,attentions=..][,spaces=..][,data=generate][,<dotted.key>=<value>]'`` ->
    (scale, filters, overrides). ``data=generate`` generates ListOps/Pathfinder/LEGO at any scale."""
    scale, filters, overrides = "paper", {}, {}
    for part in [p.strip() for p in (arg or "").split(",") if p.strip()]:
        key, eq, text = part.partition("=")
        if not eq:
            if key not in SCALES:
                raise ValueError(f"{part!r} is neither a scale {SCALES} nor <key>=<value>")
            scale = key
        elif key in ("tasks", "attentions", "spaces"):
            filters[key[:-1]] = text.split("+")
        elif key == "data":
            if text not in ("generate", "default"):
                raise ValueError(f"data={text!r}; expected generate or default")
            filters["data"] = [text]
        else:
            overrides[key] = parse_literal(text)
    return scale, filters, overrides


def protocol_overrides(task: str, scale: str, data: str) -> dict[str, Any]:
    """The overrides every run of a table gets at ``scale`` (module docstring): the scale, generated
    data where the task has a generator (always below paper scale), the fixed budget with the test
    split tracked below paper scale."""
    overrides: dict[str, Any] = {"scale": scale}
    if "generate" in get_task(task).sources and (scale != "paper" or data == "generate"):
        overrides["data.source"] = "generate"
    if scale != "paper":
        overrides.update({"early_stopping": False, "track_test": True})
    return overrides


def table_runs(cells: Sequence[Mapping[str, Any]], arg: str | None) -> list[dict]:
    """Sweep entries for ``cells`` (``task``, ``attention``, ``space`` and the paper's other labels;
    ``overrides``: what the cell changes) at the scale and filters of ``arg``."""
    scale, filters, overrides = parse_table_arg(arg)
    data = (filters.pop("data", None) or ["default"])[0]
    entries = []
    for cell in cells:
        if any(cell.get(key) not in allowed for key, allowed in filters.items()):
            continue
        variant = cell["attention"] + ("" if cell.get("space", "none") == "none" else f",{cell['space']}")
        labels = {k: cell[k] for k in CELL_KEYS if k in cell}
        entries.append({
            "config": f"configs/{cell['task']}.py:{variant}",
            "overrides": {**protocol_overrides(cell["task"], scale, data), **cell.get("overrides", {}), **overrides},
            "cell": labels,
        })
    return entries
