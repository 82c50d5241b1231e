"""The paper's one-hot approach: random class, random anchor, each slot positive or negative.

Drawn exactly instead of by coin flips: the tuple budget is apportioned over anchor classes
(uniformly, as the paper picks a class first) and slot patterns (probability R^P (1-R)^Q),
then each (class, pattern) block is sampled without replacement. No duplicate tuples, no
self-pairs, shortfalls reported instead of silently repeating.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from ..combinatorics import as_ranks
from ..errors import SimgenError
from ..plan import Plan, apportion
from .base import Strategy, StrategyOptions
from .spaces import AnchorBlocks, ClassLayout, UnionSpace


def slot_patterns(k: int) -> list[tuple[bool, ...]]:
    """Every assignment of positive/negative to slots 1..k-1."""
    return [tuple(bits) for bits in product((True, False), repeat=k - 1)]


class RandomStrategy(Strategy):
    name = "random"
    summary = ("the paper's one-hot approach: random class, random anchor, each slot positive "
               "with probability --positive-ratio; still no duplicates or self-pairs")

    def min_anchor_class_size(self, k: int, options: StrategyOptions) -> int:
        return 2 if options.positive_ratio > 0 else 0

    def space(self, layout: ClassLayout, k: int, options: StrategyOptions) -> UnionSpace:
        return UnionSpace(tuple(AnchorBlocks(layout, p) for p in slot_patterns(k)))

    def default_num_tuples(self, layout: ClassLayout, space) -> int:
        """Without --num-tuples: one tuple per image of the split (an epoch of the paper)."""
        return min(layout.total, space.size)

    def draw(self, space, layout, count, options, seed, shuffle) -> Plan:
        """Apportion `count` over (pattern, anchor class) blocks, then sample each block."""
        ratio = options.positive_ratio
        if not 0.0 <= ratio <= 1.0:
            raise SimgenError(f"--positive-ratio {ratio} must be between 0 and 1")
        k = space.k
        blocks = as_ranks(space.block_sizes(), space.size)
        active = (layout.sizes > 0).astype(np.float64)
        class_w = active / max(active.sum(), 1.0)
        weights = np.concatenate([
            class_w * ratio ** sum(p) * (1 - ratio) ** (len(p) - sum(p))
            for p in slot_patterns(k)
        ])
        counts = apportion(count, weights, blocks)
        offsets = as_ranks(np.concatenate([[0], np.cumsum(blocks)[:-1]]), space.size)
        keep = counts > 0
        return Plan(space, layout, offsets[keep], blocks[keep], counts[keep], seed, shuffle)
