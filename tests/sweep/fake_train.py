"""``python -m tests.sweep.fake_train --config=... --workdir=W``: a stand-in for ``lra.train`` that
costs no JAX: it takes W's lock as ``lra.train`` does (a busy workdir ends in the same one-line
error), watches its parent as ``lra.train`` does, ends at once if another sweep's job finished W
meanwhile (as ``lra.train`` does), records the attempt in ``W/attempts.txt``, "trains" for
``FAKE_TRAIN_SECONDS`` (default 3) and writes a valid ``summary.json``."""

import json
import os
import sys
import time

from lra import atomic
from lra.cli import run_main
from lra.parent_watch import watch_parent
from lra.summaries import finished_before_this_sweep_job
from lra.workdir_lock import WorkdirLock, create_workdir


def main() -> int:
    workdir = next(a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--workdir="))
    create_workdir(workdir)
    watch_parent()
    with WorkdirLock(workdir):
        if finished_before_this_sweep_job(workdir):  # as lra.train: another sweep's job finished it
            return 0
        with open(os.path.join(workdir, "attempts.txt"), "a") as attempts:
            attempts.write(f"{os.getpid()}\n")
        time.sleep(float(os.environ.get("FAKE_TRAIN_SECONDS", "3")))
        atomic.write_text(os.path.join(workdir, "summary.json"),
                          json.dumps({"test_accuracy": 0.5, "steps_completed": 4, "wall_seconds": 3.0}))
    return 0


if __name__ == "__main__":
    run_main(main)
