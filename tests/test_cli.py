"""The CLI: tables and JSON, and bad input → one-line error, exit 2, nothing written."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import REPO

from simgen.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_stats_table_shows_paper_numbers(sample_dir):
    res = run("stats", sample_dir, "--learning-size", 2)
    assert res.exit_code == 0
    assert "500" in res.output and "2,000" in res.output
    row = next(l for l in res.output.splitlines() if l.startswith("Maple"))
    assert row.split()[-2:] == ["10", "40"]


def test_stats_json_is_exact(sample_dir):
    res = run("stats", sample_dir, "-k", 3, "--json")
    data = json.loads(res.output)
    c = data["splits"]["train"]["counts"]
    assert c["permutation_pairs"]["positives"] == 500
    assert c["combination_pairs"]["positives"] == 225
    assert c["combination_pairs"]["negatives"] == 1000
    assert c["anchor_tuples"]["total"] == 18000
    assert c["spaces"]["permutation"] == 50**3


def test_build_prints_keras_messages(sample_dir, tmp_path):
    res = run("build", sample_dir, "-k", 2, "-n", 20, "--image-size", 8, "--seed", 1,
              "--validation-split", 0.2, "--subset", "both", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[:3] == ["Found 50 files belonging to 5 classes.",
                         "Using 40 files for training.", "Using 10 files for validation."]


@pytest.mark.parametrize("args,needle", [
    (["{missing}"], "directory not found"),
    (["{empty}"], "no class folders"),
    (["{data}", "-k", "1"], "--learning-size"),
    (["{data}", "-n", "100000"], "--num-tuples 100,000 is larger than the combination space"),
    (["{data}", "-k", "4", "--positives", "3"], "'c' ha"),
    (["{data}", "--strategy", "nope"], "nope"),
    (["{data}", "--config", "{badconfig}"], "unknown key 'learning_sise'"),
    (["{data}", "--image-size", "0"], "`image_size`"),
    (["{data}", "--validation-split", "0.2"], "If `subset` is set"),
])
def test_bad_input_one_line_exit_2_nothing_written(tree, tmp_path, args, needle):
    data = tree({"a": 4, "b": 3, "c": 2})
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad.toml"
    bad.write_text("learning_sise = 3\n")
    fill = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "data": data,
            "badconfig": bad}
    out = tmp_path / "out"
    res = run("build", *[a.format(**fill) for a in args], "--out", out)
    assert res.exit_code == 2, res.output
    errors = [l for l in res.output.splitlines() if l.startswith("Error")]
    assert len(errors) == 1 and needle in errors[0], res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_existing_dataset_needs_overwrite(tree, tmp_path):
    data = tree({"a": 3, "b": 3})
    out = tmp_path / "o"
    assert run("build", data, "--image-size", 8, "--out", out, "-q").exit_code == 0
    before = (out / "manifest.json").read_bytes()
    res = run("build", data, "--image-size", 8, "--out", out, "-q")
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (out / "manifest.json").read_bytes() == before
    res = run("build", data, "--image-size", 8, "--out", out, "-q", "--overwrite", "--seed", 9)
    assert res.exit_code == 0


def test_whole_space_too_large_is_refused_with_count(tree, tmp_path):
    data = tree({"a": 3, "b": 3})
    res = run("build", data, "--strategy", "permutation", "-k", 10, "--out", tmp_path / "o")
    assert res.exit_code == 2 and "60,466,176 tuples" in res.output


@pytest.mark.parametrize("preset", sorted((REPO / "configs").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_preset_works_on_its_own(sample_dir, preset):
    res = run("build", sample_dir, "--config", preset, "-n", 5, "--seed", 1, "--dry-run",
              "--json")
    assert res.exit_code == 0, res.output
    planned = json.loads(res.output)
    assert planned["config"]["image_size"] == [64, 64]  # the preset's, not the default 256


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100])
def test_num_tuples_is_exact_across_splits(sample_dir, n):
    res = run("build", sample_dir, "-n", n, "--seed", 1, "--validation-split", 0.1,
              "--subset", "both", "--dry-run", "--json")
    if n < 2:
        assert res.exit_code == 2 and "too small" in res.output
        return
    planned = json.loads(res.output)
    assert sum(s["tuples"] for s in planned["splits"].values()) == n


@pytest.mark.parametrize("args,needle", [
    (["--out", "{data}/ds"], "inside DIRECTORY"),
    (["--out", "{out}", "--resume", "--overwrite"], "exclude each other"),
    (["--out", "{out}", "-j", "0"], "--workers"),
    (["--out", "{out}", "--positives", "2"], "--positives applies to k ≥ 3"),
])
def test_output_conflicts_are_refused_before_any_work(tree, tmp_path, args, needle):
    data = tree({"a": 3, "b": 3})
    res = run("build", data, *[a.format(data=data, out=tmp_path / "o") for a in args])
    assert res.exit_code == 2 and needle in res.output, res.output
    assert "Found" not in res.output  # refused before indexing
    assert not (tmp_path / "o").exists() and not (data / "ds").exists()


def test_verify_missing_dataset_is_a_usage_error(tmp_path):
    res = run("verify", tmp_path / "nothing")
    assert res.exit_code == 2 and "no dataset at" in res.output


def test_python_api_does_what_the_cli_does(sample_dir, tmp_path):
    import simgen

    planned = simgen.dry_run(str(sample_dir), learning_size=3, num_tuples=10, seed=1)
    assert planned["splits"]["train"]["tuples"] == 10 and not (tmp_path / "o").exists()
    simgen.build(str(sample_dir), str(tmp_path / "o"), learning_size=3, num_tuples=10, seed=1,
                 image_size=8, quiet=True, workers=1)
    assert simgen.verify(str(tmp_path / "o")) == []
    (tmp_path / "o" / "train-00000-of-00001.h5").write_bytes(b"broken")
    assert [p.file for p in simgen.verify(str(tmp_path / "o"))] == ["train-00000-of-00001.h5"]


def test_an_unusable_start_method_is_one_line_before_anything_is_written(tree, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("SIMGEN_START_METHOD", "forkserver")
    out = tmp_path / "out"
    res = run("build", tree({"a": 3, "b": 3}), "--image-size", 8, "--out", out, "-q")
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "Error: SIMGEN_START_METHOD=forkserver is not usable here; use fork or spawn"]
    assert not out.exists()
