"""The Python API: everything the CLI does, as functions."""
from __future__ import annotations

from typing import Any

from . import builder as _builder
from .config import BuildConfig, make_config
from .job import Job, allot_tuples, index_split_groups, plan_job as _plan_job, require_labels, split_stats
from .loaders import load
from .describe import describe  # `simgen inspect`
from .preview import contact_sheet, write_preview as preview  # `simgen preview`
from .verify import verify  # `simgen verify`

__all__ = ["build", "contact_sheet", "describe", "dry_run", "load", "plan_job", "preview",
           "stats", "stats_for", "verify"]


def build(directory: str, out: str, **options: Any) -> dict:
    """Build a tuple dataset from class folders in `directory` into `out`; return the manifest.

    Options are BuildConfig fields, e.g. learning_size=3, num_tuples=20000, image_size=64.
    """
    return _builder.build(make_config(directory=directory, out=out, **options))


def plan_job(directory: str, **options: Any) -> Job:
    """Plan (index, split, count, shard) without decoding or writing anything; the files are
    vetted by the build that runs the plan (or up front, with on_error="skip")."""
    return _plan_job(make_config(directory=directory, **options), screening="deferred")


def dry_run(directory: str, **options: Any) -> dict:
    """`simgen build --dry-run`: splits, counts, shards and shortfalls; nothing decoded."""
    return _builder.dry_run_summary(_plan_job(make_config(directory=directory, **options),
                                              screening="none"))


def stats(directory: str, **options: Any) -> dict:
    """Class sizes, the paper's counts, every strategy's space and the bias, per split."""
    return stats_for(make_config(directory=directory, **options))


def stats_for(config: BuildConfig) -> dict:
    """`stats` for a ready BuildConfig (what the CLI calls)."""
    index, parts, groups = index_split_groups(config)
    require_labels(config)
    wanted = allot_tuples(config.num_tuples, {n: len(p) for n, p in parts.items()})
    return {
        "directory": str(config.directory),
        "class_names": list(index.class_names),
        "learning_size": config.learning_size,
        "strategy": config.strategy,
        "splits": {name: split_stats(config, name, part, index, groups, wanted[name],
                                     len(parts) == 1)
                   for name, part in parts.items()},
    }
