"""One writer per workdir: ``lra.train`` holds a lock on its workdir while it runs.

Local folders: an OS lock (``flock``, through ``filelock``) on ``<workdir>/.lock``. The kernel
drops it when its process ends in any way (exit, crash, ``kill -9``), so a lock left by a dead
process never blocks: the next run takes the workdir over and warns, naming the dead holder
(from ``<workdir>/lock.json``: host, PID, start time). On a shared file system (NFS) the lock is
the server's; a crashed client host's locks are dropped when its lease expires.

Buckets (``gs://``): an object store has no OS locks, so the lock is the object
``<workdir>/lock.json``, created only if absent (a generation precondition,
``if_generation_match=0``: of two creators exactly one succeeds) and refreshed every
:data:`HEARTBEAT_SECONDS` by its holder (again conditional on the generation it wrote). A lock
whose heartbeat is older than :data:`STALE_SECONDS` belongs to a dead process or host and is
taken over (deleted conditional on its generation, then created again). A holder paused for
longer than that (a frozen VM) can lose its lock to another run without knowing it until its
next heartbeat, which then fails and is logged as an error.

This module imports no JAX (the sweep driver asks it whether a run is being trained).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import socket
import threading
import time

from lra import atomic
from lra.paths import is_remote
from wavspa_flax.errors import UserError

log = logging.getLogger(__name__)

HOLDER_FILE = "lock.json"
LOCK_FILE = ".lock"
HEARTBEAT_SECONDS = 60.0
STALE_SECONDS = 300.0
BUSY_MARK = " is in use by "  # in every WorkdirBusyError message (the sweep recognises it by this)


class WorkdirBusyError(UserError):
    """Another live process holds the workdir's lock."""


class WorkdirNotWritableError(UserError):
    """The workdir cannot be created or written (a file, a read-only file system, no permission)."""


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a workdir's lock."""

    host: str
    pid: int
    since: str  # ISO time, UTC
    heartbeat: float = 0.0  # time.time() of the last refresh (buckets only)

    @classmethod
    def this_process(cls) -> Holder:
        now = time.time()
        since = datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="seconds")
        return cls(socket.gethostname(), os.getpid(), since, now)

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            saved = json.loads(text)
            return cls(str(saved["host"]), int(saved["pid"]), str(saved["since"]), float(saved.get("heartbeat", 0)))
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} since {self.since}"


def busy_error(workdir: str, holder: Holder | None) -> WorkdirBusyError:
    who = holder.describe() if holder else "another process (its lock.json is being written)"
    return WorkdirBusyError(
        f"workdir {workdir}{BUSY_MARK}{who}; one run writes a workdir at a time: wait for it to end, "
        "stop it, or pick another --workdir (a lock left by a dead process is taken over automatically)")


class WorkdirLock:
    """Context manager holding ``workdir``'s lock; raises :class:`WorkdirBusyError` if another
    live process holds it (without writing anything in the workdir)."""

    def __init__(self, workdir: str | os.PathLike):
        self.workdir = os.fspath(workdir)
        self._impl = _BucketLock(self.workdir) if is_remote(self.workdir) else _LocalLock(self.workdir)

    def __enter__(self) -> WorkdirLock:
        self._impl.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self._impl.release()


def create_workdir(workdir: str | os.PathLike) -> None:
    """Create ``workdir`` (and its parents); a :class:`WorkdirNotWritableError` in one line if that
    or writing in it fails (a file in the way, a read-only file system, no permission)."""
    from etils import epath

    text = os.fspath(workdir)
    path = epath.Path(text)
    try:
        if path.exists() and not path.is_dir():
            raise WorkdirNotWritableError(f"workdir {text} is an existing file, not a folder; pick another --workdir")
        path.mkdir(parents=True, exist_ok=True)
        if not is_remote(text) and not os.access(text, os.W_OK):
            raise PermissionError(13, "no write permission")
    except OSError as error:
        raise WorkdirNotWritableError(
            f"workdir {text} cannot be created or written ({error.strerror or error}); "
            "pick a --workdir on a writable file system") from error


def current_holder(workdir: str | os.PathLike) -> Holder | None:
    """The live holder of ``workdir``'s lock, or None if nobody holds it (cheap; no JAX)."""
    workdir = os.fspath(workdir)
    return _BucketLock(workdir).live_holder() if is_remote(workdir) else _LocalLock(workdir).live_holder()


# -- local folders ---------------------------------------------------------------------------------

