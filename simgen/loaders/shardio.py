"""Reading rows out of one open shard, for both on-disk layouts (dense and indexed).

dense:   `images` (n, k, *element) holds every tuple's pixels.
indexed: `pool` (u, *element) holds each unique image once, `tuples` (n, k) indexes it.
Both have `labels`, `classes`, `sources`; readers get the same arrays from either.
"""
from __future__ import annotations

import h5py
import numpy as np

FIELDS = ("images", "labels", "classes", "sources")
# A sorted row set is read as one contiguous slab when it covers at least this share of it.
SLAB_DENSITY = 0.25

Rows = slice | np.ndarray


def shard_layout(f: h5py.File) -> str:
    """'indexed' when the file stores a pool plus tuple indices, else 'dense'."""
    layout = f.attrs.get("layout", "dense")
    layout = layout.decode() if isinstance(layout, bytes) else str(layout)
    return "indexed" if layout == "indexed" or "pool" in f else "dense"


def element_shape(f: h5py.File) -> tuple[int, ...]:
    """Shape of one image as stored (H, W, C) or (C, H, W): read from the file, never assumed."""
    if shard_layout(f) == "indexed":
        return tuple(f["pool"].shape[1:])
    return tuple(f["images"].shape[2:])


def select(dset: h5py.Dataset, rows: Rows) -> np.ndarray:
    """dset[rows] for a slice or a sorted unique index array, as few HDF5 calls as sensible."""
    if isinstance(rows, slice):
        return dset[rows]
    if len(rows) == 0:
        return np.empty((0,) + dset.shape[1:], dset.dtype)
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    if hi - lo == len(rows):
        return dset[lo:hi]
    if len(rows) >= SLAB_DENSITY * (hi - lo):
        return dset[lo:hi][rows - lo]
    return dset[rows]


def pool_images(f: h5py.File, rows: Rows) -> np.ndarray:
    """Indexed layout: gather the tuples' images from the pool (each pool image read once)."""
    tuples = select(f["tuples"], rows)
    unique, inverse = np.unique(tuples, return_inverse=True)
    pixels = select(f["pool"], unique)
    return pixels[inverse.reshape(tuples.shape)]


def read_rows(f: h5py.File, fields: tuple[str, ...], rows: Rows, indexed: bool) -> list[np.ndarray]:
    """Arrays of `fields` for `rows` (a slice or sorted unique indices) of one shard."""
    return [pool_images(f, rows) if name == "images" and indexed else select(f[name], rows)
            for name in fields]


def check_fields(fields: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse unknown field names with the list of known ones."""
    from ..errors import SimgenError

    fields = tuple(fields)
    unknown = [f for f in fields if f not in FIELDS]
    if unknown or not fields:
        raise SimgenError(f"unknown field(s) {unknown or '[]'}; choose from {list(FIELDS)}")
    return fields
