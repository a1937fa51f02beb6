"""Table 10: the fixed-wavelet Performer-WavSpA with other wavelet families and levels, on one task.

    python -m lra.sweep --sweep=configs/sweeps/wavelet_families.py:<task>[,<scale>][,<option>...] \\
        --root=runs/table10 --seeds=3 [--set=data.dir=<lra_release>]

The argument is ``<task>`` (a ``configs/<task>.py``: listops, text, retrieval, image, pathfinder),
then optionally the scale (``paper``, default; ``small``; ``smoke``) and options:

- ``grid=table10`` (default): the paper's 8 rows: db2 L1, db3 L1-2, coif1 L1-2, sym2 L1-3;
- ``grid=full``: those four wavelets x levels 1..3 (12 runs);
- ``wavelets=db2+db4+haar`` and/or ``levels=1+2``: any pywt wavelets x levels (``+``-separated);
- ``<dotted.key>=<value>``: an override of every run, part of its identity (e.g.
  ``data.source=generate`` for ListOps or Pathfinder without the release).

E.g. ``wavelet_families.py:listops,small,data.source=generate``.
"""

import ast

TABLE10 = (("db2", 1), ("db3", 1), ("db3", 2), ("coif1", 1), ("coif1", 2), ("sym2", 1), ("sym2", 2), ("sym2", 3))
WAVELETS = ("db2", "db3", "coif1", "sym2")
SCALES = ("paper", "small", "smoke")


def _value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def get_sweep(arg="listops"):
    task, *options = [part.strip() for part in (arg or "listops").split(",") if part.strip()]
    overrides, grid, wavelets, levels = {}, "table10", None, None
    for option in options:
        key, eq, text = option.partition("=")
        if not eq:
            if key not in SCALES:
                raise ValueError(f"wavelet_families: {option!r} is neither a scale {SCALES} nor <key>=<value>")
            overrides["scale"] = key
        elif key == "grid":
            if text not in ("table10", "full"):
                raise ValueError(f"wavelet_families: grid={text!r}; expected table10 or full")
            grid = text
        elif key == "wavelets":
            wavelets = text.split("+")
        elif key == "levels":
            levels = [int(level) for level in text.split("+")]
        else:
            overrides[key] = _value(text)
    if wavelets or levels:
        pairs = [(w, lv) for w in (wavelets or WAVELETS) for lv in (levels or (1, 2, 3))]
    elif grid == "full":
        pairs = [(w, lv) for w in WAVELETS for lv in (1, 2, 3)]
    else:
        pairs = list(TABLE10)
    return [
        {"config": f"configs/{task}.py:performer,fixed",
         "overrides": {"model.space.wavelet": wavelet, "model.space.level": level, **overrides}}
        for wavelet, level in pairs
    ]
