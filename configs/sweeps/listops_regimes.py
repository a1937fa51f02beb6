"""ListOps regime map (issue: find where a CPU-sized model leaves the top-operator plateau).

Transformer and Transformer-AdaWavSpA at the ``small`` model (2 x 64, AdamW 2e-3, cosine) on
generated ListOps of growing length, trained 4,000 steps of 32 with validation every 200 steps,
so each run's learning curve is also the training-length axis of the map.

    python -m lra.sweep --sweep=configs/sweeps/listops_regimes.py --root=runs/listops_regimes
    python -m lra.sweep --sweep=configs/sweeps/listops_regimes.py:smoke --root=/tmp/r   (seconds)

Lengths are ``min_tokens < length < max_tokens`` with ``min = max / 4``; depth 6 throughout, plus
depth 4 at 128 tokens (the quickstart's depth) to separate depth from length. Each regime generates
its data into its own folder (``data/listops_regimes/<max>_<depth>``), so regimes never overwrite
each other's files.
"""

VARIANTS = ("transformer", "transformer,ada")
# (max_tokens, max_depth), in the order they run: the cheapest first.
REGIMES = ((64, 6), (128, 6), (256, 6), (512, 6), (128, 4))


def regime_overrides(max_tokens: int, max_depth: int, smoke: bool = False) -> dict:
    """The ``--config.<key>`` overrides of one regime (``small`` scale, or ``smoke`` for tests)."""
    data = {"data.source": "generate", "data.dir": f"data/listops_regimes/{max_tokens}_{max_depth}"}
    if smoke:
        return {**data, "scale": "smoke", "max_length": max_tokens, "data.max_tokens": max_tokens,
                "data.min_tokens": max_tokens // 4, "data.max_depth": max_depth}
    return {**data, "scale": "small", "max_length": max_tokens, "num_train_steps": 4_000, "min_steps": 4_000,
            "eval_every": 200, "checkpoint_every": 400,
            "data.num_train": 20_000, "data.num_val": 1_000, "data.num_test": 2_000,
            "data.min_tokens": max_tokens // 4, "data.max_tokens": max_tokens, "data.max_depth": max_depth}


def get_sweep(arg=None):
    if arg not in (None, "", "smoke"):
        raise ValueError(f"listops_regimes.py takes no argument or 'smoke', not {arg!r}")
    return [{"config": f"configs/listops.py:{variant}",
             "overrides": regime_overrides(max_tokens, depth, smoke=arg == "smoke")}
            for max_tokens, depth in REGIMES for variant in VARIANTS]
