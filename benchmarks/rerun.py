"""Benchmark: a re-run of a finished 50-document MLOps run with nothing left to do, as a whole process.

    .venv/bin/python benchmarks/rerun.py [--limit 50] [--repeat 3]

Before the clock starts (not timed): ``harness run --pipeline mlops --limit 50`` into a temporary directory
(the default golden set and model, trained first if missing). Timed, each repetition: the same command again,
as a new process, from its start to its exit (wall time, and the CPU time it used). Beside it, the floor: a
Python process that starts and exits (``python -c pass``), and ``harness --help``.

Prints the machine's load (``/proc/loadavg``) before and after, each time, the medians, and the re-run's
median as a ratio to its goal (whole process <= 1 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
GOAL_S = 1.0

from mlops_month import load  # noqa: E402


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process running ``cmd`` to its end; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="rerun-") as tmp:
        cmd = [sys.executable, "-m", "harness.cli", "run", "--pipeline", "mlops", "--limit", str(args.limit),
               "--out", str(Path(tmp) / "run"), "--no-progress"]
        t = time.perf_counter()
        timed(cmd, env)
        print(f"ran {args.limit} documents in {time.perf_counter() - t:.1f} s (not timed)")
        print(f"load before: {load()}")
        floors = {"python -c pass": [sys.executable, "-c", "pass"],
                  "harness --help": [sys.executable, "-m", "harness.cli", "--help"]}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in ("re-run", *floors)}
        for r in range(args.repeat):
            times["re-run"].append(timed(cmd, env))
            for name, floor in floors.items():
                times[name].append(timed(floor, env))
            print(f"run {r + 1}: " + "; ".join(f"{name} {w:.2f} s (CPU {c:.2f} s)" for name, (w, c) in
                                               ((n, v[-1]) for n, v in times.items())))
        print(f"load after: {load()}")
    med = {name: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for name, v in times.items()}
    print(f"median of {args.repeat}: " + "; ".join(f"{name} {w:.2f} s (CPU {c:.2f} s)" for name, (w, c) in med.items()))
    wall = med["re-run"][0]
    print(f"re-run of a finished {args.limit}-document MLOps run, whole process: {wall:.2f} s = "
          f"{wall / GOAL_S:.2f} x the goal of {GOAL_S:.0f} s ({'met' if wall <= GOAL_S else 'not met'}); "
          f"load {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
