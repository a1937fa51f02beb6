"""Cache of tokenised arrays, one folder per (dataset, split, tokenisation parameters).

A cache entry is `<cache_root>/<name>-<hash(params)>/` holding one `.npy` per array (read back
memory-mapped, so a 2 GB retrieval split costs nothing to open) and `meta.json` with the number of
valid rows, the loader's statistics and a fingerprint of the source files (size, mtime and a hash
of the first and last MiB of each line-based file). When the fingerprint no longer matches the
files on disk the entry is rebuilt, so an edited or replaced source is never served stale.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable

import numpy as np

log = logging.getLogger("lra.data")

CACHE_FORMAT_VERSION = 1
_HASH_BYTES = 1 << 20


def _file_signature(path: str, hash_content: bool) -> list:
    st = os.stat(path)
    sig = [os.path.abspath(path), st.st_size, st.st_mtime_ns]
    if hash_content:
        h = hashlib.sha1()
        with open(path, "rb") as f:
            h.update(f.read(_HASH_BYTES))
            if st.st_size > 2 * _HASH_BYTES:
                f.seek(-_HASH_BYTES, os.SEEK_END)
            h.update(f.read(_HASH_BYTES))
        sig.append(h.hexdigest())
    return sig


def fingerprint(content_files: Iterable[str] = (), stat_files: Iterable[str] = (), extra=None) -> str:
    """Hash of the sources: content_files are stat-ed and partly hashed, stat_files only stat-ed."""
    h = hashlib.sha1()
    for p in content_files:
        h.update(json.dumps(_file_signature(p, True)).encode())
    for p in stat_files:
        h.update(json.dumps(_file_signature(p, False)).encode())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()


class ArrayBuilder:
    """Allocates the output arrays of a loader: in memory, or as .npy memmaps in a cache folder."""

    def __init__(self, folder: str | None):
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}

    def zeros(self, name: str, shape: tuple, dtype) -> np.ndarray:
        if self.folder is None:
            arr = np.zeros(shape, dtype)
        else:
            arr = np.lib.format.open_memmap(
                os.path.join(self.folder, name + ".npy"), mode="w+", dtype=dtype, shape=shape
            )
        self.arrays[name] = arr
        return arr


# build(builder) fills builder.zeros(...) arrays and returns (number of valid rows, stats dict).
BuildFn = Callable[[ArrayBuilder], "tuple[int, dict]"]


def cached_build(
    cache_root: str | None, name: str, params: dict, source_fingerprint: Callable[[], str],
    build: BuildFn,
) -> tuple[dict[str, np.ndarray], dict]:
    """Returns (arrays sliced to the valid rows, stats), from the cache when it is current.

    cache_root None -> no caching (arrays built in memory). source_fingerprint is called once per
    load to detect changed sources.
    """
    if cache_root is None:
        builder = ArrayBuilder(None)
        count, stats = build(builder)
        return {k: v[:count] for k, v in builder.arrays.items()}, stats

    key = hashlib.sha1(
        json.dumps([CACHE_FORMAT_VERSION, params], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    entry = os.path.join(cache_root, f"{name}-{key}")
    fp = source_fingerprint()
    meta_path = os.path.join(entry, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("fingerprint") == fp:
            arrays = {
                n: np.load(os.path.join(entry, n + ".npy"), mmap_mode="r")[: meta["count"]]
                for n in meta["arrays"]
            }
            log.info("%s: loaded %d cached examples from %s", name, meta["count"], entry)
            return arrays, meta["stats"]
        log.info("%s: sources changed since %s was written; rebuilding", name, entry)

    os.makedirs(cache_root, exist_ok=True)
    tmp = os.path.join(cache_root, f".tmp-{name}-{key}-{uuid.uuid4().hex[:8]}")
    os.makedirs(tmp)
    try:
        builder = ArrayBuilder(tmp)
        count, stats = build(builder)
        for arr in builder.arrays.values():
            arr.flush()
        meta = dict(
            fingerprint=fp, count=int(count), stats=stats, params=params,
            arrays=sorted(builder.arrays),
        )
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1, default=str)
        del builder
        if os.path.exists(entry):
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:  # another process published the same entry meanwhile: use ours anyway
            entry = tmp
            tmp = None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    arrays = {
        n: np.load(os.path.join(entry, n + ".npy"), mmap_mode="r")[:count] for n in meta["arrays"]
    }
    return arrays, stats


def writable_cache_root(cache_dir: str, data_dir: str) -> str | None:
    """cache_dir, or `<data_dir>/_wavspa_cache`; None (no caching, with a warning) if unwritable."""
    root = cache_dir or os.path.join(data_dir, "_wavspa_cache")
    try:
        os.makedirs(root, exist_ok=True)
        probe = os.path.join(root, f".probe-{uuid.uuid4().hex[:8]}")
        with open(probe, "w"):
            pass
        os.remove(probe)
        return root
    except OSError as e:
        log.warning("cache folder %s is not writable (%s); tokenising into memory instead. "
                    "Set data.cache_dir to a writable folder to cache.", root, e)
        return None
