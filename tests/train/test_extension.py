"""Extending the project is one class and one registration: a toy attention and a toy space,
defined here (no project file edited), train through the same config path the command line uses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lra.metrics import read_metrics
from lra.train import train_and_evaluate
from wavspa_flax.attention import ATTENTIONS, MultiHeadAttention, attention_factory
from wavspa_flax.registry import option
from wavspa_flax.spaces import SPACES, space_factory
from wavspa_flax.spaces.wavelet import WaveletSpace, filter_transform

from .conftest import smoke_config


class ToyAttention(MultiHeadAttention):
    """Softmax attention with a temperature: ``softmax(sharpness * q k^T / sqrt(dh)) v``."""

    sharpness: float = option(1.0, "logit multiplier", key="toy_sharpness", minimum=0.0)

    def attend(self, q, k, v, mask, deterministic):
        logits = jnp.einsum("bqhd,bkhd->bhqk", q, k) * self.sharpness / np.sqrt(q.shape[-1])
        if mask is not None:
            logits = jnp.where(mask[:, None, None, :], logits, -1e9)
        return jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(logits, axis=-1), v)


class ToyHaarSpace(WaveletSpace):
    """Attention on the Haar bands of the sequence (a fixed 1-D wavelet space, ``level`` deep)."""

    def transform(self, n, d):
        return filter_transform("haar", 2, self.level, self.mode, n, None)


@pytest.fixture
def registered():
    ATTENTIONS.register("toy")(ToyAttention)
    SPACES.register("toy_haar", preset={"level": 2})(ToyHaarSpace)
    yield
    ATTENTIONS.unregister("toy")
    SPACES.unregister("toy_haar")


@pytest.mark.parametrize("variant,overrides", [
    ("toy", {"model.attention.toy_sharpness": 2.0}),
    ("transformer,toy_haar", {}),
    ("toy,toy_haar", {"model.attention.toy_sharpness": 0.5}),
])
@pytest.mark.slow
def test_registered_toy_choices_train_through_the_command_line_config_path(registered, tmp_path, variant,
                                                                           overrides):
    settings = {"num_train_steps": 12, "eval_every": 12, "checkpoint_every": 12, "learning_rate": 1e-2,
                "schedule": "constant", "batch_size": 8, "data.num_train": 16, **overrides}
    config = smoke_config("listops", tmp_path, variant=variant, **settings)
    assert config.model.attention.kind == ("toy" if variant.startswith("toy") else "full")
    if "toy_haar" in variant:
        assert config.model.space.kind == "toy_haar" and config.model.space.level == 2  # its preset
    # The command-line value reaches the module the model builds.
    sharpness = overrides.get("model.attention.toy_sharpness", 1.0)
    if variant.startswith("toy"):
        factory = space_factory(config.model) if "toy_haar" in variant else attention_factory(config.model)
        attention = dict(factory.options)["attention"] if "toy_haar" in variant else factory
        assert attention.cls is ToyAttention and dict(attention.options)["sharpness"] == sharpness
    result = train_and_evaluate(config, tmp_path / "run")
    losses = [r["loss"] for r in read_metrics(tmp_path / "run") if r["split"] == "train"]
    assert result.summary["steps_completed"] == 12 and np.all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[:3])  # it learns (16 examples, 12 steps)
    params = result.state.params["encoder"]["block_0"]["mixer"]
    band_names = [k for k in params if k.startswith("band_")] if "toy_haar" in variant else []
    assert len(band_names) == (3 if "toy_haar" in variant else 0)  # level 2: [cA2, cD2, cD1]


def test_unregistered_names_and_their_options_are_gone(registered):
    from lra.config import parse_variant
    from wavspa_flax import default_model_config

    assert "toy_sharpness" in default_model_config().attention
    assert parse_variant("toy,toy_haar").space == "toy_haar"
    ATTENTIONS.unregister("toy")
    SPACES.unregister("toy_haar")
    assert "toy_sharpness" not in default_model_config().attention
    with pytest.raises(ValueError, match="unknown attention 'toy'"):
        parse_variant("toy")
    ATTENTIONS.register("toy")(ToyAttention)  # for the fixture's teardown
    SPACES.register("toy_haar", preset={"level": 2})(ToyHaarSpace)
