"""Parity with REAL keras / TensorFlow (the `tf` extra): file sets per subset, pixels, errors.

TensorFlow is imported once for the module; every comparison runs keras's own
`image_dataset_from_directory` (or tf.image) next to simgen on the same files.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import simgen  # noqa: E402
from simgen.config import make_config  # noqa: E402
from simgen.errors import SimgenError  # noqa: E402
from simgen.imaging import ImageSpec, crop_box, load_image  # noqa: E402
from simgen.job import index_and_split  # noqa: E402
from simgen.resize import METHODS  # noqa: E402

pytestmark = pytest.mark.timeout(300)


def png(path: Path, h: int, w: int, seed: int, mode: str = "RGB") -> None:
    """A real PNG of smooth gradients plus noise (resizing has something to do)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([yy * 255 / max(h - 1, 1), xx * 255 / max(w - 1, 1),
                     (yy + xx) % 256], axis=-1)
    arr = np.clip(base + rng.normal(0, 40, (h, w, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, "RGB").convert(mode).save(path)


@pytest.fixture(scope="module")
def messy_tree(tmp_path_factory) -> Path:
    """Nested, hidden, symlinked and mixed-case entries, as keras walks them."""
    base = tmp_path_factory.mktemp("messy")
    root = base / "data"
    files = ["Cat/a.PNG", "Cat/b.png", "Cat/.hidden.png", "Cat/nested/c.png",
             "Cat/nested-x/d.Png", "Cat/nested/deeper/e.png", "Cat/a b/f.png",
             "Cat/.ipynb_checkpoints/g.png", "dog/1.png", "dog/10.png", "dog/9.png",
             "dog/2.JPG", "10/x.png", "10/y.gif", "9/z.bmp", "Zebra/q.png", "Zebra/r.png",
             "a_b/s.png", "a-b/t.png", ".hidden_class/h.png", "top.png"]
    for i, rel in enumerate(files):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((4, 5, 3), i * 9, np.uint8)).save(
            path, format={".jpg": "JPEG", ".gif": "GIF", ".bmp": "BMP"}.get(
                path.suffix.lower(), "PNG"))
    for i in range(12):
        png(root / "dog" / f"many{i:02d}.png", 4, 4, i)
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / "skip.webp").write_bytes(b"RIFF")
    outside = base / "outside"
    for i in range(3):
        png(outside / f"o{i}.png", 4, 4, 100 + i)
    (root / "linked").symlink_to(outside, target_is_directory=True)  # a class via symlink
    (root / "Cat" / "link").symlink_to(outside, target_is_directory=True)  # follow_links only
    (root / "Zebra" / "alias.png").symlink_to(root / "Zebra" / "q.png")  # a file symlink
    return root


def keras_paths(directory: Path, **kw) -> list[list[str]]:
    kw.setdefault("image_size", (4, 4))
    kw.setdefault("verbose", False)
    out = keras.utils.image_dataset_from_directory(str(directory), **kw)
    return [list(ds.file_paths) for ds in (out if isinstance(out, list) else [out])]


def simgen_paths(directory: Path, **kw) -> list[list[str]]:
    _, parts = index_and_split(make_config(directory=str(directory), **kw))
    return [[os.path.join(str(directory), p) for p in part.paths] for part in parts.values()]


@pytest.mark.parametrize("seed,split", list(itertools.product([1, 7, 1337], [0.1, 0.29, 0.5])))
def test_subset_members_and_order_match_keras(messy_tree, seed, split):
    kw = dict(seed=seed, validation_split=split, subset="both")
    assert simgen_paths(messy_tree, **kw) == keras_paths(messy_tree, **kw)
    one = dict(seed=seed, validation_split=split, subset="validation")
    assert simgen_paths(messy_tree, **one) == keras_paths(messy_tree, **one)


def test_planned_build_splits_match_keras(messy_tree):
    """End to end: the splits `simgen build` plans (after its file screening) are keras's."""
    kw = dict(seed=21, validation_split=0.3, subset="both")
    job = simgen.plan_job(str(messy_tree), allow_small_classes=True, **kw)
    planned = [[os.path.join(str(messy_tree), p) for p in s.index.paths]
               for s in job.splits.values()]
    assert planned == keras_paths(messy_tree, **kw)


