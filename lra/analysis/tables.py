"""Table output: rows as ``<stem>.csv`` and ``<stem>.md``, and JSON of numpy scalars."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lra.analysis.head_spectra import format_table


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
    text = ((f"## {title}\n\n" if title else "") + (f"{note}\n\n" if note else "") + format_table(rows, columns)
            + (f"\n\n{after}" if after else ""))
    (out / f"{stem}.md").write_text(text + "\n")
    return text


def json_default(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    raise TypeError(type(value).__name__)
