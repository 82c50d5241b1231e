"""`simgen inspect` and `simgen preview` on a real built dataset (the bundled paper sample)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import simgen
from simgen.cli import cli
from simgen.preview import MARGIN, PAD, CAPTION, _cell_size


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import SAMPLE

    out = tmp_path_factory.mktemp("inspect") / "ds"
    simgen.build(str(SAMPLE), str(out), learning_size=3, num_tuples=60, image_size=16, seed=4,
                 workers=1, quiet=True, validation_split=0.4, subset="both",
                 allow_small_classes=True)
    return out


def test_inspect_json_has_counts_shapes_sizes(built):
    res = run("inspect", built, "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert set(info["splits"]) == {"train", "validation"}
    assert sum(s["tuples"] for s in info["splits"].values()) == info["total"]["tuples"] == 60
    assert info["tuple"]["fields"]["images"] == {"dtype": "uint8", "shape": [3, 16, 16, 3]}
    assert info["tuple"]["bytes_per_tuple"] == 3 * 16 * 16 * 3 + 2 + 4 * 3 * 2
    sizes = {f.name: f.stat().st_size for f in built.glob("*.h5")}
    assert info["total"]["bytes"] == sum(sizes.values())
    values = {f["formula"]: f["value"] for f in info["formulas"]}
    assert values["Σ c_i²"] == 500 and values["Σ c_i·(N − c_i)"] == 2000  # the paper's Table 5
    assert values["Σ C(c_i, 2)"] == 225 and values["Σ_{i<j} c_i·c_j"] == 1000
    assert values["Σ c_i·C(c_i − 1, 1)·C(N − c_i, 1)"] == 18000
    train = {f["formula"]: f["value"] for f in info["splits"]["train"]["formulas"]}
    counts = info["splits"]["train"]["class_counts"]
    assert train["Σ c_i²"] == sum(c * c for c in counts)


def test_inspect_text(built):
    res = run("inspect", built)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "dense layout" in lines[0]
    assert "images uint8 (3, 16, 16, 3)" in res.output
    paper = next(l for l in lines if l.startswith("permutation pairs, negatives"))
    assert "Σ c_i·(N − c_i)" in paper and paper.split()[-3] == "2,000"
    total = next(l for l in lines if l.startswith("total"))
    assert total.split()[1:3] == ["60", "2"]


def test_preview_draws_every_tuple_and_caption(built, tmp_path):
    out = tmp_path / "sheet.png"
    res = run("preview", built, "--split", "train", "-n", 3, "-o", out)
    assert res.exit_code == 0, res.output
    images, labels = simgen.load(built)["train"][:3]
    sheet = np.asarray(Image.open(out).convert("RGB"))
    cw, ch = _cell_size(16, 16)
    assert sheet.shape == (3 * (ch + CAPTION + PAD) + PAD, MARGIN + 3 * (cw + PAD) + PAD, 3)
    for r in range(3):
        top = PAD + r * (ch + CAPTION + PAD)
        for j in range(3):
            left = MARGIN + j * (cw + PAD)
            cell = sheet[top:top + ch, left:left + cw]
            expected = np.asarray(Image.fromarray(images[r, j]).resize((cw, ch),
                                                                       Image.Resampling.NEAREST))
            assert np.array_equal(cell, expected)
            caption = sheet[top + ch:top + ch + 14, left:left + cw].astype(int)
            green = ((caption[..., 1] - caption[..., 0]) > 50).sum()
            red = ((caption[..., 0] - caption[..., 1]) > 80).sum()
            blue = ((caption[..., 2] - caption[..., 0]) > 80).sum()
            if j == 0:
                assert blue > 10  # "anchor"
            elif labels[r, j - 1]:
                assert green > 10 and red == 0  # "1 similar"
            else:
                assert red > 10 and green == 0  # "0 dissimilar"


def test_preview_random_rows_and_bad_input(built, tmp_path):
    out = tmp_path / "val.png"
    assert run("preview", built, "--split", "validation", "-n", 2, "--seed", 1, "-o", out
               ).exit_code == 0
    assert Image.open(out).size[1] == 2 * (_cell_size(16, 16)[1] + CAPTION + PAD) + PAD
    for args, message in [
        (("--split", "test"), "--split 'test' not in"),
        (("-n", 0), "-n must be at least 1"),
        (("-o", tmp_path / "nope" / "x.png"), "does not exist"),
    ]:
        res = run("preview", built, *args)
        assert res.exit_code == 2 and message in res.output
        assert len(res.output.strip().splitlines()) == 1
    res = run("inspect", tmp_path / "missing")
    assert res.exit_code == 2 and "no simgen dataset" in res.output


def test_preview_channels_first_grayscale(tmp_path):
    """Stored (C, H, W) with one channel: cells show the grey pixels the shards hold."""
    from conftest import make_tree

    src = make_tree(tmp_path / "src", {"a": 3, "b": 3})
    out = tmp_path / "cf"
    simgen.build(str(src), str(out), learning_size=2, num_tuples=6, image_size=12, seed=1,
                 workers=1, quiet=True, data_format="channels_first", color_mode="grayscale")
    png = tmp_path / "cf.png"
    assert run("preview", out, "-n", 2, "-o", png).exit_code == 0
    images, _ = simgen.load(out)["train"][:2]
    assert images.shape == (2, 2, 1, 12, 12)
    sheet = np.asarray(Image.open(png).convert("RGB"))
    cw, ch = _cell_size(12, 12)
    cell = sheet[PAD:PAD + ch, MARGIN + cw + PAD:MARGIN + 2 * cw + PAD]
    grey = np.asarray(Image.fromarray(images[0, 1, 0]).resize((cw, ch), Image.Resampling.NEAREST))
    assert np.array_equal(cell, np.repeat(grey[..., None], 3, axis=2))


def test_inspect_indexed_layout_shows_tuple_images(tmp_path):
    from conftest import make_tree

    src = make_tree(tmp_path / "src", {"a": 3, "b": 4})
    out = tmp_path / "idx"
    simgen.build(str(src), str(out), learning_size=3, num_tuples=12, image_size=8, seed=1,
                 workers=1, quiet=True, layout="indexed")
    info = simgen.describe(out)
    assert info["layout"] == "indexed"
    assert info["tuple"]["fields"]["images"] == {"dtype": "uint8", "shape": [3, 8, 8, 3]}
    assert info["tuple"]["bytes_per_tuple"] == 3 * 8 * 8 * 3 + 2 + 2 * 4 * 3
    assert "indexed layout" in run("inspect", out).output


def test_preview_format_follows_suffix_and_says_when_the_split_is_short(built, tmp_path):
    jpg = tmp_path / "sheet.jpg"
    res = run("preview", built, "--split", "validation", "-n", 1000, "-o", jpg)
    assert res.exit_code == 0 and "all the split holds" in res.output
    with Image.open(jpg) as img:
        assert img.format == "JPEG"
    shown = len(simgen.load(str(built))["validation"])
    assert res.output.count(f"({shown} tuples") == 1
