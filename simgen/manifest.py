"""manifest.json: the dataset's table of contents, written last (its presence = complete)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys

import h5py
import numpy as np
import PIL

from . import __version__
from .errors import SimgenError
from .jsonfile import read_json
from .shards import FORMAT, FORMAT_VERSION, atomic_publish, temp_name

MANIFEST = "manifest.json"
LABEL_SEMANTICS = "labels[j] = 1 if element j+1 has the anchor's class (similar), else 0"


def canonical_json(obj) -> str:
    """Sorted keys, no whitespace variance: the form that is hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _utf8(text: str) -> bytes:
    """UTF-8, keeping undecodable name bytes (surrogateescape) so any path can be hashed."""
    return text.encode("utf-8", "surrogateescape")


def config_hash(config: dict) -> str:
    return hashlib.sha256(_utf8(canonical_json(config))).hexdigest()


SELF_HASH = "manifest_sha256"


def manifest_digest(manifest: dict) -> str:
    """sha256 of the canonical JSON of everything but the self-hash (catches edited manifests)."""
    body = {k: v for k, v in manifest.items() if k != SELF_HASH}
    return hashlib.sha256(_utf8(canonical_json(body))).hexdigest()


def escape_undecodable(text: str) -> str:
    r"""JSON text → valid UTF-8: a name byte that is not UTF-8 (held as a lone surrogate
    U+DC80..U+DCFF by surrogateescape) is written as the JSON escape \udcXX, which Python's
    json reads back to the same string, so os.fsencode(name) gives the original bytes."""
    return re.sub("[\udc80-\udcff]", lambda m: f"\\u{ord(m.group()):04x}", text)


def library_versions() -> dict:
    """Versions that decide the bytes: byte identity is promised only when these match."""
    return {
        "simgen": __version__,
        "python": ".".join(map(str, sys.version_info[:2])),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "pillow": PIL.__version__,
    }


def write_manifest(out: str, manifest: dict) -> str:
    """Write `manifest` atomically as OUT/manifest.json (stable key order, trailing newline),
    adding its self-hash."""
    manifest[SELF_HASH] = manifest_digest(manifest)
    final = os.path.join(out, MANIFEST)
    tmp = temp_name(final)
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(escape_undecodable(text))
    atomic_publish(tmp, final)
    return final


def shard_path(root: str, name: object) -> str:
    """OUT/name, refusing entries that are not a plain file name inside the dataset folder."""
    if (not isinstance(name, str) or not name or os.path.isabs(name) or "/" in name
            or "\\" in name or name in (".", "..")):
        raise SimgenError(f"manifest shard entry {name!r} points outside {root}")
    return os.path.join(root, name)


def read_manifest(path: str) -> dict:
    """Load OUT/manifest.json, refusing anything that is not a simgen dataset we can read."""
    file = os.path.join(path, MANIFEST) if os.path.isdir(path) else path
    manifest = read_json(file, f"no simgen dataset at {path}: {MANIFEST} not found",
                         f"cannot read {file}")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SimgenError(f"{file} is not a simgen manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SimgenError(
            f"{file} has format version {version}; this simgen reads up to {FORMAT_VERSION}, "
            "upgrade simgen"
        )
    return manifest
