"""The Python API: everything the CLI does, as functions."""
from __future__ import annotations

from typing import Any

from . import builder as _builder
from .config import BuildConfig, make_config
from .job import Job, index_and_split, plan_job as _plan_job, require_labels, split_counts
from .loaders import load

__all__ = ["build", "load", "plan_job", "stats", "stats_for"]


def build(directory: str, out: str, **options: Any) -> dict:
    """Build a tuple dataset from class folders in `directory` into `out`; return the manifest.

    Options are BuildConfig fields, e.g. learning_size=3, num_tuples=20000, image_size=64.
    """
    return _builder.build(make_config(directory=directory, out=out, **options))


def plan_job(directory: str, **options: Any) -> Job:
    """Plan (index, split, count, shard) without decoding or writing anything."""
    return _plan_job(make_config(directory=directory, **options))


def stats(directory: str, **options: Any) -> dict:
    """Class sizes, the paper's counts, every strategy's space and the bias, per split."""
    return stats_for(make_config(directory=directory, **options))


def stats_for(config: BuildConfig) -> dict:
    """`stats` for a ready BuildConfig (what the CLI calls)."""
    index, parts = index_and_split(config)
    require_labels(config)
    k, positives = config.learning_size, config.positives
    return {
        "directory": str(config.directory),
        "class_names": list(index.class_names),
        "learning_size": k,
        "splits": {name: split_counts(part, k, positives) for name, part in parts.items()},
    }
