"""Class-disjoint and group-aware splits, group-free positives, per-class balance with
honest shortfalls, and `build --dry-run` — on real image trees."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import simgen
from simgen.cli import cli
from simgen.errors import SimgenError


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def built_sources(out, manifest, split="train"):
    return np.concatenate([h5py.File(out / s["file"])["sources"][:]
                           for s in manifest["shards"] if s["split"] == split])


def test_split_classes_is_class_disjoint_in_sorted_order(tree, tmp_path):
    src = tree({"a": 3, "b": 4, "c": 2, "d": 5})
    m = simgen.build(str(src), str(tmp_path / "o"), learning_size=3, split_classes=0.5,
                     num_tuples=30, image_size=8, seed=1, workers=1, quiet=True)
    assert m["splits"]["train"]["class_names"] == ["a", "b"]
    assert m["splits"]["test"]["class_names"] == ["c", "d"]
    assert m["splits"]["train"]["images"] == 7 and m["splits"]["test"]["images"] == 7
    for split, allowed in (("train", {"a", "b"}), ("test", {"c", "d"})):
        src_ids = built_sources(tmp_path / "o", m, split)
        assert {m["sources"][i].split("/")[0] for i in src_ids.ravel()} <= allowed


def test_class_split_file_and_its_errors(tree, tmp_path):
    src = tree({"a": 3, "b": 3, "c": 3})
    good = tmp_path / "split.json"
    good.write_text(json.dumps({"train": ["c", "a"], "test": ["b"]}))
    s = simgen.stats(str(src), class_split_file=str(good), learning_size=2, seed=1)
    assert s["splits"]["train"]["class_counts"] == [3, 0, 3]
    assert s["splits"]["test"]["class_counts"] == [0, 3, 0]
    for bad, msg in [({"train": ["a", "b"]}, "'c' is in no split"),
                     ({"train": ["a", "b"], "test": ["b", "c"]}, "in both"),
                     ({"train": ["a"], "dev": ["b", "c"]}, "unknown split 'dev'"),
                     ({"train": ["a", "zz"], "test": ["b", "c"]}, "no class folder 'zz'")]:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        res = run("stats", src, "--class-split-file", path)
        assert res.exit_code == 2 and msg in res.output and str(path) in res.output
        assert len(res.output.strip().splitlines()) == 1
    res = run("stats", src, "--split-classes", 0.5, "--validation-split", 0.2, "--subset",
              "both", "--seed", 1)
    assert res.exit_code == 2 and "exclude each other" in res.output


def group_tree(tree):
    """Class folders with bursts: names burstN_i, a burst of 3 or 2 images."""
    src = tree({"x": 1}, name="g")
    (src / "x").rename(src / "tmp")
    from tests.conftest import write_image
    seed = 0
    for cls, bursts in {"cat": [3, 3, 2], "dog": [2, 3, 3], "owl": [3, 2]}.items():
        for b, n in enumerate(bursts):
            for i in range(n):
                write_image(src / cls / f"burst{b}_{i}.png", seed)
                seed += 1
    for f in (src / "tmp").iterdir():
        f.unlink()
    (src / "tmp").rmdir()
    return src


def test_groups_never_straddle_a_keras_split_nor_form_positives(tree, tmp_path):
    src = group_tree(tree)
    pattern = r"^([^/]+/burst\d+)_"
    m = simgen.build(str(src), str(tmp_path / "o"), learning_size=2, num_tuples=40,
                     group_pattern=pattern, validation_split=0.3, subset="both", seed=1,
                     image_size=8, workers=1, quiet=True)
    group_of = lambda i: m["sources"][i].rsplit("_", 1)[0]  # noqa: E731
    side = {}
    for split in ("train", "validation"):
        ids = built_sources(tmp_path / "o", m, split)
        for g in {group_of(i) for i in ids.ravel()}:
            assert side.setdefault(g, split) == split  # a group lives in one split only
        assert all(group_of(a) != group_of(b) for a, b in ids.tolist())  # no same-group pair
        assert len({tuple(t) for t in ids.tolist()}) == len(ids)
    total = sum(m["splits"][s]["images"] for s in ("train", "validation"))
    assert total == 21
    assert m["counts"]["spaces"]["combination"] == 21 * 20 // 2 - 18  # same-group pairs out


def test_group_counts_are_exact_and_allow_same_group_restores_them(tree):
    src = group_tree(tree)
    pattern = r"^([^/]+/burst\d+)_"
    grouped = simgen.stats(str(src), learning_size=2, group_pattern=pattern, seed=1)
    free = simgen.stats(str(src), learning_size=2, group_pattern=pattern, seed=1,
                        allow_same_group_positives=True)
    same_group_pairs = 3 + 3 + 1 + 1 + 3 + 3 + 3 + 1  # Σ C(burst size, 2)
    assert free["splits"]["train"]["counts"]["spaces"]["combination"] == 21 * 20 // 2
    assert grouped["splits"]["train"]["counts"]["spaces"]["combination"] == \
        21 * 20 // 2 - same_group_pairs
    assert "n/a" in grouped["splits"]["train"]["counts"]["spaces"]["permutation"]


def test_tuples_per_class_caps_big_classes_and_reports_small_ones(tree, tmp_path):
    src = tree({"big": 12, "mid": 5, "tiny": 2})
    out = tmp_path / "o"
    res = run("build", src, "-k", 3, "--tuples-per-class", 40, "--image-size", 8, "--seed", 2,
              "-j", 1, "--out", out)
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    per = {c["class"]: c for c in m["splits"]["train"]["per_class"]}
    assert per["big"]["planned"] == per["mid"]["planned"] == 40
    # tiny: 2 anchors · 1 positive · 17 negatives = 34 tuples exist, all of them taken
    assert per["tiny"]["space"] == per["tiny"]["planned"] == 34
    assert m["splits"]["train"]["tuples"] == 114
    short = m["splits"]["train"]["shortfalls"]
    assert short == [{"scope": "class 'tiny'", "requested": 40, "produced": 34,
                      "reason": "its anchor space holds only 34 tuples"}]
    assert "shortfall in train: class 'tiny': requested 40, produced 34, because its anchor " \
           "space holds only 34 tuples" in res.output
    classes = np.concatenate([h5py.File(out / s["file"])["classes"][:] for s in m["shards"]])
    assert np.bincount(classes[:, 0]).tolist() == [40, 40, 34]


def test_positive_ratio_shortfall_is_reported_not_hidden(tree):
    src = tree({"a": 2, "b": 2, "c": 9})
    s = simgen.stats(str(src), learning_size=2, strategy="random", tuples_per_class=8,
                     positive_ratio=0.5, seed=1)
    plan = s["splits"]["train"]["plan"]
    per = {c["class"]: c["planned"] for c in plan["per_class"]}
    assert per == {"a": 8, "b": 8, "c": 8}  # a, b: 2 positive pairs each, the rest negatives
    scopes = {e["scope"]: e for e in plan["shortfalls"]}
    assert scopes["tuples with 1 positive(s)"]["requested"] == 12
    assert scopes["tuples with 1 positive(s)"]["produced"] == 8


def test_dry_run_plans_everything_and_writes_nothing(tree, tmp_path):
    src = tree({"a": 4, "b": 3, "c": 3})
    out = tmp_path / "never"
    res = run("build", src, "-k", 3, "--dry-run", "--json", "--split-classes", 0.67,
              "--tuples-per-class", 50, "--seed", 3, "--out", out)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert not out.exists()
    assert set(summary["splits"]) == {"train", "test"}
    train = summary["splits"]["train"]
    assert train["tuples"] == sum(c["planned"] for c in train["per_class"] if c["planned"])
    assert train["shard_files"][0]["file"] == "train-00000-of-00001.h5"
    assert summary["splits"]["test"]["shortfalls"][0]["scope"] == "class 'c'"
    text = run("build", src, "-k", 3, "--dry-run", "--seed", 3, "-n", 10)
    assert text.exit_code == 0 and "dry run: nothing decoded" in text.output
    assert "train: 10 images, 3 classes, 10 of 156 tuples in 1 shard(s)" in text.output


def test_option_conflicts_are_one_line_errors(tree, tmp_path):
    src = tree({"a": 3, "b": 3})
    cases = [(["-n", 5, "--tuples-per-class", 3], "exclude each other"),
             (["--allow-self"], "--augment"),
             (["--augment", "flip,blur"], "unknown augmentation 'blur'"),
             (["--group-pattern", "("], "--group-pattern"),
             (["--split-classes", 1.5], "--split-classes"),
             (["-k", 2, "--tuples-per-class", 3], "--tuples-per-class")]
    for extra, msg in cases:
        res = run("build", src, "--seed", 1, "--out", tmp_path / "o", *extra)
        assert res.exit_code == 2 and msg in res.output, (extra, res.output)
        assert not (tmp_path / "o").exists()


def test_strategy_plan_rejects_both_budgets():
    from simgen.strategies import StrategyOptions, get_strategy
    from simgen.strategies.spaces import ClassLayout
    lay = ClassLayout.from_class_ids(np.array([0, 0, 1, 1]), 2)
    with pytest.raises(SimgenError, match="exclude each other"):
        get_strategy("random").plan(lay, 2, StrategyOptions(tuples_per_class=2), 3, 1)


def test_stats_shows_spaces_bias_per_class_plan_and_predicted_shortfalls(sample_dir, tree):
    res = run("stats", sample_dir, "-k", 3, "--json")
    c = json.loads(res.output)["splits"]["train"]["counts"]
    assert c["spaces"] == {"combination": 18_000, "permutation": 125_000, "random": 76_800}
    assert c["bias"]["combination"] == 1.0 and c["bias"]["permutation"] == 4.0
    src = tree({"big": 9, "small": 2, "other": 4})
    res = run("stats", src, "-k", 4, "--strategy", "random", "--tuples-per-class", 300,
              "--distinct-negative-classes", "--seed", 1)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    header = next(line for line in lines if line.startswith("class"))
    assert header.split()[-3:] == ["random", "space", "planned"]
    assert "  shortfall: class 'small': requested 300, produced 216, because its anchor space " \
        "holds only 216 tuples" in lines  # 3 one-positive patterns · 2 · 1 · (9 · 4)
    assert any("random: n/a" not in line and line.startswith("  random: ") for line in lines)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=40), st.floats(0.05, 0.95),
       st.integers(0, 50))
def test_group_aware_keras_split_is_disjoint_and_whole(groups, fraction, seed):
    from simgen.index import SourceIndex
    from simgen.split import split_index, validation_count

    n = len(groups)
    index = SourceIndex("/x", tuple(f"c/{i}.png" for i in range(n)), np.zeros(n, np.int32),
                        ("c",))
    g = np.array(groups)
    parts = split_index(index, fraction, "both", True, seed, g)
    train, val = (set(parts[s].source_ids.tolist()) for s in ("train", "validation"))
    assert not train & val and train | val == set(range(n))
    assert not {groups[i] for i in train} & {groups[i] for i in val}  # no group straddles
    keras_val = validation_count(n, fraction)
    biggest = max(np.bincount(g))
    assert keras_val - biggest < len(val) <= keras_val


def test_class_split_refuses_a_group_spanning_both_sides(tree, tmp_path):
    src = group_tree(tree)  # burst0 exists in cat, dog and owl
    res = run("stats", src, "--split-classes", 0.5, "--group-pattern", r"(burst\d+)_",
              "--seed", 1)
    assert res.exit_code == 2 and "classes on both sides of the class split" in res.output
    ok = simgen.stats(str(src), split_classes=0.5, group_pattern=r"^([^/]+/burst\d+)_", seed=1)
    assert set(ok["splits"]) == {"train", "test"}
