"""The keras way: image_dataset_from_directory decodes every image into memory, numpy draws
random tuples, h5py writes them. Usage: keras_way.py DATA OUT.h5 K SIZE N SEED"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import keras  # noqa: E402

from common import draw_tuples, write_h5  # noqa: E402


def main(data: str, out: str, k: int, size: int, n: int, seed: int) -> None:
    ds = keras.utils.image_dataset_from_directory(data, image_size=(size, size), batch_size=256,
                                                  shuffle=False, verbose=False)
    xs, ys = [], []
    for x, y in ds:
        xs.append(np.asarray(x).astype(np.uint8))
        ys.append(np.asarray(y))
    images, labels = np.concatenate(xs), np.concatenate(ys)
    del xs
    tuples = draw_tuples(labels, k, n, seed)
    write_h5(out, tuples, labels, images.shape[1:], lambda rows: images[rows])


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
