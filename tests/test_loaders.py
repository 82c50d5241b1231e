"""simgen.load on real built datasets: every access path agrees with the raw HDF5 arrays, for
the dense and the indexed layout, channels_last and channels_first, and in worker processes
started by fork, spawn and forkserver."""
from __future__ import annotations

import json
import multiprocessing as mp
import shutil

import h5py
import numpy as np
import pytest

import simgen
from simgen.manifest import read_manifest
from shard_tools import checksum_rows, convert

FIELDS = ("images", "labels", "classes", "sources")


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    """120 triplets at 16x16 in several small shards, built by simgen from real PNGs."""
    from conftest import build_triplets

    return build_triplets(tmp_path_factory.mktemp("loaders"), 120, 16, "40KiB", seed=5)


@pytest.fixture(scope="module")
def indexed(dense, tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "indexed"
    shutil.copytree(dense, out)
    convert(out, "indexed")
    return out


def raw(out, split="train"):
    """Every field of `split` concatenated straight from the shard files with h5py."""
    arrays = {n: [] for n in FIELDS}
    for shard in read_manifest(str(out))["shards"]:
        if shard["split"] == split:
            with h5py.File(out / shard["file"], "r") as f:
                for n in FIELDS:
                    arrays[n].append(f[n][:])
    return {n: np.concatenate(v) for n, v in arrays.items()}


def test_item_is_images_and_labels(dense):
    ds = simgen.load(dense)
    a = raw(dense)
    split = ds["train"]
    assert len(split) == 120 and len(split.shards) > 2
    images, labels = split[0]
    assert images.shape == (3, 16, 16, 3) and images.dtype == np.uint8
    assert labels.shape == (2,) and labels.dtype == np.uint8
    for i in (0, 37, -1):
        images, labels = split[i]
        assert np.array_equal(images, a["images"][i]) and np.array_equal(labels, a["labels"][i])
    assert np.array_equal(split[5:90][0], a["images"][5:90])  # crosses shard boundaries
    assert np.array_equal(split[100:3:-7][1], a["labels"][100:3:-7])
    picks = [97, 3, 3, -2, 50]
    got = split[picks]
    assert np.array_equal(got[0], a["images"][picks]) and np.array_equal(got[1], a["labels"][picks])


def test_classes_and_sources_on_request(dense):
    split = simgen.load(dense)["train"]
    a = raw(dense)
    images, classes, sources = split.get(7, fields=("images", "classes", "sources"))
    assert np.array_equal(classes, a["classes"][7]) and np.array_equal(sources, a["sources"][7])
    full = split.with_fields(*FIELDS)
    assert [x.shape for x in full[11]] == [(3, 16, 16, 3), (2,), (3,), (3,)]
    assert np.array_equal(full[11][3], a["sources"][11])
    assert len(split[11]) == 2  # the view did not change the original
    assert np.array_equal(a["labels"], a["classes"][:, 1:] == a["classes"][:, :1])
    with pytest.raises(simgen.SimgenError, match="unknown field"):
        split.get(0, fields=("pixels",))
    with pytest.raises(IndexError, match="out of range"):
        split[120]
    with pytest.raises(simgen.SimgenError, match="no split 'test'"):
        simgen.loaders.TupleSplit(str(dense), "test")


def test_batches_in_order_and_shuffled(dense):
    split = simgen.load(dense)["train"]
    a = raw(dense)
    ordered = list(split.batches(32))
    assert [len(b[0]) for b in ordered] == [32, 32, 32, 24]
    assert np.array_equal(np.concatenate([b[0] for b in ordered]), a["images"])
    shuffled = list(split.batches(32, shuffle=True, seed=4, fields=("sources", "labels")))
    again = list(split.batches(32, shuffle=True, seed=4, fields=("sources", "labels")))
    rows = np.concatenate([b[0] for b in shuffled])
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(shuffled, again))
    assert not np.array_equal(rows, a["sources"])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, a["sources"].tolist()))
    assert [len(b[0]) for b in split.batches(50, drop_remainder=True)] == [50, 50]
    assert split.num_batches(50) == 3 and split.num_batches(50, drop_remainder=True) == 2


def test_indexed_layout_reads_the_same_tuples(dense, indexed):
    with h5py.File(next(indexed.glob("train-*.h5")), "r") as f:
        assert f.attrs["layout"] == "indexed" and "images" not in f
        assert len(f["pool"]) < 3 * len(f["tuples"])  # each image stored once
    d, x = simgen.load(dense)["train"], simgen.load(indexed)["train"]
    assert x.layout == "indexed" and d.layout == "dense"
    assert x.element_shape == d.element_shape == (16, 16, 3)
    for i in (0, 41, 119):
        assert all(np.array_equal(p, q) for p, q in zip(d[i], x[i]))
    for rows in (slice(3, 111), slice(None, None, 5), [88, 2, 2, 60, 119]):
        assert all(np.array_equal(p, q) for p, q in zip(d[rows], x[rows]))
    for p, q in zip(d.batches(16, shuffle=True, seed=2), x.batches(16, shuffle=True, seed=2)):
        assert np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1])


