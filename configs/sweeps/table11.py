"""Table 11: Transformer-AdaWavSpA on ListOps with three initialisations of the learned wavelets
(Daubechies, Gaussian, damped cosine). ``python -m lra.reproduce --table 11 --scale <scale>``."""

from lra.reproduce import table_runs

INITS = ("wavelet", "gaussian", "damped_cos")


def get_sweep(arg=None):
    cells = [dict(task="listops", attention="transformer", space="ada", init=init,
                  overrides={"model.space.init": init}) for init in INITS]
    return table_runs(cells, arg)
