"""Table 10: Performer-WavSpA with other fixed wavelet families and levels, on the five tasks.
``python -m lra.reproduce --table 10 --scale <scale>`` (``configs/sweeps/wavelet_families.py``
is the free-form version of this grid for ``lra.sweep``)."""

from lra.reproduce import table_runs

TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
WAVELETS = (("db2", 1), ("db3", 1), ("db3", 2), ("coif1", 1), ("coif1", 2), ("sym2", 1), ("sym2", 2), ("sym2", 3))


def get_sweep(arg=None):
    cells = [dict(task=t, attention="performer", space="fixed", wavelet=w, level=str(level),
                  overrides={"model.space.wavelet": w, "model.space.level": level})
             for w, level in WAVELETS for t in TASKS]
    return table_runs(cells, arg)
