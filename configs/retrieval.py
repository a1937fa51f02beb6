"""Retrieval (LRA, ACL Anthology Network): do two papers cite each other? Byte-level, 4000 bytes
per document, a dual encoder whose pooled vectors u, v meet as [u, v] (the official code and LRA's
matching script; ``--config.model.dual_interaction=nli`` gives [u, v, u*v, u-v]).

Model: the paper's Table 6 Retrieval column. With readout CLS each document gets its own learned
CLS token here (the official dual encoder prepends none and reads token 0). Optimiser: the LRA
reference (lr 0.05, warmup 2500, rsqrt decay, weight decay 0.1). Data: the release's
``tsv_data/new_aan_pairs.*.tsv`` (``--config.data.dir=<path to lra_release>``).
"""

from lra import config as lra_config

# Table 6, Retrieval column: AdaWavSpA filter length 40.
TABLE6_SPACES = {"ada": {"space.wavelet_length": 40}}

SCALES = {
    "smoke": lra_config.smoke_preset(max_length=64, data={"limit_train": 32, "limit_eval": 8}),
    "small": lra_config.small_preset(max_length=1024, batch_size=16, num_eval_batches=64),
}


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("retrieval")
    config.max_length = 4000
    config.batch_size = 64
    config.num_train_steps = 50_000
    config.min_steps = 20_000
    config.eval_every = 500
    config.checkpoint_every = 1_000
    config.learning_rate = 0.05
    config.schedule = "rsqrt"
    config.warmup_steps = 2_500
    config.weight_decay = 0.1
    config.data.source = "release"
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 6, 256, 128, 256, 1
    model.dropout, model.attention_dropout = 0.1, 0.1
    model.position = "sinusoidal"
    model.readout = "CLS"
    model.dual_interaction = "concat"
    model.attention.num_features = 256
    return lra_config.apply_variant(config, arg, TABLE6_SPACES)
