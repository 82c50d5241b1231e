"""Pixels without TensorFlow: every Pillow mode, first frames, keras's crop/pad boxes, kernels."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from simgen.imaging import (COLOR_MODES, ImageSpec, crop_box, decode_images, load_image,
                            pad_geometry)
from simgen.resize import METHODS, resize_rows, weight_matrix


def rgb_pixels(h=6, w=5) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


def mode_image(mode: str) -> Image.Image:
    """A real image in Pillow `mode`, made from the same RGB pixels."""
    rgb = Image.fromarray(rgb_pixels())
    if mode == "I;16":
        return Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
    if mode == "P":
        return rgb.quantize(16)
    return rgb.convert(mode)


@pytest.mark.parametrize("mode", ["P", "CMYK", "I;16", "LA", "RGBA", "1", "L", "RGB"])
@pytest.mark.parametrize("color_mode", list(COLOR_MODES))
def test_every_pillow_mode_to_every_colour_mode(tmp_path, mode, color_mode):
    img = mode_image(mode)
    path = tmp_path / ("x.png" if mode != "CMYK" else "x.jpg")
    img.save(path, quality=95) if mode == "CMYK" else img.save(path)
    out = load_image(str(path), ImageSpec(6, 5, color_mode))
    assert out.shape == (6, 5, COLOR_MODES[color_mode][1]) and out.dtype == np.uint8
    grey = np.asarray(Image.fromarray(rgb_pixels()).convert("L"), dtype=np.int64)
    if mode == "1":
        grey = np.asarray(img.convert("L"), dtype=np.int64)
    if mode in ("L", "1", "LA", "I;16"):  # grey sources: every channel is the grey value
        assert np.abs(out[..., :min(3, out.shape[-1])].astype(np.int64)
                      - grey[..., None]).max() <= 1
    if color_mode == "rgba":
        want_alpha = np.asarray(img)[..., -1] if mode in ("LA", "RGBA") else 255
        assert np.array_equal(out[..., 3], np.broadcast_to(want_alpha, (6, 5)))
    if mode == "RGB" and color_mode == "grayscale":  # TF's (libpng's) truncating weights
        r, g, b = (rgb_pixels()[..., i].astype(np.int64) for i in range(3))
        assert np.array_equal(out[..., 0], (9797 * r + 19234 * g + 3737 * b) >> 15)


def test_sixteen_bit_keeps_the_high_byte(tmp_path):
    values = np.array([[0, 255, 256, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "x.png")
    out = load_image(str(tmp_path / "x.png"), ImageSpec(1, 4, "grayscale"))
    assert out[0, :, 0].tolist() == [0, 0, 1, 255]


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((4, 4, 3), v, np.uint8)) for v in (200, 30, 90)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    out = load_image(str(tmp_path / "a.gif"), ImageSpec(4, 4, "rgb"))
    assert np.abs(out.astype(int) - 200).max() <= 2


def test_keras_crop_and_pad_arithmetic():
    assert crop_box(340, 500, 200, 200) == (0, 80, 340, 340)  # rows 0:340, cols 80:420
    assert pad_geometry(333, 500, 256, 256) == (170, 256, 42, 0)  # top 42, bottom 44
    assert pad_geometry(1, 1, 224, 224)[:2] == (223, 223)  # TF's float32 quirk


def test_pad_places_the_resized_image_between_zero_bands(tmp_path):
    Image.fromarray(np.full((10, 40, 3), 200, np.uint8)).save(tmp_path / "w.png")
    out = load_image(str(tmp_path / "w.png"), ImageSpec(20, 20, pad_to_aspect_ratio=True))
    assert (out[:7] == 0).all() and (out[12:] == 0).all() and (out[8:12] == 200).all()


def test_channels_first_is_a_transpose(tmp_path):
    Image.fromarray(rgb_pixels(9, 7)).save(tmp_path / "x.png")
    last = load_image(str(tmp_path / "x.png"), ImageSpec(4, 3, interpolation="area"))
    first = load_image(str(tmp_path / "x.png"),
                       ImageSpec(4, 3, interpolation="area", data_format="channels_first"))
    assert np.array_equal(first, last.transpose(2, 0, 1))
    batch = decode_images(str(tmp_path), ["x.png"], ImageSpec(4, 3, data_format="channels_first"))
    assert batch.shape == (1, 3, 4, 3)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "nearest"])
@pytest.mark.parametrize("antialias", [False, True])
def test_weight_rows_sum_to_one_and_are_cached(method, antialias):
    for n_in, n_out in ((50, 7), (7, 50), (13, 13)):
        w = weight_matrix(n_in, n_out, method, antialias)
        assert w.shape == (n_out, n_in) and np.allclose(w.sum(axis=1), 1, atol=1e-5)
        assert weight_matrix(n_in, n_out, method, antialias) is w


def test_antialias_smooths_when_shrinking(tmp_path):
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    Image.fromarray(stripes).save(tmp_path / "s.png")
    for method in ("lanczos5", "gaussian", "mitchellcubic", "bilinear"):
        smooth = load_image(str(tmp_path / "s.png"), ImageSpec(9, 9, "rgb", method))
        sharp = load_image(str(tmp_path / "s.png"),
                           ImageSpec(9, 9, "rgb", method, antialias=False))
        assert smooth.std() < 20 < sharp.std(), method


@pytest.mark.parametrize("method", [m for m in METHODS if m != "nearest"])
@pytest.mark.parametrize("antialias", [False, True])
def test_banded_rows_equal_the_dense_product(method, antialias):
    pixels = np.random.default_rng(1).random((300, 7, 3), dtype=np.float32) * 255
    for size in (20, 290, 700):
        dense = np.tensordot(weight_matrix(300, size, method, antialias), pixels, axes=(1, 0))
        banded = resize_rows(pixels, size, method, antialias)
        assert np.allclose(banded, dense, atol=1e-3)
