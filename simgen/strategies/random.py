"""The paper's one-hot approach: random class, random anchor, each slot positive or negative.

Drawn exactly instead of by coin flips: the tuple budget is apportioned over anchor classes
(uniformly, as the paper picks a class first) and slot patterns (probability R^P (1-R)^Q),
then each (class, pattern) block is sampled without replacement. No duplicate tuples, no
self-pairs, shortfalls reported instead of silently repeating.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from ..balance import class_shortfalls, per_class_quota, shortfall, unlimited
from ..combinatorics import as_ranks
from ..errors import SimgenError
from ..plan import Plan, apportion, stratified_plan
from .base import Strategy, StrategyOptions
from .spaces import AnchorBlocks, ClassLayout, UnionSpace


def slot_patterns(k: int) -> list[tuple[bool, ...]]:
    """Every assignment of positive/negative to slots 1..k-1."""
    return [tuple(bits) for bits in product((True, False), repeat=k - 1)]


def pattern_weights(k: int, ratio: float) -> np.ndarray:
    """Probability of each slot pattern when every slot is positive with `ratio`."""
    if not 0.0 <= ratio <= 1.0:
        raise SimgenError(f"--positive-ratio {ratio} must be between 0 and 1")
    return np.array([ratio ** sum(p) * (1 - ratio) ** (len(p) - sum(p))
                     for p in slot_patterns(k)])


def ratio_shortfalls(counts: np.ndarray, ideal: np.ndarray, capacity: np.ndarray,
                     k: int) -> list[dict]:
    """Entries for positive counts per tuple (0..k-1) that got fewer tuples than the ratio asks."""
    npos = np.array([sum(p) for p in slot_patterns(k)])
    out = []
    for p in range(k):
        got, want = int(counts[npos == p].sum()), int(ideal[npos == p].sum())
        if got < want:
            short = (npos == p)[:, None] & (counts < ideal)
            cap = sum(int(v) for v in capacity[short].tolist())
            out.append(shortfall(
                f"tuples with {p} positive(s)", want, got,
                f"the anchor classes short of them hold only {cap:,} such tuples; the rest "
                "went to other slot patterns, so the positive share is off --positive-ratio"))
    return out


class RandomStrategy(Strategy):
    name = "random"
    summary = ("the paper's one-hot approach: random class, random anchor, each slot positive "
               "with probability --positive-ratio; still no duplicates or self-pairs")

    def min_anchor_class_size(self, k: int, options: StrategyOptions) -> int:
        return 2 - options.allow_self if options.positive_ratio > 0 else 0

    def space(self, layout: ClassLayout, k: int, options: StrategyOptions) -> UnionSpace:
        return UnionSpace(tuple(
            AnchorBlocks(layout, p, options.distinct_negative_classes, options.allow_self)
            for p in slot_patterns(k)))

    def default_num_tuples(self, layout: ClassLayout, space) -> int:
        """Without --num-tuples: one tuple per image of the split (an epoch of the paper)."""
        return min(layout.total, space.size)

    def _grid(self, space: UnionSpace) -> np.ndarray:
        """Block capacities as a (pattern, class) grid."""
        return as_ranks(space.block_sizes(), space.size).reshape(len(space.parts), -1)

    def draw(self, space, layout, count, options, seed, shuffle, class_names) -> Plan:
        """Apportion `count` over (pattern, anchor class) blocks, then sample each block."""
        weights = pattern_weights(space.k, options.positive_ratio)
        active = (layout.sizes > 0).astype(np.float64)
        grid = np.outer(weights, active / max(active.sum(), 1.0)).ravel()
        capacity = self._grid(space)
        counts = apportion(count, grid, capacity.ravel()).reshape(capacity.shape)
        ideal = apportion(count, grid, unlimited(grid.size, count)).reshape(capacity.shape)
        short = (class_shortfalls(counts, ideal, capacity, class_names,
                                  "; the rest went to other classes")
                 + ratio_shortfalls(counts, ideal, capacity, space.k))
        return stratified_plan(space, layout, counts.ravel(), seed, shuffle, short)

    def draw_per_class(self, space, layout, options, seed, shuffle, class_names) -> Plan:
        """`--tuples-per-class` per anchor class, spread over slot patterns by the ratio."""
        quota = int(options.tuples_per_class)
        weights = pattern_weights(space.k, options.positive_ratio)
        capacity = self._grid(space)
        counts, ideal = per_class_quota(quota, weights, capacity, layout.sizes > 0)
        short = (class_shortfalls(counts, ideal, capacity, class_names, "")
                 + ratio_shortfalls(counts, ideal, capacity, space.k))
        return stratified_plan(space, layout, counts.ravel(), seed, shuffle, short)
