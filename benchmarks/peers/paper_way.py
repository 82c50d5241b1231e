"""The paper's way (Figure 3): every tuple element opened, converted and resized anew, in one
Python loop; written with h5py in slabs (the paper's .tolist() lists are left out: they would
need several GB). Usage: paper_way.py DATA OUT.h5 K SIZE N SEED"""
import sys

import numpy as np
from PIL import Image

from common import draw_tuples, list_images, write_h5


def main(data: str, out: str, k: int, size: int, n: int, seed: int) -> None:
    paths, labels = list_images(data)
    tuples = draw_tuples(labels, k, n, seed)

    def fill(rows: np.ndarray) -> np.ndarray:
        slab = np.empty(rows.shape + (size, size, 3), np.uint8)
        for i, row in enumerate(rows):
            for j, idx in enumerate(row):
                slab[i, j] = np.asarray(Image.open(paths[idx]).convert("RGB").resize((size, size)))
        return slab

    write_h5(out, tuples, labels, (size, size, 3), fill)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
