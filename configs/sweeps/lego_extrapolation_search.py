"""Search for a CPU-sized LEGO extrapolation setting that learns its supervised positions.

``EXTRAPOLATION_SMALL`` (configs/lego.py: 12-variable chains, first 6 supervised, 4 x 64 RoPE,
lr 3e-3 constant, batch 32, 20,000 chains) learns chain positions 0-1 and then sits at chance on
positions 2-5 (validation flat at 58.1% from step 1,000 to 20,000, gradient norm ~0.05): a
plateau, not slow progress. Positions 0 and 1 need no variable lookup (position 1 can read the
root clause, the one whose operand is ``1``); position k >= 2 needs the model to find the clause
whose variable is the operand (the LEGO paper's "association" heads, attention between identical
tokens), k - 1 times. Each candidate here changes depth, width, batch, learning rate or schedule, on
the same task (12 variables, first 6 supervised, every position scored) and the paper's count of
training chains (num_vars x 10,000 = 120,000):

    python -m lra.sweep --sweep=configs/sweeps/lego_extrapolation_search.py --root=runs/lego_search
    python -m lra.sweep --sweep=configs/sweeps/lego_extrapolation_search.py --root=runs/lego_search \\
        --aggregate --fields=test_accuracy_by_index,best_val_accuracy

Validation accuracy reads the search directly: 2/12 positions right and 10 at chance is 58.3%;
each further position learned adds ~4.2 points. ``:smoke`` runs each candidate for seconds (tests).
Only the Transformer (one seed): the search picks the setting, the comparison with AdaWavSpA is
``--table lego_extrapolation`` at the chosen setting with 5 seeds.
"""

TASK = {
    "scale": "small", "data.source": "generate", "early_stopping": False, "model.position": "rope",
    "max_length": 60, "data.num_vars": 12, "data.num_train_vars": 6, "data.num_train": 120_000,
    "data.num_val": 1_000, "data.num_test": 2_000, "data.dir": "data/lego_extrapolation_search",
}
BUDGET = {"num_train_steps": 8_000, "min_steps": 8_000, "eval_every": 500, "checkpoint_every": 1_000,
          "schedule": "cosine", "warmup_steps": 500, "batch_size": 64}
# name -> what the candidate changes (the `small` preset: 4 x 64, 4 heads, MLP 128, no dropout)
CANDIDATES = {
    "deeper_6x64": {"model.num_layers": 6, "learning_rate": 1e-3},
    # 2 heads of 32 dimensions: an attention that matches identical letters needs a query-key
    # product of rank ~26 (the letters); 4 heads of 16 cannot have it, 2 of 32 can.
    "two_heads_4x64": {"model.num_heads": 2, "learning_rate": 1e-3},
    "wider_4x128": {"model.emb_dim": 128, "model.qkv_dim": 128, "model.mlp_dim": 256, "learning_rate": 1e-3},
    # training chains of 4..12 variables (val/test keep 12): fewer clauses to search on average, so a
    # lookup by variable name pays off sooner; its own data folder (different training files)
    "varied_lengths_4x64": {"data.min_train_vars": 4, "learning_rate": 1e-3,
                            "data.dir": "data/lego_extrapolation_search_varied"},
    # 4x the batch (a less noisy gradient for a weak signal), 3,000 steps: 768k chains, 1.5x the others'
    "batch256_4x64": {"batch_size": 256, "learning_rate": 2e-3, "num_train_steps": 3_000, "min_steps": 3_000,
                      "warmup_steps": 300},
    # depth: one hop by name takes about two layers (the operand token finds its namesake; the
    # variable token reads its operand), so position k needs ~2k layers done hop by hop; 8 layers
    # could reach positions 2-3, with the 32-dimensional heads of two_heads_4x64
    "deeper_8x64_two_heads": {"model.num_layers": 8, "model.num_heads": 2, "learning_rate": 1e-3},
}
SMOKE = {"scale": "smoke", "data.source": "generate", "model.position": "rope", "max_length": 30,
         "data.num_vars": 6, "data.num_train_vars": 3, "data.dir": "data/lego_extrapolation_search_smoke"}


def get_sweep(arg=None):
    if arg not in (None, "", "smoke"):
        raise ValueError(f"lego_extrapolation_search.py takes no argument or 'smoke', not {arg!r}")
    if arg == "smoke":  # a data folder per candidate: smoke data never lands in a real run's folder
        return [{"config": "configs/lego.py:transformer",
                 "overrides": {**changes, **SMOKE, "data.dir": f"{SMOKE['data.dir']}/{name}"}}
                for name, changes in CANDIDATES.items()]
    return [{"config": "configs/lego.py:transformer", "overrides": {**TASK, **BUDGET, **changes}}
            for changes in CANDIDATES.values()]
