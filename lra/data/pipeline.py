"""The batch pipeline shared by all tasks: cached arrays in, device-shaped numpy batches out.

A split is a dict of arrays with a common leading example axis N:
  inputs   [N, n] (dual: [N, 2, n])  small unsigned ints (pad 0)
  lengths  [N]    (dual: [N, 2])
  targets  [N]    (token-level: [N, n])
  weights  optional, token-level only: [N, n] 0/1 (positions that carry a supervised target)
  any other key (e.g. LEGO `target_index` [N, n]) is passed through as int32.

Batches follow the README's batch contract: every array gets a leading device axis,
`[D, B/D, ...]`; inputs/lengths/targets (and extras) are int32 and weights float32.

Order. The training stream is the concatenation of per-epoch permutations of the train split,
permutation e drawn from `default_rng([seed, e])`; batch s is stream positions [s*B, (s+1)*B).
So batch s is a pure function of (seed, s): `train_batches(start_step=s)` resumes exactly, every
example is seen once per epoch and nothing is dropped (a batch may straddle two epochs). This is a
full shuffle of the cached arrays, which makes a tf.data-style shuffle buffer unnecessary.

Evaluation visits each example of the split once, in file order; the last batch is topped up with
copies of example 0 whose weights are 0 (copies of a real example, not empty rows, so a model that
divides by `lengths` never sees a zero length).
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from lra.data.tasks import TaskInfo
from wavspa_flax.errors import ConfigError

SPLITS = ("train", "val", "test")


def check_global_batch(global_batch_size: int, num_devices: int, key: str = "global_batch_size") -> int:
    """The per-device batch; a ConfigError naming ``key`` unless the devices divide the global batch."""
    if num_devices < 1 or global_batch_size < 1:
        raise ConfigError(f"{key}={global_batch_size} and the device count {num_devices} must be >= 1")
    if global_batch_size % num_devices:
        raise ConfigError(
            f"{key}={global_batch_size} is not divisible by the {num_devices} local devices; "
            f"set it to a multiple of {num_devices}"
        )
    return global_batch_size // num_devices


def epoch_permutation(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of epoch `epoch` of an n-example split: a permutation seeded by (seed, epoch)."""
    return np.random.default_rng([seed % (1 << 63), epoch]).permutation(n)


def train_indices(seed: int, step: int, batch_size: int, n: int, _perms: dict | None = None) -> np.ndarray:
    """Example indices of train batch `step` (pure function of seed, step, batch_size, n)."""
    positions = step * batch_size + np.arange(batch_size, dtype=np.int64)
    epochs, offsets = np.divmod(positions, n)
    out = np.empty(batch_size, np.int64)
    perms = {} if _perms is None else _perms
    for e in np.unique(epochs):
        if e not in perms:
            if len(perms) > 4:
                perms.clear()
            perms[e] = epoch_permutation(seed, int(e), n)
        sel = epochs == e
        out[sel] = perms[e][offsets[sel]]
    return out


def gather(split: dict[str, np.ndarray], indices: np.ndarray, valid: np.ndarray) -> dict:
    """Batch rows `indices` of a split; `valid` [B] bool marks real (not filler) examples.

    Returns a flat batch (leading axis B) following the batch contract's dtypes.
    """
    # Gathering in sorted order reads memory-mapped files sequentially; then restore batch order.
    order = np.argsort(indices, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    sorted_idx = indices[order]
    batch = {}
    for name, arr in split.items():
        rows = np.asarray(arr[sorted_idx])[inverse]
        batch[name] = rows.astype(np.float32 if name == "weights" else np.int32, copy=False)
    targets = batch["targets"]
    if "weights" not in batch:
        batch["weights"] = np.ones(targets.shape, np.float32)
    batch["weights"] *= valid.reshape((-1,) + (1,) * (targets.ndim - 1)).astype(np.float32)
    return batch


def to_devices(batch: dict, num_devices: int) -> dict:
    """[B, ...] -> [D, B/D, ...] for every array."""
    return {k: v.reshape((num_devices, v.shape[0] // num_devices) + v.shape[1:]) for k, v in batch.items()}


class Dataset:
    """Tokenised splits of one task plus its TaskInfo; yields device-shaped batches.

    stats: loader statistics per split (truncated sequences, skipped files, ...).
    """

    def __init__(self, info: TaskInfo, splits: dict[str, dict[str, np.ndarray]], stats: dict | None = None):
        missing = [s for s in SPLITS if s not in splits]
        if missing:
            raise ValueError(f"{info.name}: splits {missing} missing")
        self.info = info
        self.splits = splits
        self.stats = stats or {}

    def num_examples(self, split: str) -> int:
        """Number of examples in 'train' | 'val' | 'test'."""
        return int(len(self._split(split)["targets"]))

    def _split(self, split: str) -> dict[str, np.ndarray]:
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return self.splits[split]

    def train_batches(self, global_batch_size: int, num_devices: int, seed: int, start_step: int = 0) -> Iterator[dict]:
        """Infinite shuffled train batches [D, B/D, ...]; batch s depends only on (seed, s)."""
        check_global_batch(global_batch_size, num_devices)
        split = self._split("train")
        n = self.num_examples("train")
        if n == 0:
            raise ValueError(f"{self.info.name}: the train split is empty")
        valid = np.ones(global_batch_size, bool)
        perms: dict = {}
        for step in itertools.count(start_step):
            idx = train_indices(seed, step, global_batch_size, n, perms)
            yield to_devices(gather(split, idx, valid), num_devices)

    def eval_batches(self, split: str, global_batch_size: int, num_devices: int) -> Iterator[dict]:
        """One pass over `split` in order; the tail batch is kept, filled with weight-0 copies."""
        check_global_batch(global_batch_size, num_devices)
        arrays = self._split(split)
        n = self.num_examples(split)
        for start in range(0, n, global_batch_size):
            stop = min(start + global_batch_size, n)
            idx = np.zeros(global_batch_size, np.int64)
            idx[: stop - start] = np.arange(start, stop)
            valid = np.arange(global_batch_size) < stop - start
            yield to_devices(gather(arrays, idx, valid), num_devices)
