"""The ``gs://`` workdir lock's protocol (``lra.workdir_lock._BucketLock``) on an in-memory store
with GCS's generation preconditions (the GCS emulator of the other tests ignores them).

What GCS does and the fake copies: every write of an object gives it a new generation; a write or
delete with ``if_generation_match=g`` fails with 412 (PreconditionFailed) unless the object's
generation is ``g`` (0: the object must not exist).
"""

from __future__ import annotations

import itertools
import json
import logging
import time

import pytest
from google.api_core import exceptions

from lra import workdir_lock
from lra.workdir_lock import Holder, WorkdirBusyError, WorkdirLock, current_holder

WORKDIR = "gs://bucket/runs/a"


class FakeStore:
    def __init__(self):
        self.objects: dict[str, tuple[str, int]] = {}
        self.generations = itertools.count(1)


class FakeBlob:
    def __init__(self, store: FakeStore, name: str):
        self.store, self.name, self.generation = store, name, None

    def _check(self, if_generation_match):
        current = self.store.objects.get(self.name, (None, 0))[1]
        if if_generation_match is not None and current != if_generation_match:
            raise exceptions.PreconditionFailed("412 conditionNotMet")

    def upload_from_string(self, text, content_type=None, if_generation_match=None):
        self._check(if_generation_match)
        self.generation = next(self.store.generations)
        self.store.objects[self.name] = (text, self.generation)

    def download_as_text(self):
        if self.name not in self.store.objects:
            raise exceptions.NotFound("404")
        text, self.generation = self.store.objects[self.name]
        return text

    def delete(self, if_generation_match=None):
        if self.name not in self.store.objects:
            raise exceptions.NotFound("404")
        self._check(if_generation_match)
        del self.store.objects[self.name]


@pytest.fixture
def store(monkeypatch):
    store = FakeStore()
    monkeypatch.setattr(workdir_lock._BucketLock, "_blob", lambda self: FakeBlob(store, self.object_name))
    return store


def test_one_holder_at_a_time_and_release(store):
    with WorkdirLock(WORKDIR):
        assert list(store.objects) == ["runs/a/lock.json"]
        assert current_holder(WORKDIR).pid == Holder.this_process().pid
        with pytest.raises(WorkdirBusyError, match="is in use by pid"):
            WorkdirLock(WORKDIR).__enter__()
    assert store.objects == {} and current_holder(WORKDIR) is None


def test_a_stale_lock_is_taken_over_and_its_holder_learns_it_lost(store, monkeypatch, caplog):
    dead = Holder("other-host", 4242, "2026-01-01T00:00:00+00:00", time.time() - workdir_lock.STALE_SECONDS - 1)
    store.objects["runs/a/lock.json"] = (json.dumps(dead.__dict__), next(store.generations))
    assert current_holder(WORKDIR) is None  # stale: nobody holds it
    with caplog.at_level(logging.WARNING, logger="lra.workdir_lock"):
        lock = workdir_lock._BucketLock(WORKDIR)
        lock.acquire()
    assert any("taking over the lock of pid 4242 on host other-host" in r.getMessage() for r in caplog.records)
    assert Holder.parse(store.objects["runs/a/lock.json"][0]).pid == Holder.this_process().pid
    # A heartbeat conditional on the generation the holder wrote: refreshed while it holds the lock...
    monkeypatch.setattr(workdir_lock, "HEARTBEAT_SECONDS", 0.05)
    lock._stop.set()
    lock._thread.join()
    lock._stop.clear()
    generation = store.objects["runs/a/lock.json"][1]
    beat = workdir_lock.threading.Thread(target=lock._heartbeat, daemon=True)
    beat.start()
    time.sleep(0.3)
    assert store.objects["runs/a/lock.json"][1] > generation
    # ... and an error once someone else has replaced the object.
    store.objects["runs/a/lock.json"] = (store.objects["runs/a/lock.json"][0], next(store.generations) + 100)
    with caplog.at_level(logging.ERROR, logger="lra.workdir_lock"):
        beat.join(timeout=2)
    assert not beat.is_alive()
    assert any("lost its lock" in r.getMessage() for r in caplog.records)
    lock._thread = None
    lock.release()  # does not delete the new holder's object
    assert "runs/a/lock.json" in store.objects


def test_a_fresh_lock_of_another_host_blocks(store):
    live = Holder("other-host", 4242, "2026-01-01T00:00:00+00:00", time.time())
    store.objects["runs/a/lock.json"] = (json.dumps(live.__dict__), next(store.generations))
    with pytest.raises(WorkdirBusyError, match="pid 4242 on host other-host"):
        WorkdirLock(WORKDIR).__enter__()
    assert Holder.parse(store.objects["runs/a/lock.json"][0]).pid == 4242
