"""Plan a whole job without decoding a pixel: index → splits → plans → shard specs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import counts
from .config import BuildConfig
from .errors import SimgenError
from .imaging import ImageSpec
from .index import SourceIndex, index_directory
from .manifest import config_hash
from .plan import Plan
from .shards import ShardSpec, shard_specs
from .split import split_index
from .strategies import StrategyOptions, get_strategy
from .strategies.spaces import ClassLayout

TUPLE_OVERHEAD = 16  # bytes per tuple element beyond pixels: class + source ids, label


@dataclass
class SplitPlan:
    """One split's images, the plan of its tuples, and its shards."""

    name: str
    index: SourceIndex
    plan: Plan
    shards: list[ShardSpec]

    @property
    def num_tuples(self) -> int:
        return self.plan.num_tuples


@dataclass
class Job:
    """Everything a build needs, decided up front and cheap to ship to workers."""

    config: BuildConfig
    index: SourceIndex
    image: ImageSpec
    splits: dict[str, SplitPlan]

    @property
    def config_hash(self) -> str:
        return config_hash(self.config.content())

    @property
    def num_tuples(self) -> int:
        return sum(s.num_tuples for s in self.splits.values())


def strategy_options(config: BuildConfig) -> StrategyOptions:
    return StrategyOptions(config.positives, config.positive_ratio, config.allow_small_classes)


def allot_tuples(total: int | None, sizes: dict[str, int]) -> dict[str, int | None]:
    """Share --num-tuples between splits in proportion to their image counts."""
    if total is None:
        return {name: None for name in sizes}
    names = list(sizes)
    n = sum(sizes.values())
    out, given = {}, 0
    for name in names[:-1]:
        out[name] = max(1, round(total * sizes[name] / n)) if sizes[name] else 0
        given += out[name]
    out[names[-1]] = max(1, total - given) if len(names) > 1 else total
    return out


def tuples_per_shard(config: BuildConfig, image: ImageSpec) -> int:
    tuple_bytes = config.learning_size * (image.nbytes + TUPLE_OVERHEAD)
    return max(1, config.shard_size // tuple_bytes)


def index_and_split(config: BuildConfig) -> tuple[SourceIndex, dict[str, SourceIndex]]:
    """Validate the config, index the directory and cut it into named splits."""
    config.validate()
    get_strategy(config.strategy)
    index = index_directory(config.directory, config.class_names, config.follow_links)
    parts = split_index(index, config.validation_split, config.subset, config.shuffle, config.seed)
    for name, part in parts.items():
        if len(part) == 0:
            raise SimgenError(f"split {name!r} has no images; change --validation-split")
    return index, parts


def plan_job(config: BuildConfig) -> Job:
    """Validate, index, split and plan; raises SimgenError before anything is written."""
    index, parts = index_and_split(config)
    strategy = get_strategy(config.strategy)
    options = strategy_options(config)
    image = ImageSpec(*config.image_size, config.color_mode, config.interpolation,
                      config.jpeg_draft)
    wanted = allot_tuples(config.num_tuples, {n: len(p) for n, p in parts.items()})
    per_shard = tuples_per_shard(config, image)
    splits = {}
    for name, part in parts.items():
        layout = ClassLayout.from_class_ids(part.class_ids, index.num_classes)
        strategy.check_classes(layout, index.class_names, config.learning_size, options, name)
        try:
            plan = strategy.plan(layout, config.learning_size, options, wanted[name],
                                 config.seed, config.shuffle)
        except SimgenError as exc:
            if len(parts) == 1:
                raise
            raise SimgenError(f"split {name!r} ({wanted[name]} of the tuples): {exc}") from None
        splits[name] = SplitPlan(name, part, plan, shard_specs(name, plan.num_tuples, per_shard))
    return Job(config, index, image, splits)


def split_counts(part: SourceIndex, k: int, positives: int) -> dict:
    """Image and class counts of one split, and every count of counts.summary for them."""
    sizes = part.class_counts().tolist()
    return {
        "images": len(part),
        "classes": sum(1 for c in sizes if c),
        "class_counts": sizes,
        "counts": counts.summary(sizes, k, positives if k >= 3 else 1),
    }


def split_summary(split: SplitPlan, k: int, positives: int) -> dict:
    """Per-split entry of the manifest: counts plus what was planned."""
    return {
        **split_counts(split.index, k, positives),
        "tuples": split.num_tuples,
        "space": split.plan.space.size,
        "shards": len(split.shards),
    }
