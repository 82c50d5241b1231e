"""Random-access numpy reader over a built dataset's shards (lazy, per-process file handles).

`simgen.load("ds/")["train"][0]` → (images (k, H, W, C) uint8, labels (k-1,) uint8).
Other fields on request: `split.get(0, fields=("images", "classes"))`, or a view whose items
carry them: `split.with_fields("images", "labels", "classes", "sources")[0]`.
"""
from __future__ import annotations

import copy
import os
from typing import Iterator, Sequence

import h5py
import numpy as np

from ..errors import SimgenError
from ..manifest import read_manifest, shard_path as _shard_path
from .shardio import FIELDS, check_fields, element_shape, read_rows, shard_layout

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
        self.k = int(manifest.get("config", {}).get("learning_size", 0)) or None
        self._files: dict[int, h5py.File] = {}
        self._indexed: dict[int, bool] = {}
        self._pid: int | None = None

    # ----- handles -----------------------------------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_files"], state["_indexed"], state["_pid"] = {}, {}, None
        return state

    def _file(self, i: int) -> h5py.File:
        """Shard i's handle in this process (reopened after fork: never share HDF5 state)."""
        if self._pid != os.getpid():
            self._files, self._indexed, self._pid = {}, {}, os.getpid()
        if i not in self._files:
            try:
                f = h5py.File(self.paths[i], "r", rdcc_nbytes=CHUNK_CACHE_BYTES)
            except OSError as exc:
                raise SimgenError(f"cannot open shard {self.paths[i]}: {exc}") from None
            self._files[i], self._indexed[i] = f, shard_layout(f) == "indexed"
        return self._files[i]

    def close(self) -> None:
        """Close this process's open shard files (they reopen on the next read)."""
        for f in self._files.values():
            f.close()
        self._files, self._indexed = {}, {}

    def __enter__(self) -> "TupleSplit":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- description -------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __repr__(self) -> str:
        return (f"TupleSplit({self.root!r}, {self.split!r}: {len(self)} tuples in "
                f"{len(self.shards)} shard(s), fields={self.fields})")

    @property
    def layout(self) -> str:
        """'dense' or 'indexed' (as the first shard stores it)."""
        if not self.paths:
            return "dense"
        self._file(0)
        return "indexed" if self._indexed[0] else "dense"

    @property
    def element_shape(self) -> tuple[int, ...]:
        """One image's shape as stored, e.g. (H, W, C); read from the first shard."""
        if not self.paths:
            raise SimgenError(f"split {self.split!r} of {self.root} has no shards")
        return element_shape(self._file(0))

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
            base = int(self.offsets[i])
            hi = min(stop, int(self.offsets[i + 1]))
            f = self._file(i)
            for part, arr in zip(parts, read_rows(f, fields, slice(row - base, hi - base),
                                                  self._indexed[i])):
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
            for part, arr in zip(parts, read_rows(self._file(int(i)), fields, rows,
                                                  self._indexed[int(i)])):
                part.append(arr)
        if not parts[0]:
            return self._empty(fields)
        return tuple((np.concatenate(p) if len(p) != 1 else p[0])[inverse] for p in parts)

    def get(self, i: int, fields: Sequence[str] | None = None) -> tuple[np.ndarray, ...]:
        """Tuple i as one array per field, e.g. get(0, ("images", "classes"))."""
        j = int(_as_indices([i], len(self))[0])
        return tuple(a[0] for a in self.read(j, j + 1, fields))

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

    def batches(self, batch_size: int = 32, shuffle: bool = False, seed: int | None = None,
                drop_remainder: bool = False, fields: Sequence[str] | None = None
                ) -> Iterator[tuple[np.ndarray, ...]]:
        """Batches of numpy arrays (JAX, numpy, anything): in order, or shuffled by `seed`."""
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

    def num_batches(self, batch_size: int, drop_remainder: bool = False) -> int:
        """How many batches `batches(batch_size, drop_remainder=…)` yields."""
        n = len(self)
        return n // batch_size if drop_remainder else -(-n // batch_size)


def load(path: str, fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, TupleSplit]:
    """A built dataset as {split name: TupleSplit}; items carry `fields` (images, labels)."""
    path = os.fspath(path)
    manifest = read_manifest(path)
    root = path if os.path.isdir(path) else os.path.dirname(path)
    return {name: TupleSplit(root, name, manifest, fields) for name in manifest["splits"]}


__all__ = ["DEFAULT_FIELDS", "FIELDS", "TupleSplit", "load"]
