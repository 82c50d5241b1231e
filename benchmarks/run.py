"""simgen side by side with what users run today, on the same jobs, in one run.

Each method runs as a whole process (subprocess). Wall time from start to exit; CPU time =
user + sys of the process and every descendant it waited for (getrusage RUSAGE_CHILDREN);
peak memory = the largest sum over the live process tree (the process and all its children,
e.g. pool workers), polled every 50 ms with psutil, as RSS and as PSS (proportional set size:
pages shared between processes, like a memory-mapped decode cache or shared libraries,
counted once). Runs are interleaved (repeat 1 of every method, then repeat 2, ...) so that
load from other users of the machine hits all methods alike; tables give medians.

    python benchmarks/run.py [--repeats 3] [--paper-repeats 1] [--out bench-out] [--quick]

Writes bench-out/results.json and the tables between the markers in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from dataset import make_dataset  # noqa: E402
from drafting import draft_table, screen_line  # noqa: E402

PY = sys.executable
SIMGEN = [PY, "-m", "simgen.cli", "build"]
BEGIN, END = "<!-- bench:run.py:begin -->", "<!-- bench:run.py:end -->"

# name: (k, image size, tuples)
JOBS = {
    "J1": (3, 64, 20_000),
    "J2": (2, 224, 4_000),
    "J3": (3, 64, 200_000),
}


def tree_memory(proc: psutil.Process) -> tuple[int, int]:
    """(RSS, PSS) summed over `proc` and its live descendants, in bytes."""
    rss = pss = 0
    for p in [proc] + proc.children(recursive=True):
        try:
            info = p.memory_full_info()
            rss, pss = rss + info.rss, pss + info.pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return rss, pss


def measure(cmd: list[str], log: str) -> dict:
    """Run `cmd` to completion: wall, cpu seconds, peak tree RSS/PSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, "ab") as err:
        popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=HERE)
        proc = psutil.Process(popen.pid)
        peak_rss = peak_pss = 0
        while popen.poll() is None:
            try:
                rss, pss = tree_memory(proc)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.05)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if popen.returncode:
        raise SystemExit(f"failed ({popen.returncode}): {' '.join(cmd)}; see {log}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_mb": peak_rss / 2**20, "pss_mb": peak_pss / 2**20}


def simgen_cmd(data: str, out: str, k: int, size: int, n: int, *extra: str) -> list[str]:
    return SIMGEN + [data, "-k", str(k), "--num-tuples", str(n), "--image-size", str(size),
                     "--seed", "1", "--out", out, "--overwrite", "-q", *extra]


def peer_cmd(script: str, data: str, out: str, k: int, size: int, n: int,
             *extra: str) -> list[str]:
    return [PY, os.path.join(HERE, "peers", script), data, out, str(k), str(size), str(n), "1",
            *extra]


def methods(job: str, data: str, work: str) -> dict[str, list[str]]:
    """Every method run on `job`: the command line of each."""
    k, size, n = JOBS[job]
    out = os.path.join(work, "out")
    simgen = lambda *extra: simgen_cmd(data, out, k, size, n, *extra)  # noqa: E731
    peer = lambda script, *extra: peer_cmd(script, data, out + ".file", k, size, n,  # noqa: E731
                                           *extra)
    if job == "J3":
        return {"simgen": simgen()}
    found = {"simgen": simgen(), "keras way": peer("keras_way.py"),
             "floor": peer("floor.py"), "paper way": peer("paper_way.py")}
    if job == "J1":
        found["simgen --workers 1"] = simgen("--workers", "1")
        found["floor, 1 process"] = peer("floor.py", "1")
        found["simgen --layout indexed"] = simgen("--layout", "indexed")
    return found


def output_bytes(work: str) -> int:
    """Bytes the last run wrote (a dataset folder or one file)."""
    out = os.path.join(work, "out")
    if os.path.isdir(out):
        return sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    return os.path.getsize(out + ".file")


def clean(work: str) -> None:
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    if os.path.exists(os.path.join(work, "out.file")):
        os.unlink(os.path.join(work, "out.file"))


