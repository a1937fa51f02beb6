"""LEGO (the paper's Fig. 3): the Transformer and Transformer-AdaWavSpA trained on the first
positions of each chain and tested on all of them. ``python -m lra.reproduce --table lego
--scale <scale>`` (``configs/lego.py``'s scale presets; the small one is CPU-sized)."""

from lra.reproduce import table_runs


def get_sweep(arg=None):
    return table_runs([dict(task="lego", attention="transformer", space=s) for s in ("none", "ada")], arg)
