"""Uniform draws without replacement at any scale: chi-square on small spaces, no duplicates
in 10^6 draws from 10^12, shards computed alone equal the whole, spaces beyond 2^64 built."""
from __future__ import annotations

import h5py
import numpy as np

import simgen
from simgen.materialize import build_shard
from simgen.manifest import read_manifest
from simgen.strategies import StrategyOptions, get_strategy
from simgen.strategies.spaces import ClassLayout

# scipy.stats.chi2.ppf(0.999, df), precomputed (scipy is not a dependency)
CHI2_999 = {27: 55.47602020574521, 54: 91.8718468816601}


def layout_of(sizes):
    return ClassLayout.from_class_ids(np.repeat(np.arange(len(sizes)), sizes), len(sizes))


def chi2(observed, expected):
    observed = np.asarray(observed, dtype=np.float64)
    return float(((observed - expected) ** 2 / expected).sum())


def test_first_draw_is_uniform_over_seeds():
    """Over 5,500 seeds, the first of 3 pairs drawn from C(11, 2) = 55 hits every pair
    equally often (chi-square, 54 df, p = 0.001)."""
    strategy, lay = get_strategy("combination"), layout_of([6, 5])
    hits = np.zeros(55, dtype=np.int64)
    for seed in range(5500):
        plan = strategy.plan(lay, 2, StrategyOptions(), 3, seed)
        assert plan.space.size == 55
        hits[int(plan.ranks(0, 1)[0])] += 1
    assert chi2(hits, 100.0) < CHI2_999[54]


def test_drawn_subsets_include_every_tuple_equally():
    """Each of C(8, 2) = 28 pairs is in a 7-pair draw with probability 1/4 (chi-square, 27 df)."""
    strategy, lay = get_strategy("combination"), layout_of([4, 4])
    hits = np.zeros(28, dtype=np.int64)
    for seed in range(3000):
        ranks = strategy.plan(lay, 2, StrategyOptions(), 7, seed).ranks(0, 7)
        assert len(set(ranks.tolist())) == 7
        hits[ranks] += 1
    assert chi2(hits, 3000 * 7 / 28) < CHI2_999[27]


def test_a_million_draws_from_a_trillion_space_are_distinct():
    lay = layout_of([1_500] * 1_000)  # C(1.5 M, 2) ≈ 1.1 · 10^12 unordered pairs
    plan = get_strategy("combination").plan(lay, 2, StrategyOptions(), 1_000_000, seed=5)
    assert plan.space.size > 10**12
    ranks = plan.ranks(0, 1_000_000)
    assert len(np.unique(ranks)) == 1_000_000
    pairs = plan.positions(0, 1_000_000)
    assert (pairs[:, 0] < pairs[:, 1]).all() and pairs.max() < lay.total
    assert np.array_equal(plan.positions(123_456, 123_556), pairs[123_456:123_556])


def test_plans_for_every_option_are_shard_independent():
    lay = ClassLayout.from_class_ids(np.repeat(np.arange(5), [7, 5, 9, 3, 6]), 5,
                                     np.arange(30) // 2)
    cases = [("combination", 4, StrategyOptions(positives=2, distinct_negative_classes=True)),
             ("random", 3, StrategyOptions(tuples_per_class=40)),
             ("combination", 3, StrategyOptions(tuples_per_class=25)),
             ("combination", 2, StrategyOptions())]
    for name, k, opts in cases:
        plan = get_strategy(name).plan(lay, k, opts, None if opts.tuples_per_class else 200, 9)
        whole = plan.positions(0, plan.num_tuples)
        parts = np.concatenate([plan.positions(a, min(plan.num_tuples, a + 33))
                                for a in range(0, plan.num_tuples, 33)])
        assert np.array_equal(whole, parts)
        assert len({tuple(t) for t in whole.tolist()}) == plan.num_tuples


def test_build_beyond_2_64_and_shards_built_alone_equal_the_whole(tree, tmp_path):
    src = tree({f"c{i}": 10 for i in range(6)})
    out = tmp_path / "big"
    manifest = simgen.build(str(src), str(out), learning_size=11, strategy="permutation",
                            num_tuples=40, image_size=4, seed=3, workers=1, quiet=True,
                            shard_size="2KiB")
    split = manifest["splits"]["train"]
    assert split["space"] == 60**11 > 2**64 and split["tuples"] == 40
    assert len(manifest["shards"]) > 2
    sources = np.concatenate([h5py.File(out / s["file"])["sources"][:]
                              for s in manifest["shards"]])
    assert len({tuple(t) for t in sources.tolist()}) == 40
    # any one shard, planned and written alone elsewhere, is byte-identical
    job = simgen.plan_job(str(src), learning_size=11, strategy="permutation", num_tuples=40,
                          image_size=4, seed=3, shard_size="2KiB")
    spec = job.splits["train"].shards[1]
    alone = tmp_path / "alone"
    alone.mkdir()
    entry = build_shard(job, spec, str(alone))
    assert entry["sha256"] == manifest["shards"][1]["sha256"]
    assert read_manifest(str(out))["splits"]["train"]["tuples"] == 40
