"""Every strategy's unrank is a bijection onto exactly the tuples its definition allows."""
from __future__ import annotations

from itertools import combinations, product
from math import comb

import numpy as np
import pytest

from simgen.combinatorics import comb_unrank
from simgen.feistel import FeistelPermutation, round_keys
from simgen.plan import apportion
from simgen.strategies import StrategyOptions, get_strategy
from simgen.strategies.spaces import ClassLayout

LAYOUTS = [[3, 2, 4], [1, 5], [2, 2, 2, 1], [0, 3, 3]]


def layout_of(sizes):
    ids = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    return ClassLayout.from_class_ids(ids, len(sizes))


def all_tuples(space):
    return [tuple(t) for t in space.unrank(np.arange(space.size, dtype=np.int64)).tolist()]


def expected_anchor_tuples(y, pattern):
    out = set()
    p = sum(pattern)
    for a in range(len(y)):
        same = [i for i in range(len(y)) if i != a and y[i] == y[a]]
        other = [i for i in range(len(y)) if y[i] != y[a]]
        for pos in combinations(same, p):
            for neg in combinations(other, len(pattern) - p):
                it_p, it_n = iter(pos), iter(neg)
                out.add((a,) + tuple(next(it_p) if s else next(it_n) for s in pattern))
    return out


@pytest.mark.parametrize("sizes", LAYOUTS)
@pytest.mark.parametrize("k", [2, 3, 4])
def test_permutation_space_is_all_ordered_tuples(sizes, k):
    space = get_strategy("permutation").space(layout_of(sizes), k, StrategyOptions())
    tuples = all_tuples(space)
    assert len(tuples) == len(set(tuples)) == sum(sizes) ** k
    assert set(tuples) == set(product(range(sum(sizes)), repeat=k))


@pytest.mark.parametrize("sizes", LAYOUTS)
@pytest.mark.parametrize("k,positives", [(2, 1), (3, 1), (4, 1), (4, 2), (5, 2), (3, 0)])
def test_combination_space_is_exactly_the_unique_tuples(sizes, k, positives):
    space = get_strategy("combination").space(layout_of(sizes), k, StrategyOptions(positives))
    tuples = all_tuples(space)
    y = np.repeat(np.arange(len(sizes)), sizes).tolist()
    if k == 2:
        expected = set(combinations(range(len(y)), 2))
    else:
        expected = expected_anchor_tuples(y, (True,) * positives + (False,) * (k - 1 - positives))
    assert len(tuples) == len(set(tuples)) == len(expected)
    assert set(tuples) == expected


@pytest.mark.parametrize("sizes", LAYOUTS)
@pytest.mark.parametrize("k", [2, 3, 4])
def test_random_space_is_union_of_slot_patterns(sizes, k):
    space = get_strategy("random").space(layout_of(sizes), k, StrategyOptions())
    tuples = all_tuples(space)
    y = np.repeat(np.arange(len(sizes)), sizes).tolist()
    expected = set().union(*(expected_anchor_tuples(y, pat)
                             for pat in product((True, False), repeat=k - 1)))
    assert len(tuples) == len(set(tuples)) == len(expected)
    assert set(tuples) == expected


@pytest.mark.parametrize("n,q", [(1, 1), (6, 2), (9, 3), (12, 5), (7, 7)])
def test_comb_unrank_colex_both_dtypes(n, q):
    ranks = np.arange(comb(n, q))
    expected = sorted(combinations(range(n), q), key=lambda t: t[::-1])
    assert [tuple(r) for r in comb_unrank(ranks, n, q).tolist()] == expected
    assert [tuple(r) for r in comb_unrank(ranks.astype(object), n, q).tolist()] == expected


@pytest.mark.parametrize("size", [1, 2, 3, 1000, 12345, 2**20 + 7])
def test_feistel_is_a_permutation(size):
    perm = FeistelPermutation(round_keys(3, "test"))
    out = perm(np.arange(size), size)
    assert np.array_equal(np.sort(out), np.arange(size))


def test_feistel_per_stream_and_big_sizes():
    perm = FeistelPermutation(round_keys(3, "test"))
    x = np.concatenate([np.arange(50), np.arange(50)])
    out = perm(x, np.array([50] * 100), np.array([0] * 50 + [1] * 50))
    assert sorted(out[:50].tolist()) == sorted(out[50:].tolist()) == list(range(50))
    assert not np.array_equal(out[:50], out[50:])  # streams are independent permutations
    big = 10**30
    vals = perm(np.arange(1000), big)
    assert len(set(vals.tolist())) == 1000 and all(0 <= v < big for v in vals.tolist())
    assert perm(np.arange(1000), big).tolist() == vals.tolist()  # deterministic


def test_apportion_respects_capacity_and_total():
    counts = apportion(100, np.array([1.0, 1.0, 1.0, 1.0]), np.array([5, 100, 100, 0]))
    assert counts.sum() == 100 and counts[0] == 5 and counts[3] == 0
    assert abs(int(counts[1]) - int(counts[2])) <= 1
    assert apportion(1000, np.ones(2), np.array([3, 4])).tolist() == [3, 4]


@pytest.mark.parametrize("name,k", [("combination", 3), ("permutation", 2), ("random", 3)])
def test_sampled_plan_is_distinct_and_shard_independent(name, k):
    lay = layout_of([6, 5, 7, 4])
    plan = get_strategy(name).plan(lay, k, StrategyOptions(), 300, seed=11)
    whole = plan.positions(0, 300)
    parts = np.concatenate([plan.positions(a, min(300, a + 70)) for a in range(0, 300, 70)])
    assert np.array_equal(whole, parts)
    assert len({tuple(t) for t in whole.tolist()}) == 300
    other = get_strategy(name).plan(lay, k, StrategyOptions(), 300, seed=12).positions(0, 300)
    assert not np.array_equal(whole, other)


def test_random_strategy_hits_the_positive_ratio():
    lay = layout_of([20] * 10)
    for ratio in (0.5, 0.25):
        plan = get_strategy("random").plan(lay, 2, StrategyOptions(positive_ratio=ratio), 2000, 5)
        pos = plan.positions(0, 2000)
        classes = lay.class_of(pos)
        share = (classes[:, 1] == classes[:, 0]).mean()
        assert abs(share - ratio) < 0.01
        anchors = np.bincount(classes[:, 0], minlength=10)
        assert anchors.min() >= 199 and anchors.max() <= 201  # classes drawn uniformly
