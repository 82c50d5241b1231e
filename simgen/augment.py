"""Deterministic per-element augmentation: flip, rotate, crop, color.

Every element (tuple position p of a split, slot j) gets its own parameters from a
counter-based hash of (seed, split, p, j), so any shard computes them alone and two views of
one image (`--allow-self`) differ. Geometry (flip, rotation, crop-and-resize) is one affine
map per element, applied by vectorised bilinear sampling; colour jitter (brightness,
contrast, saturation) is per element too. Parameters are stored in each shard's `augment`
dataset, columns PARAM_NAMES.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Sequence

import numpy as np

from .combinatorics import mix64
from .errors import SimgenError

OPS = ("flip", "rotate", "crop", "color")
PARAM_NAMES = ("flip", "angle", "scale", "shift_x", "shift_y",
               "brightness", "contrast", "saturation")
MAX_ANGLE = 15.0  # degrees, either way
MIN_SCALE = 0.7  # crop side as a fraction of the image side
JITTER = 0.2  # colour factors in [1 - JITTER, 1 + JITTER]
IDENTITY = np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype=np.float32)
_BLOCK = 1 << 21  # pixels resampled per step (bounded memory for large images)


def check_augment(ops: Sequence[str] | None) -> None:
    """Refuse unknown augmentation names with the list of known ones."""
    for op in ops or ():
        if op not in OPS:
            raise SimgenError(f"--augment: unknown augmentation {op!r}; choose from "
                              f"{', '.join(OPS)}")


def _key(seed: int, split: str) -> np.uint64:
    digest = hashlib.blake2b(f"simgen:augment:{seed}:{split}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def uniforms(seed: int, split: str, start: int, stop: int, k: int, count: int) -> np.ndarray:
    """float64 (n, k, count) in [0, 1) from hash(seed, split, position, slot, column)."""
    pos = np.arange(start, stop, dtype=np.uint64)[:, None, None]
    slot = np.arange(k, dtype=np.uint64)[None, :, None]
    col = np.arange(count, dtype=np.uint64)[None, None, :]
    h = mix64(mix64(pos ^ _key(seed, split)) ^ (slot * np.uint64(count) + col))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def element_params(ops: Sequence[str], seed: int, split: str, start: int, stop: int,
                   k: int) -> np.ndarray:
    """float32 (n, k, len(PARAM_NAMES)) parameters of plan positions [start, stop)."""
    u = uniforms(seed, split, start, stop, k, len(PARAM_NAMES))
    p = np.broadcast_to(IDENTITY, u.shape).astype(np.float64)
    if "flip" in ops:
        p[..., 0] = u[..., 0] < 0.5
    if "rotate" in ops:
        p[..., 1] = (2 * u[..., 1] - 1) * MAX_ANGLE
    if "crop" in ops:
        p[..., 2] = MIN_SCALE + (1 - MIN_SCALE) * u[..., 2]
        room = (1 - p[..., 2]) / 2
        p[..., 3] = (2 * u[..., 3] - 1) * room
        p[..., 4] = (2 * u[..., 4] - 1) * room
    if "color" in ops:
        p[..., 5:8] = 1 + (2 * u[..., 5:8] - 1) * JITTER
    return p.astype(np.float32)


def augment_images(images: np.ndarray, params: np.ndarray) -> None:
    """Apply `params` (m, k, 8) to `images` (m, k, H, W, C) uint8, in place."""
    flat = images.reshape((-1,) + images.shape[2:])
    prm = params.reshape(-1, params.shape[-1]).astype(np.float64)
    h, w = flat.shape[1:3]
    step = max(1, _BLOCK // (h * w))
    geometric = np.any(prm[:, :5] != IDENTITY[:5], axis=1)
    colour = np.any(prm[:, 5:] != IDENTITY[5:], axis=1)
    for lo in range(0, len(flat), step):
        sl = slice(lo, lo + step)
        rows = np.flatnonzero(geometric[sl]) + lo
        if len(rows):
            flat[rows] = _resample(flat[rows], prm[rows])
        rows = np.flatnonzero(colour[sl]) + lo
        if len(rows):
            flat[rows] = _jitter(flat[rows], prm[rows])


def _resample(img: np.ndarray, prm: np.ndarray) -> np.ndarray:
    """Bilinear sampling of each image at its affine map (flip, rotate, crop), edges clamped."""
    n, h, w, _ = img.shape
    ys, xs = np.meshgrid(np.arange(h) + 0.5 - h / 2, np.arange(w) + 0.5 - w / 2, indexing="ij")
    sign = np.where(prm[:, 0] > 0.5, -1.0, 1.0)[:, None, None]
    theta = np.deg2rad(prm[:, 1])[:, None, None]
    scale = prm[:, 2][:, None, None]
    cos, sin = np.cos(theta) * scale, np.sin(theta) * scale
    u = sign * xs[None]
    src_x = cos * u - sin * ys[None] + w / 2 + prm[:, 3][:, None, None] * w - 0.5
    src_y = sin * u + cos * ys[None] + h / 2 + prm[:, 4][:, None, None] * h - 0.5
    src_x = np.clip(src_x, 0, w - 1)
    src_y = np.clip(src_y, 0, h - 1)
    x0 = np.minimum(np.floor(src_x).astype(np.int64), w - 2 if w > 1 else 0)
    y0 = np.minimum(np.floor(src_y).astype(np.int64), h - 2 if h > 1 else 0)
    fx = (src_x - x0)[..., None]
    fy = (src_y - y0)[..., None]
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    b = np.arange(n)[:, None, None]
    img = img.astype(np.float64)
    top = img[b, y0, x0] * (1 - fx) + img[b, y0, x1] * fx
    bottom = img[b, y1, x0] * (1 - fx) + img[b, y1, x1] * fx
    return np.clip(np.rint(top * (1 - fy) + bottom * fy), 0, 255).astype(np.uint8)


def _jitter(img: np.ndarray, prm: np.ndarray) -> np.ndarray:
    """Brightness, contrast and saturation factors per image (alpha left alone)."""
    x = img.astype(np.float64)
    colour = x[..., :3] if x.shape[-1] >= 3 else x
    colour *= prm[:, 5][:, None, None, None]
    gray = colour.mean(axis=-1, keepdims=True)
    mean = gray.mean(axis=(1, 2), keepdims=True)
    colour[:] = (colour - mean) * prm[:, 6][:, None, None, None] + mean
    if colour.shape[-1] == 3:
        gray = colour.mean(axis=-1, keepdims=True)
        colour[:] = gray + (colour - gray) * prm[:, 7][:, None, None, None]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def shard_augmentation(config, split: str, start: int, stop: int, k: int
                       ) -> tuple[Callable[[np.ndarray, int], None], dict[str, np.ndarray]]:
    """For one shard: (apply(slab, row offset), extra datasets); a no-op without --augment."""
    ops = getattr(config, "augment", None)
    if not ops:
        return (lambda slab, offset: None), {}
    params = element_params(ops, config.seed, split, start, stop, k)
    channels_first = getattr(config, "data_format", None) == "channels_first"

    def apply(slab: np.ndarray, offset: int) -> None:
        prm = params[offset : offset + len(slab)]
        if not channels_first:
            augment_images(slab, prm)
            return
        work = np.ascontiguousarray(np.moveaxis(slab, 2, -1))
        augment_images(work, prm)
        slab[...] = np.moveaxis(work, -1, 2)

    return apply, {"augment": params}


def augment_schema(ops: Sequence[str] | None, k: int) -> dict:
    """The manifest's description of the `augment` dataset (empty without --augment)."""
    if not ops:
        return {}
    return {"augment": {"dtype": "float32", "shape": ["n", k, len(PARAM_NAMES)],
                        "ops": list(ops), "columns": list(PARAM_NAMES),
                        "ranges": {"angle": MAX_ANGLE, "min_scale": MIN_SCALE,
                                   "color_jitter": JITTER},
                        "seeded_by": "hash(seed, split, tuple position, slot)"}}
