"""The build journal behind --resume: one sidecar per finished shard, plus clean-up of leftovers.

OUT/.simgen-journal/NAME.json holds the shard's manifest entry and the job key (config hash,
input fingerprint, library versions). A resumed build reuses a shard only when its sidecar
has the same key and plan slice and the file's size and sha256 still match; everything else
is rebuilt. The journal is removed once manifest.json is written.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil

from .manifest import canonical_json, library_versions
from .shards import atomic_publish, sha256_file, temp_name

JOURNAL = ".simgen-journal"
SHARD_GLOB = "*-of-*.h5"
TEMP_GLOBS = (".*.tmp-*", ".simgen-decode-*")  # temp names (shards.temp_name), decode caches
SPEC_FIELDS = ("file", "split", "index", "num_tuples", "offset")


def key_of(config_hash: str, fingerprint: str, versions: dict) -> str:
    """What must not change for a finished shard to be reused: options, inputs, libraries."""
    both = {"config_hash": config_hash, "fingerprint": fingerprint, "versions": versions}
    return hashlib.sha256(canonical_json(both).encode("utf-8", "surrogateescape")).hexdigest()


def job_key(job) -> str:
    """The resume key of a planned job."""
    return key_of(job.config_hash, job.fingerprint, library_versions())


def manifest_key(manifest: dict) -> str:
    """The resume key of a finished dataset, from its manifest."""
    return key_of(manifest["config_hash"], manifest["source"]["fingerprint"],
                  manifest["versions"])


def _sidecar(out: str, name: str) -> str:
    return os.path.join(out, JOURNAL, name + ".json")


def record(out: str, key: str, entry: dict) -> None:
    """Atomically note that shard `entry['file']` is finished (after its rename)."""
    os.makedirs(os.path.join(out, JOURNAL), exist_ok=True)
    final = _sidecar(out, entry["file"])
    tmp = temp_name(final)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"job_key": key, "entry": entry}, f, sort_keys=True)
    atomic_publish(tmp, final)


def _expected(spec) -> dict:
    return {"file": spec.name, "split": spec.split, "index": spec.index,
            "num_tuples": spec.num_tuples, "offset": spec.start}


def _reusable_entry(out: str, key: str, spec) -> dict | None:
    try:
        with open(_sidecar(out, spec.name), encoding="utf-8") as f:
            note = json.load(f)
        entry = note["entry"]
        if note["job_key"] != key or {k: entry[k] for k in SPEC_FIELDS} != _expected(spec):
            return None
        path = os.path.join(out, spec.name)
        if os.path.getsize(path) != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return entry


def reusable(out: str, key: str, specs) -> dict[str, dict]:
    """{shard name: manifest entry} for every shard of `specs` that a resume can keep."""
    found = {s.name: _reusable_entry(out, key, s) for s in specs}
    return {name: entry for name, entry in found.items() if entry is not None}


def seed_from_manifest(out: str, key: str, shards: list[dict]) -> None:
    """Turn a finished dataset's manifest entries into sidecars (resume re-checks them)."""
    for entry in shards:
        record(out, key, entry)


def remove_strays(out: str, keep: set[str]) -> None:
    """Delete shard files of an earlier, different plan (another shard count or split)."""
    for path in glob.glob(os.path.join(out, SHARD_GLOB)):
        if os.path.basename(path) not in keep:
            os.unlink(path)


def clean_temp(out: str) -> None:
    """Remove hidden temporary files left by killed writers (call only under the lock)."""
    for folder in (out, os.path.join(out, JOURNAL)):
        for pattern in TEMP_GLOBS:
            for path in glob.glob(os.path.join(folder, pattern)):
                os.unlink(path)


def unfinished(out: str) -> bool:
    """Shards or a journal but no manifest: a build that stopped before its end."""
    return os.path.isdir(os.path.join(out, JOURNAL)) or bool(glob.glob(os.path.join(out, SHARD_GLOB)))


def clear(out: str) -> None:
    shutil.rmtree(os.path.join(out, JOURNAL), ignore_errors=True)
