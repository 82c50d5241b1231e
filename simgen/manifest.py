"""manifest.json: the dataset's table of contents, written last (its presence = complete)."""
from __future__ import annotations

import hashlib
import json
import os
import sys

import h5py
import numpy as np
import PIL

from . import __version__
from .errors import SimgenError
from .shards import FORMAT, FORMAT_VERSION, atomic_publish, temp_name

MANIFEST = "manifest.json"
LABEL_SEMANTICS = "labels[j] = 1 if element j+1 has the anchor's class (similar), else 0"


def canonical_json(obj) -> str:
    """Sorted keys, no whitespace variance: the form that is hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def config_hash(config: dict) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


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
    """Write `manifest` atomically as OUT/manifest.json (stable key order, trailing newline)."""
    final = os.path.join(out, MANIFEST)
    tmp = temp_name(final)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    atomic_publish(tmp, final)
    return final


def read_manifest(path: str) -> dict:
    """Load OUT/manifest.json, refusing anything that is not a simgen dataset we can read."""
    file = os.path.join(path, MANIFEST) if os.path.isdir(path) else path
    try:
        with open(file, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise SimgenError(f"no simgen dataset at {path}: {MANIFEST} not found") from None
    except (OSError, ValueError) as exc:
        raise SimgenError(f"cannot read {file}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SimgenError(f"{file} is not a simgen manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SimgenError(
            f"{file} has format version {version}; this simgen reads up to {FORMAT_VERSION}, "
            "upgrade simgen"
        )
    return manifest
