"""Table 1: Text, the five attentions in the input, Fourier (forward only and forward+backward) and
fixed wavelet spaces. ``python -m lra.reproduce --table 1 --scale <scale>`` (argument: see
``lra.reproduce.parse_table_arg``)."""

from lra.reproduce import table_runs

ATTENTIONS = ("transformer", "linformer", "linear", "longformer", "performer")
SPACES = ("none", "fourier_forward", "fourier", "fixed")


def get_sweep(arg=None):
    return table_runs([dict(task="text", attention=a, space=s) for s in SPACES for a in ATTENTIONS], arg)
