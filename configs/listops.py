"""ListOps (LRA): 10-way classification of nested MIN/MAX/MED/SM expressions, 2000 tokens.

Model: the paper's Table 6 ListOps column (used for every attention, A.4). Optimiser: the LRA
reference (lr 0.05, constant * linear warmup * rsqrt decay; the official WavSpA listops script
ignored its configured warmup and used 1000). Usage: ``--config=configs/listops.py:<variant>``.
Data: the release (``--config.data.dir=<lra_release>``) or ``--config.data.source=generate``
(the generator follows LRA's algorithm: the release's task with fresh samples).
"""

from lra import config as lra_config

# Table 6, ListOps column: AdaWavSpA filter length 40 (Ortho 16 and Lift level 3: the registry presets).
TABLE6_SPACES = {"ada": {"space.wavelet_length": 40}}

SCALES = {
    "smoke": lra_config.smoke_preset(
        max_length=64,
        data={"num_train": 64, "num_val": 16, "num_test": 16, "min_tokens": 8, "max_tokens": 64, "max_depth": 4}),
    # CPU-sized (ours, not the paper's), chosen from the regime map (results/listops_regimes_small.md):
    # 16 < length < 64 tokens, depth <= 6, 2 layers 64 wide, 4000 steps of 32 (4-6 minutes on 2 cores).
    # There both the Transformer (37.0 +- 1.0, 5 seeds) and AdaWavSpA (47.9 +- 2.1) sit above the
    # top-operator rule (30.8); at 128 tokens (5 seeds at depth 6, 3 at depth 4) the Transformer did not leave it
    # within 4000 steps (AdaWavSpA did, by 8.2 and 6.5 points). The earlier preset (64-256 tokens, 1000 steps)
    # left every model on that plateau. The LRA optimiser (lr 0.05, rsqrt) left this model at chance;
    # AdamW 2e-3 with a cosine decay learns. min_steps is
    # where the A.4 replay may first stop; 5,000 test examples give a binomial 90% half-width <= 1.2.
    "small": lra_config.small_preset(
        max_length=64, num_train_steps=4_000, min_steps=1_000, eval_every=200, checkpoint_every=400,
        learning_rate=2e-3, schedule="cosine", warmup_steps=100, weight_decay=0.01,
        data={"num_train": 20_000, "num_val": 1_000, "num_test": 5_000, "min_tokens": 16, "max_tokens": 64,
              "max_depth": 6}),
}


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("listops")
    config.max_length = 2000
    config.batch_size = 400
    config.num_train_steps = 80_000
    config.min_steps = 5_000
    config.eval_every = 100
    config.checkpoint_every = 1_000
    config.learning_rate = 0.05
    config.schedule = "rsqrt"
    config.warmup_steps = 1_000
    config.weight_decay = 0.1
    config.data.source = "release"
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 8, 128, 64, 128, 1
    model.dropout, model.attention_dropout = 0.1, 0.1
    model.position = "sinusoidal"
    model.readout = "CLS"
    model.attention.num_features = 256
    return lra_config.apply_variant(config, arg, TABLE6_SPACES)
