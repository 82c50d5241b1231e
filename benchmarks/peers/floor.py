"""The floor: every image decoded once with Pillow on all cores (the same draft + resize as
simgen) into shared memory (fork, no pickling), then the tuples' bytes written raw to one
file and fsynced. No tuple writer can beat it by much.
Usage: floor.py DATA OUT.raw K SIZE N SEED [PROCESSES (default: all cores)]"""
import math
import multiprocessing as mp
import os
import sys

import numpy as np
from PIL import Image

from common import SLAB, draw_tuples, list_images

IMAGES = np.empty(0)
PATHS: list[str] = []


def decode(i: int) -> None:
    size = IMAGES.shape[1]
    with Image.open(PATHS[i]) as img:
        drafted = img.draft(None, (size * 2, size * 2))
        box = drafted[1] if drafted else None
        img = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR, box=box)
        IMAGES[i] = np.asarray(img)


def main(data: str, out: str, k: int, size: int, n: int, seed: int, cores: int) -> None:
    global IMAGES, PATHS
    PATHS, labels = list_images(data)
    shared = mp.RawArray("B", len(PATHS) * size * size * 3)  # inherited by the forked pool
    IMAGES = np.frombuffer(shared, np.uint8).reshape(len(PATHS), size, size, 3)
    with mp.get_context("fork").Pool(cores) as pool:
        pool.map(decode, range(len(PATHS)), chunksize=max(1, math.ceil(len(PATHS) / (8 * cores))))
    images = IMAGES
    tuples = draw_tuples(labels, k, n, seed)
    buf = np.empty((SLAB, k, size, size, 3), np.uint8)
    with open(out, "wb") as f:
        for off in range(0, n, SLAB):
            rows = tuples[off : off + SLAB]
            np.take(images, rows, axis=0, out=buf[: len(rows)])
            f.write(memoryview(buf[: len(rows)]))
        f.flush()
        os.fsync(f.fileno())


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]),
         int(a[6]) if len(a) > 6 else os.cpu_count())
