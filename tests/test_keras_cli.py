"""keras's arguments on the CLI: labels files, label modes in the shards, errors, messages."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from simgen.cli import cli
from simgen.manifest import read_manifest


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def shard(out, split="train"):
    manifest = read_manifest(str(out))
    name = next(s["file"] for s in manifest["shards"] if s["split"] == split)
    with h5py.File(out / name, "r") as f:
        return manifest, {k: f[k][:] for k in f}, dict(f.attrs)


def test_labels_file_gives_classes_in_keras_file_order(tree, tmp_path):
    src = tree({"x": 3, "y": 3})
    (src / "top.png").write_bytes((src / "x" / "img000.png").read_bytes())  # walked too
    labels = tmp_path / "labels.txt"
    labels.write_text("5\n5\n7\n7\n5\n7\n\n5\n")  # 7 files: top.png (root first), x/*, y/*
    out = tmp_path / "o"
    res = run("build", src, "--labels-file", labels, "--no-shuffle", "--image-size", 4,
              "--out", out)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == "Found 7 files belonging to 2 classes."
    manifest, data, _ = shard(out)
    assert manifest["source"]["class_names"] == ["5", "7"]
    assert manifest["sources"] == ["top.png"] + [f"x/img00{i}.png" for i in range(3)] + \
        [f"y/img00{i}.png" for i in range(3)]
    wanted = np.array([0, 0, 1, 1, 0, 1, 0])
    assert np.array_equal(data["classes"], wanted[data["sources"]])
    assert manifest["config"]["labels"]["explicit"] == 7


@pytest.mark.parametrize("mode,shape", [("categorical", (3,)), ("binary", (1,))])
def test_label_modes_add_keras_encoded_class_labels(tree, tmp_path, mode, shape):
    sizes = {"a": 3, "b": 4, "c": 3} if mode == "categorical" else {"a": 3, "b": 4}
    out = tmp_path / "o"
    res = run("build", tree(sizes), "-k", 3, "--label-mode", mode, "--image-size", 4,
              "--seed", 2, "-n", 12, "--data-format", "channels_first", "--out", out, "-q")
    assert res.exit_code == 0, res.output
    manifest, data, attrs = shard(out)
    assert data["images"].shape == (12, 3, 3, 4, 4)  # (n, k, C, H, W)
    assert data["class_labels"].shape == (12, 3) + shape
    assert data["class_labels"].dtype == np.float32
    if mode == "categorical":
        assert np.array_equal(data["class_labels"].argmax(-1), data["classes"])
        assert (data["class_labels"].sum(-1) == 1).all()
    else:
        assert np.array_equal(data["class_labels"][..., 0], data["classes"])
    schema = manifest["schema"]
    assert schema["label_mode"] == mode and schema["data_format"] == "channels_first"
    assert attrs["data_format"] == "channels_first" and attrs["label_mode"] == mode
    assert manifest["loader_defaults"] == {"batch_size": 32}


def test_int_label_mode_keeps_only_classes(tree, tmp_path):
    out = tmp_path / "o"
    assert run("build", tree({"a": 3, "b": 3}), "--image-size", 4, "--batch-size", 8,
               "--out", out, "-q").exit_code == 0
    manifest, data, _ = shard(out)
    assert "class_labels" not in data and data["classes"].dtype == np.int32
    assert manifest["schema"]["label_mode"] == "int"
    assert manifest["loader_defaults"] == {"batch_size": 8}


def test_labels_none_prints_found_then_refuses(tree, tmp_path):
    out = tmp_path / "o"
    res = run("build", tree({"a": 3, "b": 2}), "--labels", "none", "--out", out)
    assert res.exit_code == 2
    lines = res.output.splitlines()
    assert lines[0] == "Found 5 files."
    assert lines[1].startswith("Error: labels=None") and len(lines) == 2
    assert not out.exists()


@pytest.mark.parametrize("args,message", [
    (["--color-mode", "RGB"], '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                              "Received: color_mode=RGB"),
    (["--interpolation", "Cubic"], "Received: interpolation=cubic"),
    (["--label-mode", "onehot"], "Received: label_mode=onehot"),
    (["--labels", "folders"], "Received: labels=folders"),
    (["--subset", "train", "--validation-split", "0.2", "--seed", "1"],
     '`subset` must be either "training", "validation" or "both", received: train'),
    (["--data-format", "nchw"], "Received: data_format=nchw"),
    (["--crop-to-aspect-ratio", "--pad-to-aspect-ratio"], "Only one of `pad_to_aspect_ratio`"),
    (["--image-size", "4,5,6"], "Received: image_size=4,5,6"),
    (["--batch-size", "0"], "Received: batch_size=0"),
    (["--seed", "-3"], "Seed must be between 0 and 2**32 - 1"),
    (["--labels-file", "{missing}"], "--labels-file not found"),
    (["--labels-file", "{bad}"], "line 2 is not an integer: 'cat'"),
])
def test_bad_keras_flags_one_line_exit_2(tree, tmp_path, args, message):
    (tmp_path / "bad.txt").write_text("1\ncat\n")
    fill = {"missing": tmp_path / "nope.txt", "bad": tmp_path / "bad.txt"}
    out = tmp_path / "o"
    res = run("build", tree({"a": 3, "b": 3}), *[a.format(**fill) for a in args],
              "--out", out)
    assert res.exit_code == 2, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], res.output
    assert "Traceback" not in res.output and not out.exists()


def test_help_lists_every_keras_argument():
    text = run("build", "--help").output
    for flag in ("--labels", "--labels-file", "--label-mode", "--class-names", "--color-mode",
                 "--batch-size", "--image-size", "--shuffle", "--seed", "--validation-split",
                 "--subset", "--interpolation", "--follow-links", "--crop-to-aspect-ratio",
                 "--pad-to-aspect-ratio", "--data-format", "--antialias", "--no-antialias"):
        assert flag in text, flag


def test_split_that_rounds_to_zero_files_is_an_error_not_a_swap(tree, tmp_path):
    res = run("build", tree({"a": 5, "b": 4}), "--validation-split", 0.1, "--subset", "both",
              "--seed", 1, "--out", tmp_path / "o")
    assert res.exit_code == 2
    assert res.output.splitlines()[:3] == ["Found 9 files belonging to 2 classes.",
                                           "Using 9 files for training.",
                                           "Using 0 files for validation."]
    assert res.output.splitlines()[3].startswith("Error: No validation images found in")
