"""Image (LRA, CIFAR-10): 10-way classification of grayscale 32x32 images as 1024 pixel tokens.

Model: the paper's Table 6 Image column, learned position embeddings as in the official code, CLS2
readout (first and last token) for the parameterised wavelets (A.4), CLS otherwise. Optimiser: the
LRA image reference (lr 5e-4, no weight decay, warmup 10000 then a cosine restarting every 35000
steps). Data: tfds ``cifar10``, validation = the last 10% of train.
"""

from lra import config as lra_config

# Table 6, Image column: AdaWavSpA filter length 40, and CLS2 for the parameterised wavelets (A.4).
TABLE6_SPACES = {
    "ada": {"space.wavelet_length": 40, "readout": "CLS2"},
    "ortho": {"readout": "CLS2"},
    "lift": {"readout": "CLS2"},
}

SCALES = {
    "smoke": lra_config.smoke_preset(max_length=1024, data={"limit_train": 32, "limit_eval": 8}),
    "small": lra_config.small_preset(num_eval_batches=32),
}


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("image")
    config.max_length = 1024
    config.batch_size = 64
    config.num_train_steps = 200_000
    config.min_steps = 20_000
    config.eval_every = 500
    config.checkpoint_every = 2_000
    config.learning_rate = 5e-4
    config.schedule = "cosine"
    config.cosine_cycle_steps = 35_000
    config.warmup_steps = 10_000
    config.weight_decay = 0.0
    config.data.source = "tfds"
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 8, 128, 64, 128, 1
    model.dropout, model.attention_dropout = 0.1, 0.1
    model.position = "learned"
    model.readout = "CLS"
    model.attention.num_features = 512
    return lra_config.apply_variant(config, arg, TABLE6_SPACES)
