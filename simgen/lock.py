"""One build per output directory: an flock'ed OUT/.simgen.lock that names its holder.

The kernel drops an flock when its process dies (SIGKILL included), so a lock file left by a
dead build is stale by construction and the next build takes it over; the pid, host and start
time inside only serve to name the holder in the refusal.
"""
from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from typing import Iterator

from .errors import SimgenError

LOCK = ".simgen.lock"


class OutputLockedError(SimgenError):
    """Another live build holds the output directory."""


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return (f"pid {info['pid']} on {info['host']}, started "
                f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(info['started']))}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its name yet"


def _take(path: str, out: str) -> int:
    """An fd on `path` holding an exclusive flock, or OutputLockedError naming the holder."""
    import fcntl  # POSIX only; imported here so that `import simgen` works everywhere

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputLockedError(
                f"--out {out} is being written by another simgen build ({holder}); "
                "wait for it to finish or stop it") from None
        except OSError:  # a filesystem without flock: the pid file is all we can offer
            return fd
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the holder removed it between our open and flock: retry
            return fd
        os.close(fd)


@contextmanager
def output_lock(out: str) -> Iterator[None]:
    """Hold OUT's build lock for the duration (creating OUT); refuse if a live build has it."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, LOCK)
    fd = _take(path, out)
    try:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": int(time.time())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:  # OUT was removed under us: nothing left to release
            pass
        os.close(fd)