@pytest.mark.parametrize("kw", [
    dict(shuffle=False),
    dict(seed=3, follow_links=True),
    dict(seed=5, class_names=["dog", "Cat", "linked"], validation_split=0.3, subset="training"),
    dict(seed=11, labels=None, validation_split=0.2, subset="both"),
    dict(seed=2, label_mode=None),
])
def test_modes_walk_the_same_files_as_keras(messy_tree, kw):
    assert simgen_paths(messy_tree, **kw) == keras_paths(messy_tree, **kw)


@pytest.mark.parametrize("shuffle", [False, True])
def test_explicit_labels_follow_keras_order(messy_tree, shuffle):
    n = len(keras_paths(messy_tree, labels=None, shuffle=False)[0])
    labels = [(i * 7) % 3 for i in range(n)]
    ds = keras.utils.image_dataset_from_directory(
        str(messy_tree), labels=list(labels), seed=4, shuffle=shuffle, image_size=(4, 4),
        batch_size=None, verbose=False)
    index, parts = index_and_split(make_config(directory=str(messy_tree), labels=labels,
                                               seed=4, shuffle=shuffle))
    part = parts["train"]
    assert [os.path.join(str(messy_tree), p) for p in part.paths] == list(ds.file_paths)
    assert list(ds.class_names) == list(index.class_names) == ["0", "1", "2"]
    if not shuffle:  # (with shuffle, tf.data's buffer reorders the elements, not the files)
        assert [int(label) for _, label in ds] == part.class_ids.tolist()


# ----------------------------------------------------------------------------- pixels

SIZES = {"shrink": (9, 14), "enlarge": (70, 41)}


@pytest.fixture(scope="module")
def photo_tree(tmp_path_factory) -> Path:
    """PNGs of several aspect ratios (wider, taller, tiny, >64 px: banded resize) in two classes."""
    root = tmp_path_factory.mktemp("photos") / "data"
    for i, (h, w) in enumerate([(37, 53), (48, 20), (31, 31), (6, 11), (150, 97)]):
        png(root / "ab"[i % 2] / f"{i}.png", h, w, i)
    return root


def keras_pixels(directory: Path, **kw) -> list[np.ndarray]:
    ds = keras.utils.image_dataset_from_directory(
        str(directory), shuffle=False, batch_size=None, verbose=False, **kw)
    return [np.asarray(x) for x, _ in ds], list(ds.file_paths)


def rounded(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x.astype(np.float64)), 0, 255).astype(np.int64)


@pytest.mark.parametrize("method,size,aspect", list(itertools.product(
    METHODS, SIZES, ["resize", "crop", "pad"])))
def test_no_antialias_matches_tensorflow_within_one_level(photo_tree, method, size, aspect):
    h, w = SIZES[size]
    flags = {"crop": dict(crop_to_aspect_ratio=True), "pad": dict(pad_to_aspect_ratio=True),
             "resize": {}}[aspect]
    spec = ImageSpec(h, w, "rgb", method, antialias=False, **flags)
    if aspect == "crop" and method in ("gaussian", "mitchellcubic"):
        # keras's crop path rejects these two: TF on the crop box (checked against keras above)
        paths = sorted(str(p) for p in photo_tree.rglob("*.png"))
        expected = [tf.image.resize(cropped(p, h, w), (h, w), method=method).numpy()
                    for p in paths]
    else:
        expected, paths = keras_pixels(photo_tree, image_size=(h, w), interpolation=method,
                                       **flags)
    for path, want in zip(paths, expected):
        got = load_image(path, spec)
        assert got.shape == want.shape == (h, w, 3)
        assert np.abs(got.astype(np.int64) - rounded(want)).max() <= 1, path


def cropped(path: str, h: int, w: int) -> np.ndarray:
    """`path` cut to keras's crop box for target (h, w), float32."""
    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    top, left, ch, cw = crop_box(arr.shape[0], arr.shape[1], h, w)
    return arr[top:top + ch, left:left + cw]


@pytest.mark.parametrize("mode", ["grayscale", "rgba"])
def test_colour_modes_and_channels_first_match_keras(photo_tree, mode):
    spec = ImageSpec(12, 10, mode, "bilinear", antialias=False, data_format="channels_first")
    expected, paths = keras_pixels(photo_tree, image_size=(12, 10), color_mode=mode,
                                   data_format="channels_first")
    for path, want in zip(paths, expected):
        got = load_image(path, spec)
        assert got.shape == want.shape == (spec.channels, 12, 10)
        assert np.abs(got.astype(np.int64) - rounded(want)).max() <= 1, path