def test_channels_first_shapes_come_from_the_files(dense, tmp_path):
    out = tmp_path / "cf"
    shutil.copytree(dense, out)
    convert(out, "channels_first")
    split = simgen.load(out)["train"]
    assert split.element_shape == (3, 16, 16)
    images, _ = split[9]
    assert images.shape == (3, 3, 16, 16)
    assert np.array_equal(images, np.moveaxis(raw(dense)["images"][9], -1, 1))


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
@pytest.mark.parametrize("layout", ["dense", "indexed"])
def test_worker_processes_read_correct_rows(dense, indexed, method, layout):
    split = simgen.load(dense if layout == "dense" else indexed)["train"]
    expected = checksum_rows((split, range(120)))  # parent has open handles now
    assert split._files, "the parent should hold open files that children must not reuse"
    chunks = [(split, range(i, 120, 4)) for i in range(4)]
    with mp.get_context(method).Pool(2) as pool:
        got = pool.map(checksum_rows, chunks)
    for i, part in enumerate(got):
        assert part == expected[i::4]


def test_core_imports_without_frameworks(dense):
    """`import simgen` and reading never import torch or TensorFlow; the glue loads on use."""
    import subprocess
    import sys

    code = ("import sys, simgen; s = simgen.load(sys.argv[1])['train']; s[0]; "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules; "
            "print(type(simgen.torch.TupleDataset(sys.argv[1])).__name__)")
    res = subprocess.run([sys.executable, "-c", code, str(dense)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "TupleDataset"


def test_built_channels_first_and_class_labels(tmp_path):
    """A real channels_first build with keras's categorical class labels reads back as stored."""
    from conftest import make_tree

    src = make_tree(tmp_path / "src", {"a": 3, "b": 3})
    out = tmp_path / "cf"
    simgen.build(str(src), str(out), learning_size=2, num_tuples=10, image_size=8, seed=1,
                 workers=1, quiet=True, data_format="channels_first", label_mode="categorical")
    split = simgen.load(out)["train"]
    assert split.element_shape == (3, 8, 8)
    images, classes, onehot = split.get(4, fields=("images", "classes", "class_labels"))
    assert images.shape == (2, 3, 8, 8)
    assert np.array_equal(onehot, np.eye(2, dtype=np.float32)[classes])
    with pytest.raises(simgen.SimgenError, match="lacks dataset"):
        simgen.load(dense_of(tmp_path))["train"].get(0, fields=("class_labels",))


def dense_of(tmp_path):
    from conftest import make_tree

    src = make_tree(tmp_path / "src2", {"a": 3, "b": 3})
    out = tmp_path / "plain"
    simgen.build(str(src), str(out), learning_size=2, num_tuples=5, image_size=8, seed=1,
                 workers=1, quiet=True)
    return out


def test_real_indexed_build_reads_like_dense(tmp_path):
    """simgen's own `--layout indexed` writer and the dense writer give the same tuples back."""
    from conftest import make_tree

    src = make_tree(tmp_path / "src", {"a": 4, "b": 5, "c": 3})
    splits = {}
    for layout in ("dense", "indexed"):
        out = tmp_path / layout
        simgen.build(str(src), str(out), learning_size=3, num_tuples=40, image_size=8, seed=6,
                     workers=1, quiet=True, shard_size="8KiB", layout=layout)
        splits[layout] = simgen.load(out, fields=FIELDS)["train"]
    d, x = splits["dense"], splits["indexed"]
    assert x.layout == "indexed" and len(x.shards) > 1
    for rows in (slice(None), [39, 0, 17, 17]):
        assert all(np.array_equal(p, q) for p, q in zip(d[rows], x[rows]))
    assert all(np.array_equal(p, q) for p, q in zip(d[21], x[21]))


def test_readers_default_to_the_build_batch_size(tree, tmp_path):
    src = tree({"a": 4, "b": 4})
    out = tmp_path / "o"
    simgen.build(str(src), str(out), learning_size=2, image_size=8, seed=1, workers=1,
                 quiet=True, batch_size=7)
    split = simgen.load(str(out))["train"]
    assert split.batch_size == 7
    assert len(split) == 28  # C(8, 2) unordered pairs
    assert [len(images) for images, _ in split.batches()] == [7, 7, 7, 7]
    assert split.num_batches() == 4 and split.num_batches(10) == 3


def test_a_dense_shard_without_images_is_named_not_a_key_error(tmp_path):
    out = dense_of(tmp_path)
    shard = out / json.loads((out / "manifest.json").read_text())["shards"][0]["file"]
    with h5py.File(shard, "r+") as f:
        del f["images"]
    with pytest.raises(simgen.SimgenError, match=r"lacks dataset\(s\) \['images'\]"):
        simgen.load(out)["train"][0]
