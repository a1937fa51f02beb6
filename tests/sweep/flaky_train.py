"""``python -m tests.sweep.flaky_train``: ``lra.train``'s command line, failing once on request.

A run whose workdir holds a file ``FAIL_ONCE`` trains up to its first checkpoint
(``config.checkpoint_every`` steps, saved as a preemption would leave it), deletes ``FAIL_ONCE``,
writes the step reached to ``FAILED_ONCE`` and exits with an error. Run again (a retry), it finds
no ``FAIL_ONCE`` and is exactly ``python -m lra.train``, which resumes from that checkpoint.
"""

import sys
from pathlib import Path

import lra.train
from lra.train import cli as main

_train_and_evaluate = lra.train.train_and_evaluate


def _fail_once(config, workdir, **kwargs):
    marker = Path(workdir) / "FAIL_ONCE"
    if not marker.exists():
        return _train_and_evaluate(config, workdir, **kwargs)
    result = _train_and_evaluate(config, workdir, stop_after_steps=config.checkpoint_every, **kwargs)
    marker.unlink()
    (Path(workdir) / "FAILED_ONCE").write_text(str(result.summary["steps_completed"]))
    sys.exit(f"error: injected failure after the checkpoint of step {result.summary['steps_completed']}")


lra.train.train_and_evaluate = _fail_once  # lra.train.cli looks it up when it runs

if __name__ == "__main__":
    main.run()
