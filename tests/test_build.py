"""End to end on real files: build, read back with h5py, check every promise of the format."""
from __future__ import annotations

import hashlib
import json
import os
import sys

import h5py
import numpy as np
import pytest
from PIL import Image

import simgen
from simgen.errors import SimgenError
from simgen.manifest import read_manifest


def build(src, out, **kw):
    kw.setdefault("image_size", 16)
    kw.setdefault("seed", 3)
    kw.setdefault("workers", 1)
    kw.setdefault("quiet", True)
    return simgen.build(str(src), str(out), **kw)


def read_split(out, split="train"):
    manifest = read_manifest(str(out))
    arrays = {n: [] for n in ("images", "labels", "classes", "sources")}
    for shard in manifest["shards"]:
        if shard["split"] != split:
            continue
        with h5py.File(out / shard["file"], "r") as f:
            assert f.attrs["format"] == "simgen-hdf5" and f.attrs["split"] == split
            for n in arrays:
                arrays[n].append(f[n][:])
    return manifest, {n: np.concatenate(v) for n, v in arrays.items()}


@pytest.mark.parametrize("strategy,k,n", [("combination", 2, None), ("combination", 3, 150),
                                          ("random", 4, 120), ("permutation", 2, 200)])
def test_built_tuples_keep_every_promise(tree, tmp_path, strategy, k, n):
    src = tree({"a": 5, "b": 4, "c": 6})
    out = tmp_path / "out"
    manifest = build(src, out, learning_size=k, strategy=strategy, num_tuples=n,
                     shard_size="20KiB")
    m, a = read_split(out)
    assert a["images"].shape[1:] == (k, 16, 16, 3) and a["images"].dtype == np.uint8
    assert np.array_equal(a["labels"], (a["classes"][:, 1:] == a["classes"][:, :1]))
    tuples = [tuple(t) for t in a["sources"].tolist()]
    assert len(set(tuples)) == len(tuples)  # no duplicate tuple
    if strategy != "permutation":
        assert all(len(set(t)) == k for t in tuples)  # no element twice, no self-pairs
    expected = n if n is not None else m["splits"]["train"]["space"]
    assert len(tuples) == expected == m["splits"]["train"]["tuples"]
    assert sum(s["num_tuples"] for s in m["shards"]) == expected
    assert len(m["shards"]) > 1  # 20 KiB shards force several
    # classes and pixels agree with the source files named by `sources`
    names = m["source"]["class_names"]
    for row in (0, len(tuples) - 1):
        for j in range(k):
            rel = m["sources"][a["sources"][row, j]]
            assert names[a["classes"][row, j]] == rel.split("/")[0]
            with Image.open(src / rel) as img:
                px = np.asarray(img.convert("RGB").resize((16, 16), Image.Resampling.BILINEAR))
            assert np.array_equal(a["images"][row, j], px)
    for shard in m["shards"]:
        data = (out / shard["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        assert len(data) == shard["bytes"]
    assert manifest == m


def test_manifest_counts_for_paper_sample(sample_dir, tmp_path):
    m = build(sample_dir, tmp_path / "o", learning_size=3, num_tuples=100)
    c = m["counts"]
    assert c["permutation_pairs"]["positives"] == 500
    assert c["permutation_pairs"]["negatives"] == 2000
    assert c["combination_pairs"] == {"positives": 225, "negatives": 1000,
                                      "bias": pytest.approx(1000 / 225)}
    assert c["anchor_tuples"]["total"] == 18000
    assert m["label_semantics"].startswith("labels[j] = 1")
    text = (tmp_path / "o" / "manifest.json").read_text()
    assert '"total": 18000' in text  # JSON integers, not strings or floats


def test_same_seed_same_bytes_whatever_workers_or_out(tree, tmp_path, monkeypatch):
    src = tree({"a": 6, "b": 6, "c": 5})
    opts = dict(learning_size=3, num_tuples=300, shard_size="16KiB")
    build(src, tmp_path / "one", workers=1, **opts)
    for method in ("fork", "spawn"):  # how the pool's workers start changes nothing
        monkeypatch.setenv("SIMGEN_START_METHOD", method)
        build(src, tmp_path / method, workers=2, **opts)
    files = sorted(os.listdir(tmp_path / "one"))
    assert len(files) > 3
    for other in ("fork", "spawn"):
        assert files == sorted(os.listdir(tmp_path / other))
        for name in files:
            assert (tmp_path / "one" / name).read_bytes() == (tmp_path / other / name).read_bytes()
    build(src, tmp_path / "three", workers=1, **{**opts, "seed": 4})
    assert (tmp_path / "three" / files[0]).read_bytes() != (tmp_path / "one" / files[0]).read_bytes()


def test_subset_both_splits_never_share_an_image(tree, tmp_path):
    src = tree({"a": 8, "b": 8, "c": 8})
    m = build(src, tmp_path / "o", learning_size=2, validation_split=0.25, subset="both",
              num_tuples=60)
    _, train = read_split(tmp_path / "o", "train")
    _, val = read_split(tmp_path / "o", "validation")
    assert set(train["sources"].ravel()).isdisjoint(val["sources"].ravel())
    assert m["splits"]["train"]["images"] == 18 and m["splits"]["validation"]["images"] == 6
    assert len(train["sources"]) + len(val["sources"]) == 60


def test_loader_returns_tuples(tree, tmp_path):
    src = tree({"a": 4, "b": 4})
    build(src, tmp_path / "o", learning_size=3, shard_size="8KiB")
    ds = simgen.load(str(tmp_path / "o"))["train"]
    _, a = read_split(tmp_path / "o")
    images, labels = ds[len(ds) - 1]
    assert np.array_equal(images, a["images"][-1]) and np.array_equal(labels, a["labels"][-1])
    batch_images, batch_labels = ds[2:9]
    assert np.array_equal(batch_images, a["images"][2:9])
    assert sum(len(b[0]) for b in ds.batches(5)) == len(ds) == len(a["images"])


def test_config_preset_with_flag_override(sample_dir, tmp_path):
    from click.testing import CliRunner
    from simgen.cli import cli

    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["build", str(sample_dir), "--config",
                                   "configs/quadruplets.toml", "-n", "50", "--image-size", "8",
                                   "--seed", "1", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["config"]["learning_size"] == 4 and m["config"]["image_size"] == [8, 8]


@pytest.mark.parametrize("n,per_shard", [(20000, 14544), (10, 3), (1, 5), (9, 2), (7, 7)])
def test_shards_are_balanced_and_never_over_size(n, per_shard):
    from simgen.shards import shard_specs

    specs = shard_specs("train", n, per_shard)
    sizes = [s.num_tuples for s in specs]
    assert len(specs) == -(-n // per_shard)  # as few shards as the size allows
    assert max(sizes) <= per_shard and max(sizes) - min(sizes) <= 1
    assert [s.start for s in specs[1:]] == [s.stop for s in specs[:-1]]
    assert specs[0].start == 0 and specs[-1].stop == n


def test_workers_fork_only_from_a_single_threaded_process(monkeypatch):
    import threading

    from simgen.executor import start_method

    monkeypatch.delenv("SIMGEN_START_METHOD", raising=False)
    assert start_method() == ("fork" if sys.platform == "linux" else "spawn")
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:  # a live thread could hold a lock the forked child would inherit, held forever
        assert start_method() == "spawn"
    finally:
        release.set()
        other.join()
    for unusable in ("teleport", "forkserver"):
        monkeypatch.setenv("SIMGEN_START_METHOD", unusable)
        with pytest.raises(SimgenError, match=f"SIMGEN_START_METHOD={unusable} is not usable"):
            start_method()
