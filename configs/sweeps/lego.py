"""LEGO (the paper's Fig. 3): the Transformer and Transformer-AdaWavSpA trained on the first
positions of each chain and tested on all of them. ``python -m lra.reproduce --table lego
--scale <scale>`` (``configs/lego.py``'s scale presets; the small one is CPU-sized)."""

from lra.reproduce import parse_table_arg, table_runs


def get_sweep(arg=None):
    # Below paper scale both models use RoPE: with the paper's learned positions a CPU-sized model does
    # not learn even the first chain position in budget (measured; configs/lego.py SCALES).
    extra = {"model.position": "rope"} if parse_table_arg(arg)[0] != "paper" else {}
    return table_runs([dict(task="lego", attention="transformer", space=s, overrides=extra)
                       for s in ("none", "ada")], arg)
