"""Where a run's metrics go: ``metrics.jsonl`` (one record per line), TensorBoard, the console.

The workdir may be a URI (``gs://bucket/run``, see :mod:`lra.paths`). Object stores cannot
append, so there ``metrics.jsonl`` is rewritten whole (earlier attempts' records first) after
every record; TensorBoard event files go through tensorboardX's own ``gs://`` and ``s3://``
writers (google-cloud-storage, boto3); for any other URI scheme TensorBoard is switched off with
a warning rather than written somewhere else. tensorboardX is imported at the first TensorBoard
write; its record writer imports those cloud SDKs whenever they are installed (0.5 s for
google-cloud-storage), so for a local directory they are hidden during that import
(:func:`summary_writer_class`) and a bucket directory imports them.

TensorBoard goes through tensorboardX rather than ``clu.metric_writers``: clu 0.0.12 (the newest
release) imports TensorFlow for its summary writer, and ``clu.periodic_actions`` imports that.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import sys

from lra import atomic
from lra.paths import is_remote, workdir_path

log = logging.getLogger(__name__)
TENSORBOARD_SCHEMES = ("gs://", "s3://")  # tensorboardX writes these itself; others it would write locally
CLOUD_SDKS = ("boto3", "google.cloud.storage")  # what tensorboardX.record_writer imports for s3:// and gs://


class MetricWriter:
    """Appends ``{"step", "split", **scalars}`` records to ``workdir/metrics.jsonl`` and writes the
    same scalars to TensorBoard event files under ``workdir/tensorboard/<split>``."""

    def __init__(self, workdir: str | os.PathLike, tensorboard: bool = True):
        self.workdir = workdir_path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "metrics.jsonl"
        self._remote = is_remote(self.workdir)
        if self._remote:  # no append on object stores: keep the text, rewrite it whole
            self._jsonl = None
            self._text = path.read_text(encoding="utf-8") if path.exists() else ""
        else:
            _drop_partial_last_line(path)
            self._jsonl = path.open("a", encoding="utf-8")
        if tensorboard and self._remote and not str(self.workdir).startswith(TENSORBOARD_SCHEMES):
            log.warning("TensorBoard is off for %s: tensorboardX writes only local, gs:// and s3:// "
                        "directories (metrics.jsonl is written)", self.workdir)
            tensorboard = False
        self._tensorboard = tensorboard
        self._writers: dict = {}

    def write(self, step: int, split: str, scalars: dict[str, float]) -> None:
        record = {"step": int(step), "split": split}
        record.update({k: _json_number(v) for k, v in scalars.items()})
        line = json.dumps(record) + "\n"
        if self._remote:
            self._text += line
            atomic.write_text((self.workdir / "metrics.jsonl"), self._text, encoding="utf-8")
        else:
            self._jsonl.write(line)
            self._jsonl.flush()
        if self._tensorboard:
            writer = self._writers.get(split)
            if writer is None:
                summary_writer = summary_writer_class(remote=self._remote)
                writer = self._writers[split] = summary_writer(str(self.workdir / "tensorboard" / split))
            for name, value in scalars.items():
                writer.add_scalar(name, float(value), int(step))
            writer.flush()

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def summary_writer_class(remote: bool):
    """``tensorboardX.SummaryWriter``, imported without the cloud SDKs for a local directory.

    tensorboardX's record writer tries ``import boto3`` and ``from google.cloud import storage`` at
    import time and uses them only for ``s3://`` and ``gs://`` paths. For a local run they are
    hidden (``sys.modules[name] = None`` makes the import fail at once) during the first import of
    tensorboardX and restored after; for a bucket directory the record writer is reloaded if an
    earlier local import left it without them (a reload re-runs the module in its own namespace,
    so the classes already imported see the SDKs).
    """
    if remote:
        import tensorboardX.record_writer as record_writer

        if not (record_writer.GCS_ENABLED and record_writer.S3_ENABLED):
            importlib.reload(record_writer)
    elif "tensorboardX" not in sys.modules:
        hidden = [name for name in CLOUD_SDKS if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None
        try:
            import tensorboardX  # noqa: F401
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]
    from tensorboardX import SummaryWriter

    return SummaryWriter


class NullWriter:
    """The writer of processes other than 0 (one process writes a multi-process run's metrics)."""

    def write(self, step: int, split: str, scalars: dict[str, float]) -> None:
        pass

    def close(self) -> None:
        pass


def _drop_partial_last_line(path) -> None:
    """Cut a local ``metrics.jsonl`` back to its last complete record (a kill can leave half a
    line, which the next record appended would otherwise extend into one unreadable line)."""
    if not path.exists():
        return
    with open(path, "rb+") as file:
        data = file.read()
        if data and not data.endswith(b"\n"):
            file.truncate(data.rfind(b"\n") + 1)


def _json_number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def read_metrics(workdir: str | os.PathLike) -> list[dict]:
    """All records of ``workdir/metrics.jsonl`` (e.g. to plot a loss curve)."""
    text = (workdir_path(workdir) / "metrics.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
