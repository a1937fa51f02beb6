"""A ``gs://`` workdir is written in the bucket, never under a local ``gs:`` folder.

The bucket is served by a local GCS emulator (``gcs_bucket`` in conftest): orbax's arrays go
through tensorstore's GCS driver, the JSON and metrics files through etils.epath/gcsfs, the
TensorBoard events through tensorboardX's google-cloud-storage writer, all to 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import pathlib

import fsspec
import pytest
from etils import epath

from lra.checkpoint import CheckpointStore
from lra.metrics import MetricWriter, read_metrics
from lra.paths import is_remote, workdir_path
from lra.train import train_and_evaluate
from wavspa_flax.errors import ConfigError

from .conftest import assert_resumed_equals_uninterrupted


def _objects(prefix: str) -> list[str]:
    """Every object name under ``gs://<prefix>``, asked of the server (no listing cache)."""
    fs = fsspec.filesystem("gcs")
    fs.invalidate_cache()
    return sorted(fs.find(prefix))


def _local_entries(root: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_workdir_path_keeps_uris_and_absolutises_local_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    remote = workdir_path("gs://bucket/run")
    assert str(remote) == "gs://bucket/run" and is_remote(remote)
    assert str(remote / "checkpoints" / "4") == "gs://bucket/run/checkpoints/4"
    assert str(workdir_path(remote)) == "gs://bucket/run"  # an epath URI passes unchanged
    local = workdir_path("runs/x")
    assert str(local) == str(tmp_path / "runs" / "x") and not is_remote(local)
    # What pathlib makes of a URI is refused rather than written to ./gs:/bucket/run.
    with pytest.raises(ConfigError, match="pass the URI as a string"):
        workdir_path(pathlib.Path("gs://bucket/run"))
    assert _local_entries(tmp_path) == []


@pytest.mark.slow
def test_resume_in_a_bucket_equals_an_uninterrupted_local_run(gcs_bucket, listops_config, tmp_path,
                                                                monkeypatch, caplog):
    settings = {"num_train_steps": 7, "eval_every": 1, "checkpoint_every": 2}
    full = train_and_evaluate(listops_config(**settings), tmp_path / "full")

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # a rewritten URI would land here, as ./gs:/<bucket>/run
    workdir = f"gs://{gcs_bucket}/run"
    interrupted = train_and_evaluate(listops_config(**settings), workdir, stop_after_steps=5)
    assert interrupted.summary["steps_completed"] == 5
    store = CheckpointStore(f"{workdir}/checkpoints", keep=2)
    assert store.steps() == [2, 4]
    store.close()
    # The arrays of both checkpoints are objects in the bucket (tensorstore wrote them there).
    for step in (2, 4):
        state_objects = _objects(f"{gcs_bucket}/run/checkpoints/{step}/state")
        assert len(state_objects) >= 2, state_objects

    # The newest checkpoint loses its arrays (e.g. the machine died while writing): it is skipped
    # and set aside, also in a bucket (which has no rename and no empty directories).
    epath.Path(f"{workdir}/checkpoints/4/state").rmtree()
    with caplog.at_level(logging.WARNING):
        resumed = train_and_evaluate(listops_config(**settings), workdir)
    assert any("cannot be restored" in r.getMessage() for r in caplog.records)
    assert f"{gcs_bucket}/run/checkpoints_damaged/4/loop" in " ".join(
        _objects(f"{gcs_bucket}/run/checkpoints_damaged/4"))
    assert _objects(f"{gcs_bucket}/run/checkpoints/4") == []
    store = CheckpointStore(f"{workdir}/checkpoints", keep=2)
    assert store.steps() == [6, 7]
    store.close()

    assert_resumed_equals_uninterrupted(full, resumed)

    # summary.json, config.json, metrics.jsonl and TensorBoard events, read back from the bucket.
    summary = json.loads(epath.Path(f"{workdir}/summary.json").read_text())
    assert summary["test_accuracy"] == resumed.summary["test_accuracy"]
    assert summary["steps_completed"] == 7
    assert json.loads(epath.Path(f"{workdir}/config.json").read_text())["task"] == "listops"
    # Both attempts' records are kept (an object store cannot append: the file is rewritten);
    # the second attempt resumed from step 2, the newest intact checkpoint.
    val_steps = [r["step"] for r in read_metrics(workdir) if r["split"] == "val"]
    assert val_steps == [1, 2, 3, 4, 5, 3, 4, 5, 6, 7]
    for split in ("train", "val", "test", "test_final_state"):
        events = _objects(f"{gcs_bucket}/run/tensorboard/{split}")
        assert events and all("events.out.tfevents." in name for name in events), (split, events)

    assert _local_entries(cwd) == []
    assert not [p for p in tmp_path.rglob("gs:*")]


def test_tensorboard_is_switched_off_with_a_warning_where_tensorboardx_cannot_write(
        gcs_bucket, monkeypatch, caplog):
    # tensorboardX writes only local, gs:// and s3:// directories; any other scheme gets
    # metrics.jsonl alone and a warning. Here gs:// stands in for such a scheme.
    monkeypatch.setattr("lra.metrics.TENSORBOARD_SCHEMES", ("s3://",))
    workdir = f"gs://{gcs_bucket}/no_tensorboard"
    with caplog.at_level(logging.WARNING):
        writer = MetricWriter(workdir)
    assert any("TensorBoard is off" in r.getMessage() for r in caplog.records)
    writer.write(1, "train", {"loss": 1.0})
    writer.write(2, "train", {"loss": 0.5})
    writer.close()
    assert _objects(f"{gcs_bucket}/no_tensorboard") == [f"{gcs_bucket}/no_tensorboard/metrics.jsonl"]
    assert [r["loss"] for r in read_metrics(workdir)] == [1.0, 0.5]
