"""Table 4 (and Table 2, its averages): the five attentions x the five LRA tasks in the input and
the parameterised wavelet spaces (AdaWavSpA, OrthoWavSpA, LiftWavSpA; Table 6 settings).
``python -m lra.reproduce --table 4 --scale <scale>``."""

from lra.reproduce import table_runs

TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
ATTENTIONS = ("transformer", "linformer", "linear", "longformer", "performer")
SPACES = ("none", "ada", "ortho", "lift")


def get_sweep(arg=None):
    return table_runs([dict(task=t, attention=a, space=s) for a in ATTENTIONS for s in SPACES for t in TASKS], arg)
