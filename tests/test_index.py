"""Indexing follows keras exactly: classes, file order, extensions, hidden and nested entries."""
from __future__ import annotations

import os

import numpy as np
import pytest

from simgen.errors import SimgenError
from simgen.index import index_directory
from simgen.split import split_index

from conftest import write_image


@pytest.fixture
def odd_tree(tmp_path):
    root = tmp_path / "d"
    files = [
        "b/z.png", "b/A.PNG", "b/nested/x.jpg", "b/nested-x/y.JPEG", "b/nested/deeper/w.gif",
        "b/.hidden/h.png", "b/.dot.png", "a/one.bmp", "a/two.Jpg",
        "Zeta/q.png", "10/n.png", "9/n.png", ".ipynb_checkpoints/c.png",
    ]
    for i, rel in enumerate(files):
        write_image(root / rel, i)
    (root / "b" / "notes.txt").write_text("not an image")
    (root / "b" / "img.webp").write_bytes(b"x")
    write_image(root / "toplevel.png", 99)
    return root


def test_keras_order_classes_and_files(odd_tree):
    idx = index_directory(str(odd_tree))
    assert idx.class_names == ("10", "9", "Zeta", "a", "b")  # code-point order, hidden skipped
    b = [p for p, c in zip(idx.paths, idx.class_ids) if idx.class_names[c] == "b"]
    # roots sorted as whole strings: b < b/.hidden < b/nested < b/nested-x < b/nested/deeper
    assert b == ["b/.dot.png", "b/A.PNG", "b/z.png", "b/.hidden/h.png", "b/nested/x.jpg",
                 "b/nested-x/y.JPEG", "b/nested/deeper/w.gif"]
    assert "toplevel.png" not in " ".join(idx.paths)
    assert idx.class_counts().tolist() == [1, 1, 1, 2, 7]


def test_class_names_subset_and_order(odd_tree):
    idx = index_directory(str(odd_tree), class_names=["b", "a"])
    assert idx.class_names == ("b", "a")
    assert idx.class_ids.tolist() == [0] * 7 + [1] * 2
    with pytest.raises(SimgenError, match="did not match"):
        index_directory(str(odd_tree), class_names=["nope"])


def test_class_ids_match_torchvision_imagefolder_rule(odd_tree):
    idx = index_directory(str(odd_tree))
    entries = sorted(e.name for e in os.scandir(odd_tree) if e.is_dir() and not e.name.startswith("."))
    assert list(idx.class_names) == entries


def test_symlinks_followed_only_on_request(tmp_path):
    root = tmp_path / "d"
    write_image(root / "a" / "x.png", 1)
    write_image(tmp_path / "elsewhere" / "y.png", 2)
    os.symlink(tmp_path / "elsewhere", root / "a" / "link")
    assert index_directory(str(root)).paths == ("a/x.png",)
    assert index_directory(str(root), follow_links=True).paths == ("a/x.png", "a/link/y.png")


def test_missing_and_empty_directories(tmp_path):
    with pytest.raises(SimgenError, match="not found"):
        index_directory(str(tmp_path / "missing"))
    with pytest.raises(SimgenError, match="no class folders"):
        index_directory(str(tmp_path))
    (tmp_path / "a").mkdir()
    with pytest.raises(SimgenError, match="No images found"):
        index_directory(str(tmp_path))


def test_split_is_keras_permutation_tail(tree):
    root = tree({"a": 7, "b": 6})
    idx = index_directory(str(root))
    parts = split_index(idx, 0.3, "both", True, seed=42)
    perm = np.random.RandomState(42).permutation(13)
    num_val = int(0.3 * 13)
    assert [idx.paths[i] for i in perm[: 13 - num_val]] == list(parts["train"].paths)
    assert [idx.paths[i] for i in perm[13 - num_val:]] == list(parts["validation"].paths)
    assert set(parts["train"].paths).isdisjoint(parts["validation"].paths)
