"""The package as a user installs it.

``python -m build`` gives an sdist and a wheel that carry every data file the code reads at run time (the
repository's files are listed against the archives), and ``twine check`` passes. The wheel is installed, not
editable, into fresh virtual environments and run from a directory outside the checkout:

* the core alone: ``harness golden verify`` on the shipped sets, MLOps runs with ``--limit``, ``gates``,
  ``report --format html``, ``compare`` and ``leaderboard``; the LLMOps pipeline stops with the one line that
  names the missing extra;
* with ``[bedrock]``: the LLMOps pipeline against the Bedrock stand-in (started in this process).

Neither environment holds torch, llama.cpp, NVIDIA's or CUDA's packages. One build serves every test; the
installs come from pip's cache after the first time (``-c requirements/constraints.txt``: the tested versions).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from install_size import clean_env, compiled, heavy_packages, new_venv, pip_install, site_packages  # noqa: E402

PACKAGES = ("harness", "pipelines", "metrics", "golden_sets")  # the import packages the wheel ships
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
# the MLOps model trained small: the run checks the installed package, not the model's quality (~40 s)
SMALL_MODEL = ["--set", "classifier.n_estimators=10", "--set", "classifier.max_depth=3",
               "--set", "extractor.n_estimators=10", "--set", "extractor.max_depth=3"]


def repository_files(*under: str) -> list[str]:
    """The repository's files (``under`` these folders): what a fresh clone of the working tree holds, i.e.
    git's tracked and new files less the ignored ones; outside a git checkout (an unpacked sdist) the tree less
    what builds, caches and environments leave."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                              "--", *under], capture_output=True, text=True, check=True, timeout=60).stdout.split("\0")
    except (OSError, subprocess.SubprocessError):
        skip = {"__pycache__", ".venv", ".tox", "build", "dist", "artifacts", ".cache", ".pytest_cache"}
        out = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()
               and not skip & set(p.relative_to(ROOT).parts) and not any(x.endswith(".egg-info") for x in p.parts)]
        out = [p for p in out if not under or p.split("/")[0] in under]
    return sorted(p for p in out if p and (ROOT / p).is_file())


