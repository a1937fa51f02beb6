"""``lra.checkpoint.CheckpointStore`` on its own: exact round trip, the newest ``keep`` kept, a
re-save of a step replaces it, damaged steps are set aside and an older one restored."""

from __future__ import annotations

import logging

import numpy as np

from lra.checkpoint import CheckpointStore

from .conftest import assert_trees_equal


def _state(value: float) -> dict:
    return {"w": np.full((2, 3), value, np.float32), "step": np.int32(value)}


def test_round_trip_keep_and_replace(tmp_path):
    store = CheckpointStore(tmp_path / "ckpt", keep=2)
    for step in (1, 2, 3):
        store.save(step, _state(step), {"best_step": step})
    assert store.steps() == [2, 3]
    store.save(3, _state(30), {"best_step": 30})  # a resumed run rewrites step 3
    state, loop = store.restore_latest(_state(0))
    assert_trees_equal(state, _state(30))
    assert loop == {"best_step": 30}
    store.close()


def test_damaged_newest_step_is_set_aside_and_an_older_one_restored(tmp_path, caplog):
    store = CheckpointStore(tmp_path / "ckpt", keep=3)
    for step in (1, 2):
        store.save(step, _state(step), {"best_step": step})
    store.close()
    for item in (tmp_path / "ckpt" / "2" / "state").iterdir():  # truncated on disk
        if item.is_file():
            item.write_bytes(b"")
        else:
            for f in item.rglob("*"):
                if f.is_file():
                    f.write_bytes(b"")
    store = CheckpointStore(tmp_path / "ckpt", keep=3)
    with caplog.at_level(logging.WARNING):
        state, loop = store.restore_latest(_state(0))
    assert_trees_equal(state, _state(1))
    assert loop == {"best_step": 1}
    assert store.steps() == [1]
    assert (tmp_path / "ckpt_damaged" / "2").is_dir()
    assert any("cannot be restored" in r.getMessage() for r in caplog.records)
    store.close()
    empty = CheckpointStore(tmp_path / "none", keep=1)
    assert empty.restore_latest(_state(0)) is None
    empty.close()
