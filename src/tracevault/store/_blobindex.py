"""Which blobs are already stored: a hot set of full hashes plus a compact key index.

The key index holds the first 8 bytes of every stored hash in a sorted NumPy array
(8 bytes per blob), so a batch learns which of its blobs are new without scanning the
blob table. A key match that is not in the hot set is confirmed against the table by
full hash, so a 64-bit collision can never drop a blob.

``BlobCache`` is the read side: blob texts by hash, for trace fetches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np

from ._codec import hkey

__all__ = ["BlobCache", "BlobIndex", "TraceIndex"]


class BlobIndex:
    """Membership of stored blob hashes for one writer."""

    def __init__(self, hot_max: int = 200_000) -> None:
        self.hot_max = hot_max
        self._hot: OrderedDict[bytes, None] = OrderedDict()
        self._sorted = np.empty(0, dtype=np.int64)
        self._pending: set[int] = set()

    def load(self, keys: np.ndarray) -> None:
        """Replace the key index with the keys of every stored blob."""
        self._sorted = np.unique(keys.astype(np.int64, copy=False))
        self._pending = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._pending)

    def __contains__(self, h: bytes) -> bool:
        """Whether ``h`` is in the hot set (known stored, or sent by this process)."""
        return h in self._hot

    def new_hashes(self, hashes: Iterable[bytes],
                   confirm: Callable[[list[int]], set[bytes]]) -> list[bytes]:
        """The hashes not stored yet. ``confirm(keys)`` returns stored hashes with those keys."""
        candidates = [h for h in hashes if h not in self._hot]
        if not candidates:
            return []
        keys = np.fromiter((hkey(h) for h in candidates), dtype=np.int64, count=len(candidates))
        if len(self._sorted):
            pos = np.searchsorted(self._sorted, keys)
            pos[pos == len(self._sorted)] = 0
            maybe = self._sorted[pos] == keys
        else:
            maybe = np.zeros(len(keys), dtype=bool)
        if self._pending:
            maybe |= np.fromiter((int(k) in self._pending for k in keys), dtype=bool,
                                 count=len(keys))
        if not maybe.any():
            return candidates
        stored = confirm([int(k) for k in keys[maybe]])
        for h in stored:
            self._touch(h)
        return [h for h in candidates if h not in stored]

    def add(self, hashes: Iterable[bytes]) -> None:
        """Record hashes that were just committed."""
        for h in hashes:
            self._touch(h)
            self._pending.add(hkey(h))
        if len(self._pending) > 65_536:
            merged = np.fromiter(self._pending, dtype=np.int64, count=len(self._pending))
            self._sorted = np.union1d(self._sorted, merged)
            self._pending = set()

    def remember(self, hashes: Iterable[bytes]) -> None:
        """Mark hashes as hot (known stored) without touching the key index."""
        for h in hashes:
            self._touch(h)

    def _touch(self, h: bytes) -> None:
        hot = self._hot
        if h in hot:
            hot.move_to_end(h)
            return
        hot[h] = None
        if len(hot) > self.hot_max:
            hot.popitem(last=False)

    def clear_hot(self) -> None:
        """Forget the hot set (after a failed commit the key index stays valid)."""
        self._hot.clear()


class TraceIndex:
    """Which (project, trace id) pairs have committed spans, as 8-byte keys.

    Lets the writer skip the database lookup for traces it has never seen (most new
    spans belong to new or cached traces). A key match may be a collision, so a match
    only means "look it up".
    """

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.int64)
        self._pending: set[int] = set()

    @staticmethod
    def key(project: str, trace_id: str) -> int:
        """The 8-byte key of a trace."""
        # The low 64 bits: 64-bit ids from older tracers are zero-padded on the left.
        return (int(trace_id[16:], 16) - (1 << 63)) ^ (hash(project) & 0x7FFF_FFFF)

    def load(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Index every stored trace."""
        keys = np.fromiter((self.key(p, t) for p, t in pairs), dtype=np.int64)
        self._sorted = np.unique(keys)
        self._pending = set()

    def may_contain(self, project: str, trace_id: str) -> bool:
        """False when the trace certainly has no committed spans."""
        k = self.key(project, trace_id)
        if k in self._pending:
            return True
        i = int(np.searchsorted(self._sorted, k))
        return i < len(self._sorted) and int(self._sorted[i]) == k

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Record traces that just got committed spans."""
        for p, t in pairs:
            self._pending.add(self.key(p, t))
        if len(self._pending) > 65_536:
            merged = np.fromiter(self._pending, dtype=np.int64, count=len(self._pending))
            self._sorted = np.union1d(self._sorted, merged)
            self._pending = set()


class BlobCache:
    """LRU of blob texts by hash for reads (system prompts and tools are hot)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[bytes, str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every text (after a purge removed blobs)."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def get_many(self, hashes: Iterable[bytes]) -> tuple[dict[bytes, str], list[bytes]]:
        """The cached texts of ``hashes``, and the hashes not cached."""
        found: dict[bytes, str] = {}
        missing: list[bytes] = []
        with self._lock:
            for h in hashes:
                text = self._items.get(h)
                if text is None:
                    missing.append(h)
                else:
                    self._items.move_to_end(h)
                    found[h] = text
        return found, missing

    def put_many(self, items: dict[bytes, str]) -> None:
        """Cache texts (none larger than 1/16 of the budget), oldest out first."""
        with self._lock:
            for h, text in items.items():
                if len(text) > self.max_bytes // 16 or h in self._items:
                    continue
                self._items[h] = text
                self._bytes += len(text)
            while self._bytes > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)
