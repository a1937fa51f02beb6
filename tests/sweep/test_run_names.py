"""The sweep's folder rule: keys in name order, the seed last, whatever the key names."""

from __future__ import annotations

from lra import sweep


def test_seed_is_last_even_after_keys_that_sort_after_it():
    run = sweep.Run.make("configs/text.py:transformer", {"weight_decay": 0.1, "seed": 2, "batch_size": 8,
                                                          "steps": 3})
    # Plain name order would put 'seed' before 'steps' and 'weight_decay'.
    assert run.name() == "batch_size=8,steps=3,weight_decay=0.1,seed=2"
    assert run.without_seed().name() == "batch_size=8,steps=3,weight_decay=0.1"
    assert run.seed == 2
