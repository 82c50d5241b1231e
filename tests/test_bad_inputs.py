"""Issue 7, bad inputs: the validation pass, odd but valid images, layout oddities.

Real files made with Pillow (and a FIFO, dangling links, a float TIFF under a .png name),
real builds, assertions on the manifest and the shard bytes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

import simgen
from simgen.cli import cli
from simgen.errors import SimgenError
from simgen.validate import SUPPORTED_MODES
from simgen.verify import verify
from conftest import write_image


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def build_args(src: Path, out: Path, *extra: str) -> list[str]:
    return ["build", str(src), "--image-size", "8", "--seed", "1", "-j", "1", "-q",
            "--out", str(out), *extra]


def all_sources(out: Path) -> dict[str, np.ndarray]:
    """{split: every shard's `sources` rows} of a built dataset."""
    m = json.loads((out / "manifest.json").read_text())
    rows: dict[str, list] = {}
    for shard in m["shards"]:
        with h5py.File(out / shard["file"], "r") as f:
            rows.setdefault(shard["split"], []).append(f["sources"][:])
    return {k: np.concatenate(v) for k, v in rows.items()}


def make_bad_files(root: Path) -> dict[str, str]:
    """Every kind of bad file in class 'a'; returns {relative path: reason keyword}."""
    a = root / "a"
    write_image(a / "whole.jpg", 99, size=(40, 30))
    data = (a / "whole.jpg").read_bytes()
    (a / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (a / "whole.jpg").unlink()
    write_image(a / "crc.png", 98)
    png = bytearray((a / "crc.png").read_bytes())
    png[len(png) // 2] ^= 0xFF  # inside IDAT: its CRC no longer matches
    (a / "crc.png").write_bytes(bytes(png))
    (a / "empty.png").write_bytes(b"")
    (a / "notes.png").write_text("this is not an image\n")
    os.symlink("gone.png", a / "dangling.png")
    os.mkfifo(a / "pipe.jpg")  # opening it would block forever
    Image.fromarray(np.zeros((4, 4), np.float32), "F").save(a / "float.png", format="TIFF")
    return {"a/truncated.jpg": "truncated", "a/crc.png": "corrupt", "a/empty.png": "empty",
            "a/notes.png": "not an image", "a/dangling.png": "broken symbolic link",
            "a/pipe.jpg": "not a regular file", "a/float.png": "unsupported mode 'F'"}


def test_validation_lists_every_bad_file_and_writes_nothing(tree, tmp_path):
    src = tree({"a": 3, "b": 3})
    bad = make_bad_files(src)
    out = tmp_path / "out"
    res = run(*build_args(src, out))
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    for rel, why in bad.items():  # every one, each with its reason, in one report
        line = next(l for l in res.output.splitlines() if l.strip().startswith(rel + ":"))
        assert why in line
    assert not out.exists()


def test_bad_files_found_while_decoding_leave_an_old_dataset_whole(tree, tmp_path):
    """build vets files as it decodes them; --overwrite must not have removed anything yet."""
    src = tree({"a": 4, "b": 4})
    out = tmp_path / "out"
    assert run(*build_args(src, out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (src / "b" / "img001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    for workers in ("1", "2"):
        res = run(*build_args(src, out, "--overwrite", "-j", workers))
        assert res.exit_code == 2 and "1 bad image file" in res.output, res.output
        assert "b/img001.png: " in res.output and "Traceback" not in res.output
        after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        assert after == before  # manifest and shards untouched, no temp or cache left


def test_a_file_that_fails_after_skip_screening_stops_the_build_by_name(tree, tmp_path):
    from simgen.builder import build_job

    src = tree({"a": 3, "b": 3})
    (src / "a" / "empty.png").write_bytes(b"")
    job = simgen.plan_job(str(src), out=str(tmp_path / "out"), image_size=8, seed=1,
                          workers=1, quiet=True, on_error="skip")
    assert job.screened and [b.path for b in job.skipped] == ["a/empty.png"]
    (src / "b" / "img001.png").write_bytes(b"broken after screening")
    with pytest.raises(SimgenError, match="passed the screening but did not decode") as err:
        build_job(job)
    assert "b/img001.png: not an image" in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_bad_files_no_tuple_uses_are_still_reported(tree, tmp_path, workers):
    """Files outside the built subset are never decoded, yet --on-error fail names them too."""
    src = tree({"a": 8, "b": 8})
    (src / "a" / "zz-empty.png").write_bytes(b"")
    (src / "b" / "zz-junk.png").write_text("not an image")
    out = tmp_path / "out"
    res = run(*build_args(src, out, "-j", workers, "-k", "2", "-n", "2",
                          "--validation-split", "0.5", "--subset", "training"))
    assert res.exit_code == 2, res.output
    assert "a/zz-empty.png: empty file" in res.output
    assert "b/zz-junk.png: not an image" in res.output
    assert not out.exists()
    nested = tmp_path / "new" / "deeper" / "out"  # every folder the build made goes again
    res = run(*build_args(src, nested, "-j", workers, "-k", "2", "-n", "2"))
    assert res.exit_code == 2 and not (tmp_path / "new").exists()


def make_bad_pngs(folder: Path) -> set[str]:
    """PNGs whose pixels decode but whose chunks are broken; returns their names."""
    write_image(folder / "idat-crc.png", 95)  # only the IDAT chunk's CRC bytes are wrong
    png = bytearray((folder / "idat-crc.png").read_bytes())
    at = png.find(b"IDAT")
    png[at + 4 + int.from_bytes(png[at - 4 : at], "big")] ^= 0xFF
    (folder / "idat-crc.png").write_bytes(bytes(png))
    write_image(folder / "text-crc.png", 96)  # a tEXt chunk with a wrong CRC after IDAT
    png = (folder / "text-crc.png").read_bytes()
    iend = png.rfind(b"IEND") - 4
    text = (4).to_bytes(4, "big") + b"tEXt" + b"a\x00bc" + b"\x00\x00\x00\x00"
    (folder / "text-crc.png").write_bytes(png[:iend] + text + png[iend:])
    write_image(folder / "no-iend.png", 97)
    (folder / "no-iend.png").write_bytes((folder / "no-iend.png").read_bytes()[:-12])
    return {"idat-crc.png", "text-crc.png", "no-iend.png"}


def test_decoding_rejects_what_probing_rejects_for_the_same_reason(tree, tmp_path, monkeypatch):
    """fail mode vets files as it decodes them, skip mode probes them first: same verdicts."""
    from simgen import decodecache

    src = tree({"a": 3, "b": 3})
    bad = set(make_bad_files(src)) | {f"a/{n}" for n in make_bad_pngs(src / "a")}
    res = run(*build_args(src, tmp_path / "skip", "--on-error", "skip", "-k", "2"))
    assert res.exit_code == 0, res.output
    probed = {s["path"]: s["reason"]
              for s in json.loads((tmp_path / "skip" / "manifest.json").read_text())["skipped"]}
    assert set(probed) == bad
    monkeypatch.setattr(decodecache, "check_sources", None)  # every file goes through decoding
    res = run(*build_args(src, tmp_path / "fail", "-k", "2"))  # all pairs: every file is used
    assert res.exit_code == 2, res.output
    decoded = dict(line.strip().split(": ", 1) for line in res.output.splitlines()[1:])
    assert decoded == probed


def test_on_error_skip_builds_without_them_and_lists_them(tree, tmp_path):
    src = tree({"a": 3, "b": 3})
    bad = make_bad_files(src)
    out = tmp_path / "out"
    res = run(*build_args(src, out, "--on-error", "skip", "--json"))
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert {s["path"] for s in m["skipped"]} == set(bad)
    assert json.loads(res.stdout)["skipped"] == m["skipped"]
    assert not set(bad) & set(m["sources"]) and len(m["sources"]) == 6
    assert set(np.unique(all_sources(out)["train"]).tolist()) == set(range(6))
    assert verify(str(out)) == []


def test_decompression_bombs_follow_max_pixels(tree, tmp_path):
    src = tree({"a": 2, "b": 2})  # 24x20 = 480 pixels each
    Image.new("1", (9500, 9500)).save(src / "a" / "bomb.png")  # 90.25 M > Pillow's 89.48 M
    write_image(src / "b" / "small.png", 7, size=(10, 10))
    res = run(*build_args(src, tmp_path / "o1"))
    assert res.exit_code == 2 and "a/bomb.png: decompression bomb" in res.output
    res = run(*build_args(src, tmp_path / "o2", "--max-pixels", "400", "--on-error", "skip",
                          "-k", "2"))
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "o2" / "manifest.json").read_text())
    assert m["sources"] == ["b/small.png"]  # 100 pixels; every 480-pixel image is out
    assert all("decompression bomb" in s["reason"] for s in m["skipped"])


def odd_images(root: Path) -> dict[str, np.ndarray]:
    """Valid but unusual files; returns {relative path: expected 8x8 RGB pixels}."""
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    base = Image.fromarray(rgb, "RGB")
    made: dict[str, Image.Image] = {}
    a, b = root / "a", root / "b"
    a.mkdir(parents=True), b.mkdir(parents=True)
    base.convert("CMYK").save(a / "cmyk.jpg", quality=95)
    made["a/cmyk.jpg"] = Image.open(a / "cmyk.jpg").convert("RGB")
    deep = (rng.integers(0, 65536, (12, 16))).astype(np.uint16)
    Image.fromarray(deep).save(a / "deep16.png")
    assert Image.open(a / "deep16.png").mode.startswith("I")
    made["a/deep16.png"] = Image.fromarray((deep >> 8).astype(np.uint8), "L").convert("RGB")
    pal = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    pal.save(a / "palette.PNG")  # upper-case extension too
    made["a/palette.PNG"] = pal.convert("RGB")
    one = base.convert("1")
    one.save(b / "onebit.png")
    made["b/onebit.png"] = one.convert("RGB")
    rgba = base.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(b / "café ü.png")  # non-ASCII
    made["b/café ü.png"] = rgba.convert("RGB")
    frames = [base.convert("P"), Image.fromarray(255 - rgb, "RGB").convert("P")]
    frames[0].save(b / "anim with spaces.GIF", save_all=True, append_images=frames[1:])
    made["b/anim with spaces.GIF"] = frames[0].convert("RGB")
    raw = os.fsencode(str(b)) + b"/raw-\xff\xfe.png"  # not valid UTF-8
    base.save(raw.decode("utf-8", "surrogateescape"), format="PNG")
    made[os.fsdecode(b"b/raw-\xff\xfe.png")] = base
    return {rel: np.asarray(img.resize((8, 8), Image.Resampling.BILINEAR))
            for rel, img in made.items()}


def test_odd_but_valid_inputs_build_end_to_end(tmp_path):
    src = tmp_path / "odd"
    expected = odd_images(src)
    out = tmp_path / "out"
    res = run(*build_args(src, out, "-k", "2", "--strategy", "permutation"))
    assert res.exit_code == 0, res.output
    raw = (out / "manifest.json").read_bytes()
    m = json.loads(raw.decode("utf-8"))  # strict UTF-8, valid JSON
    assert m["skipped"] == [] and sorted(m["sources"]) == sorted(expected)
    assert b"raw-\\udcff\\udcfe.png" in raw  # the documented escape of undecodable bytes
    assert os.fsencode(next(s for s in m["sources"] if "raw-" in s)) == b"b/raw-\xff\xfe.png"
    with h5py.File(out / m["shards"][0]["file"], "r") as f:
        images, sources = f["images"][:], f["sources"][:]
    for sid, rel in enumerate(m["sources"]):
        row, col = np.argwhere(sources == sid)[0]
        assert np.array_equal(images[row, col], expected[rel]), rel
    assert verify(str(out)) == []


def test_exif_transpose_applies_the_orientation(tmp_path):
    src = tmp_path / "exif"
    rng = np.random.default_rng(2)
    img = Image.fromarray(rng.integers(0, 256, (12, 24, 3), dtype=np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    for cls in ("a", "b"):
        (src / cls).mkdir(parents=True)
        img.save(src / cls / "photo.jpg", exif=exif, quality=95)
    with Image.open(src / "a" / "photo.jpg") as f:
        decoded = f.convert("RGB")
        upright = ImageOps.exif_transpose(f).convert("RGB")
    size = (12, 6)  # W, H of the output for --image-size 6,12
    outputs = {}
    for flag in ([], ["--exif-transpose"]):
        out = tmp_path / f"out{len(flag)}"
        res = run("build", str(src), "--image-size", "6,12", "-k", "2", "--seed", "1", "-j", "1",
                  "-q", "--out", str(out), *flag)
        assert res.exit_code == 0, res.output
        with h5py.File(out / "train-00000-of-00001.h5", "r") as f:
            outputs[bool(flag)] = f["images"][0, 0]
    assert np.array_equal(outputs[False], np.asarray(decoded.resize(size, Image.BILINEAR)))
    assert np.array_equal(outputs[True], np.asarray(upright.resize(size, Image.BILINEAR)))
    assert not np.array_equal(outputs[False], outputs[True])


def test_empty_class_folder_keeps_its_id_and_is_never_used(tree, tmp_path):
    src = tree({"a": 3, "c": 3})
    (src / "b").mkdir()
    out = tmp_path / "out"
    res = run(*[a for a in build_args(src, out, "-k", "2") if a != "-q"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["source"]["class_names"] == ["a", "b", "c"]  # keras keeps the class id
    assert m["source"]["class_counts"] == [3, 0, 3]
    with h5py.File(out / "train-00000-of-00001.h5", "r") as f:
        assert set(np.unique(f["classes"][:]).tolist()) == {0, 2}
    assert "class folder 'b' has no usable image" in res.stderr


def test_one_image_class_is_named_when_the_pattern_needs_positives(tree, tmp_path):
    src = tree({"a": 3, "solo": 1, "c": 3})
    res = run(*build_args(src, tmp_path / "out", "-k", "3"))
    assert res.exit_code == 2 and "'solo'" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(60)
def test_symlink_loops_do_not_hang_or_repeat_files(tree, tmp_path):
    src = tree({"a": 2, "b": 2})
    (src / "a" / "sub").mkdir()
    write_image(src / "a" / "sub" / "deep.png", 50)
    os.symlink("..", src / "a" / "sub" / "up")  # a/sub/up -> a: a loop when followed
    os.symlink(".", src / "b" / "self")
    for flag in ("--follow-links", "--no-follow-links"):
        out = tmp_path / flag
        res = run(*build_args(src, out, "-k", "2", flag))
        assert res.exit_code == 0, res.output
        m = json.loads((out / "manifest.json").read_text())
        assert sorted(m["sources"]) == ["a/img000.png", "a/img001.png", "a/sub/deep.png",
                                        "b/img000.png", "b/img001.png"]


def test_links_outside_the_directory_need_follow_links(tree, tmp_path):
    src = tree({"a": 2, "b": 2})
    elsewhere = tmp_path / "elsewhere"
    write_image(elsewhere / "x.png", 70)
    write_image(elsewhere / "inner" / "y.png", 71)
    os.symlink(elsewhere / "x.png", src / "a" / "outside.png")
    os.symlink(elsewhere / "inner", src / "b" / "linked")
    os.symlink("../b/img000.png", src / "a" / "inside.png")  # stays inside: always used
    res = run(*build_args(src, tmp_path / "plain", "-k", "2"))
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert "a/outside.png" not in m["sources"] and "b/linked/y.png" not in m["sources"]
    assert "a/inside.png" in m["sources"]
    assert [s["path"] for s in m["skipped"]] == ["a/outside.png"]
    res = run(*build_args(src, tmp_path / "follow", "-k", "2", "--follow-links"))
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "follow" / "manifest.json").read_text())
    assert {"a/outside.png", "b/linked/y.png", "a/inside.png"} <= set(m["sources"])
    assert m["skipped"] == []


def test_api_raises_one_error_listing_all_bad_files(tree, tmp_path):
    src = tree({"a": 3, "b": 3})
    (src / "b" / "zero.jpg").write_bytes(b"")
    (src / "a" / "junk.gif").write_bytes(b"GIF89a garbage")
    with pytest.raises(SimgenError) as err:
        simgen.build(str(src), str(tmp_path / "o"), image_size=8, seed=1, workers=1, quiet=True)
    assert "2 bad image files" in str(err.value)
    assert "a/junk.gif" in str(err.value) and "b/zero.jpg" in str(err.value)


@pytest.mark.parametrize("mode", sorted(SUPPORTED_MODES))
def test_every_mode_the_validation_accepts_converts(mode):
    from simgen.imaging import COLOR_MODES, to_mode

    img = Image.new(mode, (3, 2))
    for color_mode, (pil_mode, _) in COLOR_MODES.items():
        assert to_mode(img, color_mode).mode == pil_mode
