"""A build from start to finish: plan, check the output, write shards, write the manifest last."""
from __future__ import annotations

import glob
import os
from functools import partial

from .config import BuildConfig, default_workers
from .errors import DatasetExistsError, SimgenError
from .executor import forced_start_method, run_shards
from .job import Job, plan_job, source_counts, split_summary
from .lock import output_lock
from .manifest import LABEL_SEMANTICS, MANIFEST, library_versions, read_manifest, write_manifest
from .materialize import pixel_schema
from .shards import FORMAT, FORMAT_VERSION, LIBVER, class_label_width
from .validate import BadFilesError
from . import journal
from .augment import augment_schema


def check_out_path(out: str) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise SimgenError(f"--out {out} exists and is not a directory")


def prepare_output(out: str, overwrite: bool, resume: bool = False, key: str | None = None) -> None:
    """Make `out` ready (call under its lock): refuse a dataset or an unfinished build unless
    `overwrite` (retire_previous removes it, once the images have decoded) or `resume` (keep
    what checks out, see journal.py). build_job has checked the path; the lock made it."""
    existing = os.path.join(out, MANIFEST)
    if os.path.exists(existing):
        if resume:
            _reopen(out, key)
        elif not overwrite:
            raise DatasetExistsError(f"--out {out} already holds a dataset; pass --overwrite")
    elif journal.unfinished(out) and not (overwrite or resume):
        raise DatasetExistsError(
            f"--out {out} holds an unfinished build (shards but no manifest.json); pass "
            "--resume to finish it or --overwrite to start again")


def retire_previous(out: str) -> None:
    """--overwrite: remove the dataset or unfinished build in `out` (manifest first, so it
    stops being complete before any shard goes)."""
    existing = os.path.join(out, MANIFEST)
    if os.path.exists(existing):
        os.unlink(existing)
    for old in glob.glob(os.path.join(out, journal.SHARD_GLOB)):
        os.unlink(old)
    journal.clear(out)


def _reopen(out: str, key: str | None) -> None:
    """--resume on a finished dataset of the same job: re-check its shards like a journal."""
    manifest = read_manifest(out)
    try:
        same = journal.manifest_key(manifest) == key
    except (KeyError, TypeError):  # a hand-edited or foreign manifest: not this job's
        same = False
    if not same:
        raise DatasetExistsError(
            f"--out {out} holds a different dataset (other options, inputs or library "
            "versions); pass --overwrite to replace it")
    journal.seed_from_manifest(out, key, manifest["shards"])
    os.unlink(os.path.join(out, MANIFEST))


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
            "fingerprint": job.fingerprint,
        },
        "sources": list(job.index.paths),
        "skipped": [b.as_dict() for b in job.skipped],
        "counts": source_counts(job),
        "splits": {name: split_summary(s, k, cfg.positives) for name, s in job.splits.items()},
        "schema": {
            "libver": list(LIBVER),
            **pixel_schema(job, image_axes(job.image.data_format)),
            "data_format": job.image.data_format,
            "labels": {"dtype": "uint8", "shape": ["n", k - 1]},
            "classes": {"dtype": "int32", "shape": ["n", k]},
            "sources": {"dtype": "int32", "shape": ["n", k]},
            **class_label_schema(cfg.label_mode, k, job.index.num_classes),
            **augment_schema(cfg.augment, k),
        },
        "loader_defaults": {"batch_size": cfg.batch_size},
        "shards": shards,
    }


def dry_run_summary(job: Job) -> dict:
    """What a build of `job` would write, with every count and shortfall, from the plan
    alone: no image is decoded and nothing is created."""
    cfg = job.config
    k = cfg.learning_size
    tuple_bytes = k * job.image.nbytes
    return {
        "dry_run": True,
        "out": cfg.out,
        "config": cfg.content(),
        "config_hash": job.config_hash,
        "source": {"num_images": len(job.index), "num_classes": job.index.num_classes},
        "splits": {
            name: {**split_summary(s, k, cfg.positives),
                   "shard_files": [{"file": sp.name, "tuples": sp.num_tuples}
                                   for sp in s.shards],
                   "image_bytes": s.num_tuples * tuple_bytes}
            for name, s in job.splits.items()
        },
    }