def run_job(job: str, data: str, work: str, repeats: int, paper_repeats: int) -> dict:
    """Interleaved repeats of every method on `job` → {method: [run dicts]}."""
    cmds = methods(job, data, work)
    runs: dict[str, list[dict]] = {m: [] for m in cmds}
    for r in range(repeats):
        for name, cmd in cmds.items():
            if name == "paper way" and r >= paper_repeats:
                continue
            clean(work)
            result = measure(cmd, os.path.join(work, "stderr.log"))
            result["bytes"] = output_bytes(work)
            if name == "simgen --layout indexed" and r == 0:
                result["same_tuples"] = indexed_equals_dense(data, work, job)
            runs[name].append(result)
            print(f"{job} {name:24s} run {r + 1}: {result['wall']:7.2f} s wall "
                  f"{result['cpu']:7.2f} s cpu {result['rss_mb']:7.0f} MB rss "
                  f"{result['pss_mb']:7.0f} MB pss", flush=True)
    clean(work)
    runs = {m: r for m, r in runs.items() if r}
    return {"job": JOBS[job], "commands": {m: " ".join(c) for m, c in cmds.items() if m in runs},
            "runs": runs}


def indexed_equals_dense(data: str, work: str, job: str) -> bool:
    """Build the dense twin of the indexed dataset just written; compare every tuple."""
    import numpy as np

    import simgen

    k, size, n = JOBS[job]
    dense = os.path.join(work, "dense-twin")
    subprocess.run(simgen_cmd(data, dense, k, size, n), check=True, cwd=HERE)
    a = simgen.load(os.path.join(work, "out"))["train"]
    b = simgen.load(dense)["train"]
    same = len(a) == len(b) and all(
        all(np.array_equal(x, y) for x, y in zip(a[i : i + 2048], b[i : i + 2048]))
        for i in range(0, len(a), 2048))
    shutil.rmtree(dense)
    return same


def phase_line(data: str, work: str) -> str:
    """One J1 build timed phase by phase (benchmarks/phases.py), as a sentence."""
    k, size, n = JOBS["J1"]
    raw = subprocess.run([PY, os.path.join(HERE, "phases.py"), data, os.path.join(work, "out"),
                          str(k), str(size), str(n)], check=True, capture_output=True, text=True,
                         cwd=HERE).stdout
    p = json.loads(raw.strip().splitlines()[-1])
    parts = ", ".join(f"{name} {sec:.2f} s" for name, sec in p.items()
                      if name not in ("images decoded", "shards", "workers"))
    return (f"Where simgen's J1 time goes (one extra build, phases timed in-process, "
            f"{p['workers']} workers, {p['images decoded']:,} images decoded once, "
            f"{p['shards']} shards): {parts}.")


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def summary(results: dict) -> dict:
    """Medians per job and method."""
    return {job: {m: {key: median(runs, key) for key in ("wall", "cpu", "rss_mb", "pss_mb", "bytes")}
                  | {"n": len(runs)} for m, runs in r["runs"].items()}
            for job, r in results["jobs"].items()}


def job_table(job: str, med: dict, cmds: dict) -> list[str]:
    k, size, n = JOBS[job]
    base = med["simgen"]["wall"]
    lines = [f"**{job}** — k={k}, {size}x{size}, {n:,} tuples", "",
             "| method | runs | wall s (median) | wall / simgen | CPU s | peak RSS MB (tree) "
             "| peak PSS MB (tree) | output MB |", "|---|---|---|---|---|---|---|---|"]
    for m, s in med.items():
        lines.append(f"| {m} | {s['n']} | {s['wall']:.2f} | {s['wall'] / base:.2f}x | "
                     f"{s['cpu']:.2f} | {s['rss_mb']:.0f} | {s['pss_mb']:.0f} | "
                     f"{s['bytes'] / 1e6:.0f} |")
    return lines + [""]


