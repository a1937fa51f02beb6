"""Quickstart: a few CPU minutes of real training on generated ListOps, no download needed.

Short ListOps expressions (up to depth 4, < 100 tokens) generated offline into ``./data/listops``;
a 2-layer, 64-wide Transformer with full attention in AdaWavSpA space (learned db4 wavelets) by
default. Pick any other variant as with the task configs, e.g.
``--config=configs/quickstart.py:transformer`` or ``:performer,lift``.
"""

from lra import config as lra_config

SCALES = {"smoke": lra_config.smoke_preset(max_length=128, data={"num_train": 64, "num_val": 16, "num_test": 16})}


def get_config(arg: str = "transformer,ada"):
    config = lra_config.base_config("listops")
    config.max_length = 128
    config.batch_size = 32
    config.eval_batch_size = 128
    config.num_train_steps = 800
    config.min_steps = 800
    config.eval_every = 100
    config.checkpoint_every = 100
    config.log_every = 20
    config.learning_rate = 2e-3
    config.schedule = "cosine"
    config.warmup_steps = 50
    config.weight_decay = 0.01
    data = config.data
    data.source = "generate"
    data.num_train, data.num_val, data.num_test = 10_000, 500, 1_000
    data.min_tokens, data.max_tokens, data.max_depth = 10, 100, 4
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 2, 64, 64, 128, 2
    model.dropout, model.attention_dropout = 0.0, 0.0
    model.readout = "CLS"
    lra_config.apply_variant(config, arg, {"ada": {"space.wavelet_length": 8}})
    config.variant = f"quickstart:{arg}"
    return config
