"""Unique combinations: no element twice, order ignored where roles are interchangeable."""
from __future__ import annotations

from ..errors import SimgenError
from .base import Strategy, StrategyOptions
from .spaces import AnchorBlocks, ClassLayout, GroupPairs, TupleSpace, UnorderedPairs


def anchor_pattern(k: int, positives: int) -> tuple[bool, ...]:
    """Slots 1..k-1: `positives` positives first, then negatives."""
    if not 0 <= positives <= k - 1:
        raise SimgenError(f"--positives {positives} must be between 0 and k-1 = {k - 1}")
    return (True,) * positives + (False,) * (k - 1 - positives)


class CombinationStrategy(Strategy):
    name = "combination"
    summary = ("unique tuples: k=2 all unordered pairs {a,b}, a≠b; k≥3 an anchor, a set of "
               "--positives P positives and a set of k-1-P negatives")

    def min_anchor_class_size(self, k: int, options: StrategyOptions) -> int:
        return options.positives + 1 - options.allow_self if k >= 3 else 0

    def space(self, layout: ClassLayout, k: int, options: StrategyOptions) -> TupleSpace:
        if k == 2:
            pairs = GroupPairs if layout.grouped else UnorderedPairs
            return pairs(layout, options.allow_self)
        return AnchorBlocks(layout, anchor_pattern(k, options.positives),
                            options.distinct_negative_classes, options.allow_self)
