"""Materialize one shard: plan slice → each unique image once → gather slabs → write.

Pixels come from the build's decode cache (decodecache.py) when one is given, else the
shard decodes its own unique images. Either way every image goes through the same
imaging.image_pixels, so the bytes are the same.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator

import numpy as np

from .augment import shard_augmentation
from .decodecache import DecodeCache
from .imaging import decode_images
from .job import Job
from .shards import FORMAT, FORMAT_VERSION, ShardSpec, write_indexed_shard, write_shard

SLAB_TUPLES = 256  # at most this many tuples per write ...
SLAB_BYTES = 32 * 2**20  # ... and about this many bytes: bounded memory, large writes


def shard_attrs(job: Job, spec: ShardSpec) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "split": spec.split,
        "shard_index": spec.index,
        "shard_count": spec.count,
        "learning_size": job.config.learning_size,
        "config_hash": job.config_hash,
        "data_format": job.image.data_format,
        "label_mode": str(job.config.label_mode),
        "layout": job.config.layout,
    }


def pixel_schema(job: Job, axes: str) -> dict:
    """The manifest schema's layout and pixel datasets (`axes`: the dense images' axes)."""
    k, shape = job.config.learning_size, list(job.image.shape)
    if job.config.layout == "indexed":
        return {"layout": "indexed",
                "pool": {"dtype": "uint8", "shape": ["u", *shape],
                         "axes": "unique image, " + axes.split(", ", 2)[2]},
                "tuples": {"dtype": "int32", "shape": ["n", k],
                           "meaning": "index into pool of every tuple element"}}
    return {"layout": "dense", "images": {"dtype": "uint8", "shape": ["n", k, *shape], "axes": axes}}


def slab_size(tuple_bytes: int) -> int:
    """Rows per slab: SLAB_TUPLES, fewer for big rows so a slab stays near SLAB_BYTES."""
    return max(1, min(SLAB_TUPLES, SLAB_BYTES // max(1, tuple_bytes)))


def gather_slabs(pixels: np.ndarray, index: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, pixels[index[offset:offset+m]]) slabs, gathered into one reused buffer."""
    step = slab_size(int(np.prod(index.shape[1:], dtype=np.int64)) * pixels[0:1].nbytes)
    buf = np.empty((min(step, len(index)),) + index.shape[1:] + pixels.shape[1:], np.uint8)
    for off in range(0, len(index), step):
        m = min(step, len(index) - off)
        np.take(pixels, index[off : off + m], axis=0, out=buf[:m])
        yield off, buf[:m]


def shard_pixels(job: Job, spec: ShardSpec, unique: np.ndarray,
                 cache: DecodeCache | None) -> tuple[np.ndarray, np.ndarray]:
    """(pixels, at): images to gather from, and where each of `unique` (split rows) is in it."""
    if cache is not None:
        return cache.open(), cache.slot[unique]
    index = job.splits[spec.split].index
    pixels = decode_images(index.root, [index.paths[i] for i in unique], job.image)
    return pixels, np.arange(len(unique))


def build_shard(job: Job, spec: ShardSpec, out: str,
                on_slab: Callable[[int], None] | None = None,
                cache: DecodeCache | None = None) -> dict:
    """Write shard `spec` into directory `out`; return its manifest entry."""
    split = job.splits[spec.split]
    rows = split.plan.rows(spec.start, spec.stop)
    unique, inverse = np.unique(rows, return_inverse=True)
    inverse = inverse.reshape(rows.shape)
    pixels, at = shard_pixels(job, spec, unique, cache)
    classes = split.index.class_ids[rows]
    sources = split.index.source_ids[rows]
    final = os.path.join(out, spec.name)
    attrs, compression = shard_attrs(job, spec), job.config.compression
    labelling = (job.config.label_mode, job.index.num_classes)
    if job.config.layout == "indexed":
        meta = write_indexed_shard(final, inverse.astype(np.int32), classes, sources,
                                   job.image.shape, gather_slabs(pixels, at), len(unique),
                                   attrs, compression, *labelling)
        if on_slab:
            on_slab(len(rows))
    else:
        augment, extra = shard_augmentation(job.config, spec.split, spec.start, spec.stop,
                                            job.config.learning_size)
        slabs = ((off, augment(img, off) or img, classes[off : off + len(img)],
                  sources[off : off + len(img)])
                 for off, img in gather_slabs(pixels, at[inverse]))
        meta = write_shard(final, len(rows), job.config.learning_size, job.image.shape, slabs,
                           attrs, compression, on_slab, *labelling, extra)
    return {"file": spec.name, "split": spec.split, "index": spec.index,
            "num_tuples": spec.num_tuples, "offset": spec.start, **meta}
