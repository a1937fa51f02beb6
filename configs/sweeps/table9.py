"""Table 9 (ablation): Performer in the fixed wavelet space, the forward-only and forward+backward
Fourier spaces, and the fixed wavelet space with a linear map instead of attention.
``python -m lra.reproduce --table 9 --scale <scale>``."""

from lra.reproduce import table_runs

TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
SPACES = ("fixed", "fourier_forward", "fourier", "linear")


def get_sweep(arg=None):
    return table_runs([dict(task=t, attention="performer", space=s) for s in SPACES for t in TASKS], arg)
