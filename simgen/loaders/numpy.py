"""Random-access numpy reader over a built dataset's shards (lazy, per-process file handles)."""
from __future__ import annotations

import os
from typing import Iterator

import h5py
import numpy as np

from ..errors import SimgenError
from ..manifest import read_manifest


def _shard_path(root: str, name: str) -> str:
    """OUT/name, refusing manifest entries that point outside the dataset folder."""
    if os.path.isabs(name) or os.path.normpath(name).startswith("..") or "/" in name:
        raise SimgenError(f"manifest shard entry {name!r} points outside {root}")
    return os.path.join(root, name)


class TupleSplit:
    """One split of a dataset: `len`, `split[i]` → (images (k,H,W,C), labels (k-1,)), slicing,
    and `batches(n)`. Files open lazily in the process that reads (fork/spawn safe)."""

    def __init__(self, root: str, split: str, manifest: dict | None = None):
        self.root = root
        self.split = split
        manifest = manifest or read_manifest(root)
        self.shards = [s for s in manifest["shards"] if s["split"] == split]
        if not self.shards and split not in manifest.get("splits", {}):
            raise SimgenError(f"no split {split!r} in {root}; have {sorted(manifest['splits'])}")
        self.paths = [_shard_path(root, s["file"]) for s in self.shards]
        self.offsets = np.cumsum([0] + [s["num_tuples"] for s in self.shards])
        self._files: dict[int, h5py.File] = {}
        self._pid = None

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_files"], state["_pid"] = {}, None
        return state

    def _file(self, i: int) -> h5py.File:
        if self._pid != os.getpid():
            self._files, self._pid = {}, os.getpid()
        if i not in self._files:
            self._files[i] = h5py.File(self.paths[i], "r")
        return self._files[i]

    def read(self, start: int, stop: int, fields=("images", "labels")) -> tuple[np.ndarray, ...]:
        """Rows [start, stop) across shard boundaries, for each of `fields`."""
        parts: list[list[np.ndarray]] = [[] for _ in fields]
        first = int(np.searchsorted(self.offsets, start, side="right") - 1)
        row = start
        for i in range(first, len(self.shards)):
            if row >= stop:
                break
            lo, hi = row - self.offsets[i], min(stop, self.offsets[i + 1]) - self.offsets[i]
            f = self._file(i)
            for j, name in enumerate(fields):
                parts[j].append(f[name][lo:hi])
            row = self.offsets[i] + hi
        return tuple(np.concatenate(p) if len(p) != 1 else p[0] for p in parts)

    def __getitem__(self, item):
        if isinstance(item, slice):
            start, stop, step = item.indices(len(self))
            out = self.read(start, stop)
            return tuple(a[::step] for a in out) if step != 1 else out
        i = int(item)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"tuple {item} out of range for {len(self)} tuples")
        images, labels = self.read(i, i + 1)
        return images[0], labels[0]

    def batches(self, batch_size: int = 32, fields=("images", "labels")) -> Iterator[tuple]:
        """Sequential batches of numpy arrays (JAX, numpy, anything)."""
        for start in range(0, len(self), batch_size):
            yield self.read(start, min(len(self), start + batch_size), fields)

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files = {}


def load(path: str) -> dict[str, TupleSplit]:
    """A built dataset as {split name: TupleSplit}."""
    path = os.fspath(path)
    manifest = read_manifest(path)
    root = path if os.path.isdir(path) else os.path.dirname(path)
    return {name: TupleSplit(root, name, manifest) for name in manifest["splits"]}
