"""Bookkeeping for offline generators: write once per parameter set, never clobber real data.

A generator writes its files in the release's own format into a folder together with a manifest
`WAVSPA_GENERATED.json` holding the generator parameters. Calling it again with the same
parameters is a no-op; with different parameters the folder is rewritten. A folder that already
holds files of the expected names but no manifest (e.g. the real release) is never overwritten.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable

from lra.data.errors import DataError

log = logging.getLogger("lra.data")
MANIFEST = "WAVSPA_GENERATED.json"


def ensure_generated(folder: str, params: dict, expected: list[str], write: Callable[[str], None]) -> None:
    """Runs write(folder) unless folder's manifest already records `params`.

    expected: relative paths the generator produces (used to detect foreign data).
    """
    manifest = os.path.join(folder, MANIFEST)
    params = json.loads(json.dumps(params, sort_keys=True))
    if os.path.exists(manifest):
        with open(manifest) as f:
            old = json.load(f)
        if old.get("params") == params and all(os.path.exists(os.path.join(folder, p)) for p in expected):
            return
        os.remove(manifest)  # stale: regenerate below
    elif any(os.path.exists(os.path.join(folder, p)) for p in expected):
        raise DataError(
            f"{folder} already holds data not written by the generator (no {MANIFEST}); refusing to "
            "overwrite it. Use data.source=release to read it, or point data.dir at another folder."
        )
    os.makedirs(folder, exist_ok=True)
    t0 = time.time()
    write(folder)
    atomic_write_text(manifest, json.dumps({"params": params, "seconds": round(time.time() - t0, 3)}, indent=1))
    log.info("generated %s in %.1f s", folder, time.time() - t0)


def atomic_write_text(path: str, text: str) -> None:
    """Writes text to path via a temporary file and a rename (:func:`lra.atomic.write_text`)."""
    from lra import atomic

    atomic.write_text(path, text)
