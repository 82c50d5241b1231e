"""Shared fixtures: real image trees on disk (tiny PNG/JPEG files made with Pillow)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample" / "trees"


def write_image(path: Path, seed: int, size=(24, 20), mode="RGB") -> None:
    """A small real image whose pixels depend on `seed` (so decodes can be told apart)."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, "RGB").convert(mode).save(path)


def make_tree(root: Path, sizes: dict[str, int], ext: str = "png") -> Path:
    """root/<class>/<i>.<ext> with sizes[class] images each; returns root."""
    seed = 0
    for name, n in sizes.items():
        for i in range(n):
            write_image(root / name / f"img{i:03d}.{ext}", seed)
            seed += 1
    return root


@pytest.fixture
def tree(tmp_path: Path):
    """Factory: tree({'a': 3, 'b': 4}) → a directory of real PNGs."""
    def _make(sizes: dict[str, int], ext: str = "png", name: str = "data") -> Path:
        return make_tree(tmp_path / name, sizes, ext)
    return _make


@pytest.fixture
def sample_dir() -> Path:
    assert SAMPLE.is_dir(), "the bundled sample is missing"
    return SAMPLE


def build_triplets(root: Path, num_tuples: int, image_size: int, shard_size: str,
                   seed: int = 2) -> Path:
    """A small real triplet dataset (15 PNGs in 3 classes) in several shards: root/ds."""
    import simgen

    src = make_tree(root / "src", {"a": 5, "b": 4, "c": 6})
    out = root / "ds"
    simgen.build(str(src), str(out), learning_size=3, num_tuples=num_tuples,
                 image_size=image_size, seed=seed, workers=1, quiet=True, shard_size=shard_size)
    return out
