"""Issue 5: decode each image once per build, JPEG draft, the indexed layout, temp cleanup."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import simgen
from simgen import decodecache
from simgen.cli import cli
from simgen.errors import SimgenError
from simgen.executor import run_shards
from simgen.imaging import DRAFT_GAP, ImageSpec, jpeg_draft, load_image
from simgen.manifest import read_manifest


def build(src, out, **kw):
    opts = dict(image_size=16, seed=3, workers=1, quiet=True, learning_size=3,
                num_tuples=300, shard_size="16KiB")
    return simgen.build(str(src), str(out), **{**opts, **kw})


def photo(path, size=(640, 480), seed=0):
    """A smooth JPEG 'photo' (gradients + a little noise), big enough to draft."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], -1)
    arr = np.clip(arr + rng.integers(-8, 9, arr.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, quality=90)
    return path


def test_every_image_is_decoded_once_per_build_not_once_per_shard(tree, tmp_path, monkeypatch):
    src = tree({"a": 6, "b": 6, "c": 5})
    decoded = []
    real = decodecache.decode_file
    monkeypatch.setattr(decodecache, "decode_file", lambda p, j: decoded.append(p) or real(p, j))
    m = build(src, tmp_path / "o")
    assert len(m["shards"]) > 3  # shards share images ...
    assert len(decoded) == len(set(decoded))  # ... yet no image was decoded twice
    used = {m["sources"][i] for s in m["shards"]
            for i in h5py.File(tmp_path / "o" / s["file"], "r")["sources"][:].ravel()}
    assert {os.path.relpath(p, src) for p in decoded} == used


def test_decode_cache_is_removed_after_build_and_after_failure(tree, tmp_path):
    src = tree({"a": 6, "b": 6, "c": 5})
    build(src, tmp_path / "ok", workers=2)
    assert not [n for n in os.listdir(tmp_path / "ok") if n.startswith(decodecache.PREFIX)]
    job = simgen.plan_job(str(src), learning_size=3, num_tuples=300, image_size=16, seed=3,
                          shard_size="16KiB")
    (src / "a" / "img000.png").write_bytes(b"not an image")  # breaks after planning
    (tmp_path / "bad").mkdir()
    specs = [s for split in job.splits.values() for s in split.shards]
    with pytest.raises(SimgenError, match="img000.png"):
        run_shards(job, specs, str(tmp_path / "bad"), workers=2, quiet=True)
    assert not [n for n in os.listdir(tmp_path / "bad") if n.startswith(decodecache.PREFIX)]


def test_indexed_layout_loads_to_the_same_tuples_and_is_smaller(tree, tmp_path):
    src = tree({"a": 6, "b": 6, "c": 5})
    dense = build(src, tmp_path / "dense", shard_size="64KiB")
    indexed = build(src, tmp_path / "idx", shard_size="64KiB", layout="indexed")
    assert indexed["schema"]["layout"] == "indexed" and dense["schema"]["layout"] == "dense"
    assert [s["num_tuples"] for s in indexed["shards"]] == [s["num_tuples"] for s in dense["shards"]]
    a, b = simgen.load(tmp_path / "dense")["train"], simgen.load(tmp_path / "idx")["train"]
    assert len(a) == len(b) == 300
    for x, y in zip(a[0:300], b[0:300]):
        np.testing.assert_array_equal(x, y)
    shard = tmp_path / "idx" / indexed["shards"][0]["file"]
    with h5py.File(shard, "r") as f:
        assert f.attrs["layout"] == "indexed" and "images" not in f
        pool, tuples = f["pool"][:], f["tuples"][:]
        assert tuples.dtype == np.int32 and pool.shape[1:] == (16, 16, 3)
        assert sorted(np.unique(tuples)) == list(range(len(pool)))  # every pool image used
        assert len(np.unique(f["sources"][:])) == len(pool)  # each unique image stored once
    assert sum(s["bytes"] for s in indexed["shards"]) * 2 < sum(s["bytes"] for s in dense["shards"])


def test_jpeg_draft_is_close_to_a_full_decode_and_only_when_it_can_reduce(tmp_path):
    big = photo(tmp_path / "big.jpg")
    spec = ImageSpec(32, 32)
    drafted, full = load_image(str(big), spec), load_image(str(big), ImageSpec(32, 32, jpeg_draft=False))
    diff = np.abs(drafted.astype(int) - full)
    assert drafted.shape == full.shape == (32, 32, 3)
    assert 0 < diff.mean() < 1.0 and diff.max() < 16
    with Image.open(big) as img:
        assert jpeg_draft(img, 32, 32) is not None and img.size[0] >= 32 * DRAFT_GAP
    with Image.open(big) as img:  # 480 // (200*2) == 1: nothing to reduce, untouched
        assert jpeg_draft(img, 200, 200) is None and img.size == (640, 480)
    png = tmp_path / "big.png"
    Image.open(big).save(png)
    with Image.open(png) as img:
        assert jpeg_draft(img, 32, 32) is None


def test_jpeg_draft_flag_changes_pixels_and_config_hash(tmp_path):
    for i in range(4):
        photo(tmp_path / "src" / ("ab"[i % 2]) / f"{i}.jpg", seed=i)
    on = build(tmp_path / "src", tmp_path / "on", learning_size=2, num_tuples=4, image_size=24)
    off = build(tmp_path / "src", tmp_path / "off", learning_size=2, num_tuples=4, image_size=24,
                jpeg_draft=False)
    assert on["config"]["jpeg_draft"] is True and off["config"]["jpeg_draft"] is False
    assert on["config_hash"] != off["config_hash"]
    x, y = simgen.load(tmp_path / "on")["train"][0:4][0], simgen.load(tmp_path / "off")["train"][0:4][0]
    assert x.shape == y.shape and 0 < np.abs(x.astype(int) - y).mean() < 1.0


def test_cli_layout_flag_and_help(tree, tmp_path):
    src = tree({"a": 4, "b": 4})
    help_text = CliRunner().invoke(cli, ["build", "--help"]).output
    assert "--layout" in help_text and "--no-jpeg-draft" in help_text
    res = CliRunner().invoke(cli, ["build", str(src), "-k", "2", "-n", "10", "--image-size", "8",
                                   "--layout", "indexed", "--seed", "1", "-q", "--out",
                                   str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert read_manifest(str(tmp_path / "o"))["schema"]["layout"] == "indexed"
    res = CliRunner().invoke(cli, ["build", str(src), "--layout", "sparse", "--out", "x"])
    assert res.exit_code == 2 and "--layout" in res.output


def test_indexed_layout_refuses_augmentation(tree, tmp_path):
    src = tree({"a": 4, "b": 4})
    with pytest.raises(SimgenError, match="--layout indexed"):
        build(src, tmp_path / "o", layout="indexed", augment=("flip",))
    assert not os.path.exists(tmp_path / "o" / "manifest.json")
