"""Where a run's metrics go: ``metrics.jsonl`` (one record per line), TensorBoard, the console."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tensorboardX import SummaryWriter


class MetricWriter:
    """Appends ``{"step", "split", **scalars}`` records to ``workdir/metrics.jsonl`` and writes the
    same scalars to TensorBoard event files under ``workdir/tensorboard/<split>``."""

    def __init__(self, workdir: str | Path, tensorboard: bool = True):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.workdir / "metrics.jsonl", "a", encoding="utf-8")
        self._tensorboard = tensorboard
        self._writers: dict[str, SummaryWriter] = {}

    def write(self, step: int, split: str, scalars: dict[str, float]) -> None:
        record = {"step": int(step), "split": split}
        record.update({k: _json_number(v) for k, v in scalars.items()})
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        if self._tensorboard:
            writer = self._writers.get(split)
            if writer is None:
                writer = self._writers[split] = SummaryWriter(str(self.workdir / "tensorboard" / split))
            for name, value in scalars.items():
                writer.add_scalar(name, float(value), int(step))
            writer.flush()

    def close(self) -> None:
        self._jsonl.close()
        for writer in self._writers.values():
            writer.close()


class NullWriter:
    """The writer of processes other than 0 (one process writes a multi-process run's metrics)."""

    def write(self, step: int, split: str, scalars: dict[str, float]) -> None:
        pass

    def close(self) -> None:
        pass


def _json_number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def read_metrics(workdir: str | Path) -> list[dict]:
    """All records of ``workdir/metrics.jsonl`` (e.g. to plot a loss curve)."""
    path = Path(workdir) / "metrics.jsonl"
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
