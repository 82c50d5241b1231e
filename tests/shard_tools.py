"""Test helpers: rewrite built shards into the other layouts loaders must read, and a
worker function for multiprocessing tests (importable by spawn/forkserver children)."""
from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from simgen.manifest import read_manifest, write_manifest


def _rewrite(path: Path, build) -> None:
    """Replace shard `path` by what `build(src, dst)` writes (attrs and small fields copied)."""
    tmp = path.with_suffix(".rewrite")
    with h5py.File(path, "r") as src, h5py.File(tmp, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for name in ("labels", "classes", "sources", "class_labels"):
            if name in src:
                dst.create_dataset(name, data=src[name][:])
        build(src, dst)
    os.replace(tmp, path)


def _indexed(src: h5py.File, dst: h5py.File) -> None:
    """pool = each distinct image once (keyed by source id), tuples = indices into it."""
    images, sources = src["images"][:], src["sources"][:]
    ids, first, tuples = np.unique(sources, return_index=True, return_inverse=True)
    flat = images.reshape((-1,) + images.shape[2:])
    dst.create_dataset("pool", data=flat[first], chunks=(1,) + flat.shape[1:])
    dst.create_dataset("tuples", data=tuples.reshape(sources.shape).astype(np.int32))
    dst.attrs["layout"] = "indexed"


def _channels_first(src: h5py.File, dst: h5py.File) -> None:
    dst.create_dataset("images", data=np.moveaxis(src["images"][:], -1, 2))


def convert(out: Path, layout: str) -> None:
    """Rewrite every shard of dataset `out` as 'indexed' or 'channels_first'."""
    manifest = read_manifest(str(out))
    build = {"indexed": _indexed, "channels_first": _channels_first}[layout]
    for shard in manifest["shards"]:
        _rewrite(out / shard["file"], build)
    if layout == "indexed":
        manifest["schema"]["layout"] = "indexed"
    else:
        manifest["schema"]["data_format"] = "channels_first"
    write_manifest(str(out), manifest)


def checksum_rows(args) -> list[int]:
    """Worker: read rows through a pickled TupleSplit and return a checksum per row."""
    split, rows = args
    return [int(split[i][0].sum(dtype=np.int64)) * 7 + int(split[i][1].sum()) for i in rows]
