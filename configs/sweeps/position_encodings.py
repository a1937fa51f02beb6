"""Position encodings compared on the quickstart (generated short ListOps), everything else equal.

    python -m lra.sweep --sweep=configs/sweeps/position_encodings.py --root=runs/position_encodings --seeds=2
    python -m lra.analyze --workdir='runs/position_encodings/*/*' --out=runs/position_encodings_analysis \\
        --compare=results/position_encodings_small --group_by=model.position --min_length=40

The attention maps' metrics (``lra.analyze``) then test, at CPU scale, the wavelet-like-properties
seed's ablation (its 5.3): do heads with RoPE become more scale-invariant / wavelet-like than with
sinusoidal, learned or no position encoding?

Argument: ``[<variant>][,smoke]``: the quickstart variant (default ``transformer``; RoPE needs an
attention with queries and keys and no wavelet space is excluded), ``smoke`` for seconds per run.
"""

POSITIONS = ("rope", "sinusoidal", "learned", "none")


def get_sweep(arg=None):
    parts = [p for p in (arg or "").split(",") if p]
    smoke = "smoke" in parts
    parts = [p for p in parts if p != "smoke"]
    variant = ",".join(parts) or "transformer"
    scale = {"scale": "smoke"} if smoke else {}
    return [{"config": f"configs/quickstart.py:{variant}", "overrides": {"model.position": p, **scale}}
            for p in POSITIONS]
