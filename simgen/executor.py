"""Run a build's work: decode stage, then shard tasks; in-process or a process pool.

Stage 1 (decodecache.py) decodes every needed image once, split into small tasks over all
workers, so even a build of one or two shards uses every core; it also vets every file and
stops the build, naming each bad one, before anything is written. Stage 2 runs one task per
shard, gathering from the decoded images. The shard count never depends on the workers.
Workers are forked where that is safe and spawned elsewhere (start_method); nothing relies on
state inherited by a fork, so the bytes are the same either way.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from queue import Empty
from typing import Callable, Iterator, Sequence

from tqdm import tqdm

from . import decodecache
from .decodecache import DecodeCache, Flaw
from .errors import SimgenError
from .job import Job
from .materialize import build_shard
from .shards import ShardSpec
from .validate import BadFilesError

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_JOB: Job | None = None
_PROGRESS: Callable[[int], None] | None = None
_WRITE_FAILED = False


def write_failed_here() -> bool:
    """True once a shard write failed in this process: HDF5 (2.0 here) then segfaults in its
    exit handler, flushing the file it could not write (known upstream: h5py issues #914,
    #2160), so the CLI leaves with os._exit. Python callers of build(workers=1) are not
    protected; with a pool the failing write happens in a worker, which is terminated."""
    return _WRITE_FAILED


def _set_worker_state(job: Job | None, progress: Callable[[int], None] | None) -> None:
    global _JOB, _PROGRESS
    _JOB, _PROGRESS = job, progress


def _init_worker(job: Job, queue) -> None:
    """Pool initializer: the job once per process; progress flows back through `queue`."""
    _set_worker_state(job, queue.put)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the CLI's handler, if forked
    if hasattr(signal, "pthread_sigmask"):  # blocked by the parent across the fork
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    die_with_parent()


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker when the build process dies (even by
    SIGKILL), so no orphan keeps writing into a folder a --resume is about to use."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: orphans finish their shard and exit
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died while we started up
        os._exit(1)


def _decode_task(cache: DecodeCache, rows, lo: int) -> tuple[int, list[Flaw]]:
    return decodecache.decode_into(_JOB, cache, rows, lo)


def _check_task(ids: list[int]) -> tuple[int, list[Flaw]]:
    return decodecache.check_sources(_JOB, ids)


def _shard_task(spec: ShardSpec, out: str, cache: DecodeCache | None) -> dict:
    return build_one(_JOB, spec, out, _PROGRESS, cache)


def build_one(job: Job, spec: ShardSpec, out: str,
              on_slab: Callable[[int], None] | None = None,
              cache: DecodeCache | None = None) -> dict:
    """build_shard, with a failed write (full disk, file-size limit) as a one-line error."""
    global _WRITE_FAILED
    try:
        return build_shard(job, spec, out, on_slab, cache)
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
    """Cancel queued tasks and end running workers now (their temp files are cleaned up by
    the builder); used on Ctrl-C and on the first failed task."""
    # no public handle on the workers; take it before shutdown(), which drops it
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(5)


class InlineRunner:
    """Runs tasks in this process, one after the other (--workers 1)."""

    def submit(self, fn: Callable, *args) -> Future:
        fut: Future = Future()
        fut.set_result(fn(*args))
        return fut


@contextmanager
def task_runner(job: Job, workers: int, tasks: int, bar: tqdm) -> Iterator:
    """Something with submit(fn, *args) → Future: inline, or a pool of worker processes."""
    if workers <= 1 or tasks <= 1:
        _set_worker_state(job, bar.update)
        try:
            yield InlineRunner()
        finally:
            _set_worker_state(None, None)
        return
    ctx = get_context(start_method())
    queue = ctx.Queue()
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(queue, bar, stop), daemon=True)
    try:
        with ProcessPoolExecutor(min(workers, tasks), mp_context=ctx,
                                 initializer=_init_worker, initargs=(job, queue)) as pool:
            try:
                with signals_blocked():  # a forked worker keeps them pending until its
                    pool.submit(os.getpid)  # initializer has set its own handlers
                pump.start()  # the workers exist now: threads of ours can start
                yield pool
            except BaseException:
                stop_pool(pool)
                raise
    finally:
        stop.set()
        if pump.is_alive():
            pump.join(5)
        _drain(queue, bar)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold off Ctrl-C and SIGTERM (they stay pending, then arrive) while workers are forked:
    until its initializer runs, a forked worker would otherwise run the parent's handlers."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def start_method() -> str:
    """How pool workers start: fork on Linux when this process runs a single thread (then no
    lock can be inherited mid-use, and workers start in milliseconds with the job and every
    module already in memory, instead of ~0.3 s importing numpy, h5py and Pillow); spawn
    otherwise (macOS, Windows, a notebook's threads). SIMGEN_START_METHOD=fork|spawn
    overrides; the output bytes are the same either way. (Not forkserver: its workers are
    the server's children, so they could not be tied to the build's life, die_with_parent.)"""
    forced = forced_start_method()
    if forced:
        return forced
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def forced_start_method() -> str | None:
    """SIMGEN_START_METHOD if set (fork or spawn); a one-line error for anything else."""
    forced = os.environ.get("SIMGEN_START_METHOD", "")
    if not forced:
        return None
    usable = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]
    if forced not in usable:
        raise SimgenError(f"SIMGEN_START_METHOD={forced} is not usable here; use "
                          + " or ".join(usable))
    return forced


class Bar(tqdm):
    """tqdm without its monitor thread (it only re-tunes refresh rates), so a build stays
    single-threaded until its workers have started (see start_method)."""

    monitor_interval = 0


def progress_bar(total: int, quiet: bool, unit: str = "tuple", desc: str = "simgen build") -> tqdm:
    """A counter on stderr, shown only on a terminal and without --quiet."""
    return Bar(total=total, unit=unit, unit_scale=True, file=sys.stderr,
               disable=quiet or not sys.stderr.isatty(), desc=desc)


def allocate_caches(job: Job, specs: Sequence[ShardSpec], out: str) -> list[DecodeCache]:
    """One decode cache per split that has shards to build (disk space reserved up front)."""
    caches: list[DecodeCache] = []
    try:
        for name in dict.fromkeys(s.split for s in specs):
            caches.append(decodecache.allocate(job, name, [s for s in specs if s.split == name],
                                               out))
    except OSError as exc:
        decodecache.remove(caches)
        raise SimgenError(f"cannot reserve the decode cache in {out}: {os_reason(exc)}; "
                          "free space and rerun with --resume") from None
    return caches


Task = tuple[Callable, tuple, int]  # (function, its arguments, how many files it handles)


def vetting_tasks(job: Job, caches: Sequence[DecodeCache]) -> list[Task]:
    """The decode stage's tasks: decode every cached image (vetting it on the way) and, unless
    the plan screened every file already, probe the sources no cache decodes."""
    tasks: list[Task] = [(_decode_task, args, len(args[1]))
                         for c in caches for args in decodecache.decode_tasks(c)]
    if not job.screened:
        ids = decodecache.undecoded_sources(job, caches).tolist()
        step = decodecache.DECODE_CHUNK
        tasks += [(_check_task, (ids[i : i + step],), len(ids[i : i + step]))
                  for i in range(0, len(ids), step)]
    return tasks


def decode_stage(runner, job: Job, tasks: Sequence[Task], quiet: bool) -> None:
    """Run the vetting_tasks, spread over all workers; then raise BadFilesError naming every
    file that could not be used (before any shard is written)."""
    flaws: list[Flaw] = []
    with progress_bar(sum(t[2] for t in tasks), quiet, "image", "decoding") as bar:
        futures = [runner.submit(fn, *args) for fn, args, _ in tasks]
        for fut in as_completed(futures):
            done, bad = worker_result(fut, "decoding images")
            flaws += bad
            bar.update(done)
    if flaws:
        raise BadFilesError(job.index.root, [bad for _, bad in sorted(flaws, key=lambda f: f[0])],
                            job.screened)


def run_shards(job: Job, specs: Sequence[ShardSpec], out: str, workers: int,
               on_done: Callable[[dict], None] | None = None, quiet: bool = False,
               before_writing: Callable[[], None] | None = None) -> list[dict]:
    """Build every shard in `specs`; return their manifest entries in spec order.
    `before_writing` runs once every image decoded fine, before the first shard is written."""
    results: dict[str, dict] = {}
    caches = allocate_caches(job, specs, out)
    by_split = {c.split: c for c in caches}
    try:
        tasks = vetting_tasks(job, caches)
        with progress_bar(sum(s.num_tuples for s in specs), quiet) as bar, \
                task_runner(job, workers, max(len(tasks), len(specs)), bar) as runner:
            decode_stage(runner, job, tasks, quiet)
            if before_writing:
                before_writing()

            def collect(fut: Future, spec: ShardSpec) -> None:
                entry = worker_result(fut, f"building {spec.name}")
                results[entry["file"]] = entry
                if on_done:  # the journal: as soon as each shard is done, not at the end
                    on_done(entry)

            pending = {}
            for spec in specs:
                fut = runner.submit(_shard_task, spec, out, by_split[spec.split])
                if fut.done():  # the inline runner finished it already
                    collect(fut, spec)
                else:
                    pending[fut] = spec
            for fut in as_completed(pending):
                collect(fut, pending[fut])
    finally:
        decodecache.remove(caches)
    return [results[s.name] for s in specs]


def worker_result(fut, doing: str):
    """A task's result; a worker that died (killed, out of memory) becomes a one-line error."""
    try:
        return fut.result()
    except BrokenProcessPool:
        raise SimgenError(f"a worker process died while {doing} (killed or out "
                          "of memory?); rerun with --resume") from None


def _pump(queue, bar: tqdm, stop: threading.Event) -> None:
    """Move worker progress onto the bar until told to stop. The parent never puts on this
    queue: a worker killed while writing to it holds its lock forever, and a parent put
    (or its exit-time flush) would then hang."""
    while not stop.is_set():
        try:
            bar.update(queue.get(timeout=0.1))
        except Empty:
            continue
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return  # a worker died mid-message: progress display ends, the build does not


def _drain(queue, bar: tqdm) -> None:
    """Count what finished workers sent after the pump stopped."""
    try:
        while True:
            bar.update(queue.get_nowait())
    except Exception:  # Empty, or a torn message from a killed worker
        return
