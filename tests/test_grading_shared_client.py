"""Grading's variants share one Bedrock client per process (issue 32, row 3): inside
:func:`harness.models.shared_clients` models with the same parameters get the same ``ChatBedrockConverse``
(no botocore client built per variant), with at least as many connections as the process's call slots;
anything that makes two clients differ gives two; calls from many threads through the shared client get the
replies their own clients get; and a class graded with several slots builds one client."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

pytest.importorskip("langchain_aws")

from bedrock_standin import BedrockStandIn, user_text  # noqa: E402

from harness.models import build_llm, client_config, shared_clients  # noqa: E402
from harness.models import llm as llm_module  # noqa: E402

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
pytestmark = pytest.mark.usefixtures("aws_env")


def _llm(url: str, temperature: float = 0.0, max_tokens: int = 256):
    return build_llm("bedrock", model_id=HAIKU, model_path=None, region="us-east-1", endpoint_url=url,
                     temperature=temperature, max_tokens=max_tokens, n_ctx=2048, n_threads=None, seed=None,
                     botocore_config=client_config(2, 30, 8), cache_dir="unused", cache_enabled=False,
                     cache_params={"temperature": temperature}, progress=lambda m: None)


def _pool(chat) -> int:
    return chat.client.meta.config.max_pool_connections


def test_one_client_per_parameter_set_inside_the_block_and_its_own_outside():
    url = "http://127.0.0.1:9"  # never called: building a client opens no connection
    with shared_clients(32):
        a, b = _llm(url).client, _llm(url).client
        warmer = _llm(url, temperature=0.5).client
        longer = _llm(url, max_tokens=512).client
    assert a is not b and a.chat is b.chat  # two models, one ChatBedrockConverse (one botocore client)
    assert _pool(a.chat) == 32  # the slots' calls at once, above the 16 of llm.concurrency 8
    assert warmer.chat is not a.chat and longer.chat is not a.chat  # what the model is given differs: apart
    own = _llm(url).client
    assert own.chat is not a.chat and _pool(own.chat) == 16  # outside the block: its own, as before
    with shared_clients(8):  # fewer slots: the kept client (32 connections) serves them
        assert _llm(url).client.chat is a.chat
    with shared_clients(64):  # more slots than the kept client's connections: a larger one
        bigger = _llm(url).client.chat
    assert bigger is not a.chat and _pool(bigger) == 64


def test_other_credentials_get_another_client(monkeypatch):
    url = "http://127.0.0.1:9"
    with shared_clients(4):
        first = _llm(url).client.chat
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "another")
        assert _llm(url).client.chat is not first


def _reply(model_id, body):
    return json.dumps({"echo": user_text(body)})


def test_calls_from_many_threads_through_the_shared_client_get_their_own_replies():
    with BedrockStandIn(responder=_reply, latency_s=0.05) as server:
        own = _llm(server.url)
        expected = {i: own.complete("system", f"prompt {i}", None, 64) for i in range(12)}
        got: dict[int, object] = {}

        def variant(first: int) -> None:
            with shared_clients(4):
                model = _llm(server.url)
            for i in range(first, 12, 4):
                got[i] = model.complete("system", f"prompt {i}", None, 64)

        threads = [threading.Thread(target=variant, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(got) == list(range(12))
    for i, r in got.items():
        assert json.loads(r.text) == {"echo": f"prompt {i}"}
        assert (r.text, r.input_tokens, r.output_tokens, r.stop_reason) == \
            (expected[i].text, expected[i].input_tokens, expected[i].output_tokens, expected[i].stop_reason)


def test_a_class_graded_with_several_slots_builds_one_client(tmp_path):
    """Five variants (the reference and four students) on 3 slots: one client kept for the stand-in's address,
    with 16 connections (llm.concurrency 8's, above the 3 slots); grades as with one variant at a time."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from grading_bench import Responder, make_class

    from harness.golden import load_golden_set
    from harness.grading import grade_class

    golden = load_golden_set(Path(__file__).resolve().parents[1] / "golden_sets" / "course")
    c = make_class(tmp_path / "class", 4, "[classify]", local=False)
    grades = {}
    with BedrockStandIn(responder=Responder(golden.manifest.labels[0])) as server:
        sets = ["llm.provider=bedrock", f"llm.model_id={HAIKU}", f"llm.endpoint_url={server.url}",
                "cache.enabled=false", f"index_dir={tmp_path / 'index'}"]
        for workers in (3, 1):
            out = tmp_path / f"out{workers}"
            grade_class(c / "assignment.yaml", c / "submissions", c / "roster.csv", out, overrides=sets,
                        progress=False, info=lambda m: None, workers=workers)
            grades[workers] = (out / "grades.csv").read_bytes()
        kept = [v for k, v in llm_module._SHARED.items() if server.url in k]
    assert len(kept) == 1 and kept[0][0] == 16
    assert grades[3] == grades[1]


def _bench_class(tmp_path: Path, n: int):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from grading_bench import Responder, make_class

    from harness.golden import load_golden_set

    golden = load_golden_set(Path(__file__).resolve().parents[1] / "golden_sets" / "course")
    return make_class(tmp_path / "class", n, "[classify]", local=False), Responder(golden.manifest.labels[0])


def test_near_duplicates_are_found_beside_the_calls_not_before_the_first(tmp_path, monkeypatch):
    """The similarity check (scikit-learn, seconds to import cold) runs in a thread once a variant is back,
    not on the main thread before any call; the class summary lists the same pairs it computes."""
    from harness.grading import classroom, grade_class, similarity

    c, responder = _bench_class(tmp_path, 3)
    seen: dict[str, object] = {}
    real_flagged, real_run_jobs = similarity.flagged, classroom.run_jobs

    def flagged(*args, **kwargs):
        seen["thread"] = threading.current_thread().name
        seen["after_a_result"] = bool(seen.get("results"))
        seen["value"] = real_flagged(*args, **kwargs)
        return seen["value"]

    def run_jobs(*args, on_done=None, **kwargs):
        def counted(r):
            seen["results"] = seen.get("results", 0) + 1
            on_done(r)
        return real_run_jobs(*args, on_done=counted, **kwargs)

    monkeypatch.setattr(similarity, "flagged", flagged)
    monkeypatch.setattr(classroom, "run_jobs", run_jobs)
    with BedrockStandIn(responder=responder) as server:
        sets = ["llm.provider=bedrock", f"llm.model_id={HAIKU}", f"llm.endpoint_url={server.url}",
                "cache.enabled=false", f"index_dir={tmp_path / 'index'}"]
        grade_class(c / "assignment.yaml", c / "submissions", c / "roster.csv", tmp_path / "out", overrides=sets,
                    progress=False, info=lambda m: None, workers=2)
    assert seen["thread"] != threading.main_thread().name and seen["after_a_result"]
    assert seen["value"]["pairs"]  # the generated prompts differ in one number: near-duplicates
    summary = (tmp_path / "out" / "summary.md").read_text()
    for pair in seen["value"]["pairs"]:
        assert f"- {pair['a']} and {pair['b']} ({pair['task']} prompt): {pair['similarity']:.3f}" in summary


def test_a_dask_cluster_is_closed_by_a_thread_the_caller_joins(tmp_path):
    """With ``closers``, run_jobs returns every result and leaves the cluster's closing to a thread it hands
    back (the grading joins it after writing the outputs)."""
    pytest.importorskip("distributed")
    from harness.grading import classroom
    from harness.grading.assignment import load_assignment
    from harness.grading.roster import load_roster
    from harness.grading.submission import discover

    c, responder = _bench_class(tmp_path, 2)
    assignment = load_assignment(c / "assignment.yaml")
    found, _, unsafe = discover(c / "submissions", tmp_path / "staging", assignment.spec.limits)
    with BedrockStandIn(responder=responder) as server:
        sets = ["llm.provider=bedrock", f"llm.model_id={HAIKU}", f"llm.endpoint_url={server.url}",
                "cache.enabled=false", f"index_dir={tmp_path / 'index'}"]
        jobs, _ = classroom.plan(assignment, load_roster(c / "roster.csv").students, found, unsafe,
                                 tmp_path / "out", sets)
        closers: list = []
        results = classroom.run_jobs(jobs, "dask", 1, threads=2, closers=closers)
    assert sorted(results) == sorted(j.student_id for j in jobs)
    assert all(r.status == "graded" for r in results.values())
    assert len(closers) == 1 and closers[0].name == "harness-dask-close"
    closers[0].join(timeout=120)
    assert not closers[0].is_alive() and closers[0].error is None
