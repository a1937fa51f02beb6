"""LEGO (paper section 4.4, Zhang et al. 2022): the sign of every variable in a shuffled chain
``a=+1; b=-a; e=+b; ...``, one prediction per variable token.

Train supervises the first ``data.num_train_vars`` (14) variables of each 20-variable chain;
validation and test score all 20 (the extrapolation split of Fig. 3; ``data.num_vars=26`` with
``data.num_train_vars=20`` gives the other panel). ``summary.json`` reports the test accuracy per
chain position (``test_accuracy_by_index``). ``max_length`` (5 tokens a clause) and the number of
training chains follow ``data.num_vars`` unless set.

``paper`` scale is the original LEGO setting the paper follows: a BERT-base sized encoder
(12 layers, 768 wide, 12 heads, MLP 3072, learned positions) trained from scratch on
num_vars x 10,000 chains (200k for 20 variables) for 200 epochs at batch 1024 (39,063 steps) with
lr 5e-5 and a cosine decay (the 100-step warmup is ours); no early stopping. ``small`` is
CPU-sized (our choice, not the paper's). Data are generated offline.
"""

from lra import config as lra_config

SCALES = {
    "smoke": lra_config.smoke_preset(max_length=100, data={"num_train": 64, "num_val": 16, "num_test": 16}),
    "small": lra_config.small_preset(
        batch_size=64, num_train_steps=3_000, min_steps=3_000, learning_rate=1e-3, schedule="constant",
        warmup_steps=200,
        **{"model.num_layers": 4, "model.emb_dim": 128, "model.qkv_dim": 128, "model.mlp_dim": 256,
           "model.num_heads": 4},
        data={"num_train": 10_000}),
}


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("lego")
    config.data.source = "generate"
    config.data.num_vars = 20
    config.data.num_train_vars = 14
    num_vars = config.data.get_ref("num_vars")
    config.max_length = num_vars * 5  # 5 tokens a clause
    config.data.num_train = num_vars * 10_000
    config.batch_size = 1024
    config.num_train_steps = 39_063  # 200 epochs of 200k chains at batch 1024
    config.min_steps = 39_063  # a fixed 200 epochs: no early stopping
    config.eval_every = 1_000
    config.checkpoint_every = 1_000
    config.learning_rate = 5e-5
    config.schedule = "cosine"
    config.warmup_steps = 100
    config.weight_decay = 0.0
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 12, 768, 768, 3072, 12
    model.dropout, model.attention_dropout = 0.1, 0.1
    model.position = "learned"
    model.attention.num_features = 256
    return lra_config.apply_variant(config, arg, {"ada": {"space.wavelet_length": 16}})
