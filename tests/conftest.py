from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

try:  # ragas (the judge extra) imports datasets: imported once up front, pytester's module snapshots must not
    import datasets  # noqa: F401 - re-import it; a core install has none
except ImportError:
    pass

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
TECHCORP = ROOT / "golden_sets" / "techcorp"

TINY_FIELDS = {
    "number": {"type": "string", "description": "document number"},
    "date": {"type": "date", "description": "issue date"},
    "total": {"type": "money", "description": "total"},
    "currency": {"type": "enum", "values": ["USD", "EUR"], "aliases": {"USD": ["$"]}},
    "codes": {"type": "list", "description": "product codes"},
}


def tiny_docs() -> list[dict]:
    docs = []
    kinds = [("invoice", "Invoice"), ("receipt", "Receipt"), ("contract", "Agreement")]
    for i in range(18):
        label, noun = kinds[i % 3]
        split = "train" if i < 12 else "test"
        fields = {"number": f"N-{i:03d}", "date": f"2024-03-{i + 1:02d}", "total": f"{10 * i + 5}.50",
                  "currency": "USD" if i % 2 else "EUR", "codes": [f"AB-{100 + i}"] if label != "contract" else None}
        text = (f"{noun} {fields['number']}\nDate: 03/{i + 1:02d}/2024\nTotal: {fields['currency']} "
                f"{fields['total']}\n")
        if fields["codes"]:
            text += f"Item: {fields['codes'][0]}\n"
        docs.append({"id": f"d{i:03d}", "split": split, "text": text, "label": label, "fields": fields,
                     "summary": f"{noun} {fields['number']}." if split == "test" and i % 3 == 0 else None})
    return docs


def tiny_qa() -> list[dict]:
    return [{"id": "q1", "split": "test", "doc_ids": ["d012"], "question": "What is the total of N-012?",
             "reference_answer": "EUR 125.50", "reference_contexts": ["Total: EUR 125.50"]}]


def write_golden(root: Path, docs: list[dict] | None = None, qa: list[dict] | None = None,
                 raw_docs: bytes | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    data = raw_docs if raw_docs is not None else "".join(
        json.dumps(d) + "\n" for d in (docs if docs is not None else tiny_docs())).encode()
    (root / "documents.jsonl").write_bytes(data)
    qa_bytes = "".join(json.dumps(q) + "\n" for q in (qa if qa is not None else tiny_qa())).encode()
    (root / "qa.jsonl").write_bytes(qa_bytes)
    manifest = {"name": "tiny", "version": "0.1", "description": "test set",
                "labels": ["invoice", "receipt", "contract"], "fields": TINY_FIELDS, "splits": ["train", "test"],
                "files": {"documents.jsonl": {"sha256": hashlib.sha256(data).hexdigest()},
                          "qa.jsonl": {"sha256": hashlib.sha256(qa_bytes).hexdigest()}}}
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    """Relative outputs (artifacts/, results/) land in the test's own directory, not the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def tiny_golden(tmp_path) -> Path:
    return write_golden(tmp_path / "tiny")


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"public samples not present at {REALDATA}")
    return REALDATA


@pytest.fixture
def cli(capsys):
    """Run the harness CLI in-process: returns (exit code, stdout, stderr)."""
    from harness.cli import main

    def _run(*args: str):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.fixture
def aws_env(monkeypatch):
    """Dummy SigV4 credentials and no EC2 metadata lookups: Bedrock clients talk only to the loopback stand-in."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                 "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


# as root in a container chromium needs --no-sandbox; the rest keep it from calling Google's hosts at start-up
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.skip("no chromium on this machine (make test installs Debian's chromium when run as root with "
                    "apt-get; elsewhere: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup installs it)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=BROWSER_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def mlops_artifacts(tmp_path_factory) -> Path:
    """The MLOps model on the default golden set, trained once for the session (``harness shadow simulate`` trains
    it on first use under ``./artifacts``, and each test works in its own directory)."""
    from harness.golden import default_golden, load_golden_set
    from harness.pipelines import build_predictor

    root, cwd = tmp_path_factory.mktemp("mlops"), os.getcwd()
    os.chdir(root)
    try:
        build_predictor("mlops", load_golden_set(default_golden()), progress=lambda _: None).predictor.close()
    finally:
        os.chdir(cwd)
    return root / "artifacts"


@pytest.fixture
def trained(mlops_artifacts, tmp_path) -> None:
    """The test's working directory (``tmp_path``) sees the MLOps model trained once (:func:`mlops_artifacts`)."""
    (tmp_path / "artifacts").symlink_to(mlops_artifacts, target_is_directory=True)
