"""Reading rows out of one open shard, for both on-disk layouts (dense and indexed).

dense:   `images` (n, k, *element) holds every tuple's pixels.
indexed: `pool` (u, *element) holds each unique image once, `tuples` (n, k) indexes it.
Both have `labels`, `classes`, `sources`; readers get the same arrays from either.

h5py fancy indexing (`dset[[3, 9, 40]]`) costs milliseconds per point on chunked data, so
scattered rows are read as contiguous runs (or one covering slab when that is cheaper).
"""
from __future__ import annotations

import math

import h5py
import numpy as np

from ..errors import SimgenError

FIELDS = ("images", "labels", "classes", "sources")
OPTIONAL_FIELDS = ("class_labels",)  # only with --label-mode categorical / binary
SLAB_DENSITY = 0.25  # read one covering slab when the rows fill at least this share of it
SMALL_SLAB_BYTES = 256 << 10  # … or when the covering slab is this small anyway

Rows = slice | np.ndarray


class Shard:
    """One open shard file with its datasets looked up once (lookups cost ~30 µs each)."""

    def __init__(self, path: str, cache_bytes: int):
        try:
            self.file = h5py.File(path, "r", rdcc_nbytes=cache_bytes)
        except OSError as exc:
            raise SimgenError(f"cannot open shard {path}: {exc}") from None
        self.path = path
        self.datasets = {name: self.file[name] for name in self.file
                         if isinstance(self.file[name], h5py.Dataset)}
        self.indexed = shard_layout(self.file) == "indexed"
        need = ("pool", "tuples") if self.indexed else ("images",)
        self._require(need + FIELDS[1:])

    def close(self) -> None:
        self.file.close()

    def _require(self, names: tuple[str, ...]) -> None:
        missing = [n for n in names  # indexed shards hold `images` as pool + tuples
                   if n not in self.datasets and not (n == "images" and self.indexed)]
        if missing:
            raise SimgenError(f"shard {self.path} lacks dataset(s) {missing}")

    @property
    def element_shape(self) -> tuple[int, ...]:
        """One image's shape as stored, (H, W, C) or (C, H, W): read, never assumed."""
        return tuple((self.datasets["pool"].shape if self.indexed
                      else self.datasets["images"].shape[1:])[1:])

    def rows(self, fields: tuple[str, ...], rows: Rows) -> list[np.ndarray]:
        """Arrays of `fields` for `rows` (a slice or sorted unique row numbers)."""
        self._require(fields)
        return [self._images(rows) if name == "images" and self.indexed
                else select(self.datasets[name], rows) for name in fields]

    def row(self, fields: tuple[str, ...], r: int) -> tuple[np.ndarray, ...]:
        """One tuple's arrays (the fast path for `split[i]`)."""
        self._require(fields)
        return tuple(self._one_image(r) if name == "images" and self.indexed
                     else self.datasets[name][r] for name in fields)

    def _images(self, rows: Rows) -> np.ndarray:
        """Indexed layout: gather tuples' images from the pool, each pool image read once."""
        tuples = select(self.datasets["tuples"], rows)
        unique, inverse = np.unique(tuples, return_inverse=True)
        pixels = select(self.datasets["pool"], unique)
        return pixels[inverse.reshape(tuples.shape)]

    def _one_image(self, r: int) -> np.ndarray:
        pool = self.datasets["pool"]
        return np.stack([pool[int(j)] for j in self.datasets["tuples"][r]])


def shard_layout(f: h5py.File) -> str:
    """'indexed' when the file stores a pool plus tuple indices, else 'dense'."""
    layout = f.attrs.get("layout", "dense")
    layout = layout.decode() if isinstance(layout, bytes) else str(layout)
    return "indexed" if layout == "indexed" or "pool" in f else "dense"


def select(dset: h5py.Dataset, rows: Rows) -> np.ndarray:
    """dset[rows] for a slice or sorted unique row numbers, in as few reads as sensible."""
    if isinstance(rows, slice):
        return dset[rows]
    n = len(rows)
    if n == 0:
        return np.empty((0,) + dset.shape[1:], dset.dtype)
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    if hi - lo == n:
        return dset[lo:hi]
    row_bytes = dset.dtype.itemsize * math.prod(dset.shape[1:])
    if n >= SLAB_DENSITY * (hi - lo) or (hi - lo) * row_bytes <= SMALL_SLAB_BYTES:
        return dset[lo:hi][rows - lo]
    out = np.empty((n,) + dset.shape[1:], dset.dtype)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(rows) != 1) + 1, [n]])
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist()):
        out[a:b] = dset[int(rows[a]):int(rows[b - 1]) + 1]
    return out


def check_fields(fields: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse unknown field names with the list of known ones."""
    fields = tuple(fields)
    known = FIELDS + OPTIONAL_FIELDS
    unknown = [f for f in fields if f not in known]
    if unknown or not fields:
        raise SimgenError(f"unknown field(s) {unknown or '[]'}; choose from {list(known)}")
    return fields
