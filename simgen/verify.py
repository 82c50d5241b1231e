"""`simgen verify OUT`: prove a built dataset is the one its manifest describes, or say why not.

Checks, each reported as (file, reason): the manifest reads and its self-hash matches (an
edited manifest); every shard entry names a file inside OUT that exists with the recorded
size and sha256 (a flipped byte, a truncated or missing shard); each shard's attributes,
datasets, dtypes and shapes match the manifest's schema (dense or indexed layout); every
label equals the class equality of its elements; class and source ids are in range and agree
with the source list; no tuple appears twice in a split; no source image is in two splits.
Only h5py numeric datasets are read; nothing is unpickled.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import h5py
import numpy as np

from .errors import SimgenError
from .manifest import MANIFEST, SELF_HASH, manifest_digest, read_manifest, shard_path
from .shards import FORMAT, sha256_file, tuple_labels


@dataclass(frozen=True)
class Problem:
    file: str
    reason: str

    def as_dict(self) -> dict:
        return {"file": self.file, "reason": self.reason}


class ShardProblem(Exception):
    """One shard is not what the manifest says (stops that shard's checks)."""


def _expect(cond: bool, reason: str) -> None:
    if not cond:
        raise ShardProblem(reason)


def _dataset(f: h5py.File, name: str, dtype: str, shape: tuple) -> np.ndarray:
    """Read dataset `name` after checking it is a plain numeric array of dtype and shape."""
    ds = f.get(name)
    _expect(isinstance(ds, h5py.Dataset), f"dataset {name!r} is missing")
    _expect(ds.dtype == np.dtype(dtype), f"dataset {name!r} has dtype {ds.dtype}, "
                                         f"manifest says {dtype}")
    _expect(ds.shape == shape, f"dataset {name!r} has shape {ds.shape}, manifest says {shape}")
    return ds


class DatasetCheck:
    """Holds the manifest and what the per-shard checks accumulate across shards."""

    def __init__(self, root: str, manifest: dict):
        self.root, self.m = root, manifest
        self.problems: list[Problem] = []
        self.num_sources = len(manifest["sources"])
        names = manifest["source"]["class_names"]
        lookup = {n: i for i, n in enumerate(names)}
        self.source_class = np.array(
            [lookup.get(p.split("/")[0], -1) for p in manifest["sources"]], dtype=np.int64)
        self.num_classes = len(names)
        # classes are the top-level folders only with labels="inferred" (keras's default)
        self.folder_classes = manifest["config"].get("labels", "inferred") == "inferred"
        self.tuples: dict[str, list[np.ndarray]] = {}
        self.classes: list[np.ndarray] = []

    def add(self, file: str, reason: str) -> None:
        self.problems.append(Problem(file, reason))

    def check_entry(self, entry: dict) -> None:
        """File-level checks of one manifest shard entry, then its contents."""
        name = entry.get("file")
        try:
            path = shard_path(self.root, name)
        except SimgenError as exc:
            return self.add(MANIFEST, str(exc))
        if not os.path.isfile(path):
            return self.add(name, "missing")
        size = os.path.getsize(path)
        if size != entry["bytes"]:
            return self.add(name, f"{size} bytes, manifest says {entry['bytes']} (truncated?)")
        if sha256_file(path) != entry["sha256"]:
            return self.add(name, "sha256 differs from the manifest (corrupted bytes)")
        try:
            with h5py.File(path, "r") as f:
                self.check_contents(f, entry)
        except ShardProblem as exc:
            self.add(name, str(exc))
        except (OSError, KeyError, ValueError) as exc:
            self.add(name, f"unreadable HDF5: {exc}")

    def check_attrs(self, f: h5py.File, entry: dict) -> None:
        want = {"format": FORMAT, "format_version": self.m["format_version"],
                "split": entry["split"], "shard_index": entry["index"],
                "config_hash": self.m["config_hash"]}
        for key, value in want.items():
            got = f.attrs.get(key)
            got = got.decode() if isinstance(got, bytes) else got
            got = got.item() if isinstance(got, np.generic) else got
            _expect(got == value, f"attribute {key}={got!r}, manifest says {value!r}")

    def datasets(self, f: h5py.File, n: int) -> dict[str, h5py.Dataset]:
        """Every dataset the manifest's schema lists, checked for dtype and shape
        ("n" = the shard's tuples, "u" = its pool of unique images)."""
        pool = f.get("pool")
        sizes = {"n": n, "u": pool.shape[0] if isinstance(pool, h5py.Dataset) and pool.shape
                 else -1}
        out = {}
        for name, spec in self.m["schema"].items():
            if isinstance(spec, dict) and "dtype" in spec and "shape" in spec:
                shape = tuple(sizes.get(d, d) if isinstance(d, str) else d
                              for d in spec["shape"])
                out[name] = _dataset(f, name, spec["dtype"], shape)
        for name in ("labels", "classes", "sources"):
            _expect(name in out, f"the manifest's schema does not list {name!r}")
        return out

    def check_contents(self, f: h5py.File, entry: dict) -> None:
        """Attributes, schema, then what the numbers must satisfy."""
        self.check_attrs(f, entry)
        arrays = self.datasets(f, entry["num_tuples"])
        labels, classes, sources = (arrays[x][:] for x in ("labels", "classes", "sources"))
        if "tuples" in arrays:
            self.check_indexed(arrays["pool"], arrays["tuples"][:], sources)
        _expect(np.array_equal(labels, tuple_labels(classes)),
                "labels disagree with the classes of the tuple elements")
        _expect(((sources >= 0) & (sources < self.num_sources)).all(),
                "source ids outside the manifest's source list")
        _expect(((classes >= 0) & (classes < self.num_classes)).all(), "class ids out of range")
        _expect(not self.folder_classes or np.array_equal(self.source_class[sources], classes),
                "class ids disagree with the class folders of their source files")
        self.tuples.setdefault(entry["split"], []).append(sources)
        self.classes.append(np.stack([sources.ravel(), classes.ravel()], axis=1))

    @staticmethod
    def check_indexed(pool: h5py.Dataset, tuples: np.ndarray, sources: np.ndarray) -> None:
        """layout="indexed": tuples index the pool, and each pool image is one source file."""
        _expect(((tuples >= 0) & (tuples < len(pool))).all(),
                "tuple indices outside the image pool")
        pairs = np.unique(np.stack([tuples.ravel(), sources.ravel()], axis=1), axis=0)
        _expect(len(pairs) == len(np.unique(pairs[:, 0])),
                "one pool image stands for two different source files")

    def check_splits(self) -> None:
        """No tuple twice within a split; no source image in two splits or two classes."""
        if self.classes:
            pairs = np.unique(np.concatenate(self.classes), axis=0)
            if len(pairs) != len(np.unique(pairs[:, 0])):
                self.add(MANIFEST, "a source image carries two different class ids")
        seen: dict[int, str] = {}
        for split, parts in self.tuples.items():
            rows = np.concatenate(parts)
            dupes = len(rows) - len(np.unique(rows, axis=0))
            if dupes:
                self.add(MANIFEST, f"split {split!r} holds {dupes} duplicate tuple(s)")
            for src in np.unique(rows).tolist():
                if seen.setdefault(src, split) != split:
                    self.add(MANIFEST, f"source {self.m['sources'][src]!r} is in splits "
                                       f"{seen[src]!r} and {split!r}")

    def check_manifest(self) -> None:
        """Self-hash, and the per-split totals against the shard list."""
        if SELF_HASH not in self.m:
            self.add(MANIFEST, f"has no {SELF_HASH}: not written by simgen, or the field was "
                               "removed (edits cannot be detected)")
        elif self.m[SELF_HASH] != manifest_digest(self.m):
            self.add(MANIFEST, "edited after it was written (manifest_sha256 does not match)")
        for split, info in self.m["splits"].items():
            entries = [s for s in self.m["shards"] if s.get("split") == split]
            total = sum(s.get("num_tuples", 0) for s in entries)
            if len(entries) != info.get("shards") or total != info.get("tuples"):
                self.add(MANIFEST, f"split {split!r}: {len(entries)} shard(s) with {total} "
                                   f"tuples listed, summary says {info.get('shards')} with "
                                   f"{info.get('tuples')}")


def verify(path: str) -> list[Problem]:
    """Every problem found in the dataset at `path` (empty list: it is sound)."""
    path = os.fspath(path)
    try:
        manifest = read_manifest(path)
    except SimgenError as exc:
        return [Problem(MANIFEST, str(exc))]
    root = path if os.path.isdir(path) else os.path.dirname(path)
    check = DatasetCheck(root, manifest)
    try:
        check.check_manifest()
        for entry in manifest["shards"]:
            check.check_entry(entry)
        check.check_splits()
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        check.add(MANIFEST, f"malformed manifest: {type(exc).__name__}: {exc}")
    return check.problems
