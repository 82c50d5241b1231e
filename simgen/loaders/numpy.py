"""Random-access numpy reader over a built dataset's shards (lazy, per-process file handles).

`simgen.load("ds/")["train"][0]` → (images (k, H, W, C) uint8, labels (k-1,) uint8).
Other fields on request: `split.get(0, fields=("images", "classes"))`, or a view whose items
carry them: `split.with_fields("images", "labels", "classes", "sources")[0]`.
"""
from __future__ import annotations

import bisect
import copy
import os
from typing import Iterator, Sequence

import numpy as np

from ..errors import SimgenError
from ..manifest import read_manifest, shard_path as _shard_path
from .shardio import FIELDS, Shard, check_fields

DEFAULT_FIELDS = ("images", "labels")
# Per-dataset HDF5 chunk cache. A one-tuple chunk (36 KiB for a 64x64 triplet) fits, and so
# do the few chunks one batch touches; larger chunks bypass the cache and are read directly.
CHUNK_CACHE_BYTES = 4 << 20


def _as_indices(items, length: int) -> np.ndarray:
    """Positions (negative ones count from the end) as int64, refusing any out of range."""
    idx = np.asarray(items, dtype=np.int64).reshape(-1)
    idx = np.where(idx < 0, idx + length, idx)
    if idx.size and (idx.min() < 0 or idx.max() >= length):
        bad = np.asarray(items).reshape(-1)[(idx < 0) | (idx >= length)][0]
        raise IndexError(f"tuple {bad} out of range for {length} tuples")
    return idx


