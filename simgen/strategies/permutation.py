"""The paper's baseline: every ordered k-tuple with repetition (self-pairs, both orders)."""
from __future__ import annotations

from ..errors import SimgenError
from .base import Strategy, StrategyOptions
from .spaces import ClassLayout, OrderedProduct


class PermutationStrategy(Strategy):
    name = "permutation"
    summary = ("the paper's baseline (Figure 3): all N^k ordered tuples with repetition, "
               "self-pairs and both orders included")

    def space(self, layout: ClassLayout, k: int, options: StrategyOptions) -> OrderedProduct:
        if layout.grouped:
            raise SimgenError("--strategy permutation takes every ordered tuple and cannot keep "
                              "same-group images apart; pass --allow-same-group-positives or "
                              "use combination or random")
        if options.distinct_negative_classes:
            raise SimgenError("--distinct-negative-classes needs roles (anchor, positives, "
                              "negatives): use --strategy combination or random")
        return OrderedProduct(layout, k)