class _LocalLock:
    def __init__(self, workdir: str):
        self.workdir = workdir
        self.lock_path = os.path.join(workdir, LOCK_FILE)
        self.holder_path = os.path.join(workdir, HOLDER_FILE)
        self._lock = None

    def _file_lock(self):
        from filelock import FileLock

        return FileLock(self.lock_path, timeout=0)

    def _read_holder(self) -> Holder | None:
        try:
            with open(self.holder_path, encoding="utf-8") as file:
                return Holder.parse(file.read())
        except OSError:
            return None

    def acquire(self) -> None:
        from filelock import Timeout

        lock = self._file_lock()
        try:
            lock.acquire()
        except Timeout:
            raise busy_error(self.workdir, self._read_holder()) from None
        except OSError as error:
            raise WorkdirNotWritableError(
                f"workdir {self.workdir} cannot be locked ({error.strerror or error}); "
                "pick a --workdir on a writable file system") from error
        self._lock = lock
        previous = self._read_holder()
        if previous is not None:
            log.warning("workdir %s: took over the lock of %s, which is no longer running (it ended without "
                        "releasing it: killed or crashed)", self.workdir, previous.describe())
        try:
            atomic.write_text(self.holder_path, Holder.this_process().to_json())
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self._lock is None:
            return
        try:
            os.unlink(self.holder_path)
        except OSError:
            pass
        self._lock.release()
        self._lock = None

    def live_holder(self) -> Holder | None:
        from filelock import Timeout

        if not os.path.exists(self.lock_path):
            return None
        lock = self._file_lock()
        try:
            lock.acquire()
        except Timeout:
            return self._read_holder() or Holder("unknown", 0, "unknown")
        except OSError:
            return None
        lock.release()
        return None


# -- buckets ---------------------------------------------------------------------------------------

class _BucketLock:
    """The lock object of a ``gs://`` workdir (module docstring): create-if-absent, heartbeat,
    take-over of a stale one, all conditional on object generations (google-cloud-storage)."""

    def __init__(self, workdir: str):
        if not workdir.startswith("gs://"):
            raise UserError(f"workdir {workdir}: only local folders and gs:// buckets can be locked")
        bucket, _, prefix = workdir[len("gs://"):].partition("/")
        self.workdir = workdir
        self.bucket_name = bucket
        self.object_name = f"{prefix.rstrip('/')}/{HOLDER_FILE}" if prefix.strip("/") else HOLDER_FILE
        self._generation: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._holder: Holder | None = None

    def _blob(self):
        from google.cloud import storage

        return storage.Client().bucket(self.bucket_name).blob(self.object_name)

    def _read(self) -> tuple[Holder | None, int | None]:
        from google.api_core import exceptions

        blob = self._blob()
        try:
            text = blob.download_as_text()
        except exceptions.NotFound:
            return None, None
        return Holder.parse(text), blob.generation

    def _create(self, holder: Holder, generation: int = 0) -> int:
        blob = self._blob()
        blob.upload_from_string(holder.to_json(), content_type="application/json", if_generation_match=generation)
        return int(blob.generation)

    def acquire(self) -> None:
        from google.api_core import exceptions

        self._holder = Holder.this_process()
        for _ in range(3):
            try:
                self._generation = self._create(self._holder)
                break
            except exceptions.PreconditionFailed:
                holder, generation = self._read()
                if generation is None:
                    continue  # released meanwhile: try again
                if holder is not None and time.time() - holder.heartbeat < STALE_SECONDS:
                    raise busy_error(self.workdir, holder) from None
                log.warning("workdir %s: taking over the lock of %s: no heartbeat for %.0f s (over %.0f s: a dead "
                            "process or host)", self.workdir, holder.describe() if holder else "an unreadable holder",
                            time.time() - (holder.heartbeat if holder else 0.0), STALE_SECONDS)
                try:
                    self._blob().delete(if_generation_match=generation)
                except (exceptions.NotFound, exceptions.PreconditionFailed):
                    pass  # someone else took it over or released it first: try again
        else:
            raise busy_error(self.workdir, self._read()[0])
        self._thread = threading.Thread(target=self._heartbeat, name="workdir-lock-heartbeat", daemon=True)
        self._thread.start()

    def _heartbeat(self) -> None:
        from google.api_core import exceptions

        while not self._stop.wait(HEARTBEAT_SECONDS):
            holder = dataclasses.replace(self._holder, heartbeat=time.time())
            try:
                self._generation = self._create(holder, self._generation)
            except exceptions.PreconditionFailed:
                log.error("workdir %s: lost its lock (another run took it over after %.0f s without a heartbeat); "
                          "this run is no longer the only writer: stop one of them", self.workdir, STALE_SECONDS)
                return
            except Exception as error:  # a network error: try again at the next beat
                log.warning("workdir %s: lock heartbeat failed (%s); retrying", self.workdir, error)

    def release(self) -> None:
        from google.api_core import exceptions

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._generation is not None:
            try:
                self._blob().delete(if_generation_match=self._generation)
            except (exceptions.NotFound, exceptions.PreconditionFailed):
                pass
            self._generation = None

    def live_holder(self) -> Holder | None:
        holder, generation = self._read()
        if generation is None or (holder is not None and time.time() - holder.heartbeat >= STALE_SECONDS):
            return None
        return holder or Holder("unknown", 0, "unknown")

