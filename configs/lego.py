"""LEGO (paper section 4.4, Zhang et al. 2022): the sign of every variable in a shuffled chain
``a=+1; b=-a; e=+b; ...``, one prediction per variable token.

Train supervises the first ``data.num_train_vars`` (14) variables of each 20-variable chain;
validation and test score all 20 (the extrapolation split of Fig. 3; ``data.num_vars=26`` with
``data.num_train_vars=20`` gives the other panel). ``summary.json`` reports the test accuracy per
chain position (``test_accuracy_by_index``).

``paper`` scale is the paper's setting: a BERT-base sized encoder (12 layers, 768 wide, 12 heads,
MLP 3072, learned positions) trained from scratch with lr 5e-5 and batch 1024 for 200 epochs
(200 x 10k / 1024 ~ 2000 steps on the default 10k generated chains). The schedule (linear warmup,
then constant) is our choice: the paper does not state it. Data are generated offline.
"""

from lra import config as lra_config


def get_config(arg: str = "transformer"):
    config = lra_config.base_config("lego")
    config.data.source = "generate"
    config.data.num_vars = 20
    config.data.num_train_vars = 14
    config.max_length = 5 * config.data.num_vars  # 5 tokens a clause
    config.batch_size = 1024
    config.num_train_steps = 2_000
    config.min_steps = 2_000  # the paper trains for a fixed 200 epochs: no early stopping
    config.eval_every = 100
    config.checkpoint_every = 200
    config.learning_rate = 5e-5
    config.schedule = "constant"
    config.warmup_steps = 100
    config.weight_decay = 0.0
    model = config.model
    model.num_layers, model.emb_dim, model.qkv_dim, model.mlp_dim, model.num_heads = 12, 768, 768, 3072, 12
    model.dropout, model.attention_dropout = 0.1, 0.1
    model.position = "learned"
    model.attention.num_features = 256
    lra_config.apply_variant(config, arg, ada_wavelet_length=16)
    config.scales.smoke = lra_config.smoke_preset(
        max_length=100, data={"num_train": 64, "num_val": 16, "num_test": 16}
    )
    config.scales.small = lra_config.small_preset(
        batch_size=64, min_steps=3_000, learning_rate=1e-3, warmup_steps=200,
        model={"num_layers": 4, "emb_dim": 128, "qkv_dim": 128, "mlp_dim": 256, "num_heads": 4},
    )
    return config
