"""Run shard tasks: in-process for one worker, else a spawn-safe local process pool."""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Callable, Sequence

from tqdm import tqdm

from .job import Job
from .materialize import build_shard
from .shards import ShardSpec

_JOB: Job | None = None
_QUEUE = None


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(job: Job, queue) -> None:
    global _JOB, _QUEUE
    _JOB, _QUEUE = job, queue


def _run_in_worker(spec: ShardSpec, out: str) -> dict:
    return build_shard(_JOB, spec, out, _QUEUE.put)


def progress_bar(total: int, quiet: bool) -> tqdm:
    """A tuple counter on stderr, shown only on a terminal and without --quiet."""
    return tqdm(total=total, unit="tuple", unit_scale=True, file=sys.stderr,
                disable=quiet or not sys.stderr.isatty(), desc="simgen build")


def run_shards(job: Job, specs: Sequence[ShardSpec], out: str, workers: int,
               on_done: Callable[[dict], None] | None = None, quiet: bool = False) -> list[dict]:
    """Build every shard in `specs`; return their manifest entries in spec order."""
    results: dict[str, dict] = {}
    with progress_bar(sum(s.num_tuples for s in specs), quiet) as bar:
        if workers <= 1 or len(specs) <= 1:
            for spec in specs:
                results[spec.name] = build_shard(job, spec, out, bar.update)
                if on_done:
                    on_done(results[spec.name])
        else:
            ctx = get_context("spawn")
            queue = ctx.Queue()
            pump = threading.Thread(target=_pump, args=(queue, bar), daemon=True)
            pump.start()
            with ProcessPoolExecutor(min(workers, len(specs)), mp_context=ctx,
                                     initializer=_init_worker, initargs=(job, queue)) as pool:
                futures = {pool.submit(_run_in_worker, spec, out): spec for spec in specs}
                for fut in as_completed(futures):
                    entry = fut.result()
                    results[entry["file"]] = entry
                    if on_done:
                        on_done(entry)
            queue.put(None)
            pump.join()
    return [results[s.name] for s in specs]


def _pump(queue, bar: tqdm) -> None:
    while (n := queue.get()) is not None:
        bar.update(n)
