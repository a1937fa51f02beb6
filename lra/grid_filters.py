"""Name filters of a grid (``--tasks``, ``--attentions``, ``--spaces``): each name must be in the grid.

A filter value that matches no cell would otherwise select nothing and quietly produce an empty
table (over a committed results file, with the default ``--out``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wavspa_flax.errors import UserError, did_you_mean


def check_filters(entries: Sequence[Mapping], filters: Mapping[str, Sequence[str]],
                  error: type[UserError] = UserError) -> None:
    """Raise ``error`` naming each filter value that no entry's ``cell`` labels carry.

    ``entries``: sweep entries with ``cell`` labels (``{"task": ..., "attention": ..., "space": ...}``);
    ``filters``: ``{"task": [...], "attention": [...], "space": [...]}`` (the ``--tasks`` etc. values).
    """
    for key, wanted in filters.items():
        known = sorted({str(entry.get("cell", {}).get(key)) for entry in entries
                        if entry.get("cell", {}).get(key) is not None})
        unknown = [name for name in wanted if name not in known]
        if unknown:
            hints = "".join(did_you_mean(name, known) for name in unknown)
            raise error(f"--{key}s: {', '.join(repr(n) for n in unknown)} not in this table's grid{hints}; "
                        f"expected some of {known}")
