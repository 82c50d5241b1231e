"""Decode and resize source images into uint8 arrays (H, W, C). Pillow only."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, ImageOps

from .errors import SimgenError

COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
INTERPOLATIONS = {"bilinear": Image.Resampling.BILINEAR}


@dataclass(frozen=True)
class ImageSpec:
    """How every image is turned into pixels: output size, colour mode, resampling."""

    height: int
    width: int
    color_mode: str = "rgb"
    interpolation: str = "bilinear"
    exif_transpose: bool = False  # apply the EXIF orientation tag (keras does not)

    @property
    def channels(self) -> int:
        return COLOR_MODES[self.color_mode][1]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    @property
    def nbytes(self) -> int:
        return self.height * self.width * self.channels


def parse_image_size(value: str | int | Sequence[int]) -> tuple[int, int]:
    """'64' → (64, 64); '48,64' or (48, 64) → (48, 64) as (height, width)."""
    if isinstance(value, str):
        parts = [p for p in value.replace("x", ",").split(",") if p.strip()]
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            nums = []
    elif isinstance(value, int):
        nums = [value]
    else:
        nums = [int(v) for v in value]
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2 or min(nums) < 1:
        raise SimgenError(f"--image-size expects H or H,W with positive integers, got {value!r}")
    return nums[0], nums[1]


def to_mode(img: Image.Image, color_mode: str) -> Image.Image:
    """Convert any Pillow mode to L, RGB or RGBA."""
    mode = COLOR_MODES[color_mode][0]
    if img.mode == mode:
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I") :
        arr = np.asarray(img, dtype=np.uint32) >> 8
        img = Image.fromarray(arr.astype(np.uint8), "L")
    return img.convert(mode)


def load_image(path: str, spec: ImageSpec) -> np.ndarray:
    """Decode `path` (first frame), convert to the colour mode, resize: uint8 (H, W, C)."""
    try:
        with Image.open(path) as img:
            img.seek(0)
            if spec.exif_transpose:
                img = ImageOps.exif_transpose(img)
            img = to_mode(img, spec.color_mode)
            if img.size != (spec.width, spec.height):
                img = img.resize((spec.width, spec.height), INTERPOLATIONS[spec.interpolation])
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as exc:
        raise SimgenError(f"cannot decode image {path}: {exc}") from None
    return arr.reshape(spec.shape)


def decode_images(root: str, paths: Sequence[str], spec: ImageSpec) -> np.ndarray:
    """Decode each path once into one (len(paths), H, W, C) uint8 array."""
    out = np.empty((len(paths),) + spec.shape, dtype=np.uint8)
    for i, rel in enumerate(paths):
        out[i] = load_image(os.path.join(root, rel), spec)
    return out
