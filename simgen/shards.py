"""HDF5 shard files: names, atomic writes, and the dataset layout of format version 1."""
from __future__ import annotations

import hashlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import h5py
import numpy as np

FORMAT = "simgen-hdf5"
FORMAT_VERSION = 1
LIBVER = ("earliest", "v110")


def shard_name(split: str, index: int, count: int) -> str:
    """`{split}-{i:05d}-of-{n:05d}.h5`, the TFDS / Hugging Face convention."""
    return f"{split}-{index:05d}-of-{count:05d}.h5"


@dataclass(frozen=True)
class ShardSpec:
    """One unit of work: plan positions [start, stop) of `split`, written as shard `index`."""

    split: str
    index: int
    count: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return shard_name(self.split, self.index, self.count)

    @property
    def num_tuples(self) -> int:
        return self.stop - self.start


def shard_specs(split: str, num_tuples: int, per_shard: int) -> list[ShardSpec]:
    """Cut plan positions [0, num_tuples) into as few shards as hold at most `per_shard`
    tuples each, balanced (sizes differ by at most one) so parallel shard tasks end together."""
    count = max(1, -(-num_tuples // per_shard))
    bounds = [i * num_tuples // count for i in range(count + 1)]
    return [ShardSpec(split, i, count, bounds[i], bounds[i + 1]) for i in range(count)]


def tuple_labels(classes: np.ndarray) -> np.ndarray:
    """labels[:, j] = 1 where element j+1 has the anchor's class (1 = similar)."""
    return (classes[:, 1:] == classes[:, :1]).astype(np.uint8)


def class_labels(classes: np.ndarray, label_mode: str | None, num_classes: int):
    """keras's per-element label encoding of class ids, or None when `classes` says it all.

    categorical: float32 one-hot (…, num_classes); binary: float32 class id (…, 1).
    """
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[classes]
    if label_mode == "binary":
        return classes.astype(np.float32)[..., None]
    return None


def class_label_width(label_mode: str | None, num_classes: int) -> int | None:
    """Last axis of class_labels' output (num_classes or 1), or None when it gives nothing."""
    return {"categorical": num_classes, "binary": 1}.get(label_mode)


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: str, block: int = 1 << 22) -> str:
    with open(path, "rb") as f:
        return sha256_stream(f, block)


def sha256_stream(f, block: int = 1 << 22) -> str:
    """Hex SHA-256 of an open binary file, from its current position to the end."""
    h = hashlib.sha256()
    while chunk := f.read(block):
        h.update(chunk)
    return h.hexdigest()


def atomic_publish(tmp: str, final: str) -> None:
    """fsync `tmp`, rename it to `final`, fsync the directory: all or nothing."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    fsync_dir(os.path.dirname(final) or ".")


def temp_name(final: str) -> str:
    """A hidden sibling of `final` that no reader mistakes for a shard."""
    head, tail = os.path.split(final)
    return os.path.join(head, f".{tail}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_h5(final: str, attrs: dict, entry: dict) -> Iterator[h5py.File]:
    """An HDF5 file opened under a temporary name, published as `final` only on success;
    then `entry` holds the published file's {bytes, sha256}."""
    tmp = temp_name(final)
    try:
        with h5py.File(tmp, "w", libver=LIBVER, track_order=False) as f:
            for key, value in attrs.items():
                f.attrs[key] = value
            yield f
        entry.update(publish_hashed(tmp, final))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def publish_hashed(tmp: str, final: str) -> dict:
    """atomic_publish, hashing `tmp` while its fsync waits on the disk (both release the GIL,
    one needs the CPU, the other the disk): {bytes, sha256} of exactly what is published."""
    with open(tmp, "rb") as f, ThreadPoolExecutor(1) as pool:  # opened here: rename-proof
        hashed = pool.submit(sha256_stream, f)
        atomic_publish(tmp, final)
        return {"bytes": os.path.getsize(final), "sha256": hashed.result()}


def _ids(f: h5py.File, name: str, shape: tuple[int, ...], dtype) -> h5py.Dataset:
    return f.create_dataset(name, shape=shape, dtype=dtype, track_times=False)


def write_shard(
    final: str,
    n: int,
    k: int,
    image_shape: tuple[int, int, int],
    slabs: Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
    attrs: dict,
    compression: str | None = None,
    on_slab: Callable[[int], None] | None = None,
    label_mode: str | None = "int",
    num_classes: int = 0,
    extra: dict[str, np.ndarray] | None = None,
) -> dict:
    """Write one dense shard atomically; `slabs` yields (row offset, images, classes, sources).

    label_mode categorical / binary adds `class_labels` float32 in keras's encoding.
    `extra` adds whole datasets (e.g. `augment` parameters) next to the standard ones.

    Returns {bytes, sha256}. Nothing appears under `final` unless all of it was written.
    """
    entry: dict = {}
    with atomic_h5(final, attrs, entry) as f:
        images = f.create_dataset(
            "images", shape=(n, k) + image_shape, dtype=np.uint8, track_times=False,
            chunks=(1, k) + image_shape if n else None, compression=compression,
        )
        classes = _ids(f, "classes", (n, k), np.int32)
        sources = _ids(f, "sources", (n, k), np.int32)
        labels = _ids(f, "labels", (n, k - 1), np.uint8)
        width = class_label_width(label_mode, num_classes)
        encoded = None if width is None else _ids(f, "class_labels", (n, k, width), np.float32)
        for name, data in (extra or {}).items():
            f.create_dataset(name, data=data, track_times=False)
        for row, img, cls, src in slabs:
            stop = row + len(img)
            images[row:stop] = img
            classes[row:stop] = cls
            sources[row:stop] = src
            labels[row:stop] = tuple_labels(cls)
            if encoded is not None:
                encoded[row:stop] = class_labels(cls, label_mode, num_classes)
            if on_slab:
                on_slab(len(img))
    return entry


def write_indexed_shard(
    final: str,
    tuples: np.ndarray,
    classes: np.ndarray,
    sources: np.ndarray,
    image_shape: tuple[int, int, int],
    pool_slabs: Iterator[tuple[int, np.ndarray]],
    pool_size: int,
    attrs: dict,
    compression: str | None = None,
    label_mode: str | None = "int",
    num_classes: int = 0,
) -> dict:
    """Write one indexed shard atomically: `pool` (u, H, W, C) holds each unique image once,
    `tuples` (n, k) int32 indexes it; `classes`, `sources`, `labels` (and `class_labels`)
    as in the dense layout. `pool_slabs` yields (pool offset, images)."""
    entry: dict = {}
    with atomic_h5(final, attrs, entry) as f:
        pool = f.create_dataset(
            "pool", shape=(pool_size,) + image_shape, dtype=np.uint8, track_times=False,
            chunks=(1,) + image_shape if pool_size else None, compression=compression,
        )
        for off, img in pool_slabs:
            pool[off : off + len(img)] = img
        small = [("tuples", tuples, np.int32), ("classes", classes, np.int32),
                 ("sources", sources, np.int32), ("labels", tuple_labels(classes), np.uint8),
                 ("class_labels", class_labels(classes, label_mode, num_classes), np.float32)]
        for name, data, dtype in small:
            if data is not None:
                _ids(f, name, data.shape, dtype)[...] = data
    return entry
