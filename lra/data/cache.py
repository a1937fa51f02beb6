"""Cache of tokenised arrays, one folder per (dataset, split, tokenisation parameters).

A cache entry is `<cache_root>/<name>-<hash(params)>/` holding one `.npy` per array (read back
memory-mapped, so a 2 GB retrieval split costs nothing to open) and `meta.json` with the number of
valid rows, the loader's statistics and a fingerprint of the source files (size, mtime and a hash
of the first and last MiB of each line-based file). When the fingerprint no longer matches the
files on disk the entry is rebuilt, so an edited or replaced source is never served stale.

An entry is written in a temporary folder and renamed into place, so it is whole or absent. It is
checked whenever it is read (:func:`check_entry`: ``meta.json`` parses, every array opens with the
shape and dtype the metadata records and at least ``count`` rows); a damaged entry (a truncated or
deleted array, garbage metadata) is rebuilt from the source with a one-line warning.
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
    if os.path.exists(entry):
        try:
            meta, arrays = check_entry(entry)
        except DamagedEntry as damage:
            log.warning("%s: cache entry %s is damaged (%s); rebuilding it from the source", name, entry, damage)
        else:
            if meta["fingerprint"] == fp:
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
            shapes={n: list(a.shape) for n, a in builder.arrays.items()},
            dtypes={n: a.dtype.str for n, a in builder.arrays.items()},
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


class DamagedEntry(Exception):
    """A cache entry that cannot be served as it is (the message says why); it is rebuilt."""


def check_entry(entry: str) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays sliced to the valid rows)`` of the cache folder ``entry``, or DamagedEntry.

    Checks that ``meta.json`` parses with its fields, and that every array it lists opens (a
    truncated ``.npy`` does not memory-map) with the recorded shape and dtype (entries written
    before these were recorded: at least ``count`` rows)."""
    try:
        with open(os.path.join(entry, "meta.json")) as f:
            meta = json.load(f)
        count, names, stats = int(meta["count"]), list(meta["arrays"]), meta["stats"]
        str(meta["fingerprint"])
        if not isinstance(stats, dict):
            raise TypeError("stats is not an object")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DamagedEntry(f"meta.json: {type(error).__name__}: {error}") from None
    arrays = {}
    for n in names:
        path = os.path.join(entry, n + ".npy")
        try:
            array = np.load(path, mmap_mode="r")
        except (OSError, ValueError, EOFError) as error:
            raise DamagedEntry(f"{n}.npy: {type(error).__name__}: {error}") from None
        shape, dtype = meta.get("shapes", {}).get(n), meta.get("dtypes", {}).get(n)
        if shape is not None and list(array.shape) != list(shape):
            raise DamagedEntry(f"{n}.npy has shape {list(array.shape)}, meta.json says {shape}")
        if dtype is not None and array.dtype.str != dtype:
            raise DamagedEntry(f"{n}.npy has dtype {array.dtype.str}, meta.json says {dtype}")
        if array.ndim == 0 or array.shape[0] < count:
            raise DamagedEntry(f"{n}.npy has {array.shape[0] if array.ndim else 0} rows, meta.json says {count}")
        arrays[n] = array[:count]
    return meta, arrays


def discard_entry_of(array: np.ndarray, cache_root: str | None) -> str | None:
    """Delete the cache entry that the memory-mapped ``array`` was read from (it holds bad
    values), returning its folder; None if ``array`` is not from an entry under ``cache_root``."""
    filename = getattr(array, "filename", None)
    if cache_root is None or not filename:
        return None
    entry = os.path.dirname(os.path.abspath(filename))
    if os.path.dirname(entry) != os.path.abspath(cache_root):
        return None
    shutil.rmtree(entry, ignore_errors=True)
    return entry


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
