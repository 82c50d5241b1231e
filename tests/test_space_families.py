"""Every space (groups, distinct negative classes, self-pairs, any k and P) is a bijection
onto exactly the tuples its definition allows, and its size is the brute-force count."""
from __future__ import annotations

from itertools import combinations, product

import numpy as np
from hypothesis import given, settings, strategies as st

from simgen import counts
from simgen.strategies import StrategyOptions, get_strategy
from simgen.strategies.spaces import ClassLayout


@st.composite
def labelled(draw):
    """Random class ids (1..4 classes, ≤ 9 images) and, maybe, group ids per image."""
    n = draw(st.integers(1, 9))
    classes = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    groups = draw(st.one_of(st.none(), st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    return classes, groups


def brute_anchor(cls, grp, pattern, distinct, allow_self):
    """All (anchor, slots…) tuples by definition, positions = layout positions."""
    n, p = len(cls), sum(pattern)
    out = set()
    for a in range(n):
        same = [i for i in range(n) if cls[i] == cls[a] and (
            (i == a and allow_self) or (i != a and (grp is None or grp[i] != grp[a])))]
        other = [i for i in range(n) if cls[i] != cls[a]]
        for pos in combinations(same, p):
            for neg in combinations(other, len(pattern) - p):
                if distinct and len({cls[i] for i in neg}) < len(neg):
                    continue
                it_p, it_n = iter(pos), iter(neg)
                out.add((a,) + tuple(next(it_p) if s else next(it_n) for s in pattern))
    return out


def brute_pairs(cls, grp, allow_self):
    n = len(cls)
    out = {(a, b) for a, b in combinations(range(n), 2)
           if grp is None or cls[a] != cls[b] or grp[a] != grp[b]}
    return out | ({(a, a) for a in range(n)} if allow_self else set())


def layout_and_labels(classes, groups):
    ids = np.array(classes)
    gid = None if groups is None else np.array(groups)
    lay = ClassLayout.from_class_ids(ids, 4, gid)
    cls = ids[lay.order].tolist()
    grp = None if gid is None else gid[lay.order].tolist()
    return lay, cls, grp


def enumerate_space(space):
    tuples = [tuple(t) for t in space.unrank(np.arange(space.size, dtype=np.int64)).tolist()]
    assert len(tuples) == len(set(tuples)) == space.size  # injective
    return set(tuples)


@settings(max_examples=120, deadline=None)
@given(labelled(), st.integers(2, 5), st.data(), st.booleans(), st.booleans())
def test_combination_space_equals_brute_force(lab, k, data, distinct, allow_self):
    lay, cls, grp = layout_and_labels(*lab)
    p = data.draw(st.integers(0, k - 1))
    opts = StrategyOptions(positives=p, distinct_negative_classes=distinct, allow_self=allow_self)
    space = get_strategy("combination").space(lay, k, opts)
    if k == 2:
        expected = brute_pairs(cls, grp, allow_self)
    else:
        expected = brute_anchor(cls, grp, (True,) * p + (False,) * (k - 1 - p), distinct,
                                allow_self)
    assert enumerate_space(space) == expected
    assert sum(space.block_sizes()) == space.size


@settings(max_examples=60, deadline=None)
@given(labelled(), st.integers(2, 4), st.booleans(), st.booleans())
def test_random_space_equals_brute_force(lab, k, distinct, allow_self):
    lay, cls, grp = layout_and_labels(*lab)
    opts = StrategyOptions(distinct_negative_classes=distinct, allow_self=allow_self)
    space = get_strategy("random").space(lay, k, opts)
    expected = set().union(*(brute_anchor(cls, grp, pat, distinct, allow_self)
                             for pat in product((True, False), repeat=k - 1)))
    assert enumerate_space(space) == expected
    assert len(space.block_sizes()) == 2 ** (k - 1) * 4  # (pattern, anchor class) blocks


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=7), st.integers(0, 4))
def test_elementary_symmetric_excluding_and_suffixes(sizes, q):
    for a in range(len(sizes)):
        rest = sizes[:a] + sizes[a + 1:]
        assert counts.elementary_symmetric_excluding(sizes, q)[a] == \
            counts.elementary_symmetric(rest, q)
    table = counts.suffix_elementary(sizes, q)
    for j in range(len(sizes) + 1):
        assert table[j] == [counts.elementary_symmetric(sizes[j:], t) for t in range(q + 1)]


def test_distinct_negatives_scale_to_10000_classes_beyond_2_64():
    sizes = np.full(10_000, 100)
    lay = ClassLayout.from_class_ids(np.repeat(np.arange(10_000), sizes), 10_000)
    space = get_strategy("combination").space(
        lay, 5, StrategyOptions(positives=1, distinct_negative_classes=True))
    assert space.size == counts.anchor_tuples(sizes.tolist(), 1, 3, True) > 2**64
    ranks = np.array([0, 1, space.size // 3, space.size - 1] +
                     [space.size * i // 997 + 7 for i in range(997)], dtype=object)
    tuples = space.unrank(ranks)
    classes = lay.class_of(tuples)
    assert (classes[:, 1] == classes[:, 0]).all()  # the positive
    negs = classes[:, 2:]
    assert (negs != classes[:, :1]).all() and (np.diff(negs, axis=1) > 0).all()
    assert len({tuple(t) for t in tuples.tolist()}) == len(ranks)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=6), st.integers(1, 3))
def test_distinct_class_sets_object_path_matches_int64(sizes, q):
    """Tables beyond 2^62 use Python ints: same sets as the int64 path, rank for rank."""
    from simgen.strategies.spaces import DistinctClassSets

    sizes_a = np.array(sizes, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes_a)[:-1]])
    fast = DistinctClassSets(sizes_a, starts, q)
    big = DistinctClassSets(sizes_a, starts, q)
    big.__dict__["table"] = fast.table.astype(object)  # what a > 2^62 table looks like
    wrong = DistinctClassSets(sizes_a, starts, q)  # float guesses all wrong: exact fallback
    wrong.__dict__["table"] = fast.table.astype(object)
    wrong.__dict__["approx"] = np.zeros(fast.table.shape)
    for alpha in range(len(sizes)):
        n = int(fast.count_without(np.array([alpha]))[0])
        assert n == counts.elementary_symmetric_excluding(sizes, q)[alpha]
        if n == 0:
            continue
        ranks = np.arange(n)
        alphas = np.full(n, alpha)
        a = fast.unrank(ranks, alphas)
        b = big.unrank(ranks.astype(object), alphas)
        assert np.array_equal(a, b)
        assert np.array_equal(a, wrong.unrank(ranks.astype(object), alphas))
        classes = np.searchsorted(starts + sizes_a, a, side="right")
        assert (classes != alpha).all() and (np.diff(classes, axis=1) > 0).all()
        assert len({tuple(t) for t in a.tolist()}) == n
