"""``lra.experiments.run_results.replay_early_stopping`` (A.4 on a logged run) on hand-made validation curves
with ties: an equal accuracy is not an improvement, so patience counts from the first best."""

from __future__ import annotations

from lra.experiments.run_results import replay_early_stopping


def _records(val: dict[int, float]) -> list[dict]:
    return ([{"split": "val", "step": s, "accuracy": a} for s, a in val.items()]
            + [{"split": "test_tracked", "step": s, "accuracy": s / 1000} for s in val])


def test_a_tie_with_the_best_is_not_an_improvement():
    records = _records({10: 0.2, 20: 0.5, 30: 0.5, 40: 0.5, 50: 0.4, 60: 0.5})
    # Best 0.5 first reached at 20; 30 and 40 tie it; at 40 patience 20 has run out.
    assert replay_early_stopping(records, min_steps=0, patience=20) == {
        "test_accuracy": 0.02, "best_step": 20, "stop_step": 40}


def test_stop_exactly_when_patience_is_reached_not_one_evaluation_later():
    records = _records({10: 0.3, 20: 0.1, 30: 0.2, 40: 0.25})
    # Best at 10; at 30, 20 steps since it: patience 20 stops at 30 (>=), not at 40.
    assert replay_early_stopping(records, min_steps=0, patience=20)["stop_step"] == 30
    # min_steps holds it until 40, and a run that never stops reports its last evaluation.
    assert replay_early_stopping(records, min_steps=35, patience=20)["stop_step"] == 40
    assert replay_early_stopping(records, min_steps=0, patience=0) == {
        "test_accuracy": 0.01, "best_step": 10, "stop_step": 40}
