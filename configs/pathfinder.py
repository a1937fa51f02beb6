"""Pathfinder (LRA): are the two discs joined by one path? 32x32 images as 1024 pixel tokens
(``data.resolution`` 64 and 128 = Path-X also load).

Model: the paper's Table 6 Pathfinder column (1 layer, 8 heads, dropout 0.2, MEAN readout).
Optimiser: the official WavSpA PF32 configs (lr 1e-3, 5e-4 for Performer; no weight decay; warmup
2500 then a cosine restarting every 32000 steps). Data: the release's ``pathfinder32/`` folders
(hard = ``curv_contour_length_14`` by default), or ``--config.data.source=generate``.
"""

from lra import config as lra_config

# Table 6, Pathfinder column: AdaWavSpA filter length 40.
TABLE6_SPACES = {"ada": {"space.wavelet_length": 40}}

SCALES = {
    "smoke": lra_config.smoke_preset(max_length=1024, data={"num_train": 16, "num_val": 8, "num_test": 8}),
    "small": lra_config.small_preset(
        **{"model.num_layers": 1, "model.num_heads": 4},
        data={"num_train": 4_000, "num_val": 500, "num_test": 500}),
}


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("pathfinder")
    config.max_length = 1024
    config.batch_size = 512
    config.num_train_steps = 500_000
    config.min_steps = 20_000
    config.eval_every = 500
    config.checkpoint_every = 2_000
    config.learning_rate = 1e-3
    config.schedule = "cosine"
    config.cosine_cycle_steps = 32_000
    config.warmup_steps = 2_500
    config.weight_decay = 0.0
    config.data.source = "release"
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 1, 128, 64, 128, 8
    model.dropout, model.attention_dropout = 0.2, 0.1
    model.position = "sinusoidal"
    model.readout = "MEAN"
    model.attention.num_features = 512
    lra_config.apply_variant(config, arg, TABLE6_SPACES)
    if config.model.attention.kind == "performer":  # the official pf32 Performer configs
        config.learning_rate = 5e-4
    return config
