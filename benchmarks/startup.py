"""Benchmark: how long the ``harness`` command takes to start, as a whole process (issue 27: under 0.3 s).

    .venv/bin/python benchmarks/startup.py [--repeat 5] [--root DIR] [--imports]

Before the clock starts (not timed): a small run, ``harness score`` of 40 predictions on the TechCorp test
split, in a temporary folder. Timed, each ``--repeat`` times after one untimed warm-up (the file cache warm,
as it is for a user's second command), as new processes of this interpreter:

* ``harness --help``
* ``harness report RUN`` (the run's metrics as a table)
* ``python -c 'import harness.golden'``

Prints each wall time, the median wall time and the median CPU time (user + system: steadier when other work
shares the machine) of each; the target is a median wall time under 0.3 s for the first two (the import
alone is reported, it has no target). ``--root`` times another checkout's code (e.g. an older one, to compare);
``--imports`` adds the slowest imports of ``harness report RUN`` (``python -X importtime``), what to look at
when the time grows. Unit tests check what the commands import (tests/test_extras.py), never the clock.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
HARNESS = "import sys; sys.argv[0] = 'harness'; from harness.cli import main; raise SystemExit(main())"


def env_for(root: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop("PYTHONSTARTUP", None)
    return env


def make_run(root: Path, tmp: Path) -> Path:
    """A scored run of 40 TechCorp test documents (their gold labels as predictions)."""
    golden = root / "golden_sets" / "techcorp"
    preds = tmp / "predictions.jsonl"
    with open(golden / "documents.jsonl", encoding="utf-8") as src, open(preds, "w", encoding="utf-8") as dst:
        n = 0
        for line in src:
            doc = json.loads(line)
            if doc["split"] == "test" and n < 40:
                dst.write(json.dumps({"id": doc["id"], "label": doc["label"]}) + "\n")
                n += 1
    run = tmp / "run"
    subprocess.run([sys.executable, "-c", HARNESS, "score", "--golden", str(golden), "--split", "test",
                    "--predictions", str(preds), "--out", str(run)], env=env_for(root), cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run


def timed(cmd: list[str], env: dict, cwd: Path, repeat: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds: user + system) of ``repeat`` runs of ``cmd`` after one warm-up run; each must
    exit 0. The CPU time hardly moves when other work shares the machine; the wall time does."""
    walls, cpus = [], []
    for i in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def slowest_imports(cmd: list[str], env: dict, cwd: Path, n: int = 10) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the ``n`` slowest top-level imports of ``cmd`` (``-X importtime``)."""
    res = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in res.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if not name.startswith("  "):  # imported by the program itself, not by another module
                rows.append((int(parts[1]) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is timed (default: this one)")
    ap.add_argument("--imports", action="store_true", help="also list the slowest imports of harness report RUN")
    args = ap.parse_args()
    root = args.root.resolve()
    env = env_for(root)
    with tempfile.TemporaryDirectory(prefix="harness-startup-") as name:
        tmp = Path(name)
        run = make_run(root, tmp)
        cases = [("harness --help", [sys.executable, "-c", HARNESS, "--help"], TARGET_S),
                 ("harness report RUN", [sys.executable, "-c", HARNESS, "report", str(run)], TARGET_S),
                 ("python -c 'import harness.golden'", [sys.executable, "-c", "import harness.golden"], None)]
        print(f"start-up of {root} with {sys.executable} (Python {sys.version.split()[0]}), median of "
              f"{args.repeat} runs after one warm-up")
        ok = True
        for title, cmd, target in cases:
            walls, cpus = timed(cmd, env, tmp, args.repeat)
            median = statistics.median(walls)
            verdict = "" if target is None else f"  target < {target} s: {'met' if median < target else 'NOT met'}"
            ok &= target is None or median < target
            print(f"  {title:36s} median {median:.3f} s (CPU {statistics.median(cpus):.3f} s)   runs "
                  f"{' '.join(f'{t:.3f}' for t in walls)}{verdict}")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        if load is not None and load > (os.cpu_count() or 1):
            print(f"  note: the machine was busy (load {load:.1f} on {os.cpu_count()} cores): wall times are inflated, "
                  "the CPU times are the steadier figure")
        if args.imports:
            print("slowest imports of harness report RUN (cumulative):")
            for seconds, module in slowest_imports(cases[1][1], env, tmp):
                print(f"  {seconds:.3f} s  {module}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