def timed(what: str, timings: dict, cmd: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, keep its wall time under ``what``, and fail with its output unless it exits 0."""
    t0 = time.perf_counter()
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kwargs)
    timings[what] = round(time.perf_counter() - t0, 1)
    assert res.returncode == 0, f"{what}: exit {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res


@pytest.fixture(scope="module")
def timings():
    """Seconds per step, printed at the end of the module (pytest -s shows them)."""
    out: dict[str, float] = {}
    yield out
    print("\nwheel tests, seconds per step:", json.dumps(out))


@pytest.fixture(scope="module")
def dist(tmp_path_factory, timings) -> dict[str, Path]:
    """One sdist and one wheel for the module: ``python -m build`` (the wheel is built from the sdist)."""
    out, src = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("src")
    for f in repository_files():  # a clean copy: a previous build's egg-info in the checkout would add its files
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    timed("build", timings, [sys.executable, "-m", "build", "--outdir", out, src])
    found = {"sdist": list(out.glob("*.tar.gz")), "wheel": list(out.glob("*.whl"))}
    assert all(len(v) == 1 for v in found.values()), found
    return {k: v[0] for k, v in found.items()}


def make_venv(where: Path, requirement: str, what: str, timings: dict) -> Path:
    """A fresh virtual environment with ``requirement`` installed as a user would, at the tested versions,
    from wheels only (pip compiles nothing)."""
    new_venv(where)
    seconds, res = pip_install(where, requirement, "--no-compile")
    timings[f"{what}: pip install"] = round(seconds, 1)
    assert res.returncode == 0, f"{what}: pip install {requirement}\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    built = compiled(res.stdout + res.stderr)
    assert not built, f"{what}: pip built from source: {built}"
    return where


@pytest.fixture(scope="module")
def core_env(tmp_path_factory, dist, timings) -> Path:
    return make_venv(tmp_path_factory.mktemp("core") / "venv", str(dist["wheel"]), "core", timings)


@pytest.fixture(scope="module")
def bedrock_env(tmp_path_factory, dist, timings) -> Path:
    return make_venv(tmp_path_factory.mktemp("bedrock") / "venv", f"{dist['wheel']}[bedrock]", "bedrock", timings)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working directory outside the checkout (no golden_sets/ or artifacts/ of the repository's around)."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def harness(venv: Path, cwd: Path, *args, timings: dict, what: str, env: dict | None = None) -> str:
    """The installed ``harness`` command (the venv's console script), run in ``cwd``; its stdout."""
    return timed(what, timings, [venv / "bin" / "harness", *args], cwd=cwd, env=env or clean_env(venv)).stdout


def assert_nothing_heavy(venv: Path) -> None:
    assert (site_packages(venv) / "harness").is_dir()
    heavy = heavy_packages(venv)
    assert not heavy, f"installed in {venv}: {heavy}"


# ------------------------------------------------------------------------------------------------- the archives
def test_wheel_and_sdist_carry_every_file_the_code_reads(dist):
    """Every file of the import packages in the repository (templates, pipeline configs, prompts, criteria,
    judge and cost settings, price files, scenarios, guardrail JSON, the golden sets) is in the wheel, and in
    the sdist; the wheel holds nothing else but its metadata; the sdist carries what its tests need."""
    files = repository_files(*PACKAGES)
    data = [f for f in files if not f.endswith(".py")]
    assert len(data) > 40 and "golden_sets/techcorp/documents.jsonl" in data and "harness/judge/judge.yaml" in data
    with zipfile.ZipFile(dist["wheel"]) as z:
        wheel = set(z.namelist())
    missing = [f for f in files if f not in wheel]
    assert not missing, f"not in the wheel: {missing}"
    assert {n.split("/")[0] for n in wheel} - set(PACKAGES) == {n.split("/")[0] for n in wheel if ".dist-info/" in n}
    with tarfile.open(dist["sdist"]) as t:
        sdist = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    missing = [f for f in files if f not in sdist]
    assert not missing, f"not in the sdist: {missing}"
    for f in ("pyproject.toml", "README.md", "requirements/constraints.txt", "tests/conftest.py",
              "tests/bedrock_standin.py", "tests/test_wheel.py"):
        assert f in sdist, f


def test_twine_check_passes(dist):
    res = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", dist["sdist"], dist["wheel"]],
                         capture_output=True, text=True, env=clean_env())
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("PASSED") == 2


# ------------------------------------------------------------------------------------------------------- core
def test_core_install_runs_the_mlops_job_outside_the_checkout(core_env, outside, timings):
    venv, cwd = core_env, outside
    assert_nothing_heavy(venv)
    where = timed("core: where", timings, [venv / "bin" / "python", "-c",
                  "import harness, golden_sets, pathlib; from harness.paths import checkout_root; "
                  "from harness.guardrails.injection import ARTIFACTS; "
                  "print(pathlib.Path(harness.__file__).parent); print(pathlib.Path(golden_sets.__file__).parent); "
                  "print(checkout_root()); print(ARTIFACTS)"], cwd=cwd, env=clean_env(venv)).stdout.split("\n")
    site = site_packages(venv)
    assert Path(where[0]) == site / "harness" and Path(where[1]) == site / "golden_sets"  # not the checkout's
    assert where[2:4] == ["None", "artifacts/guardrails"]  # nothing of a checkout's is written to site-packages

    h = lambda what, *args: harness(venv, cwd, *args, timings=timings, what=f"core: {what}")  # noqa: E731
    out = h("golden verify", "golden", "verify")  # the TechCorp set shipped in the wheel
    assert out.startswith("ok: techcorp ") and "'train': 2400" in out
    assert h("golden verify course", "golden", "verify", site / "golden_sets" / "course").startswith("ok: ")

    h("run a", "run", "--pipeline", "mlops", "--limit", 10, "--out", "results/a", "--no-progress", *SMALL_MODEL)
    h("run b", "run", "--pipeline", "mlops", "--limit", 10, "--out", "results/b", "--no-progress", *SMALL_MODEL,
      "--set", "batch_size=2")  # the same model (trained once, in ./artifacts), another run
    run = json.loads((cwd / "results" / "a" / "run.json").read_text())
    assert run["golden"]["path"].startswith(str(site)) and run["git_commit"] is None
    metrics = json.loads((cwd / "results" / "a" / "metrics.json").read_text())
    assert metrics["counts"]["items"] == 10 and metrics["classification"]["accuracy"] > 0.5
    assert list((cwd / "artifacts" / "mlops").iterdir()) and not (site / "artifacts").exists()

    gates = json.loads(h("gates", "gates", "results/a", "--baseline", "results/b", "--format", "json",
                         "--only", "classification_accuracy,field_extraction_accuracy"))  # what an MLOps run measures
    assert [c["id"] for c in gates["criteria"]] == ["classification_accuracy", "field_extraction_accuracy"]
    assert gates["status"] == "pass" and gates["go_no_go"]["verdict"] == "HOLD"  # weeks of history not measured
    assert gates["criteria_file"] == str(site / "harness" / "criteria" / "techcorp.yaml")  # the shipped criteria
    h("report", "report", "results/a", "results/b", "--format", "html", "--out", "report.html")
    page = (cwd / "report.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "mlops" in page and "<svg" in page
    compare = json.loads(h("compare", "compare", "results/a", "results/b", "--format", "json"))
    assert compare["split"] == "test" and "classification.accuracy" in {r["metric"] for r in compare["rows"]}
    board = h("leaderboard", "leaderboard", "results").splitlines()
    assert [row.split("|")[2].strip() for row in board[2:]] == ["a", "b"]  # ranked, ties in name order

    # the LLMOps pipeline needs an extra the core lacks: one line naming the install command, exit 2
    res = subprocess.run([venv / "bin" / "harness", "run", "--pipeline", "llmops", "--limit", "1", "--out", "results/l",
                          "--no-progress"], cwd=cwd, env=clean_env(venv), capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: ") and "pip install 'docintel-harness[" in res.stderr, res.stderr


# ---------------------------------------------------------------------------------------------------- bedrock
def test_bedrock_install_runs_the_llmops_pipeline_against_the_stand_in(bedrock_env, outside, timings):
    from bedrock_standin import BedrockStandIn
    from test_llmops_bedrock import GoldResponder

    venv, cwd = bedrock_env, outside
    assert_nothing_heavy(venv)
    env = clean_env(venv, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
                    AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    with BedrockStandIn(responder=GoldResponder(), latency_s=0.01) as server:
        harness(venv, cwd, "run", "--pipeline", "llmops", "--split", "test", "--per-class", 1, "--qa-limit", 2,
                "--out", "results/llmops", "--no-progress", "--set", "llm.provider=bedrock",
                "--set", f"llm.model_id={HAIKU}", "--set", f"llm.endpoint_url={server.url}",
                "--set", "embeddings.provider=bedrock", timings=timings, what="bedrock: run llmops", env=env)
        assert server.stats.stream > 0 and server.stats.invoke > 0  # Converse and Titan embeddings were called
    run = json.loads((cwd / "results" / "llmops" / "run.json").read_text())
    assert run["predictor"]["llm"] == {"provider": "bedrock", "model_id": HAIKU}
    assert run["predictor"]["embeddings"] == "bedrock/amazon.titan-embed-text-v2:0"
    metrics = json.loads((cwd / "results" / "llmops" / "metrics.json").read_text())
    assert metrics["counts"]["items"] == 12 + 2 and metrics["classification"]["accuracy"] == 1.0
    assert all(p["tasks"]["answer"]["meta"]["citations"] for p in map(json.loads, (
        cwd / "results" / "llmops" / "predictions.jsonl").read_text().splitlines()) if p["id"].startswith("qa-"))
