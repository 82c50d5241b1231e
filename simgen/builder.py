"""A build from start to finish: plan, check the output, write shards, write the manifest last."""
from __future__ import annotations

import glob
import os

from .config import BuildConfig
from .errors import DatasetExistsError, SimgenError
from .executor import default_workers, run_shards
from .job import Job, plan_job, split_summary
from .materialize import shard_schema
from .manifest import LABEL_SEMANTICS, MANIFEST, library_versions, write_manifest
from .shards import FORMAT, FORMAT_VERSION, LIBVER
from . import counts


def prepare_output(out: str, overwrite: bool) -> None:
    """Create `out`; refuse one holding a dataset unless `overwrite` (then retire it first)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise SimgenError(f"--out {out} exists and is not a directory")
    existing = os.path.join(out, MANIFEST)
    if os.path.exists(existing):
        if not overwrite:
            raise DatasetExistsError(f"--out {out} already holds a dataset; pass --overwrite")
        os.unlink(existing)  # first: the old dataset stops being complete
    if overwrite:
        for old in glob.glob(os.path.join(out, "*-of-*.h5")):
            os.unlink(old)
    os.makedirs(out, exist_ok=True)


def manifest_for(job: Job, shards: list[dict]) -> dict:
    """The manifest dict: nothing in it varies between two builds of the same job."""
    cfg = job.config
    k = cfg.learning_size
    sizes = job.index.class_counts().tolist()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "config": cfg.content(),
        "config_hash": job.config_hash,
        "label_semantics": LABEL_SEMANTICS,
        "source": {
            "class_names": list(job.index.class_names),
            "class_counts": sizes,
            "num_images": len(job.index),
            "fingerprint": job.index.fingerprint(),
        },
        "sources": list(job.index.paths),
        "counts": counts.summary(sizes, k, cfg.positives if k >= 3 else 1),
        "splits": {name: split_summary(s, k, cfg.positives) for name, s in job.splits.items()},
        "schema": {"libver": list(LIBVER), **shard_schema(job)},
        "shards": shards,
    }


def build(config: BuildConfig) -> dict:
    """Run a whole build described by `config`; return the manifest that was written."""
    return build_job(plan_job(config))


def build_job(job: Job) -> dict:
    """Write the shards and manifest of a planned job into job.config.out."""
    config = job.config
    if not config.out:
        raise SimgenError("--out is required")
    prepare_output(config.out, config.overwrite)
    specs = [spec for split in job.splits.values() for spec in split.shards]
    workers = config.workers or default_workers()
    shards = run_shards(job, specs, config.out, workers, quiet=config.quiet)
    manifest = manifest_for(job, shards)
    write_manifest(config.out, manifest)
    return manifest
