"""Decode every image a build needs exactly once, in parallel, into a memory-mapped file.

Shards of one split share most of their images, so decoding per shard repeats the work
(J3 in BENCHMARKS.md: 14 shards would decode each image 14 times). This stage decodes the
union of the images the given shards use into `OUT/.simgen-decode-<split>-….u8` (raw uint8
(u, H, W, C)); shard tasks then gather from it. The file is a temporary: it lives next to
the shards (same filesystem), never enters the manifest, and is removed after the build.
Output bytes do not depend on it: each image is decoded by the same function either way.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from functools import partial
from typing import Iterator, Sequence

import numpy as np

from .imaging import image_pixels
from .job import Job
from .shards import ShardSpec
from .validate import BadFile, check_image, crc_checked, vetted

PREFIX = ".simgen-decode-"
DECODE_CHUNK = 32  # images per decode task: fine-grained enough to balance all cores


@dataclass(frozen=True)
class DecodeCache:
    """Where split `split`'s decoded images live: slot[row] is the row's place in the file."""

    split: str
    path: str
    shape: tuple[int, ...]  # (u, H, W, C)
    slot: np.ndarray  # int32 (images in split,), -1 where the row is not needed

    def open(self, mode: str = "r") -> np.ndarray:
        """The cache as an array (a read-only memory map by default)."""
        if self.shape[0] == 0:
            return np.empty(self.shape, dtype=np.uint8)
        return np.memmap(self.path, dtype=np.uint8, mode=mode, shape=self.shape)

    def rows(self) -> np.ndarray:
        """Split rows stored in the cache, in slot order."""
        return np.flatnonzero(self.slot >= 0)


def used_rows(job: Job, split: str, specs: Sequence[ShardSpec]) -> np.ndarray:
    """Sorted split rows that the tuples of `specs` (all of split `split`) refer to."""
    plan = job.splits[split].plan
    used = np.zeros(len(job.splits[split].index), dtype=bool)
    for spec in specs:
        used[plan.rows(spec.start, spec.stop)] = True
    return np.flatnonzero(used)


def allocate(job: Job, split: str, specs: Sequence[ShardSpec], out: str) -> DecodeCache:
    """Reserve the cache file for the images `specs` use (a sparse file, nothing decoded)."""
    rows = used_rows(job, split, specs)
    slot = np.full(len(job.splits[split].index), -1, dtype=np.int32)
    slot[rows] = np.arange(len(rows), dtype=np.int32)
    path = os.path.join(out, f"{PREFIX}{split}-{os.getpid()}-{uuid.uuid4().hex[:8]}.u8")
    with open(path, "wb") as f:
        reserve(f.fileno(), len(rows) * job.image.nbytes)
    return DecodeCache(split, path, (len(rows),) + job.image.shape, slot)


def reserve(fd: int, size: int) -> None:
    """Give the file its size with real blocks where the OS can (a full disk fails here,
    as an OSError, not later as a SIGBUS inside a worker writing through the memory map)."""
    if size and hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, 0, size)
    else:
        os.ftruncate(fd, size)


def decode_tasks(cache: DecodeCache, chunk: int = DECODE_CHUNK
                 ) -> Iterator[tuple[DecodeCache, np.ndarray, int]]:
    """(cache without its slot map, split rows, first slot): what one decode task fills. The
    slot map (one entry per image of the split) stays out of the tasks, which would otherwise
    each carry and rescan it: quadratic in the image count."""
    rows, bare = cache.rows(), replace(cache, slot=np.empty(0, np.int32))
    for lo in range(0, len(rows), chunk):
        yield bare, rows[lo : lo + chunk], lo


Flaw = tuple[int, BadFile]  # (source id in job.index, the file and why it is bad)


def decode_file(path: str, job: Job) -> tuple[np.ndarray | None, str | None]:
    """(pixels, None), or (None, why the file is bad): the vetting of validate.py, for free."""
    return vetted(path, job.config.max_pixels,
                  crc_checked(path, partial(image_pixels, spec=job.image)))


def decode_into(job: Job, cache: DecodeCache, rows: np.ndarray, lo: int
                ) -> tuple[int, list[Flaw]]:
    """Decode split rows `rows` into the cache file's slots from `lo` on; return how many,
    and every file that could not be used (its slot is left as it was)."""
    index = job.splits[cache.split].index
    pixels = cache.open("r+")
    flaws: list[Flaw] = []
    for slot, row in enumerate(rows.tolist(), start=lo):
        arr, reason = decode_file(os.path.join(index.root, index.paths[row]), job)
        if reason is None:
            pixels[slot] = arr
        else:
            flaws.append((int(index.source_ids[row]), BadFile(index.paths[row], reason)))
    del pixels  # unmap; the pages stay in the page cache for the shard tasks
    return len(rows), flaws


def undecoded_sources(job: Job, caches: Sequence[DecodeCache]) -> np.ndarray:
    """Source ids (job.index) that no cache decodes: files the build never opens otherwise."""
    seen = np.zeros(len(job.index), dtype=bool)
    for cache in caches:
        seen[job.splits[cache.split].index.source_ids[cache.rows()]] = True
    return np.flatnonzero(~seen)


def check_sources(job: Job, ids: Sequence[int]) -> tuple[int, list[Flaw]]:
    """Screen source files (validate.check_image) without decoding them into a cache."""
    index, flaws = job.index, []
    for i in ids:
        reason = check_image(os.path.join(index.root, index.paths[i]), job.config.max_pixels)
        if reason is not None:
            flaws.append((int(i), BadFile(index.paths[i], reason)))
    return len(ids), flaws


def remove(caches: Sequence[DecodeCache]) -> None:
    """Delete the cache files (after the shards are written, or on failure)."""
    for cache in caches:
        if os.path.exists(cache.path):
            os.unlink(cache.path)
