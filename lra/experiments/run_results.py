"""A finished run's numbers for the tables: its summary, the paper's A.4 early stopping replayed on
its validation curve, and the statistics over seeds (mean, sample std, Student-t quantile)."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lra import summaries as summaries_lib
from lra.experiments.runs import Run
from lra.metrics import read_metrics
from lra.train.early_stopping import patience_steps, stops_early


def replay_early_stopping(records: Sequence[Mapping], min_steps: int, patience: int) -> dict[str, Any] | None:
    """The paper's A.4 rule on a logged run: stop at the first evaluation at or after ``min_steps``
    with ``patience`` steps since the best validation accuracy; the test accuracy of that best state
    (from the ``test_tracked`` records). None if the run tracked no test accuracy."""
    val = {r["step"]: r["accuracy"] for r in records if r["split"] == "val"}
    test = {r["step"]: r["accuracy"] for r in records if r["split"] == "test_tracked"}
    if not test:
        return None
    best_step, best, stop = None, -math.inf, None
    for step in sorted(val):
        if val[step] > best:
            best, best_step = val[step], step
        if stops_early(step, best_step, min_steps, patience):
            stop = step
            break
    return {"test_accuracy": test.get(best_step), "best_step": best_step,
            "stop_step": stop if stop is not None else max(val)}


def run_result(run: Run, root: Path) -> dict[str, Any] | None:
    """A finished run's numbers (None if not finished)."""
    folder = run.workdir(root)
    if summaries_lib.load(folder) is None:  # none, or damaged (the sweep reruns it)
        return None
    summary = json.loads((folder / "summary.json").read_text())
    config = summary["config"]
    replay = replay_early_stopping(read_metrics(folder), int(config["min_steps"]), patience_steps(config))
    return {"summary": summary, "early_stopping": replay}


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def t_quantile(probability: float, dof: int) -> float:
    """Student-t quantile (scipy)."""
    from scipy import stats

    return float(stats.t.ppf(probability, dof))


def hardware_text(summaries: Sequence[Mapping]) -> str:
    kinds = []
    for s in summaries:
        text = s.get("hardware") or f"{s.get('devices')} x {s.get('device_kind')} ({s.get('platform')})"
        if text not in kinds:
            kinds.append(text)
    return " / ".join(kinds)

