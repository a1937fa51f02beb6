"""The PRNG implementation key (``config.prng_impl``): used for init and dropout, recorded in the
run, kept on resume, and exact resume holds for each implementation."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from lra.config import validate
from lra.steps import PRNG_IMPLS, make_key
from lra.train import train_and_evaluate
from wavspa_flax.errors import ConfigError

from .conftest import assert_resumed_equals_uninterrupted

OTHER = {"threefry": "unsafe_rbg", "rbg": "threefry", "unsafe_rbg": "rbg"}


# Slow tier: the everyday tier's resume test (test_train_loop.py) resumes the default implementation
# with another one asked for.
@pytest.mark.slow
@pytest.mark.parametrize("prng_impl", PRNG_IMPLS)
def test_resume_keeps_the_recorded_implementation_and_is_exact(listops_config, tmp_path, prng_impl):
    settings = {"num_train_steps": 4, "eval_every": 2, "checkpoint_every": 2, "prng_impl": prng_impl}
    full = train_and_evaluate(listops_config(**settings), tmp_path / "full")
    assert json.loads((tmp_path / "full" / "config.json").read_text())["prng_impl"] == prng_impl
    assert full.summary["config"]["prng_impl"] == prng_impl

    train_and_evaluate(listops_config(**settings), tmp_path / "resumed", stop_after_steps=3)
    # Resumed with another implementation asked for: the run keeps the one it started with.
    resumed = train_and_evaluate(listops_config(**{**settings, "prng_impl": OTHER[prng_impl]}),
                                 tmp_path / "resumed")
    assert resumed.summary["config"]["prng_impl"] == prng_impl
    assert_resumed_equals_uninterrupted(full, resumed)


def test_each_name_makes_keys_of_its_jax_implementation():
    data = {name: np.asarray(jax.random.key_data(make_key(0, name))) for name in PRNG_IMPLS}
    assert data["threefry"].shape == (2,) and data["rbg"].shape == (4,)
    for name, jax_name in (("threefry", "threefry2x32"), ("rbg", "rbg"), ("unsafe_rbg", "unsafe_rbg")):
        assert str(jax.random.key_impl(make_key(0, name))) == jax_name


def test_an_unknown_implementation_is_a_config_error(listops_config):
    with pytest.raises(ConfigError, match="prng_impl.*did you mean 'unsafe_rbg'"):
        validate(listops_config(prng_impl="unsafe_rb"))
