"""Table 3: the five attentions x the five LRA tasks in the input (N/A), Fourier (F) and fixed
wavelet (W: db2, level 1) spaces. ``python -m lra.reproduce --table 3 --scale <scale>``."""

from lra.reproduce import table_runs

TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
ATTENTIONS = ("transformer", "linformer", "linear", "longformer", "performer")
SPACES = ("none", "fourier", "fixed")


def get_sweep(arg=None):
    return table_runs([dict(task=t, attention=a, space=s) for a in ATTENTIONS for t in TASKS for s in SPACES], arg)
