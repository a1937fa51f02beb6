"""Shared helpers for the training tests: smoke-scale configs on generated or fixture data, and a
local Google Cloud Storage emulator for ``gs://`` workdirs."""

from __future__ import annotations

import gc
import logging
import os
import socket
from pathlib import Path

import pytest

from lra.config import load_config

from ..conftest import FAST_COMPILE_XLA_FLAGS

REPO = Path(__file__).resolve().parents[2]


def subprocess_env(**extra) -> dict:
    """The environment of a ``python -m lra.train`` subprocess: this one's (CPU, device count) plus
    the suite's persistent compile cache, so repeated compilations are read back."""
    if "XLA_FLAGS" in extra:
        extra["XLA_FLAGS"] = f"{extra['XLA_FLAGS']} {FAST_COMPILE_XLA_FLAGS}".strip()
    return dict(os.environ, JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(REPO / ".pytest_cache" / "jax"),
                JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0.5", **extra)


def smoke_config(task: str, tmp_path: Path, variant: str = "transformer", **overrides):
    """``configs/<task>.py:<variant>`` at smoke scale, data under ``tmp_path``, no progress bar."""
    values = {"scale": "smoke", "progress_bar": False, "data.dir": str(tmp_path / "data")}
    if task in ("listops", "pathfinder", "lego"):
        values["data.source"] = "generate"
    values.update(overrides)
    return load_config(f"{REPO}/configs/{task}.py:{variant}", values)


@pytest.fixture
def listops_config(tmp_path):
    def make(**overrides):
        return smoke_config("listops", tmp_path, **overrides)

    return make


GCS_BUCKET = "wavspa-test"


@pytest.fixture(scope="session")
def gcs_bucket():
    """A bucket on a GCS emulator (gcp-storage-emulator, in memory) served on 127.0.0.1.

    Every client of the code is pointed at it: gcsfs (etils.epath's ``gs://`` backend) and
    google-cloud-storage (tensorboardX's ``gs://`` writer) through ``STORAGE_EMULATOR_HOST``,
    tensorstore (orbax's array writes) through ``TENSORSTORE_GCS_HTTP_URL`` with the fixed token
    ``GOOGLE_AUTH_TOKEN_FOR_TESTING``. Tensorstore reads its URL once per process, so the server
    lives for the whole session. No request leaves the machine.
    """
    import fsspec
    import gcsfs.core
    from gcp_storage_emulator.handlers import objects
    from gcp_storage_emulator.server import create_server

    with socket.socket() as probe:  # a free port (the emulator takes a fixed one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=GCS_BUCKET)
    server.start()
    url = f"http://127.0.0.1:{port}"
    emulator_log = logging.getLogger("gcp_storage_emulator")
    level = emulator_log.level
    emulator_log.setLevel(logging.CRITICAL)  # it logs every probe of a missing object as an error
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(objects, "download", _with_generation_headers(objects.download))
        patch.setenv("STORAGE_EMULATOR_HOST", url)
        patch.setenv("TENSORSTORE_GCS_HTTP_URL", url)
        patch.setenv("GOOGLE_AUTH_TOKEN_FOR_TESTING", "emulator")
        patch.setitem(fsspec.config.conf, "gcs", {"token": "anon"})
        # gcsfs's default class asks a gRPC service for the bucket type (60 s timeout per call
        # against the emulator, which serves only the JSON API); the core class does not ask.
        # (Left registered for the rest of the session: nothing else here uses gs://.)
        fsspec.register_implementation("gcs", gcsfs.core.GCSFileSystem, clobber=True)
        fsspec.register_implementation("gs", gcsfs.core.GCSFileSystem, clobber=True)
        try:
            yield GCS_BUCKET
        finally:
            _silence_closed_tensorboard_uploads()
            server.stop()
            emulator_log.setLevel(level)


def _with_generation_headers(download):
    """The emulator's media download, plus the ``x-goog-generation``/``x-goog-metageneration``
    headers that GCS sends with every object's bytes. Tensorstore takes an object's generation
    from them, and a read-then-conditional-write of orbax's OCDBT manifest fails without them
    ("Malformed StorageGeneration")."""

    def download_with_generation(request, response, storage, *args, **kwargs):
        download(request, response, storage, *args, **kwargs)
        if response.status.value in (200, 206):
            obj = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
            response["x-goog-generation"] = str(obj["generation"])
            response["x-goog-metageneration"] = str(obj.get("metageneration", "1"))

    return download_with_generation


def _silence_closed_tensorboard_uploads() -> None:
    """tensorboardX keeps every FileWriter until exit (an ``atexit`` hook holds it), and its gs://
    record writer uploads its file once more when destroyed: at exit, when the emulator is gone
    (each then retries for 120 s). The runs have closed them; they need not upload again."""
    from tensorboardX.record_writer import GCSRecordWriter

    for obj in gc.get_objects():
        if isinstance(obj, GCSRecordWriter):
            obj.flush = lambda: None


def assert_trees_equal(a, b) -> None:
    """Bit-for-bit equal pytrees of arrays."""
    import jax
    import numpy as np

    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def assert_resumed_equals_uninterrupted(full, resumed) -> None:
    """Two RunResults: the same parameters, optimiser state and summary numbers."""
    assert_trees_equal(full.state.params, resumed.state.params)
    assert_trees_equal(full.state.opt_state, resumed.state.opt_state)
    for key in ("test_accuracy", "best_val_accuracy", "best_step", "steps_completed"):
        assert full.summary[key] == resumed.summary[key], key