# ----------------------------------------------------------------------------- errors

BAD_ARGUMENTS = [
    dict(labels="foo"),
    dict(labels=[0, 1], class_names=["dog"]),
    dict(label_mode="onehot"),
    dict(color_mode="RGB"),
    dict(image_size=(1, 2, 3)),
    dict(image_size="abc"),
    dict(interpolation="Cubic"),
    dict(validation_split=1.5, subset="training", seed=1),
    dict(validation_split=0.2),
    dict(subset="training"),
    dict(validation_split=0.2, subset="train", seed=1),
    dict(validation_split=0.2, subset="training"),
    dict(class_names=["dog", "nope"]),
    dict(labels=None, class_names=["dog"]),
    dict(label_mode=None, class_names=["dog"]),
    dict(labels=[0, 1, 2]),
    dict(labels=[0] * 3, class_names=[]),
    dict(label_mode="binary"),
    dict(data_format="channels_middle"),
    dict(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
    dict(validation_split=0.2, subset="both", seed=1, label_mode="binary",
         class_names=["dog", "Cat", "Zebra"]),
]


@pytest.mark.parametrize("kw", BAD_ARGUMENTS, ids=[str(sorted(k)) for k in BAD_ARGUMENTS])
def test_bad_arguments_give_keras_message(messy_tree, kw):
    with pytest.raises(ValueError) as keras_error:
        keras.utils.image_dataset_from_directory(str(messy_tree), verbose=False, **kw)
    with pytest.raises(SimgenError) as ours:
        simgen.plan_job(str(messy_tree), **kw)
    assert str(ours.value) == str(keras_error.value)


# ----------------------------------------------------------------------------- generator

def test_generator_is_a_keras_fit_input(photo_tree):
    ds = simgen.dataset_from_directory(str(photo_tree), learning_size=3, batch_size=2,
                                       image_size=(8, 8), seed=5, num_tuples=6,
                                       strategy="random")
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 3
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3, 8, 8, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(2, "sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.fixture(scope="module")
def mode_trees(tmp_path_factory) -> dict[str, Path]:
    """One PNG per Pillow mode (palette with transparency, LA, RGBA, 16-bit, 1-bit, L)."""
    rng = np.random.default_rng(3)
    rgb = Image.fromarray(rng.integers(0, 256, (9, 13, 3), dtype=np.uint8))
    alpha = Image.fromarray(rng.integers(0, 256, (9, 13), dtype=np.uint8))
    palette = rgb.quantize(32)
    palette.info["transparency"] = 5
    images = {"P": palette, "LA": Image.merge("LA", (rgb.convert("L"), alpha)),
              "RGBA": Image.merge("RGBA", (*rgb.split(), alpha)), "1": rgb.convert("1"),
              "L": rgb.convert("L"),
              "I;16": Image.fromarray(rng.integers(0, 65536, (9, 13)).astype(np.uint16))}
    roots = {}
    for mode, img in images.items():
        root = tmp_path_factory.mktemp("mode") / "data"
        (root / "c").mkdir(parents=True)
        img.save(root / "c" / "x.png", **({"transparency": 5} if mode == "P" else {}))
        roots[mode] = root
    return roots


@pytest.mark.parametrize("mode", ["P", "LA", "RGBA", "1", "L", "I;16"])
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
def test_png_modes_decode_like_tensorflow(mode_trees, mode, color_mode):
    root = mode_trees[mode]
    (want,), (path,) = keras_pixels(root, image_size=(9, 13), color_mode=color_mode)
    got = load_image(path, ImageSpec(9, 13, color_mode, antialias=False))
    assert got.shape == want.shape
    if mode == "1" and color_mode == "rgba":
        # TF quirk: libpng's alpha filler is cut to the 1-bit depth, so alpha comes out as 1;
        # simgen keeps an opaque 255 and matches the colour channels
        assert (rounded(want)[..., 3] == 1).all() and (got[..., 3] == 255).all()
        got, want = got[..., :3], want[..., :3]
    assert np.abs(got.astype(np.int64) - rounded(want)).max() <= 1