def image_axes(data_format: str) -> str:
    if data_format == "channels_first":
        return "tuple, element, channel, height, width"
    return "tuple, element, height, width, channel"


def class_label_schema(label_mode: str | None, k: int, num_classes: int) -> dict:
    """label_mode, and the `class_labels` dataset that categorical / binary add."""
    out: dict = {"label_mode": label_mode}
    width = class_label_width(label_mode, num_classes)
    if width is not None:
        out["class_labels"] = {"dtype": "float32", "shape": ["n", k, width],
                               "meaning": CLASS_LABEL_MEANING[label_mode]}
    return out


CLASS_LABEL_MEANING = {"categorical": "one-hot of classes (keras categorical)",
                       "binary": "classes as float (keras binary)"}


def build(config: BuildConfig) -> dict:
    """Run a whole build described by `config`; return the manifest that was written."""
    return build_job(plan_job(config, screening="deferred"))


def build_job(job: Job) -> dict:
    """Write the shards and manifest of a planned job into job.config.out, under its lock."""
    out = job.config.out
    if not out:
        raise SimgenError("--out is required")
    check_out_path(out)
    forced_start_method()  # a bad SIMGEN_START_METHOD fails here, before --out is touched
    key = journal.job_key(job)
    created = first_missing(out)
    try:
        with output_lock(out):
            journal.clean_temp(out)
            try:
                prepare_output(out, job.config.overwrite, job.config.resume, key)
                return _write_dataset(job, key)
            except OSError as exc:  # the parent's own writes: journal, manifest
                raise SimgenError(f"cannot write to --out {out}: {exc.strerror or exc}; free "
                                  "space and rerun with --resume") from None
            finally:
                journal.clean_temp(out)
    except BadFilesError:  # found while decoding: nothing was written or removed
        if created:  # after the lock is released (it lived inside): empty folders only
            remove_empty_folders(out, created)
        raise


def first_missing(path: str) -> str | None:
    """The outermost folder of `path` that does not exist yet (what makedirs would create
    first), or None when `path` exists."""
    path, top = os.path.abspath(path), None
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path, top = os.path.dirname(path), path
    return top


def remove_empty_folders(path: str, top: str) -> None:
    """rmdir `path` and its parents up to `top`, stopping at the first one that is not empty
    (never deletes a file, so a build that took the folder meanwhile keeps its work)."""
    path = os.path.abspath(path)
    while True:
        try:
            os.rmdir(path)
        except OSError:
            return
        if path == top:
            return
        path = os.path.dirname(path)


def _write_dataset(job: Job, key: str) -> dict:
    """Shards (reusing journalled ones on --resume), then the manifest, then drop the journal."""
    config, out = job.config, job.config.out
    specs = [spec for split in job.splits.values() for spec in split.shards]
    done = journal.reusable(out, key, specs) if config.resume else {}
    if config.resume:
        journal.remove_strays(out, {s.name for s in specs})
    todo = [s for s in specs if s.name not in done]
    workers = config.workers or default_workers()
    retire = partial(retire_previous, out) if config.overwrite else None
    fresh: list[dict] = []
    if todo:
        fresh = run_shards(job, todo, out, workers, quiet=config.quiet,
                           on_done=lambda entry: journal.record(out, key, entry),
                           before_writing=retire)
    elif retire:
        retire()
    entries = {**done, **{e["file"]: e for e in fresh}}
    manifest = manifest_for(job, [entries[s.name] for s in specs])
    write_manifest(out, manifest)
    journal.clear(out)
    return manifest
