"""What a command imports: ``python -m lra.train --help`` and a local ListOps run's TensorBoard
writer bring no scipy, no Pathfinder generator and no cloud SDK (issue: lean imports)."""

import subprocess
import sys

import pytest

from lra.metrics import CLOUD_SDKS

pytestmark = pytest.mark.slow  # a fresh interpreter importing JAX: ~5 s

HEAVY = ("scipy", "lra.data.generators.pathfinder", "lra.data.generators.pathfinder_paths", *CLOUD_SDKS)

PROBE = """
import contextlib, io, sys
sys.argv = ["lra.train", "--help"]
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    import lra.train.__main__
assert "USAGE: lra.train" in out.getvalue(), out.getvalue()
from lra.metrics import MetricWriter
writer = MetricWriter({workdir!r})
writer.write(1, "train", {{"loss": 1.0}})
writer.close()
print(" ".join(sorted(name for name in sys.modules if sys.modules[name] is not None)))
"""


def test_help_and_a_local_tensorboard_record_import_nothing_heavy(tmp_path):
    workdir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", PROBE.format(workdir=str(workdir))],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    imported = set(done.stdout.split())
    assert "tensorboardX" in imported  # the probe did reach the event writer
    assert list((workdir / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert not [name for name in HEAVY if name in imported]


def test_a_bucket_directory_gets_the_cloud_sdks_after_a_local_import():
    """After a local directory's import (SDKs hidden), a ``gs://`` writer still finds
    google-cloud-storage (a [dev] dependency): the record writer is reloaded with it."""
    probe = ("import sys\nfrom lra.metrics import summary_writer_class\n"
             "summary_writer_class(remote=False)\n"
             "import tensorboardX.record_writer as rw\nassert not rw.GCS_ENABLED\n"
             "assert 'google.cloud.storage' not in sys.modules\n"
             "summary_writer_class(remote=True)\nassert rw.GCS_ENABLED\nprint('ok')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
