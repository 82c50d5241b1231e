"""Separable resizing in numpy: TensorFlow's eight kernels, exact or widened to anti-alias.

Every method is a linear map along each axis, so a resize is two matrix products with a
(out, in) weight matrix per axis, cached per (in_size, out_size, method, antialias).

With antialias=False the matrices reproduce `tf.image.resize` (antialias=False):
bilinear/bicubic with half-pixel centres (bicubic's 1/1024 coefficient table included),
`resize_area`'s box sums, and `scale_and_translate` for lanczos3/5, gaussian and
mitchellcubic. With antialias=True the kernel is widened by the shrink factor (as
`scale_and_translate(antialias=True)` does), and area stays a box filter.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
           "mitchellcubic")
BICUBIC_TABLE = 1024  # resize_bicubic_op.cc: kTableSize


def triangle(x: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - x)


def keys_cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic, a = -0.5 (TF's bicubic)."""
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def lanczos(radius: float) -> Callable[[np.ndarray], np.ndarray]:
    def kernel(x: np.ndarray) -> np.ndarray:
        safe = np.where(x > 1e-3, x, 1.0)
        y = radius * np.sin(np.pi * safe) * np.sin(np.pi * safe / radius) / (np.pi**2 * safe**2)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))
    return kernel


def gaussian(x: np.ndarray) -> np.ndarray:
    """TF's gaussian: radius 1.5, sigma = radius / 3."""
    sigma = 1.5 / 3.0
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2.0 * sigma * sigma)))


def mitchell_cubic(x: np.ndarray) -> np.ndarray:
    """Mitchell–Netravali, B = C = 1/3."""
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


KERNELS = {"bilinear": (triangle, 1.0), "bicubic": (keys_cubic, 2.0),
           "lanczos3": (lanczos(3.0), 3.0), "lanczos5": (lanczos(5.0), 5.0),
           "gaussian": (gaussian, 1.5), "mitchellcubic": (mitchell_cubic, 2.0)}


def _normalise(weights: np.ndarray) -> np.ndarray:
    """Rows summing to 1 (TF renormalises over the taps inside the image)."""
    total = weights.sum(axis=1, keepdims=True)
    ok = np.abs(total) > 1000.0 * np.finfo(np.float32).tiny
    return np.where(ok, weights / np.where(ok, total, 1.0), 0.0)


def kernel_weights(in_size: int, out_size: int, method: str, antialias: bool) -> np.ndarray:
    """`scale_and_translate` weights (out, in): kernel at each source centre, renormalised.

    Positions are computed in float32 exactly as TF does, so a sample that lands on a
    kernel's edge is cut off (or kept) the same way.
    """
    kernel, _ = KERNELS[method]
    f32 = np.float32
    inv_scale = f32(1.0) / (f32(out_size) / f32(in_size))
    kernel_scale = max(inv_scale, f32(1.0)) if antialias else f32(1.0)
    sample = (np.arange(out_size, dtype=f32) + f32(0.5)) * inv_scale
    source = np.arange(in_size, dtype=f32) + f32(0.5)
    distance = np.abs(source[None, :] - sample[:, None]) * (f32(1.0) / kernel_scale)
    return _normalise(kernel(distance.astype(np.float64)))