class TupleSplit:
    """One split of a dataset: `len`, `split[i]`, slices and index arrays, `batches()`.

    Items are tuples of arrays, one per field in `self.fields` (default images, labels).
    Files open lazily in the process that reads and are never pickled, so a TupleSplit can
    be handed to fork, spawn or forkserver workers (DataLoader, Keras, multiprocessing).
    """

    def __init__(self, root: str, split: str, manifest: dict | None = None,
                 fields: Sequence[str] = DEFAULT_FIELDS):
        self.root = root
        self.split = split
        manifest = manifest or read_manifest(root)
        if split not in manifest.get("splits", {}):
            raise SimgenError(f"no split {split!r} in {root}; have {sorted(manifest['splits'])}")
        self.fields = check_fields(tuple(fields))
        self.class_names = list(manifest.get("source", {}).get("class_names", []))
        self.shards = [s for s in manifest["shards"] if s["split"] == split]
        self.paths = [_shard_path(root, s["file"]) for s in self.shards]
        self.offsets = np.cumsum([0] + [s["num_tuples"] for s in self.shards])
        self._bounds = self.offsets.tolist()
        self.k = int(manifest.get("config", {}).get("learning_size", 0)) or None
        #: the build's --batch-size, every reader's default batch size
        self.batch_size = int(manifest.get("loader_defaults", {}).get("batch_size") or 32)
        self._files: dict[int, Shard] = {}
        self._pid: int | None = None

    # ----- handles -----------------------------------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_files"], state["_pid"] = {}, None
        return state

    def _shard(self, i: int) -> Shard:
        """Shard i's handle in this process (reopened after fork: never share HDF5 state)."""
        if self._pid != os.getpid():
            self._files, self._pid = {}, os.getpid()
        shard = self._files.get(i)
        if shard is None:
            shard = self._files[i] = Shard(self.paths[i], CHUNK_CACHE_BYTES)
        return shard

    def close(self) -> None:
        """Close this process's open shard files (they reopen on the next read)."""
        for shard in self._files.values():
            shard.close()
        self._files = {}

    def __enter__(self) -> "TupleSplit":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- description -------------------------------------------------------------------
    def __len__(self) -> int:
        return self._bounds[-1]

    def __repr__(self) -> str:
        return (f"TupleSplit({self.root!r}, {self.split!r}: {len(self)} tuples in "
                f"{len(self.shards)} shard(s), fields={self.fields})")

    @property
    def layout(self) -> str:
        """'dense' or 'indexed' (as the first shard stores it)."""
        return "indexed" if self.paths and self._shard(0).indexed else "dense"

    @property
    def element_shape(self) -> tuple[int, ...]:
        """One image's shape as stored, e.g. (H, W, C); read from the first shard."""
        if not self.paths:
            raise SimgenError(f"split {self.split!r} of {self.root} has no shards")
        return self._shard(0).element_shape

    def with_fields(self, *fields: str) -> "TupleSplit":
        """A view of the same split whose items carry `fields`, in that order."""
        view = copy.copy(self)
        view.fields = check_fields(fields)
        return view

    # ----- reading -----------------------------------------------------------------------
    def _fields(self, fields: Sequence[str] | None) -> tuple[str, ...]:
        return self.fields if fields is None else check_fields(tuple(fields))

    def read(self, start: int, stop: int, fields: Sequence[str] | None = None
             ) -> tuple[np.ndarray, ...]:
        """Rows [start, stop) across shard boundaries, one contiguous read per shard."""
        fields = self._fields(fields)
        start, stop = max(0, int(start)), min(len(self), int(stop))
        parts: list[list[np.ndarray]] = [[] for _ in fields]
        first = int(np.searchsorted(self.offsets, start, side="right") - 1)
        row = start
        for i in range(max(first, 0), len(self.shards)):
            if row >= stop:
                break
            base, hi = self._bounds[i], min(stop, self._bounds[i + 1])
            for part, arr in zip(parts, self._shard(i).rows(fields, slice(row - base, hi - base))):
                part.append(arr)
            row = hi
        if not parts[0]:
            return self._empty(fields)
        return tuple(np.concatenate(p) if len(p) != 1 else p[0] for p in parts)

    def _empty(self, fields: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """Zero-row arrays with the right shapes and dtypes."""
        if not self.paths:
            return tuple(np.empty((0,)) for _ in fields)
        return tuple(a[:0] for a in self.read(0, 1, fields))

    def take(self, indices, fields: Sequence[str] | None = None) -> tuple[np.ndarray, ...]:
        """Rows at `indices` (any order, repeats allowed), grouped into one read per shard."""
        fields = self._fields(fields)
        idx = _as_indices(indices, len(self))
        if idx.size and np.all(np.diff(idx) == 1):
            return self.read(int(idx[0]), int(idx[-1]) + 1, fields)
        unique, inverse = np.unique(idx, return_inverse=True)
        shard_of = np.searchsorted(self.offsets, unique, side="right") - 1
        parts: list[list[np.ndarray]] = [[] for _ in fields]
        for i in np.unique(shard_of):
            rows = unique[shard_of == i] - self.offsets[i]
            for part, arr in zip(parts, self._shard(int(i)).rows(fields, rows)):
                part.append(arr)
        if not parts[0]:
            return self._empty(fields)
        return tuple((np.concatenate(p) if len(p) != 1 else p[0])[inverse] for p in parts)

    def get(self, i: int, fields: Sequence[str] | None = None) -> tuple[np.ndarray, ...]:
        """Tuple i as one array per field, e.g. get(0, ("images", "classes"))."""
        fields = self._fields(fields)
        n, j = len(self), int(i)
        if not -n <= j < n:
            raise IndexError(f"tuple {i} out of range for {n} tuples")
        j += n if j < 0 else 0
        s = bisect.bisect_right(self._bounds, j) - 1
        return self._shard(s).row(fields, j - self._bounds[s])

    def __getitem__(self, item):
        """split[i] → one tuple; split[a:b], split[[i, j, …]] → arrays with a leading batch axis."""
        if isinstance(item, slice):
            start, stop, step = item.indices(len(self))
            if step == 1:
                return self.read(start, stop)
            return self.take(np.arange(start, stop, step))
        if isinstance(item, (list, tuple, np.ndarray)):
            return self.take(item)
        return self.get(item)

    def batches(self, batch_size: int | None = None, shuffle: bool = False,
                seed: int | None = None, drop_remainder: bool = False,
                fields: Sequence[str] | None = None) -> Iterator[tuple[np.ndarray, ...]]:
        """Batches of numpy arrays (JAX, numpy, anything): in order, or shuffled by `seed`.
        `batch_size` defaults to the one the dataset was built with (--batch-size)."""
        batch_size = batch_size or self.batch_size
        if batch_size < 1:
            raise SimgenError(f"batch_size must be at least 1, received: {batch_size}")
        n = len(self)
        order = np.random.default_rng(seed).permutation(n) if shuffle else None
        end = n - n % batch_size if drop_remainder else n
        for start in range(0, end, batch_size):
            stop = min(n, start + batch_size)
            if order is None:
                yield self.read(start, stop, fields)
            else:
                yield self.take(order[start:stop], fields)

    def num_batches(self, batch_size: int | None = None, drop_remainder: bool = False) -> int:
        """How many batches `batches(batch_size, drop_remainder=…)` yields."""
        batch_size = batch_size or self.batch_size
        n = len(self)
        return n // batch_size if drop_remainder else -(-n // batch_size)


def load(path: str, fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, TupleSplit]:
    """A built dataset as {split name: TupleSplit}; items carry `fields` (images, labels)."""
    path = os.fspath(path)
    manifest = read_manifest(path)
    root = path if os.path.isdir(path) else os.path.dirname(path)
    return {name: TupleSplit(root, name, manifest, fields) for name in manifest["splits"]}


__all__ = ["DEFAULT_FIELDS", "FIELDS", "TupleSplit", "load"]
