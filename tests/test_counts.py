"""Closed-form counts equal brute-force enumeration (hypothesis), and the paper's numbers."""
from __future__ import annotations

from itertools import combinations, product

from hypothesis import given, settings, strategies as st

from simgen import counts

sizes_st = st.lists(st.integers(0, 4), min_size=1, max_size=4)


def labels_of(sizes):
    return [c for c, n in enumerate(sizes) for _ in range(n)]


def test_paper_table5_numbers():
    sizes = [10] * 5
    assert counts.permutation_pairs(sizes) == {"positives": 500, "negatives": 2000}
    assert counts.combination_pairs(sizes) == {"positives": 225, "negatives": 1000}
    assert counts.anchor_tuples(sizes, 1, 1) == 18_000
    per = counts.summary(sizes, 2)["permutation_pairs"]["per_anchor"]
    assert per == [{"positives": 10, "negatives": 40}] * 5


@settings(max_examples=60, deadline=None)
@given(sizes_st)
def test_pair_counts_brute_force(sizes):
    y = labels_of(sizes)
    ordered = list(product(range(len(y)), repeat=2))
    assert counts.permutation_pairs(sizes) == {
        "positives": sum(y[a] == y[b] for a, b in ordered),
        "negatives": sum(y[a] != y[b] for a, b in ordered),
    }
    pairs = list(combinations(range(len(y)), 2))
    assert counts.combination_pairs(sizes) == {
        "positives": sum(y[a] == y[b] for a, b in pairs),
        "negatives": sum(y[a] != y[b] for a, b in pairs),
    }


def brute_anchor_tuples(y, p, q, distinct):
    total = 0
    for a in range(len(y)):
        same = [i for i in range(len(y)) if i != a and y[i] == y[a]]
        other = [i for i in range(len(y)) if y[i] != y[a]]
        for _ in combinations(same, p):
            for neg in combinations(other, q):
                if distinct and len({y[i] for i in neg}) < q:
                    continue
                total += 1
    return total


@settings(max_examples=60, deadline=None)
@given(sizes_st, st.integers(2, 5), st.data(), st.booleans())
def test_anchor_tuple_counts_brute_force(sizes, k, data, distinct):
    p = data.draw(st.integers(0, k - 1))
    q = k - 1 - p
    y = labels_of(sizes)
    assert counts.anchor_tuples(sizes, p, q, distinct) == brute_anchor_tuples(y, p, q, distinct)


@settings(max_examples=40, deadline=None)
@given(sizes_st, st.integers(2, 4))
def test_space_sizes_brute_force(sizes, k):
    y = labels_of(sizes)
    n = len(y)
    assert counts.permutation_space(sizes, k) == len(list(product(range(n), repeat=k)))
    if k == 2:
        assert counts.combination_space(sizes, 2) == len(list(combinations(range(n), 2)))
    # random: ordered slots, each slot positive or negative, distinct elements, sets per role
    expected = sum(
        brute_anchor_tuples(y, sum(pattern), k - 1 - sum(pattern), False)
        for pattern in product((0, 1), repeat=k - 1)
    )
    assert counts.random_space(sizes, k) == expected


def test_counts_are_exact_beyond_2_64():
    sizes = [1000] * 1000
    space = counts.combination_space(sizes, 5, positives=2)
    assert space > 2**64 and isinstance(space, int)
    assert counts.permutation_space(sizes, 5) == 10**30
