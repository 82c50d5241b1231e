"""Run a build's work: decode stage, then shard tasks; in-process or a spawn-safe process pool.

Stage 1 (decodecache.py) decodes every needed image once, split into small tasks over all
workers, so even a build of one or two shards uses every core. Stage 2 runs one task per
shard, gathering from the decoded images. The shard count never depends on the workers.
"""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Callable, Iterator, Sequence

from tqdm import tqdm

from . import decodecache
from .decodecache import DecodeCache
from .job import Job
from .materialize import build_shard
from .shards import ShardSpec

_JOB: Job | None = None
_PROGRESS: Callable[[int], None] | None = None


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _set_worker_state(job: Job | None, progress: Callable[[int], None] | None) -> None:
    global _JOB, _PROGRESS
    _JOB, _PROGRESS = job, progress


def _init_worker(job: Job, queue) -> None:
    """Pool initializer: the job once per process; progress flows back through `queue`."""
    _set_worker_state(job, queue.put)


def _decode_task(cache: DecodeCache, lo: int, hi: int) -> int:
    return decodecache.decode_into(_JOB, cache, lo, hi)


def _shard_task(spec: ShardSpec, out: str, cache: DecodeCache | None) -> dict:
    return build_shard(_JOB, spec, out, _PROGRESS, cache)


class InlineRunner:
    """Runs tasks in this process, one after the other (--workers 1)."""

    def submit(self, fn: Callable, *args) -> Future:
        fut: Future = Future()
        fut.set_result(fn(*args))
        return fut


@contextmanager
def task_runner(job: Job, workers: int, tasks: int, bar: tqdm) -> Iterator:
    """Something with submit(fn, *args) → Future: inline, or a pool of spawned processes."""
    if workers <= 1 or tasks <= 1:
        _set_worker_state(job, bar.update)
        try:
            yield InlineRunner()
        finally:
            _set_worker_state(None, None)
        return
    ctx = get_context("spawn")
    queue = ctx.Queue()
    pump = threading.Thread(target=_pump, args=(queue, bar), daemon=True)
    pump.start()
    try:
        with ProcessPoolExecutor(min(workers, tasks), mp_context=ctx, initializer=_init_worker,
                                 initargs=(job, queue)) as pool:
            yield pool
    finally:
        queue.put(None)
        pump.join()


def progress_bar(total: int, quiet: bool, unit: str = "tuple", desc: str = "simgen build") -> tqdm:
    """A counter on stderr, shown only on a terminal and without --quiet."""
    return tqdm(total=total, unit=unit, unit_scale=True, file=sys.stderr,
                disable=quiet or not sys.stderr.isatty(), desc=desc)


def allocate_caches(job: Job, specs: Sequence[ShardSpec], out: str) -> list[DecodeCache]:
    """One decode cache per split that has shards to build."""
    splits = dict.fromkeys(s.split for s in specs)
    return [decodecache.allocate(job, name, [s for s in specs if s.split == name], out)
            for name in splits]


def decode_stage(runner, caches: Sequence[DecodeCache], quiet: bool) -> None:
    """Fill every cache, in small tasks spread over all workers."""
    total = sum(c.shape[0] for c in caches)
    with progress_bar(total, quiet, "image", "decoding") as bar:
        futures = [runner.submit(_decode_task, c, lo, hi)
                   for c in caches for lo, hi in decodecache.decode_tasks(c)]
        for fut in as_completed(futures):
            bar.update(fut.result())


def run_shards(job: Job, specs: Sequence[ShardSpec], out: str, workers: int,
               on_done: Callable[[dict], None] | None = None, quiet: bool = False) -> list[dict]:
    """Build every shard in `specs`; return their manifest entries in spec order."""
    results: dict[str, dict] = {}
    caches = allocate_caches(job, specs, out)
    by_split = {c.split: c for c in caches}
    decode_jobs = sum(-(-c.shape[0] // decodecache.DECODE_CHUNK) for c in caches)
    try:
        with progress_bar(sum(s.num_tuples for s in specs), quiet) as bar, \
                task_runner(job, workers, max(decode_jobs, len(specs)), bar) as runner:
            decode_stage(runner, caches, quiet)
            futures = [runner.submit(_shard_task, s, out, by_split[s.split]) for s in specs]
            for fut in as_completed(futures):
                entry = fut.result()
                results[entry["file"]] = entry
                if on_done:
                    on_done(entry)
    finally:
        decodecache.remove(caches)
    return [results[s.name] for s in specs]


def _pump(queue, bar: tqdm) -> None:
    while (n := queue.get()) is not None:
        bar.update(n)
