"""Closed-form tuple counts (exact Python ints) from class sizes: the paper's formulas and ours.

Notation: class sizes c_i, N = sum(c_i), k = learning size, P positives, Q = k-1-P negatives.
Every function here is checked against brute-force enumeration in the tests.
"""
from __future__ import annotations

from math import comb
from typing import Sequence


def _ints(sizes: Sequence[int]) -> list[int]:
    return [int(c) for c in sizes]


def permutation_pairs(sizes: Sequence[int]) -> dict[str, int]:
    """The paper's Figure 3 counts: ordered pairs with repetition (self-pairs, both orders)."""
    c = _ints(sizes)
    n = sum(c)
    return {"positives": sum(x * x for x in c), "negatives": sum(x * (n - x) for x in c)}


def combination_pairs(sizes: Sequence[int]) -> dict[str, int]:
    """Unordered pairs of distinct images (the paper's "???"): sum C(c,2) and sum_{i<j} c_i c_j."""
    c = _ints(sizes)
    n = sum(c)
    positives = sum(comb(x, 2) for x in c)
    return {"positives": positives, "negatives": comb(n, 2) - positives}


def elementary_symmetric(values: Sequence[int], q: int) -> int:
    """e_q(values): the number of ways to pick q distinct classes and one image from each."""
    e = [1] + [0] * q
    for v in values:
        for j in range(q, 0, -1):
            e[j] += e[j - 1] * v
    return e[q]


def elementary_symmetric_excluding(values: Sequence[int], q: int) -> list[int]:
    """e_q of all values but one, for each one: O(len · q) by e_j(−α) = e_j − v_α·e_{j−1}(−α)."""
    full = [1] + [0] * q
    for v in values:
        for j in range(q, 0, -1):
            full[j] += full[j - 1] * v
    out = []
    for v in values:
        e = 1
        for j in range(1, q + 1):
            e = full[j] - v * e
        out.append(e)
    return out


def suffix_elementary(values: Sequence[int], q: int) -> list[list[int]]:
    """table[j][t] = e_t(values[j:]) for j = 0..len, t = 0..q (the distinct-class unrank table)."""
    table = [[1] + [0] * q]
    for v in reversed(_ints(values)):
        nxt = table[-1]
        table.append([1] + [nxt[t] + v * nxt[t - 1] for t in range(1, q + 1)])
    return table[::-1]


def negative_sets_per_class(
    sizes: Sequence[int], negatives: int, distinct_negative_classes: bool = False
) -> list[int]:
    """Per anchor class a: sets of Q negatives, C(N − c_a, Q) or e_Q(other classes' sizes)."""
    c = _ints(sizes)
    if distinct_negative_classes:
        return elementary_symmetric_excluding(c, negatives)
    n = sum(c)
    return [comb(n - x, negatives) for x in c]


def anchor_unit_sizes(
    sizes: Sequence[int],
    unit_class: Sequence[int],
    unit_anchors: Sequence[int],
    unit_width: Sequence[int],
    positives: int,
    negatives: int,
    distinct_negative_classes: bool = False,
    allow_self: bool = False,
) -> list[int]:
    """Per anchor unit u (a class, or a (class, group)): a_u · C(c − w_u + self, P) · neg(class).

    w_u is what an anchor may not take as a positive: itself (1) or its whole group (s_u);
    with `allow_self` the anchor's own (augmented) image is a positive candidate again.
    """
    c = _ints(sizes)
    neg = negative_sets_per_class(c, negatives, distinct_negative_classes)
    return [
        int(a) * comb(c[cls] - int(w) + int(allow_self), positives) * neg[cls] if a else 0
        for cls, a, w in zip(_ints(unit_class), _ints(unit_anchors), _ints(unit_width))
    ]


def anchor_block_sizes(
    sizes: Sequence[int], positives: int, negatives: int, distinct_negative_classes: bool = False
) -> list[int]:
    """Per anchor class a: c_a * C(c_a - 1, P) * (C(N - c_a, Q) or e_Q(other classes))."""
    c = _ints(sizes)
    return anchor_unit_sizes(c, range(len(c)), c, [1] * len(c), positives, negatives,
                             distinct_negative_classes)


def anchor_tuples(
    sizes: Sequence[int], positives: int, negatives: int, distinct_negative_classes: bool = False
) -> int:
    """Anchor + a set of P positives + a set of Q negatives, all distinct (design.md §3)."""
    return sum(anchor_block_sizes(sizes, positives, negatives, distinct_negative_classes))


def permutation_space(sizes: Sequence[int], k: int) -> int:
    """All ordered k-tuples with repetition: N^k."""
    return sum(_ints(sizes)) ** k


def combination_space(
    sizes: Sequence[int], k: int, positives: int = 1, distinct_negative_classes: bool = False
) -> int:
    """k=2: unordered distinct pairs C(N,2); k>=3: anchor + P positives + Q negatives."""
    if k == 2:
        return comb(sum(_ints(sizes)), 2)
    return anchor_tuples(sizes, positives, k - 1 - positives, distinct_negative_classes)


def random_space(sizes: Sequence[int], k: int, distinct_negative_classes: bool = False) -> int:
    """Union over slot patterns (each slot positive or negative) of anchor blocks."""
    return sum(
        comb(k - 1, p) * anchor_tuples(sizes, p, k - 1 - p, distinct_negative_classes)
        for p in range(k)
    )


def bias(positives: int, negatives: int) -> float | None:
    """Negatives per positive (the paper's imbalance); None when there are no positives."""
    return negatives / positives if positives else None


def summary(
    sizes: Sequence[int],
    k: int,
    positives: int = 1,
    distinct_negative_classes: bool = False,
) -> dict:
    """Every count simgen reports for class sizes `sizes` and learning size k (JSON-ready)."""
    c = _ints(sizes)
    n = sum(c)
    perm = permutation_pairs(c)
    combi = combination_pairs(c)
    out: dict = {
        "num_images": n,
        "num_classes": len(c),
        "learning_size": k,
        "permutation_pairs": {
            **perm,
            "bias": bias(perm["positives"], perm["negatives"]),
            "per_anchor": [{"positives": x, "negatives": n - x} for x in c],
        },
        "combination_pairs": {**combi, "bias": bias(combi["positives"], combi["negatives"])},
        "spaces": {
            "permutation": permutation_space(c, k),
            "combination": combination_space(c, k, positives, distinct_negative_classes),
            "random": random_space(c, k, distinct_negative_classes),
        },
    }
    if k >= 3:
        q = k - 1 - positives
        out["anchor_tuples"] = {
            "positives": positives,
            "negatives": q,
            "total": anchor_tuples(c, positives, q),
            "distinct_negative_classes": anchor_tuples(c, positives, q, True),
            "per_anchor_class": anchor_block_sizes(c, positives, q, distinct_negative_classes),
        }
    return out
