"""What a split's tuple spaces hold and what a plan takes from them, per anchor class.

Everything here comes from the same space objects that draw the tuples (`size`,
`block_sizes`), so `stats`, `build --dry-run` and the manifest never disagree with a build.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import SimgenError
from .plan import Plan
from .strategies import STRATEGIES, StrategyOptions
from .strategies.spaces import ClassLayout, OrderedProduct


def strategy_spaces(layout: ClassLayout, k: int, options: StrategyOptions) -> dict:
    """{strategy: exact space size, or the reason it does not apply to these options}."""
    out: dict = {}
    for name, strategy in STRATEGIES.items():
        try:
            out[name] = strategy.space(layout, k, options).size
        except SimgenError as exc:
            out[name] = f"n/a: {exc}"
    return out


def slot_totals(space, layout: ClassLayout) -> tuple[int, int]:
    """(positive, negative) non-anchor elements summed over every tuple of `space`."""
    parts = getattr(space, "parts", None) or (space,)
    if all(hasattr(p, "pattern") for p in parts):  # anchor spaces: P and Q per part
        return (sum(p.size * p.positives for p in parts),
                sum(p.size * p.negatives for p in parts))
    c = [int(x) for x in layout.sizes.tolist()]
    n = sum(c)
    cross = sum(x * (n - x) for x in c)  # ordered cross-class (anchor, other) pairs
    if isinstance(space, OrderedProduct):  # every slot independent: N^(k-2) per (anchor, slot)
        per_slot = (space.k - 1) * n ** (space.k - 2)
        return per_slot * sum(x * x for x in c), per_slot * cross
    return space.size - cross // 2, cross // 2  # unordered pairs: the rest are positives


def strategy_bias(layout: ClassLayout, k: int, options: StrategyOptions) -> dict:
    """{strategy: negatives per positive over its whole space (None: no positives / n/a)}."""
    out: dict = {}
    for name, strategy in STRATEGIES.items():
        try:
            pos, neg = slot_totals(strategy.space(layout, k, options), layout)
        except SimgenError:
            out[name] = None
            continue
        out[name] = neg / pos if pos else None
    return out


def per_class_blocks(values: Sequence[int], num_classes: int) -> list[int] | None:
    """Sum blocks laid out as (pattern, class) into per-class totals; None when not per class."""
    if num_classes == 0 or len(values) % num_classes:
        return None
    grid = np.array([int(v) for v in values], dtype=object).reshape(-1, num_classes)
    return [int(v) for v in grid.sum(axis=0).tolist()]


def plan_summary(plan: Plan, class_names: Sequence[str]) -> dict:
    """Planned tuples, the space, shortfalls and per-anchor-class space / planned counts."""
    layout = plan.layout
    out = {"tuples": plan.num_tuples, "space": plan.space.size, "shortfalls": plan.shortfalls}
    space = per_class_blocks(plan.space.block_sizes(), len(layout.sizes))
    planned = (per_class_blocks(plan.block_counts.tolist(), len(layout.sizes))
               if plan.block_counts is not None else None)
    if space is not None:
        out["per_class"] = [
            {"class": name, "images": int(n), "space": s,
             "planned": planned[i] if planned is not None else None}
            for i, (name, n, s) in enumerate(zip(class_names, layout.sizes.tolist(), space))
        ]
    return out
