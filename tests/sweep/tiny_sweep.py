"""The tests' sweep: two smoke-scale ListOps variants on generated data (and, on request, a run that fails).

``get_sweep('all')``: both variants; ``'one'``: the first only; ``',fail'`` appended adds a run
whose global batch (3) the 2 test devices do not divide: ``lra.train`` stops it with a one-line
error before training, and its ``seed`` is set here (so ``--seeds`` leaves it alone).
"""

COMMON = {"scale": "smoke", "data.source": "generate"}
CONFIGS = ("configs/listops.py:transformer", "configs/listops.py:transformer,fixed")
FAILING = {"config": "configs/listops.py:transformer", "overrides": {**COMMON, "batch_size": 3, "seed": 0}}


def get_sweep(arg="all"):
    which, *extra = arg.split(",")
    configs = CONFIGS if which == "all" else CONFIGS[:1]
    runs = [{"config": config, "overrides": dict(COMMON)} for config in configs]
    return runs + ([FAILING] if "fail" in extra else [])
