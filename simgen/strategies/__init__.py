"""Named tuple strategies. Add one by subclassing Strategy and registering it here."""
from __future__ import annotations

from ..errors import SimgenError
from .base import Strategy, StrategyOptions
from .combination import CombinationStrategy
from .permutation import PermutationStrategy
from .random import RandomStrategy

STRATEGIES: dict[str, Strategy] = {
    s.name: s for s in (CombinationStrategy(), PermutationStrategy(), RandomStrategy())
}
DEFAULT_STRATEGY = "combination"


def get_strategy(name: str) -> Strategy:
    """The registered strategy called `name`, or a one-line error listing the choices."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise SimgenError(
            f"unknown strategy {name!r}; choose one of {', '.join(sorted(STRATEGIES))}"
        ) from None


__all__ = ["STRATEGIES", "DEFAULT_STRATEGY", "Strategy", "StrategyOptions", "get_strategy"]
