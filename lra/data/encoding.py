"""Small shared pieces of tokenisation: byte encoding, padding into fixed-width arrays, and the
truncation counter ("longer than max length -> truncated and counted, reported once")."""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("lra.data")

PAD_ID = 0
# LRA's ByteTextEncoder: token = byte + 1, 0 is padding, 257 ids in all.
BYTE_VOCAB_SIZE = 257


def encode_bytes(data: bytes) -> np.ndarray:
    """UTF-8 (or raw) bytes -> uint16 ids in 1..256 (byte + 1), shape [len(data)]."""
    return np.frombuffer(data, dtype=np.uint8).astype(np.uint16) + 1


class Truncations:
    """Counts sequences cut to max_length and reports the count once per split."""

    def __init__(self, what: str, max_length: int):
        self.what = what
        self.max_length = max_length
        self.count = 0
        self.longest = 0

    def clip(self, ids: np.ndarray) -> np.ndarray:
        """ids[:max_length], counting the cut."""
        if len(ids) > self.max_length:
            self.count += 1
            self.longest = max(self.longest, len(ids))
            return ids[: self.max_length]
        return ids

    def report(self) -> None:
        """One log line (warning) if anything was truncated."""
        if self.count:
            log.warning(
                "%s: %d sequence(s) longer than max_length=%d were truncated (longest %d tokens)",
                self.what, self.count, self.max_length, self.longest,
            )
