"""The paper's early-stopping rule (WavSpA A.4), used by the loop and by the replay on a logged run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def patience_steps(config: Mapping[str, Any]) -> int:
    """Steps without a better validation accuracy after which a run stops:
    ``patience_fraction * num_train_steps`` (0: never)."""
    return int(float(config["patience_fraction"]) * int(config["num_train_steps"]))


def stops_early(step: int, best_step: int | None, min_steps: int, patience: int) -> bool:
    """A.4: stop at an evaluation at or after ``min_steps`` once the best validation accuracy is
    ``patience`` or more steps old (``best_step`` None counts from step 0)."""
    return bool(patience) and step >= min_steps and step - (best_step or 0) >= patience
