"""LEGO as an extrapolation test: ``python -m lra.reproduce --table lego_extrapolation --scale <scale>``.

``small``: 12-variable chains with the first 6 supervised and all 12 scored (``configs/lego.py``
``EXTRAPOLATION_SMALL``: 4 x 64, RoPE, 20,000 steps of 32; our CPU-sized choice), the Transformer and
Transformer-AdaWavSpA; run it with ``--seeds 5`` (or more). ``paper``: the second panel of the paper's
Fig. 3, 26-variable chains trained on the first 20 (``FIG3_SECOND_PANEL``, the paper's BERT-base
setting otherwise). ``smoke``: seconds, for tests (6 variables, first 3 supervised).
"""
import importlib.util
from pathlib import Path

from lra.reproduce import parse_table_arg, table_runs

_spec = importlib.util.spec_from_file_location("_lego_config", Path(__file__).resolve().parents[1] / "lego.py")
_lego = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_lego)
SMOKE = {"model.position": "rope", "data.num_vars": 6, "data.num_train_vars": 3, "max_length": 30}


def get_sweep(arg=None):
    scale = parse_table_arg(arg)[0]
    extra = {"paper": _lego.FIG3_SECOND_PANEL, "small": _lego.EXTRAPOLATION_SMALL, "smoke": SMOKE}[scale]
    return table_runs([dict(task="lego", attention="transformer", space=s, overrides=extra)
                       for s in ("none", "ada")], arg)
