"""Example sweep: the quickstart (generated ListOps) for three variants x two learning rates.

    python -m lra.sweep --sweep=configs/sweeps/example.py --root=runs/example --seeds=3
    python -m lra.sweep --sweep=configs/sweeps/example.py --root=runs/example --seeds=3 --aggregate
    python -m lra.sweep --sweep=configs/sweeps/example.py:smoke ...   (a few seconds per run)

Each run is ``python -m lra.train --config=<config> --config.<key>=<value> ...`` in
``runs/example/<config stem>-<variant>/<key>=<value>,...,seed=<s>`` (README, "Sweeps").
"""

VARIANTS = ("transformer", "transformer,ada", "performer,fixed")
LEARNING_RATES = (1e-3, 2e-3)


def get_sweep(arg=None):
    if arg not in (None, "", "smoke"):
        raise ValueError(f"example.py takes no argument or 'smoke', not {arg!r}")
    scale = {"scale": "smoke"} if arg == "smoke" else {}
    return [
        {"config": f"configs/quickstart.py:{variant}", "overrides": {"learning_rate": lr, **scale}}
        for variant in VARIANTS
        for lr in LEARNING_RATES
    ]
