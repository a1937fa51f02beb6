"""The learning-rate schedules against their closed forms."""

import math

import ml_collections
import numpy as np
import pytest

from lra.optim import learning_rate_schedule


def _config(**kw):
    base = dict(learning_rate=0.05, warmup_steps=100, num_train_steps=1000, cosine_cycle_steps=0,
                schedule="rsqrt")
    base.update(kw)
    return ml_collections.ConfigDict(base)


@pytest.mark.parametrize("step", [1, 50, 100, 101, 400, 1000])
def test_rsqrt_is_lra_constant_linear_warmup_rsqrt_decay(step):
    lr = float(learning_rate_schedule(_config())(step))
    expected = 0.05 * min(1.0, step / 100) / math.sqrt(max(step, 100))
    assert lr == pytest.approx(expected, rel=1e-6)


def test_cosine_warms_up_then_restarts_every_cycle():
    schedule = learning_rate_schedule(_config(schedule="cosine", cosine_cycle_steps=200))
    values = np.array([float(schedule(s)) for s in (50, 100, 200, 300, 301)])
    np.testing.assert_allclose(values[:2], [0.025, 0.05], rtol=1e-6)
    assert values[2] == pytest.approx(0.05 * 0.5 * (1 + math.cos(math.pi * 0.5)), rel=1e-5)
    assert values[3] == pytest.approx(0.05, rel=1e-6)  # progress 200/200 wraps to 0: restart
    assert values[4] < values[3]


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="config.schedule"):
        learning_rate_schedule(_config(schedule="warmup_cosine_bogus"))(1)
