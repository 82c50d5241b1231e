"""Issue 7, interruptions: Ctrl-C, SIGKILL at several points + --resume, a file-size limit,
the output lock, and byte-identical output for any worker count. Real `simgen build`
processes; every check compares files and bytes against an uninterrupted build."""
from __future__ import annotations

import glob
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simgen
from simgen.errors import SimgenError
from simgen.lock import LOCK, output_lock

# ~110 shards of 64 KiB: a wide window for every kill point even on a fast idle machine
TUPLES = 3000
ARGS = ["-k", "3", "-n", str(TUPLES), "--image-size", "16", "--shard-size", "64KiB",
        "--seed", "5", "-q"]


def cli(src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "simgen.cli", "build", str(src), *ARGS, "--out", str(out),
            *extra]


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones included) → bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted build (in-process, one worker): the bytes every other run must give."""
    from conftest import make_tree

    base = tmp_path_factory.mktemp("ref")
    src = make_tree(base / "src", {"a": 10, "b": 10, "c": 9, "d": 9})
    out = base / "out"
    simgen.build(str(src), str(out), learning_size=3, num_tuples=TUPLES, image_size=16,
                 shard_size="64KiB", seed=5, workers=1, quiet=True)
    return src, files(out)


def wait_for(cond, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until cond() holds; fail if the build ends first (the kill point was missed)."""
    end = time.monotonic() + timeout
    while not cond():
        assert proc.poll() is None, "the build finished before the kill point"
        assert time.monotonic() < end, "kill point not reached"
        time.sleep(0.002)


def shards_done(out: Path) -> int:
    return len(glob.glob(str(out / "*-of-*.h5")))


def temp_present(out: Path) -> bool:
    return bool(glob.glob(str(out / ".*.tmp-*")))


