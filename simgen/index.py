"""Directory → SourceIndex, with exactly the file set, order and class ids of keras.

Mirrors `keras.utils.image_dataset_from_directory` (and hence torchvision's
`ImageFolder` class ids): classes are the sorted, non-hidden top-level folders; files are
found by walking each class folder, roots sorted as whole strings, names sorted, kept when
the lower-cased name ends in an allowed extension.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .errors import SimgenError

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


@dataclass(frozen=True)
class SourceIndex:
    """Image files with integer class ids. `paths` are relative to `root`, '/'-separated."""

    root: str
    paths: tuple[str, ...]
    class_ids: np.ndarray  # int32 (n,)
    class_names: tuple[str, ...]
    source_ids: np.ndarray = field(default=None)  # int32 (n,): position in the full index

    def __post_init__(self) -> None:
        if self.source_ids is None:
            object.__setattr__(self, "source_ids", np.arange(len(self.paths), dtype=np.int32))

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def class_counts(self) -> np.ndarray:
        """Images per class id, int64 (num_classes,)."""
        return np.bincount(self.class_ids, minlength=self.num_classes).astype(np.int64)

    def subset(self, rows: np.ndarray) -> "SourceIndex":
        """The files at positions `rows`, in that order, keeping class ids and source ids."""
        rows = np.asarray(rows, dtype=np.int64)
        return SourceIndex(
            self.root,
            tuple(self.paths[i] for i in rows),
            self.class_ids[rows],
            self.class_names,
            self.source_ids[rows],
        )

    def fingerprint(self) -> str:
        """sha256 over (relative path, byte size, class id): changes when the input set does."""
        h = hashlib.sha256()
        for rel, cid in zip(self.paths, self.class_ids.tolist()):
            size = file_size(os.path.join(self.root, rel))
            h.update(f"{rel}\0{size}\0{cid}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


def file_size(path: str) -> int:
    """Bytes in `path`, or -1 when it cannot be stat'ed (a dangling link, a vanished file)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def walk_without_loops(top: str, follow_links: bool):
    """os.walk, but a followed link back to a folder being walked is not entered (no hang)."""
    if not follow_links:
        yield from os.walk(top)
        return
    ancestors: dict[str, frozenset] = {}
    for root, dirs, files in os.walk(top, followlinks=True):
        st = os.stat(root)
        chain = ancestors.get(os.path.dirname(root), frozenset()) | {(st.st_dev, st.st_ino)}
        ancestors[root] = chain
        dirs[:] = [d for d in dirs if _dir_key(os.path.join(root, d)) not in chain]
        yield root, dirs, files


def _dir_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def iter_valid_files(top: str, follow_links: bool, formats: Sequence[str] = ALLOWLIST_FORMATS):
    """Yield (root, filename) under `top` in keras order: roots sorted as strings, names sorted."""
    walk = sorted(walk_without_loops(top, follow_links), key=lambda t: t[0])
    for root, _, files in walk:
        for fname in sorted(files):
            if fname.lower().endswith(tuple(formats)):
                yield root, fname


def list_class_dirs(directory: str) -> list[str]:
    """Sorted, non-hidden top-level folders (symlinked folders count, as in keras)."""
    return [
        d
        for d in sorted(os.listdir(directory))
        if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
    ]


@lru_cache(maxsize=65536)
def _dir_prefix(top: str, root: str) -> str:
    """'<basename(top)>/<root relative to top>/' ('/'-separated; '' for the bare top), once
    per folder instead of an os.path.relpath per file (stats on 100k files stays fast)."""
    rel = os.path.relpath(root, top)
    head = os.path.join(os.path.basename(top), "" if rel == "." else rel)
    return head.replace(os.sep, "/").rstrip("/") + "/" if head else ""


def _relpath(top: str, root: str, fname: str) -> str:
    return _dir_prefix(top, root) + fname


def index_directory(
    directory: str,
    class_names: Sequence[str] | None = None,
    follow_links: bool = False,
    formats: Sequence[str] = ALLOWLIST_FORMATS,
    labels: str | Sequence[int] | None = "inferred",
) -> SourceIndex:
    """Index `directory` in keras order; raise SimgenError if unusable.

    labels="inferred": class = top-level folder. labels=None: the whole tree, no classes
    (class ids -1). A list of ints: the whole tree, one label per file in keras order;
    class ids index the sorted distinct labels, whose str() are the class names.
    """
    directory = os.fspath(directory)
    if not os.path.exists(directory):
        raise SimgenError(f"directory not found: {directory}")
    if not os.path.isdir(directory):
        raise SimgenError(f"not a directory: {directory}")
    if labels != "inferred":
        return _index_tree(directory, class_names, follow_links, formats, labels)
    subdirs = list_class_dirs(directory)
    if class_names is not None:
        if not set(class_names) <= set(subdirs):
            raise SimgenError(
                "The `class_names` passed did not match the names of the subdirectories of the "
                f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                f"class_names={list(class_names)}"
            )
        subdirs = list(class_names)
    if not subdirs:
        raise SimgenError(f"no class folders in {directory}: expected DIR/<class>/<image>")
    paths: list[str] = []
    ids: list[int] = []
    for cid, name in enumerate(subdirs):
        top = os.path.join(directory, name)
        for root, fname in iter_valid_files(top, follow_links, formats):
            paths.append(_relpath(top, root, fname))
            ids.append(cid)
    _require_files(directory, paths, formats)
    return SourceIndex(directory, tuple(paths), np.asarray(ids, dtype=np.int32), tuple(subdirs))


def _require_files(directory: str, paths: Sequence[str], formats: Sequence[str]) -> None:
    if not paths:
        raise SimgenError(
            f"No images found in directory {directory}. Allowed formats: {tuple(formats)}"
        )


def _index_tree(directory: str, class_names: Sequence[str] | None, follow_links: bool,
                formats: Sequence[str], labels: Sequence[int] | None) -> SourceIndex:
    """keras's labels=None / explicit-labels mode: walk the whole tree from `directory`."""
    if labels is None and class_names is not None:
        raise SimgenError(
            "When `labels=None` (no labels), argument `class_names` cannot be specified.")
    if labels is not None and class_names is not None:
        raise SimgenError(
            "When argument `labels` is specified, argument `class_names` cannot be specified "
            "(the `class_names` will be the sorted list of labels).")
    top = os.path.join(directory, "")  # basename "" → paths relative to `directory` itself
    paths = [_relpath(top, root, fname) for root, fname in
             iter_valid_files(top, follow_links, formats)]
    if labels is None:
        _require_files(directory, paths, formats)
        return SourceIndex(directory, tuple(paths), np.full(len(paths), -1, np.int32), ())
    if len(labels) != len(paths):
        raise SimgenError(
            "Expected the lengths of `labels` to match the number of files in the target "
            f"directory. len(labels) is {len(labels)} while we found {len(paths)} files in "
            f"directory {directory}.")
    _require_files(directory, paths, formats)
    values, ids = np.unique(np.asarray(labels, dtype=np.int64), return_inverse=True)
    names = tuple(str(v) for v in values.tolist())
    return SourceIndex(directory, tuple(paths), ids.astype(np.int32).reshape(-1), names)
