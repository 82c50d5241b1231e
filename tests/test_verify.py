"""Issue 7, safe loading: `simgen verify` and the loaders' refusals, on real built datasets."""
from __future__ import annotations

import json
import os
import pickle
import shutil

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

import simgen
from simgen.cli import cli
from simgen.errors import SimgenError
from simgen.manifest import manifest_digest
from simgen.shards import sha256_file
from simgen.verify import verify


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small two-split triplet dataset with several shards."""
    from conftest import make_tree

    base = tmp_path_factory.mktemp("verify")
    src = make_tree(base / "src", {"a": 8, "b": 8, "c": 8})
    out = base / "out"
    simgen.build(str(src), str(out), learning_size=3, num_tuples=150, image_size=8,
                 shard_size="8KiB", seed=2, workers=1, quiet=True, validation_split=0.3,
                 subset="both")
    return out


@pytest.fixture
def copy(built, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(built, out)
    return out


def manifest(out) -> dict:
    return json.loads((out / "manifest.json").read_text())


def reseal(out, m: dict) -> None:
    """Rewrite the manifest with fresh shard hashes and self-hash (so only content is wrong)."""
    for shard in m["shards"]:
        path = out / shard["file"]
        if path.is_file():
            shard["bytes"], shard["sha256"] = path.stat().st_size, sha256_file(str(path))
    m["manifest_sha256"] = manifest_digest(m)
    (out / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True))


def verify_cli(out) -> tuple[int, list[dict]]:
    res = CliRunner().invoke(cli, ["verify", str(out), "--json"])
    report = json.loads(res.stdout)
    assert report["ok"] == (res.exit_code == 0)
    return res.exit_code, report["problems"]


def test_a_sound_dataset_verifies(built):
    assert verify(str(built)) == []
    res = CliRunner().invoke(cli, ["verify", str(built)])
    assert res.exit_code == 0 and "OK" in res.stdout


def test_flipped_byte_truncated_and_missing_shards_and_edited_manifest(copy):
    m = manifest(copy)
    names = [s["file"] for s in m["shards"]]
    data = bytearray((copy / names[0]).read_bytes())
    data[len(data) // 3] ^= 0x01
    (copy / names[0]).write_bytes(bytes(data))
    with open(copy / names[1], "r+b") as f:
        f.truncate(1000)
    os.unlink(copy / names[2])
    m["source"]["num_images"] += 1  # an edit that no shard hash can see
    (copy / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True))
    code, problems = verify_cli(copy)
    assert code == 1
    found = {(p["file"], p["reason"].split()[0]) for p in problems}
    assert (names[0], "sha256") in found
    assert (names[1], "1000") in found  # "1000 bytes, manifest says …"
    assert (names[2], "missing") in found
    assert ("manifest.json", "edited") in found
    assert len(problems) == 4


def test_a_manifest_without_its_self_hash_is_named_as_such(copy):
    m = manifest(copy)
    del m["manifest_sha256"]
    (copy / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True))
    code, problems = verify_cli(copy)
    assert code == 1
    assert [p["file"] for p in problems] == ["manifest.json"]
    assert problems[0]["reason"].startswith("has no manifest_sha256")


def test_a_label_that_contradicts_the_classes_is_reported(copy):
    m = manifest(copy)
    first = m["shards"][0]
    with h5py.File(copy / first["file"], "r+") as f:
        f["labels"][0] = 1 - f["labels"][0]
    reseal(copy, m)  # hashes match again: only the content check can see it
    code, problems = verify_cli(copy)
    assert code == 1
    assert problems == [{"file": first["file"],
                         "reason": "labels disagree with the classes of the tuple elements"}]


def test_duplicates_and_shared_sources_are_reported(copy):
    m = manifest(copy)
    train = [s for s in m["shards"] if s["split"] == "train"]
    val = next(s for s in m["shards"] if s["split"] == "validation")
    with h5py.File(copy / train[0]["file"], "r") as f:
        rows = {n: f[n][:2] for n in ("sources", "classes", "labels")}
    with h5py.File(copy / train[1]["file"], "r+") as f:  # copy two tuples: duplicates
        for n, v in rows.items():
            f[n][:2] = v
    with h5py.File(copy / val["file"], "r+") as f:  # a train tuple, whole, in validation
        for n, v in rows.items():
            f[n][:1] = v[:1]
    reseal(copy, m)
    code, problems = verify_cli(copy)
    reasons = [p["reason"] for p in problems]
    assert code == 1
    assert "split 'train' holds 2 duplicate tuple(s)" in reasons
    assert sum("is in splits 'train' and 'validation'" in r for r in reasons) == 3


def test_shapes_and_dtypes_are_checked(copy):
    m = manifest(copy)
    name = m["shards"][0]["file"]
    with h5py.File(copy / name, "r+") as f:
        labels = f["labels"][:]
        del f["labels"]
        f.create_dataset("labels", data=labels.astype(np.int64))
    reseal(copy, m)
    code, problems = verify_cli(copy)
    assert code == 1
    assert problems == [{"file": name,
                         "reason": "dataset 'labels' has dtype int64, manifest says uint8"}]


@pytest.mark.parametrize("bad", ["../outside.h5", "/etc/passwd", "sub/train.h5", ".."])
def test_loader_and_verify_refuse_entries_outside_the_dataset(copy, bad):
    m = manifest(copy)
    m["shards"][0]["file"] = bad
    reseal(copy, m)
    with pytest.raises(SimgenError, match="points outside"):
        simgen.load(str(copy))
    code, problems = verify_cli(copy)
    assert code == 1 and any("points outside" in p["reason"] for p in problems)


def test_newer_format_version_is_a_clear_error(copy):
    m = manifest(copy)
    m["format_version"] = 99
    reseal(copy, m)
    with pytest.raises(SimgenError, match="format version 99.*upgrade simgen"):
        simgen.load(str(copy))
    code, problems = verify_cli(copy)
    assert code == 1 and "upgrade simgen" in problems[0]["reason"]


class _Boom:
    def __reduce__(self):
        return (os.mkdir, (os.environ["SIMGEN_PICKLE_MARKER"],))


def test_nothing_is_ever_unpickled(copy, tmp_path, monkeypatch):
    marker = tmp_path / "unpickled"
    monkeypatch.setenv("SIMGEN_PICKLE_MARKER", str(marker))
    payload = pickle.dumps(_Boom())
    m = manifest(copy)
    name = m["shards"][0]["file"]
    with h5py.File(copy / name, "r+") as f:
        n = f["labels"].shape[0]
        del f["labels"]
        f.create_dataset("labels", data=np.array([np.void(payload)] * n))
        f.attrs["pickled"] = np.void(payload)
    reseal(copy, m)
    ds = simgen.load(str(copy))["train"]
    try:
        ds.read(0, 1)
    except Exception:  # noqa: BLE001 - any refusal is fine; executing the payload is not
        pass
    code, problems = verify_cli(copy)
    assert code == 1 and "dtype" in problems[0]["reason"]
    assert not marker.exists()


def test_indexed_layout_is_verified_too(built, tmp_path):
    src = built.parent / "src"
    out = tmp_path / "indexed"
    simgen.build(str(src), str(out), learning_size=3, num_tuples=60, image_size=8,
                 shard_size="8KiB", seed=2, workers=1, quiet=True, layout="indexed")
    assert manifest(out)["schema"]["layout"] == "indexed"
    assert verify(str(out)) == []
    m = manifest(out)
    name = m["shards"][0]["file"]
    with h5py.File(out / name, "r+") as f:
        tuples = f["tuples"][:]
        tuples[0, 0] = len(f["pool"])  # one past the end of the pool
        f["tuples"][:] = tuples
    reseal(out, m)
    assert [p.as_dict() for p in verify(str(out))] == [
        {"file": name, "reason": "tuple indices outside the image pool"}]
