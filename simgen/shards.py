"""HDF5 shard files: names, atomic writes, and the dataset layout of format version 1."""
from __future__ import annotations

import hashlib
import os
import uuid
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
    """Cut plan positions [0, num_tuples) into shards of `per_shard` tuples (at least one)."""
    count = max(1, -(-num_tuples // per_shard))
    return [
        ShardSpec(split, i, count, i * per_shard, min(num_tuples, (i + 1) * per_shard))
        for i in range(count)
    ]


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


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: str, block: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
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
    """Write one shard atomically; `slabs` yields (row offset, images, classes, sources).

    label_mode categorical / binary adds `class_labels` float32 in keras's encoding.
    `extra` adds whole datasets (e.g. `augment` parameters) next to the standard ones.

    Returns {file, bytes, sha256}. Nothing appears under `final` unless all of it was written.
    """
    tmp = temp_name(final)
    try:
        with h5py.File(tmp, "w", libver=LIBVER, track_order=False) as f:
            for key, value in attrs.items():
                f.attrs[key] = value
            kw = dict(track_times=False)
            images = f.create_dataset(
                "images", shape=(n, k) + image_shape, dtype=np.uint8,
                chunks=(1, k) + image_shape if n else None, compression=compression, **kw,
            )
            classes = f.create_dataset("classes", shape=(n, k), dtype=np.int32, **kw)
            sources = f.create_dataset("sources", shape=(n, k), dtype=np.int32, **kw)
            labels = f.create_dataset("labels", shape=(n, k - 1), dtype=np.uint8, **kw)
            encoded = class_labels(np.zeros((n, k), np.int32), label_mode, num_classes)
            if encoded is not None:
                encoded = f.create_dataset("class_labels", shape=encoded.shape,
                                           dtype=np.float32, **kw)
            for name, data in (extra or {}).items():
                f.create_dataset(name, data=data, **kw)
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
        atomic_publish(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"bytes": os.path.getsize(final), "sha256": sha256_file(final)}
