"""A job that ends with the process that started it (no orphan keeps writing its workdir).

The sweep driver starts each ``lra.train`` job with ``WAVSPA_PARENT_PID`` set to its own PID. The
job then watches its parent: once the parent is gone (``kill -9`` of the driver makes the job a
child of PID 1 or of a subreaper), the job sends itself SIGTERM, which the training loop treats
as a preemption: it saves a checkpoint at the current step, releases the workdir and exits. A rerun
of the sweep resumes the job from that checkpoint.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)

PARENT_ENV = "WAVSPA_PARENT_PID"
POLL_SECONDS = 0.5
_thread: threading.Thread | None = None


def child_environment(environ: dict | None = None) -> dict:
    """``environ`` (default: this process's) plus this process as the parent to watch."""
    return {**(os.environ if environ is None else environ), PARENT_ENV: str(os.getpid())}


def watch_parent() -> threading.Thread | None:
    """If ``WAVSPA_PARENT_PID`` is set, start a daemon thread that SIGTERMs this process once its
    parent is no longer that PID (checked every :data:`POLL_SECONDS`); returns the thread."""
    global _thread
    text = os.environ.get(PARENT_ENV, "")
    if not text.isdigit():
        return None
    if _thread is None or not _thread.is_alive():  # one watcher per process
        _thread = threading.Thread(target=_watch, args=(int(text),), name="parent-watch", daemon=True)
        _thread.start()
    return _thread


def _watch(parent: int) -> None:
    stop = threading.Event()
    while os.getppid() == parent:
        stop.wait(POLL_SECONDS)
    log.warning("the process that started this job (pid %d) has ended; stopping at the next step with a "
                "checkpoint", parent)
    os.kill(os.getpid(), signal.SIGTERM)
