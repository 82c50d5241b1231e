"""The paper's baseline: every ordered k-tuple with repetition (self-pairs, both orders)."""
from __future__ import annotations

from .base import Strategy, StrategyOptions
from .spaces import ClassLayout, OrderedProduct


class PermutationStrategy(Strategy):
    name = "permutation"
    summary = ("the paper's baseline (Figure 3): all N^k ordered tuples with repetition, "
               "self-pairs and both orders included")

    def space(self, layout: ClassLayout, k: int, options: StrategyOptions) -> OrderedProduct:
        return OrderedProduct(layout, k)
