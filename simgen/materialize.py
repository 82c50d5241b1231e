"""Materialize one shard: plan slice → decode each unique image once → gather → write."""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from .augment import shard_augmentation
from .imaging import decode_images
from .job import Job
from .shards import FORMAT, FORMAT_VERSION, ShardSpec, write_shard

SLAB = 256  # tuples gathered per write: bounded memory, large sequential writes


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
    }


def build_shard(job: Job, spec: ShardSpec, out: str,
                on_slab: Callable[[int], None] | None = None) -> dict:
    """Write shard `spec` into directory `out`; return its manifest entry."""
    split = job.splits[spec.split]
    rows = split.plan.rows(spec.start, spec.stop)
    unique, inverse = np.unique(rows, return_inverse=True)
    inverse = inverse.reshape(rows.shape)
    pixels = decode_images(split.index.root, [split.index.paths[i] for i in unique], job.image)
    classes = split.index.class_ids[rows]
    sources = split.index.source_ids[rows]
    k = job.config.learning_size
    augment, extra = shard_augmentation(job.config, spec.split, spec.start, spec.stop, k)

    def slabs():
        buf = np.empty((SLAB, k) + job.image.shape, dtype=np.uint8)
        for off in range(0, len(rows), SLAB):
            m = min(SLAB, len(rows) - off)
            np.take(pixels, inverse[off : off + m], axis=0, out=buf[:m])
            augment(buf[:m], off)
            yield off, buf[:m], classes[off : off + m], sources[off : off + m]

    meta = write_shard(
        os.path.join(out, spec.name), len(rows), k, job.image.shape, slabs(),
        shard_attrs(job, spec), job.config.compression, on_slab,
        job.config.label_mode, job.index.num_classes, extra,
    )
    return {"file": spec.name, "split": spec.split, "index": spec.index,
            "num_tuples": spec.num_tuples, "offset": spec.start, **meta}
