"""Benchmark: the report page of a month-sized comparison (50,000 documents), built and opened in a browser.

    .venv/bin/python benchmarks/report_page.py [--docs 50000] [--repeat 3]

Before the clock starts (not timed): the month's documents are generated as in ``mlops_month.py`` and run
through the MLOps pipeline into run A; run B is run A's predictions with one label in twenty changed, scored
with ``harness score`` (a second system on the same documents, so the page has paired statistics and a
document table). Timed, each repetition:

* building the page: ``harness report A B --format html`` (reading both runs and the golden set, the paired
  statistics, the plots, the capped document table);
* opening it: Debian's chromium (headless, through Playwright) from navigation to the ``load`` event, in a
  new tab each time.

Prints the page size, each time and the medians, and the build's median as a ratio to its goal (built in
<= 10 s; opened in < 2 s), with the machine's load (``/proc/loadavg``) before and after. ``--runs DIR`` keeps
the two prepared runs in DIR and reuses them when they are there (preparing them is not timed, and takes
minutes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mlops_month import make_docs, write_month  # noqa: E402

BUILD_GOAL_S = 10.0
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def prepare(n: int, tmp: Path) -> tuple[Path, Path]:
    from harness import runner
    from harness.config import load_config
    from harness.golden import load_golden_set
    from harness.scoring import score_external, score_run
    from harness.predictions_file import read_predictions
    from pipelines.mlops import DEFAULT_CONFIG, MLOpsConfig, artifact_path, build

    techcorp = load_golden_set(ROOT / "golden_sets" / "techcorp")
    cfg = load_config(MLOpsConfig, DEFAULT_CONFIG)
    if not (artifact_path(cfg, techcorp) / "artifact.json").is_file():
        build(cfg, techcorp, progress=lambda m: print(m, file=sys.stderr))
    cfg = cfg.model_copy(update={"artifact_dir": str(artifact_path(cfg, techcorp))})
    golden = load_golden_set(write_month(make_docs(n), tmp / "golden"))
    a = tmp / "mlops-month"
    runner.execute(build(cfg, golden), golden, "test", a, config=cfg.model_dump(mode="json"), config_hash="bench",
                   batch_size=2000, progress=False, overwrite=True, spread_from=runner.SPREAD_FROM)
    score_run(a, golden, progress=False, info=lambda m: None)
    labels = sorted({json.loads(line)["label"] for line in (a / "predictions.jsonl").open() if '"label"' in line})
    changed = tmp / "changed.jsonl"
    with open(a / "predictions.jsonl", encoding="utf-8") as src, open(changed, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            rec = json.loads(line)
            if i % 20 == 0 and rec.get("label"):
                rec["label"] = labels[(labels.index(rec["label"]) + 1) % len(labels)]
            dst.write(json.dumps(rec) + "\n")
    b = tmp / "changed-labels"
    score_external(golden, "test", read_predictions(changed), b, source=str(changed), progress=False,
                   info=lambda m: None)
    return a, b


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--runs", help="a folder to keep the prepared runs in, reused when they are there")
    args = ap.parse_args()
    from harness import gates, pages
    from harness.pages.report import report_page
    from mlops_month import load

    tmp = Path(args.runs) if args.runs else Path(tempfile.mkdtemp(prefix="report-page-"))
    try:
        t = time.perf_counter()
        a, b = tmp / "mlops-month", tmp / "changed-labels"
        if not ((a / "metrics.json").is_file() and (b / "metrics.json").is_file()):
            a, b = prepare(args.docs, tmp)
            print(f"prepared two runs of {args.docs:,} documents in {time.perf_counter() - t:.1f} s (not timed)")
        else:
            print(f"reusing the two runs prepared in {tmp}")
        page = tmp / "report.html"
        load_before = load()
        builds = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            runs = [gates.load_run(a), gates.load_run(b)]
            pages.write_page(page, report_page(runs, gates.load_criteria(), runs[0]))
            builds.append(time.perf_counter() - t0)
        size = page.stat().st_size
        print(f"page: {size / 1024:,.0f} KiB; built in " + ", ".join(f"{x:.2f}" for x in builds) + " s")
        opens = open_times(page, args.repeat)
        print("opened (navigation to load event) in " + ", ".join(f"{x:.3f}" for x in opens) + " s")
        med = statistics.median(opens)
        print(f"median of {args.repeat}: build {statistics.median(builds):.2f} s; open {med:.3f} s "
              f"(target < 2 s: {'MET' if med < 2 else 'NOT MET'}); {args.docs:,} documents, page {size / 1024:,.0f} KiB")
        built = statistics.median(builds)
        print(f"built in {built:.2f} s = {built / BUILD_GOAL_S:.2f} x the goal of {BUILD_GOAL_S:.0f} s "
              f"({'met' if built <= BUILD_GOAL_S else 'not met'}); median of {args.repeat}; load {load_before} "
              f"before, {load()} after")
    finally:
        if not args.runs:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def open_times(page: Path, repeat: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        print("no chromium here (make test installs it): open time not measured")
        return [float("nan")]
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        try:
            for _ in range(repeat):
                tab = browser.new_page(viewport={"width": 1280, "height": 900})
                t0 = time.perf_counter()
                tab.goto(page.as_uri(), wait_until="load")
                out.append(time.perf_counter() - t0)
                rows = tab.locator("#doc-table tbody tr").count()
                tab.close()
        finally:
            browser.close()
    print(f"document table rows on the page: {rows}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
