"""A run's saved ``config.json`` read by newer code: the options added since are filled with their
current defaults (``lra.config.with_current_defaults``, used by ``lra.analyze``)."""

from __future__ import annotations

import json

from lra.analysis.run import read_config
from lra.config import load_config, with_current_defaults
from wavspa_flax.attention import ATTENTIONS

from .conftest import REPO


def _saved_without(tmp_path, *dotted):
    config = load_config(f"{REPO}/configs/listops.py:transformer,ada", {"scale": "smoke", "learning_rate": 0.5})
    saved = json.loads(config.to_json_best_effort())
    for key in dotted:  # an option that did not exist when the run was made
        *parents, leaf = key.split(".")
        node = saved
        for name in parents:
            node = node[name]
        del node[leaf]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    return saved


def test_missing_options_take_the_current_defaults_and_saved_values_stay(tmp_path):
    saved = _saved_without(tmp_path, "model.attention.chunk_size", "track_test")
    config = with_current_defaults(saved)
    assert config.model.attention.chunk_size == ATTENTIONS.defaults()["chunk_size"] == 1024
    assert config.track_test is False
    # What the run saved is kept, also where it differs from the defaults.
    assert config.learning_rate == 0.5 and config.model.num_layers == 1 and config.model.space.kind == "ada"
    assert config.model.space.wavelet_length == saved["model"]["space"]["wavelet_length"]
    read = read_config(tmp_path)  # lra.analyze reads it the same way
    assert read.model.attention.chunk_size == 1024 and read.learning_rate == 0.5