def half_pixel_weights(in_size: int, out_size: int, method: str) -> np.ndarray:
    """resize_bilinear / resize_bicubic with half_pixel_centers=True (taps clamped to the image)."""
    scale = np.float32(in_size) / np.float32(out_size)
    centre = ((np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale
              - np.float32(0.5)).astype(np.float64)
    base = np.floor(centre)
    delta = centre - base
    if method == "bicubic":  # TF looks the coefficients up in a 1024-entry table
        delta = np.rint(delta * BICUBIC_TABLE) / BICUBIC_TABLE
    kernel, radius = KERNELS[method]
    taps = np.arange(-int(radius) + 1, int(radius) + 1)  # bilinear: 0,1; bicubic: -1..2
    index = base[:, None].astype(np.int64) + taps[None, :]
    tap_weights = kernel(np.abs(taps[None, :] - delta[:, None]))
    inside = (index >= 0) & (index < in_size)
    weights = np.zeros((out_size, in_size))
    rows = np.broadcast_to(np.arange(out_size)[:, None], index.shape)
    if method == "bilinear":  # TF clamps the two taps to the edge instead of dropping them
        np.add.at(weights, (rows, np.clip(index, 0, in_size - 1)), tap_weights)
        return weights
    np.add.at(weights, (rows[inside], index[inside]), tap_weights[inside])
    return _normalise(weights)


def area_weights(in_size: int, out_size: int) -> np.ndarray:
    """resize_area: the overlap of each output cell with each source cell, over the cell size."""
    scale = np.float32(in_size) / np.float32(out_size)
    lo = (np.arange(out_size, dtype=np.float32) * scale).astype(np.float64)
    hi = (np.arange(1, out_size + 1, dtype=np.float32) * scale).astype(np.float64)
    cells = np.arange(in_size, dtype=np.float64)
    overlap = np.minimum(cells[None, :] + 1, hi[:, None]) - np.maximum(cells[None, :], lo[:, None])
    weights = np.maximum(overlap, 0.0) / np.float64(scale)
    last = hi - in_size  # float error past the edge is clamped onto the last cell, as TF does
    weights[:, -1] += np.maximum(last, 0.0) / np.float64(scale)
    return weights


def compute_weights(in_size: int, out_size: int, method: str, antialias: bool) -> np.ndarray:
    """float32 (out, in) weights taking one axis from in_size to out_size samples."""
    if method == "area":
        weights = area_weights(in_size, out_size)
    elif method in ("bilinear", "bicubic") and not antialias:
        weights = half_pixel_weights(in_size, out_size, method)
    else:
        weights = kernel_weights(in_size, out_size, method, antialias)
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=64)
def weight_matrix(in_size: int, out_size: int, method: str, antialias: bool) -> np.ndarray:
    """compute_weights, cached (only small or dense cases use the full matrix)."""
    return compute_weights(in_size, out_size, method, antialias)


@lru_cache(maxsize=512)
def nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """resize_nearest_neighbor, half-pixel centres: floor((i + 0.5) * in / out), clamped."""
    scale = np.float32(in_size) / np.float32(out_size)
    src = np.floor((np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale)
    return np.minimum(src.astype(np.int64), in_size - 1)


@lru_cache(maxsize=1024)
def band(in_size: int, out_size: int, method: str, antialias: bool,
         ) -> tuple[np.ndarray, np.ndarray]:
    """The weight matrix as a band: window start per output (out,) and its taps (out, span).

    Cached per (in_size, out_size, method, antialias); a band is small (out × taps) even for
    large photos, so many distinct input sizes stay cheap to keep.
    """
    weights = compute_weights(in_size, out_size, method, antialias)
    nonzero = weights != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), 0)
    last = np.where(nonzero.any(axis=1), in_size - 1 - nonzero[:, ::-1].argmax(axis=1), 0)
    span = int((last - first).max()) + 1
    start = np.minimum(first, in_size - span)  # every window stays inside the image
    taps = np.take_along_axis(weights, start[:, None] + np.arange(span), axis=1)
    return start, np.ascontiguousarray(taps)


def resize_rows(pixels: np.ndarray, size: int, method: str, antialias: bool) -> np.ndarray:
    """Resample axis 0 of float32 `pixels` to `size` samples.

    One dense matrix product for small inputs; otherwise one BLAS dot per output row over
    the band of inputs its kernel touches (a 3000-row photo shrunk to 256 rows reads ~3
    input rows per output row, not 3000).
    """
    n = pixels.shape[0]
    flat = pixels.reshape(n, -1)
    start, taps = band(n, size, method, antialias)
    span = taps.shape[1]
    if n <= 64 or 2 * span >= n:
        out = weight_matrix(n, size, method, antialias) @ flat
    else:
        out = np.empty((size, flat.shape[1]), np.float32)
        for row in range(size):
            np.dot(taps[row], flat[start[row] : start[row] + span], out=out[row])
    return out.reshape((size,) + pixels.shape[1:])


def resize(pixels: np.ndarray, height: int, width: int, method: str,
           antialias: bool = False) -> np.ndarray:
    """(h, w, c) array → float32 (height, width, c) with `method` (see module docstring)."""
    h, w = pixels.shape[:2]
    if method == "nearest":
        return pixels[nearest_indices(h, height)][:, nearest_indices(w, width)].astype(np.float32)
    out = pixels.astype(np.float32, copy=False)
    if h != height:
        out = resize_rows(out, height, method, antialias)
    if w != width:
        columns = np.ascontiguousarray(out.transpose(1, 0, 2))
        out = resize_rows(columns, width, method, antialias).transpose(1, 0, 2)
    return out


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Round half to even and clip to 0..255, as a cast after tf.image.resize + round would."""
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