def targets(med: dict, results: dict) -> list[str]:
    """Every target of issue 5, with the measured value and met / MISSED."""
    if "J1" not in med:
        return []
    j1, j3 = med["J1"], med.get("J3")
    rows = [("J1 simgen wall <= 1.3 x floor", j1["simgen"]["wall"] / j1["floor"]["wall"], 1.3, "le"),
            ("J1 simgen wall <= 1/3 of keras way",
             j1["simgen"]["wall"] / j1["keras way"]["wall"], 1 / 3, "le"),
            ("J1 simgen peak RSS (tree sum) <= 300 MB", j1["simgen"]["rss_mb"], 300, "le"),
            ("J1 simgen peak PSS (tree sum) <= 300 MB", j1["simgen"]["pss_mb"], 300, "le"),
            ("J4 all cores >= 1.7 x one core (speed-up)",
             j1["simgen --workers 1"]["wall"] / j1["simgen"]["wall"], 1.7, "ge"),
            ("J4 reference, not a target: floor all cores / 1 process (what the machine allowed)",
             j1["floor, 1 process"]["wall"] / j1["floor"]["wall"], 0, "ge"),
            ("indexed shard >= 2x smaller than dense (size ratio)",
             j1["simgen"]["bytes"] / j1["simgen --layout indexed"]["bytes"], 2, "ge")]
    if j3:
        rows.append(("J3 peak RSS within 10 % of J1 (ratio J3/J1)",
                     j3["simgen"]["rss_mb"] / j1["simgen"]["rss_mb"], 1.10, "le"))
    out = ["| target | measured | verdict |", "|---|---|---|"]
    for name, value, bound, how in rows:
        ok = value <= bound if how == "le" else value >= bound
        verdict = "reference" if bound == 0 else "met" if ok else "MISSED"
        out.append(f"| {name} | {value:.2f} | {verdict} |")
    same = results["jobs"]["J1"]["runs"]["simgen --layout indexed"][0].get("same_tuples")
    out.append(f"| indexed layout loads to the same tuples as dense (all {JOBS['J1'][2]:,}) | "
               f"{same} | {'met' if same else 'MISSED'} |")
    return out + [""]


def machine() -> dict:
    import h5py
    import numpy
    import PIL

    from importlib.metadata import PackageNotFoundError, version

    try:  # versions without importing tensorflow into this (measuring) process
        tfv = f"tensorflow-cpu {version('tensorflow-cpu')}, keras {version('keras')}"
    except PackageNotFoundError:
        tfv = "tensorflow not installed"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu,
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version,
            "pillow": PIL.__version__, "tf": tfv, "load_avg_at_start": os.getloadavg()}


def report(results: dict) -> str:
    med = summary(results)
    m = results["machine"]
    lines = [BEGIN, "",
             f"Measured {results['started']} UTC by `make bench` (`benchmarks/run.py`), "
             f"{results['repeats']} interleaved repeats ({results['paper_repeats']} for the paper "
             f"way), medians. Machine: {m['nproc']} x {m['cpu']}, {m['memory_gb']} GB RAM; "
             f"Python {m['python']}, numpy {m['numpy']}, h5py {m['h5py']} (HDF5 {m['hdf5']}), "
             f"Pillow {m['pillow']}, {m['tf']}. Load average at start: "
             f"{', '.join(f'{x:.1f}' for x in m['load_avg_at_start'])} (shared machine).", ""]
    for job in results["jobs"]:
        lines += job_table(job, med[job], results["jobs"][job]["commands"])
    lines += ["Targets:", ""] + targets(med, results)
    lines += ["JPEG draft (decode + resize of 200 benchmark photos, one core, same process):", ""]
    lines += results["draft"] + ["", results["screen"], "", results["phases"], "", "Commands (run from `benchmarks/`):", ""]
    for job, r in results["jobs"].items():
        for name, cmd in r["commands"].items():
            short = (cmd.replace(PY, "python").replace(results["work"], "WORK")
                     .replace(HERE + os.sep, ""))
            lines.append(f"* {job} {name}: `{short}`")
    return "\n".join(lines + ["", END])


def write_report(text: str) -> None:
    """Replace the tables between the markers in BENCHMARKS.md (or append them)."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paper-repeats", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    parser.add_argument("--jobs", default="J1,J2,J3")
    args = parser.parse_args()
    work = os.path.abspath(args.out)
    os.makedirs(work, exist_ok=True)
    data = make_dataset(os.path.join(work, "photos"))
    for root, _, files in os.walk(data):  # warm the page cache alike for every method
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                fh.read()
    results = {"started": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": machine(),
               "repeats": args.repeats, "paper_repeats": args.paper_repeats, "work": work,
               "draft": draft_table(data), "screen": screen_line(data), "jobs": {}}
    for job in args.jobs.split(","):
        results["jobs"][job] = run_job(job, data, work, args.repeats, args.paper_repeats)
    results["phases"] = phase_line(data, work)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    text = report(results)
    write_report(text)
    print(text)


if __name__ == "__main__":
    main()