def assert_nothing_half_written(out: Path, ref: dict[str, bytes]) -> None:
    """Every file under a final name is byte-equal to the reference's; no manifest yet."""
    assert not (out / "manifest.json").exists()
    for name in os.listdir(out):
        if name.endswith(".h5") and not name.startswith("."):
            assert (out / name).read_bytes() == ref[name], name


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def all_gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not all(gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(gone(p) for p in pids)


def shard_workers(pid: int) -> list[int]:
    """The pool's worker processes among `pid`'s children (spawned, or forked: same command
    line as the build; not multiprocessing's resource tracker)."""
    def cmdline(p: int) -> bytes:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            return f.read()
    return [c for c in children(pid) if b"spawn_main" in cmdline(c) or cmdline(c) == cmdline(pid)]


@pytest.mark.parametrize("workers,signum", [("1", signal.SIGINT), ("2", signal.SIGINT),
                                            ("2", signal.SIGTERM)])
def test_ctrl_c_stops_cleanly_then_resume_gives_identical_bytes(reference, tmp_path, workers,
                                                                signum):
    src, ref = reference
    out = tmp_path / "out"
    proc = subprocess.Popen(cli(src, out, "-j", workers), stderr=subprocess.PIPE, text=True)
    wait_for(lambda: shards_done(out) >= 2, proc)
    pool = children(proc.pid)
    assert (len(shard_workers(proc.pid)) == 2) == (workers == "2")
    proc.send_signal(signum)  # Ctrl-C; SIGTERM as a job scheduler sends it
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert all_gone(pool)
    assert not temp_present(out) and not (out / LOCK).exists()
    assert_nothing_half_written(out, ref)
    done = subprocess.run(cli(src, out, "-j", workers, "--resume"), capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert files(out) == ref


@pytest.mark.timeout(180)
def test_sigkill_at_three_points_then_resume_gives_identical_bytes(reference, tmp_path):
    src, ref = reference
    out = tmp_path / "out"
    points = [lambda: shards_done(out) >= 1,  # early
              lambda: temp_present(out),  # in the middle of writing a shard
              lambda: shards_done(out) >= len(ref) // 2]  # about half the shards done
    for i, point in enumerate(points):
        proc = subprocess.Popen(cli(src, out, "-j", "1", *(["--resume"] if i else [])),
                                stderr=subprocess.DEVNULL)
        wait_for(point, proc)
        proc.kill()
        assert proc.wait() == -signal.SIGKILL
        assert_nothing_half_written(out, ref)
    assert subprocess.run(cli(src, out, "-j", "1")).returncode == 2  # unfinished: not silently
    before = {p.name: p.stat().st_ino for p in out.glob("*-of-*.h5")}
    done = subprocess.run(cli(src, out, "-j", "2", "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert files(out) == ref  # also: no temp file, lock or journal left
    kept = [n for n, ino in before.items() if (out / n).stat().st_ino == ino]
    assert len(kept) >= len(before) - 1 >= 1  # finished shards were reused, not rewritten


def test_killed_parent_takes_its_workers_along_and_resume_finishes(reference, tmp_path):
    src, ref = reference
    out = tmp_path / "out"
    proc = subprocess.Popen(cli(src, out, "-j", "2"), stderr=subprocess.DEVNULL)
    wait_for(lambda: shards_done(out) >= 2, proc)
    workers = shard_workers(proc.pid)
    proc.kill()
    proc.wait()
    assert len(workers) == 2 and all_gone(workers)  # no orphan keeps writing into out/
    assert_nothing_half_written(out, ref)
    done = subprocess.run(cli(src, out, "-j", "2", "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert files(out) == ref


def test_a_worker_killed_mid_build_is_a_one_line_error(reference, tmp_path):
    src, ref = reference
    out = tmp_path / "out"
    proc = subprocess.Popen(cli(src, out, "-j", "2"), stderr=subprocess.PIPE, text=True)
    wait_for(lambda: shards_done(out) >= 2, proc)
    os.kill(shard_workers(proc.pid)[0], signal.SIGKILL)  # as the OOM killer would
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "worker process died" in err
    assert not temp_present(out)
    assert_nothing_half_written(out, ref)
    done = subprocess.run(cli(src, out, "-j", "2", "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert files(out) == ref


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("workers", ["1", "2"])
def test_file_size_limit_names_the_shard_and_resumes(reference, tmp_path, workers):
    src, ref = reference
    out = tmp_path / "out"
    limited = subprocess.run(cli(src, out, "-j", workers), capture_output=True, text=True,
                             preexec_fn=_limit_file_size(32_000))  # shards are ~64 KB
    assert limited.returncode == 2
    lines = limited.stderr.strip().splitlines()
    assert len(lines) == 1 and "-of-" in lines[0] and "File too large" in lines[0]
    assert not temp_present(out)
    assert_nothing_half_written(out, ref)
    done = subprocess.run(cli(src, out, "-j", workers, "--resume"), capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert files(out) == ref


def test_second_build_into_the_same_output_is_refused_naming_the_first(reference, tmp_path):
    src, _ = reference
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from simgen.lock import output_lock\n"
         "with output_lock(sys.argv[1]):\n print('locked', flush=True); time.sleep(60)",
         str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SimgenError, match=f"pid {holder.pid} on "):
            simgen.build(str(src), str(out), learning_size=3, num_tuples=10, image_size=8,
                         seed=1, workers=1, quiet=True)
        assert sorted(os.listdir(out)) == [LOCK]  # the refused build wrote nothing
    finally:
        holder.kill()
        holder.wait()
    # the holder died holding the lock: its lock file is stale and does not block
    assert (out / LOCK).exists()
    simgen.build(str(src), str(out), learning_size=3, num_tuples=10, image_size=8, seed=1,
                 workers=1, quiet=True)
    assert (out / "manifest.json").exists() and not (out / LOCK).exists()


def test_lock_is_exclusive_within_one_process_too(tmp_path):
    with output_lock(str(tmp_path / "o")):
        with pytest.raises(SimgenError, match=f"pid {os.getpid()}"):
            with output_lock(str(tmp_path / "o")):
                pass


def test_identical_bytes_for_workers_1_2_4_run_after_run(reference, tmp_path):
    src, ref = reference
    for run, workers in enumerate([4, 2, 1, 2]):
        out = tmp_path / f"w{workers}-{run}"
        simgen.build(str(src), str(out), learning_size=3, num_tuples=TUPLES, image_size=16,
                     shard_size="64KiB", seed=5, workers=workers, quiet=True)
        assert files(out) == ref  # shards and manifest.json, byte for byte


def test_resume_rebuilds_shards_that_no_longer_match(reference, tmp_path):
    src, ref = reference
    out = tmp_path / "out"
    opts = dict(learning_size=3, num_tuples=TUPLES, image_size=16, shard_size="64KiB",
                workers=1, quiet=True)
    simgen.build(str(src), str(out), seed=6, **opts)  # another seed: other bytes
    assert files(out) != ref
    with pytest.raises(SimgenError, match="different dataset"):
        simgen.build(str(src), str(out), seed=5, resume=True, **opts)
    (out / "manifest.json").unlink()  # as if a seed-6 build had been killed at the end
    simgen.build(str(src), str(out), seed=5, resume=True, **opts)
    assert files(out) == ref
    names = sorted(n for n in ref if n.endswith(".h5"))
    data = bytearray((out / names[3]).read_bytes())
    data[len(data) // 2] ^= 1
    (out / names[3]).write_bytes(bytes(data))  # a finished dataset with one damaged shard
    inodes = {n: (out / n).stat().st_ino for n in names}
    simgen.build(str(src), str(out), seed=5, resume=True, **opts)
    assert files(out) == ref
    rewritten = [n for n in names if (out / n).stat().st_ino != inodes[n]]
    assert rewritten == [names[3]]  # the sound shards were kept, not rewritten


SLOW_START = """
import sys, time
import simgen.executor as ex
real = ex._init_worker
def slow(*args):
    time.sleep(1.5)  # widen the gap between a worker's fork and its own signal handlers
    real(*args)
ex._init_worker = slow
sys.argv = ["simgen", "build"] + sys.argv[1:]
from simgen.cli import main
main()
"""


def test_a_signal_to_the_whole_group_while_workers_start_is_still_one_line(reference,
                                                                           tmp_path):
    """SIGTERM to the process group (as Slurm or systemd send it) while forked workers have
    not yet run their initializer: they must not run the CLI's handler (a traceback each)."""
    src, _ = reference
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_START, str(src), *ARGS, "--out",
                             str(out), "-j", "2"], stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ,
                                                         "SIMGEN_START_METHOD": "fork"})
    wait_for(lambda: len(children(proc.pid)) == 2, proc)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not temp_present(out) and not (out / LOCK).exists()
