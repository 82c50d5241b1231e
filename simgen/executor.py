"""Run shard tasks: in-process for one worker, else a spawn-safe local process pool."""
from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context, parent_process
from typing import Callable, Sequence

from tqdm import tqdm

from .errors import SimgenError
from .job import Job
from .materialize import build_shard
from .shards import ShardSpec
from .validate import limit_pixels

_JOB: Job | None = None
_QUEUE = None
_WRITE_FAILED = False


def write_failed_here() -> bool:
    """True once a shard write failed in this process: HDF5 (2.0) then segfaults in its exit
    handler, flushing the file it could not write, so the CLI leaves with os._exit."""
    return _WRITE_FAILED


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(job: Job, queue) -> None:
    global _JOB, _QUEUE
    _JOB, _QUEUE = job, queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent()
    limit_pixels(job.config.max_pixels)


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker when the build process dies (even by
    SIGKILL), so no orphan keeps writing into a folder a --resume is about to use."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: orphans finish their shard and exit
        pass
    parent = parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)  # the build died while this worker was still starting up


def _run_in_worker(spec: ShardSpec, out: str) -> dict:
    return build_one(_JOB, spec, out, _QUEUE.put)


def build_one(job: Job, spec: ShardSpec, out: str,
              on_slab: Callable[[int], None] | None = None) -> dict:
    """build_shard, with a failed write (full disk, file-size limit) as a one-line error."""
    global _WRITE_FAILED
    try:
        return build_shard(job, spec, out, on_slab)
    except OSError as exc:
        _WRITE_FAILED = True
        raise SimgenError(f"cannot write shard {spec.name} in {out}: {os_reason(exc)}; "
                          "nothing was left under its name; free space and rerun with "
                          "--resume") from None


def os_reason(exc: OSError) -> str:
    """The errno text of an OSError, also when HDF5 buried it inside its own message."""
    found = re.search(r"errno = (\d+)", str(exc))
    if found:
        return os.strerror(int(found.group(1)))
    return exc.strerror or str(exc).splitlines()[0]


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued shards and end running workers now (their temp files are cleaned up by
    the builder); used on Ctrl-C and on the first failed shard."""
    pool.shutdown(wait=False, cancel_futures=True)
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public handle
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(5)


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
                results[spec.name] = build_one(job, spec, out, bar.update)
                if on_done:
                    on_done(results[spec.name])
        else:
            ctx = get_context("spawn")
            queue = ctx.Queue()
            pump = threading.Thread(target=_pump, args=(queue, bar), daemon=True)
            pump.start()
            with ProcessPoolExecutor(min(workers, len(specs)), mp_context=ctx,
                                     initializer=_init_worker, initargs=(job, queue)) as pool:
                try:
                    futures = {pool.submit(_run_in_worker, spec, out): spec for spec in specs}
                    for fut in as_completed(futures):
                        entry = worker_result(fut, futures[fut])
                        results[entry["file"]] = entry
                        if on_done:
                            on_done(entry)
                except BaseException:
                    stop_pool(pool)
                    raise
                finally:
                    queue.put(None)
            pump.join()
    return [results[s.name] for s in specs]


def worker_result(fut, spec: ShardSpec) -> dict:
    """A shard's entry; a worker that died (killed, out of memory) becomes a one-line error."""
    try:
        return fut.result()
    except BrokenProcessPool:
        raise SimgenError(f"a worker process died while building {spec.name} (killed or out "
                          "of memory?); rerun with --resume") from None


def _pump(queue, bar: tqdm) -> None:
    while (n := queue.get()) is not None:
        bar.update(n)
