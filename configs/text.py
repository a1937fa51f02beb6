"""Text (LRA, IMDB reviews): byte-level binary sentiment classification, 4096 bytes.

Model: the paper's Table 6 Text column. Length 4096 as in the WavSpA runs (the LRA repo's config
uses 1000). Optimiser: the LRA reference (lr 0.05, linear warmup then rsqrt decay, weight decay
0.1). IMDB has no validation split: like LRA and the official code, validation is the test split
(the summary reports the test accuracy of the best-on-validation state and of the final state).
Data: tfds ``imdb_reviews`` (``--config.data.dir`` is the tfds data_dir).
"""

from lra import config as lra_config

# Table 6, Text column: AdaWavSpA filter length 16.
TABLE6_SPACES = {"ada": {"space.wavelet_length": 16}}

SCALES = {
    "smoke": lra_config.smoke_preset(max_length=64, data={"limit_train": 32, "limit_eval": 8}),
    "small": lra_config.small_preset(max_length=1024, num_eval_batches=32),
}


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("text")
    config.max_length = 4096
    config.batch_size = 128
    config.num_train_steps = 50_000
    config.min_steps = 20_000
    config.eval_every = 500
    config.checkpoint_every = 1_000
    config.learning_rate = 0.05
    config.schedule = "rsqrt"
    config.warmup_steps = 6_250
    config.weight_decay = 0.1
    config.data.source = "tfds"
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 6, 256, 256, 1024, 1
    model.dropout, model.attention_dropout = 0.1, 0.1
    model.position = "sinusoidal"
    model.readout = "CLS"
    model.attention.num_features = 256
    return lra_config.apply_variant(config, arg, TABLE6_SPACES)
