"""Table 7: the LRA baselines beside Transformer-AdaWavSpA, on the five tasks. Of the baselines,
the five attentions and FNet are implemented here; the other rows of the paper's table are listed
as not implemented. ``python -m lra.reproduce --table 7 --scale <scale>``."""

from lra.reproduce import table_runs

TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
MODELS = (("transformer", "none"), ("linformer", "none"), ("linear", "none"), ("longformer", "none"),
          ("performer", "none"), ("fnet", "none"), ("transformer", "ada"))


def get_sweep(arg=None):
    return table_runs([dict(task=t, attention=a, space=s) for a, s in MODELS for t in TASKS], arg)
