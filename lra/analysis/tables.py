"""Table output: rows as ``<stem>.csv`` and ``<stem>.md``, and JSON of numpy scalars."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lra import atomic
from lra.analysis.head_spectra import format_table


def write_table(out: Path, stem: str, rows: Sequence[dict], title: str = "", note: str = "",
                after: str = "") -> str:
    """``<stem>.csv`` and ``<stem>.md`` (title, note, table, ``after``); returns the markdown."""
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    f = io.StringIO()
    writer = csv.DictWriter(f, columns)
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    atomic.write_text(out / f"{stem}.csv", f.getvalue())
    text = ((f"## {title}\n\n" if title else "") + (f"{note}\n\n" if note else "") + format_table(rows, columns)
            + (f"\n\n{after}" if after else ""))
    atomic.write_text((out / f"{stem}.md"), text + "\n")
    return text


def json_default(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    raise TypeError(type(value).__name__)
