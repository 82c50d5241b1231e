"""Where a simgen build's time goes: one J1-style build, phase by phase, in one process.

    python phases.py DATA OUT K SIZE N   → prints one JSON object of seconds per phase
"""
import json
import os
import shutil
import sys
import time


def main(data: str, out: str, k: int, size: int, n: int) -> dict:
    t0 = time.perf_counter()
    from simgen import decodecache, executor
    from simgen.config import default_workers, make_config
    from simgen.job import plan_job

    t1 = time.perf_counter()
    cfg = make_config(directory=data, learning_size=k, num_tuples=n, image_size=size, seed=1,
                      out=out, quiet=True)
    job = plan_job(cfg, screening="deferred")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    t2 = time.perf_counter()
    specs = [s for split in job.splits.values() for s in split.shards]
    caches = executor.allocate_caches(job, specs, out)
    workers = int(os.environ.get("PHASE_WORKERS", 0)) or default_workers()
    with executor.progress_bar(0, True) as bar, \
            executor.task_runner(job, workers, 1000, bar) as runner:
        t3 = time.perf_counter()
        executor.decode_stage(runner, job, executor.vetting_tasks(job, caches), True)
        t4 = time.perf_counter()
        futures = [runner.submit(executor._shard_task, s, out, caches[0]) for s in specs]
        done = [f.result() for f in futures]
        t5 = time.perf_counter()
    decodecache.remove(caches)
    shutil.rmtree(out)
    return {"imports": t1 - t0, "plan (index + plan)": t2 - t1,
            "decode stage": t4 - t3, "shard stage (gather, write, fsync, sha256)": t5 - t4,
            "images decoded": sum(c.shape[0] for c in caches), "shards": len(done),
            "workers": workers}


if __name__ == "__main__":
    a = sys.argv[1:]
    print(json.dumps(main(a[0], a[1], int(a[2]), int(a[3]), int(a[4]))))
