"""The benchmark's photo dataset: random crops of photos shipped in scikit-image and scikit-learn.

20 classes (one source photo each) × 100 images, random crops resized to 320–640 px wide,
saved as JPEG quality 90. Deterministic from the seed; rebuilt only when missing.
"""
from __future__ import annotations

import argparse
import importlib.util
import os

import numpy as np
from PIL import Image

SKIMAGE_PHOTOS = [
    "astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png",
    "gravel.png", "brick.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
    "motorcycle_left.png", "page.png", "retina.jpg", "rocket.jpg", "text.png", "cell.png",
    "microaneurysms.png",
]
SKLEARN_PHOTOS = ["china.jpg", "flower.jpg"]
DONE = ".complete"


def _package_dir(module: str) -> str:
    """Folder of an installed package module, found without importing it (fast)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{module} is not installed: run `make bench` (installs the bench extra)")
    return list(spec.submodule_search_locations)[0]


def source_photos() -> list[str]:
    """Paths of the 20 source photos (18 from scikit-image, 2 from scikit-learn)."""
    sk = _package_dir("skimage.data")
    sl = os.path.join(_package_dir("sklearn.datasets"), "images")
    return [os.path.join(sk, n) for n in SKIMAGE_PHOTOS] + [os.path.join(sl, n) for n in SKLEARN_PHOTOS]


def random_crop(photo: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A crop covering 40–100 % of each side, resized to 320–640 px wide (aspect kept)."""
    w, h = photo.size
    cw, ch = (int(rng.uniform(0.4, 1.0) * s) for s in (w, h))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    width = int(rng.integers(320, 641))
    height = max(1, round(width * ch / cw))
    return photo.crop((x, y, x + cw, y + ch)).resize((width, height), Image.Resampling.BICUBIC)


def make_dataset(root: str, per_class: int = 100, seed: int = 5) -> str:
    """Write root/<class>/<i>.jpg once (a marker file says it is complete); return root."""
    marker = os.path.join(root, DONE)
    if os.path.exists(marker):
        return root
    rng = np.random.default_rng(seed)
    for path in source_photos():
        name = os.path.splitext(os.path.basename(path))[0]
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        with Image.open(path) as img:
            photo = img.convert("RGB")
        for i in range(per_class):
            random_crop(photo, rng).save(os.path.join(folder, f"{i:04d}.jpg"), quality=90)
    open(marker, "w").close()
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root")
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args()
    make_dataset(args.root, args.per_class)
    print(args.root)


if __name__ == "__main__":
    main()
