"""Hostile input across cost, reports and the commands that write files (issue 25, items 5 and 7): each case
below printed a traceback or raw HTML before; now it is exit 0, or exit 2 with one line naming the file (and
line and field where there is one) and, for a number, its bound."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from conftest import write_golden
from harness.errors import HarnessInputError
from test_cost import _bad as _pricing  # the shipped pricing file, edited, in tmp_path
from test_gates import make_run

HOSTILE = "<img src=x onerror=alert(1)>"
SONNET = {"provider": "bedrock", "model_id": "anthropic.claude-3-sonnet-20240229-v1:0"}


def one_line_error(code: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, (code, err)
    return lines[0]


# ---------------------------------------------------------------------------------------------- pricing numbers
def _row(d, table="mlops", i=0):
    return d["tables"][table]["rows"][i]


HUGE = 10 ** 3999  # 4,000 digits


@pytest.mark.parametrize("edit,field,expect", [
    (lambda d: _row(d)["unit_price"].update(usd=1e308), "tables.mlops.rows[0].unit_price.usd", "at most 1,000,000"),
    (lambda d: _row(d)["unit_price"].update(usd=HUGE), "tables.mlops.rows[0].unit_price.usd", "(4,000 characters)"),
    (lambda d: _row(d)["factors"][0].update(value=HUGE), "tables.mlops.rows[0].factors[0]",
     "at most 1,000,000,000,000"),
    (lambda d: _row(d)["factors"][0].update(value=1e308), "tables.mlops.rows[0].factors[0]", "out of range"),
    (lambda d: d["volume"].update(documents_per_month=1e308), "volume.documents_per_month",
     "at most 1,000,000,000,000"),
    (lambda d: d["volume"].update(documents_per_month=HUGE), "volume.documents_per_month", "out of range"),
    (lambda d: _row(d, "mlops", 4).update(fixed=1e308), "tables.mlops.rows[4].fixed", "at most 1,000,000,000,000"),
    (lambda d: _row(d).update(stated=HUGE), "tables.mlops.rows[0].stated", "out of range"),
    (lambda d: d["tables"]["mlops"].update(stated_total=1e308), "tables.mlops.stated_total", "out of range"),
    (lambda d: _row(d, "llmops", -1).update(percent=1e308), "tables.llmops.rows[", "at most 1,000"),
    (lambda d: _row(d)["unit_price"].update(divisor=1e308), "tables.mlops.rows[0].unit_price.divisor", "out of range"),
    (lambda d: _row(d)["unit_price"].update(usd="0." + "1" * 4000), "tables.mlops.rows[0].unit_price.usd",
     "more than 12 decimal places"),
    # each number within its bound, the row's product past the bound of an amount
    (lambda d: _row(d).update(factors=[{"value": 10 ** 12}, {"value": 10 ** 12}]), "tables.mlops.rows[0]",
     "over the bound of an amount ($1,000,000,000,000)"),
    (lambda d: d["quoted"][0].update(stated=1e308), "quoted[0].stated", "out of range"),
    (lambda d: d["quoted"][0].update(stated="lots"), "quoted[0].stated", "not a number"),
    (lambda d: d["quoted"][0].update(table="nope"), "quoted[0].table", "no table 'nope'"),
    (lambda d: d["quoted"][0].update(check="guess"), "quoted[0].check", "check must be one of"),
    (lambda d: d["quoted"][7].update(rows=["nope"]), "quoted[7].rows", "must list row ids"),
    (lambda d: d["break_even"]["human_review"].update(reviewer_usd_per_hour=1e308),
     "break_even.human_review.reviewer_usd_per_hour", "at most 1,000,000"),
    (lambda d: d["break_even"]["human_review"].update(review_rate_now=1.5), "break_even.human_review.review_rate_now",
     "at most 1"),
    (lambda d: d["break_even"]["support_tickets"].update(tickets_avoided=HUGE),
     "break_even.support_tickets.tickets_avoided", "out of range"),
    (lambda d: d["break_even"]["human_review"]["stated"].update(savings="many"),
     "break_even.human_review.stated.savings", "not a number"),
    (lambda d: d["break_even"]["human_review"].pop("minutes_per_document"),
     "break_even.human_review.minutes_per_document", "missing"),
    (lambda d: d.update(tables=[1, 2]), "tables", "must be a mapping"),
])
@pytest.mark.parametrize("fmt", ["table", "md", "json"])
def test_pricing_numbers_past_their_bounds_exit_2_naming_file_field_and_bound(tmp_path, cli, edit, field, expect,
                                                                                fmt):
    path = _pricing(tmp_path, edit)
    code, _, err = cli("cost", "--pricing", path, "--format", fmt)
    line = one_line_error(code, err)
    assert f"{path}:" in line and field in line and expect in line, line
    assert len(line) < 400  # a 4,000-digit number is quoted shortened, never whole


def test_pricing_at_its_bounds_still_computes(tmp_path, cli):
    """The bounds refuse only what is past them: a row at the largest price and quantity prints in cents."""
    path = _pricing(tmp_path, lambda d: _row(d).update(factors=[{"value": 10 ** 6}], unit_price={"usd": 10 ** 6}))
    code, out, err = cli("cost", "--pricing", path)
    assert code == 0 and "$1,000,000,000,000.00" in out, err
    code, out, _ = cli("cost", "--pricing", path, "--format", "json")
    assert Decimal(json.loads(out)["tables"]["mlops"]["rows"][0]["computed"]) == Decimal(10) ** 12


def test_display_rounding_works_for_any_finite_figure():
    from harness.cost.money import rounded, usd

    assert usd(Decimal("1e30")) == "$1,000,000,000,000,000,000,000,000,000,000.00"  # quantize alone: InvalidOperation
    assert rounded(Decimal("2.675"), "0.01") == Decimal("2.68") and usd(Decimal("-1.005")) == "-$1.01"


# ---------------------------------------------------------------------------------------------- a run's numbers
@pytest.fixture
def priced_run(tmp_path):
    """A run of the keyword predictor recorded as if Claude 3 Sonnet on Bedrock made its calls (so `cost --run`
    prices its tokens)."""
    run = make_run(write_golden(tmp_path / "g"), tmp_path / "results" / "r1")
    record = json.loads((run / "run.json").read_text())
    record["predictor"]["llm"] = SONNET
    (run / "run.json").write_text(json.dumps(record))
    return run


def _tokens(run, value, where=("predictions",)):
    if "predictions" in where:
        lines = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
        for p in lines:
            for t in p.get("tasks", {}).values():
                if t.get("usage"):
                    t["usage"].update(input_tokens=value, output_tokens=value)
        (run / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in lines))
    if "metrics" in where:
        m = json.loads((run / "metrics.json").read_text())
        m["usage"] = {"input_tokens": value, "output_tokens": 5}
        (run / "metrics.json").write_text(json.dumps(m))


@pytest.mark.parametrize("where,value,file,expect", [
    (("predictions",), 10 ** 30, "predictions.jsonl:1", "usage.input_tokens: Input should be less than or equal to "
                                                         "1000000000000"),
    (("metrics",), 10 ** 30, "metrics.json", "usage.input_tokens: Input should be less than or equal to 1000000000000"),
    (("predictions",), 10 ** 12, "predictions.jsonl", "input tokens in all, over the bound of 1,000,000,000,000"),
])
def test_run_tokens_past_the_bound_exit_2_naming_the_file(priced_run, cli, where, value, file, expect):
    _tokens(priced_run, value, where)
    code, _, err = cli("cost", "--run", priced_run)
    line = one_line_error(code, err)
    assert str(priced_run / file) in line and expect in line, line


def test_a_large_but_legal_run_is_costed(priced_run, cli):
    _tokens(priced_run, 10 ** 10)
    code, out, err = cli("cost", "--run", priced_run, "--what-if", "route_share=0.5", "--what-if",
                         "reviewer_usd_per_hour=1000000", "--what-if", "minutes_per_document=1000000000000")
    assert code == 0 and "a month at 50,000 documents" in out and "reduced human review: saves $" in out, err


@pytest.mark.parametrize("lever,expect", [
    ("output_cap=1e308", "at most 1,000,000,000,000"), ("tickets_avoided=" + "9" * 4000, "(4,000 characters)"),
    ("usd_per_ticket=1e7", "at most 1,000,000"), ("batch_discount=0." + "1" * 40, "more than 12 decimal places"),
    ("context_cut=NaN", "not a finite number"), ("route_share=2", "at most 1 (a share 0..1)"),
])
def test_what_if_numbers_past_their_bounds_exit_2(priced_run, cli, lever, expect):
    code, _, err = cli("cost", "--run", priced_run, "--what-if", lever)
    line = one_line_error(code, err)
    assert f"--what-if {lever.split('=')[0]}" in line and expect in line, line


def _settings(tmp_path, edit):
    from harness.cost.run_cost import DEFAULT_SETTINGS

    data = yaml.safe_load(DEFAULT_SETTINGS.read_text(encoding="utf-8"))
    data["pricing"] = str(DEFAULT_SETTINGS.with_name(data["pricing"]))
    for table in ("models", "embeddings"):
        data[table] = {k: str(DEFAULT_SETTINGS.parent / v) for k, v in data[table].items()}
    data["compute"] = str(DEFAULT_SETTINGS.parent / data["compute"])
    edit(data)
    path = tmp_path / "runs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("edit,expect", [
    (lambda d: d["volume"].update(documents_per_month=1e308), r"volume.documents_per_month: .*at most "
                                                              r"1,000,000,000,000"),
    (lambda d: d["volume"].update(documents_per_month="x" * 4000), r"volume.documents_per_month: not a number"),
    (lambda d: d["volume"].update(documents_per_month=0.5), r"volume.documents_per_month: must be at least 1"),
    (lambda d: d.update(colour="red"), r"colour: unknown key"),
    (lambda d: d["fixed"]["mlops"].update(table="nope"), r"fixed.mlops.table: no table 'nope'"),
    (lambda d: d["fixed"]["mlops"].update(rows=["nope"]), r"fixed.mlops.rows: no row 'nope'"),
])
def test_cost_settings_are_typed_and_bounded(tmp_path, edit, expect):
    from harness.cost.run_cost import cost_section, load_settings

    path = _settings(tmp_path, edit)
    record = {"predictor": {"name": "mlops"}}
    metrics = {"counts": {"by_task": {"classify": {"expected": 4}}},
               "latency": {"classify": {"mean": 0.01, "n": 4}, "extract": {"mean": 0.01, "n": 4}}}
    with pytest.raises(HarnessInputError, match=expect) as err:
        cost_section(record, metrics, load_settings(path))
    assert str(path) in str(err.value)


def test_a_price_file_past_its_bound_names_the_file(tmp_path):
    from harness.cost.run_cost import load_settings, model_prices

    price = tmp_path / "price.yaml"
    price.write_text("input_per_1k: {usd: 1.0e+308}\noutput_per_1k: {usd: 0.01}\n")
    path = _settings(tmp_path, lambda d: d.update(models={"bedrock/*": str(price)}))
    with pytest.raises(HarnessInputError, match=r"price.yaml:1: input_per_1k.usd: .*at most 1,000,000"):
        model_prices(load_settings(path), "bedrock/anything")


# ---------------------------------------------------------------------------------------------- --out
@pytest.fixture
def out_targets(tmp_path):
    """A run, a results folder, a file, a folder and a path under the file."""
    golden = write_golden(tmp_path / "g")
    run = make_run(golden, tmp_path / "results" / "r1")
    afile = tmp_path / "afile.txt"
    afile.write_text("keep me\n")
    (tmp_path / "adir").mkdir()
    detect = tmp_path / "detect.jsonl"
    detect.write_text(json.dumps({"context": "The cat sat on the mat.", "answer": "The cat sat.", "label": 0}) + "\n")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": "d010", "label": "invoice"}) + "\n")
    return {"run": run, "golden": golden, "file": afile, "dir": tmp_path / "adir", "under": afile / "x",
            "detect": detect, "preds": preds}


FILE_WRITERS = {  # commands whose --out names a file
    "report": lambda t: ["report", t["run"]],
    "report html": lambda t: ["report", t["run"], "--format", "html"],
    "leaderboard": lambda t: ["leaderboard", t["run"].parent],
    "leaderboard html": lambda t: ["leaderboard", t["run"].parent, "--format", "html"],
}
FOLDER_WRITERS = {  # commands whose --out names a folder
    "detect": lambda t: ["detect", t["detect"], "--format", "jsonl"],
    "score": lambda t: ["score", "--golden", t["golden"], "--split", "test", "--predictions", t["preds"]],
    "run": lambda t: ["run", "--pipeline", "mlops", "--golden", t["golden"], "--split", "test", "--no-progress"],
    "train": lambda t: ["train", "mlops", "--golden", t["golden"]],
    "golden generate": lambda t: ["golden", "generate", "--profile", "course"],
    "golden import": lambda t: ["golden", "import", "sroie", "--src", t["dir"]],
}


@pytest.mark.parametrize("command", list(FILE_WRITERS) + list(FOLDER_WRITERS))
@pytest.mark.parametrize("target", ["wrong kind", "under a file"])
def test_every_out_is_checked_once_exit_2_one_line(out_targets, cli, command, target):
    """--out naming a folder where a file goes (or a file where a folder goes), or a path under a file: exit 2 with
    one line naming it (IsADirectoryError, NotADirectoryError, FileExistsError before), nothing written."""
    writes_file = command in FILE_WRITERS
    args = (FILE_WRITERS | FOLDER_WRITERS)[command](out_targets)
    out = out_targets["under"] if target == "under a file" else out_targets["dir" if writes_file else "file"]
    code, _, err = cli(*args, "--out", out)
    line = one_line_error(code, err)
    assert f"{out}: --out: " in line, line
    assert out_targets["file"].read_text() == "keep me\n" and not any(out_targets["dir"].iterdir())


def test_detect_refuses_a_folder_where_its_file_goes(out_targets, cli, tmp_path):
    (tmp_path / "d" / "detect.json").mkdir(parents=True)
    code, _, err = cli("detect", out_targets["detect"], "--format", "jsonl", "--out", tmp_path / "d")
    assert "detect.json: --out: is a directory" in one_line_error(code, err)
    assert not (tmp_path / "d" / "verdicts.jsonl").exists()  # checked before anything is written


# ---------------------------------------------------------------------------------------------- Markdown
@pytest.fixture
def hostile_runs(tmp_path):
    """Two runs in one results folder: one whose directory name, pipeline name, prompt variant and item-set
    fingerprint are HTML."""
    golden = write_golden(tmp_path / "g")
    results = tmp_path / "results"
    bad = make_run(golden, results / HOSTILE)
    record = json.loads((bad / "run.json").read_text())
    record["predictor"].update(name="<b>pipe</b>", prompts={"classify": {"ref": "<script>x</script>",
                                                                         "sha256": "<i>abc"}}, llm=SONNET)
    record["item_ids_sha256"] = "<svg onload=alert(2)>"
    (bad / "run.json").write_text(json.dumps(record))
    make_run(golden, results / "plain")
    return results, bad


def _no_raw_html(text: str) -> None:
    for tag in ("<img", "<svg", "<script", "<b>", "<i>"):
        assert tag not in text, text
    assert "&lt;" in text


def test_markdown_output_escapes_every_value_from_a_file(hostile_runs, cli, tmp_path):
    results, bad = hostile_runs
    code, out, err = cli("leaderboard", results, "--format", "md", "--items", "all")
    assert code == 0 and "&lt;img src=x onerror=alert(1)&gt;" in out and "### item set &lt;svg onload=" in out, err
    _no_raw_html(out)
    code, out, err = cli("report", bad, results / "plain", "--format", "md")
    assert code == 0, err
    _no_raw_html(out)
    code, out, err = cli("compare", results / "plain", bad, "--format", "md")
    assert code == 0, err
    _no_raw_html(out)
    code, out, err = cli("cost", "--run", bad, "--format", "md", "--baseline", bad)
    assert code == 0 and out.startswith("&lt;img src=x onerror=alert(1)&gt;: $"), err
    _no_raw_html(out)
    pricing = _pricing(tmp_path, lambda d: d["tables"]["mlops"].update(title=HOSTILE, source="<script>s</script>"))
    code, out, err = cli("cost", "--pricing", pricing, "--format", "md")
    assert code == 0 and "#### &lt;img src=x onerror=alert(1)&gt; (&lt;script&gt;" in out, err
    _no_raw_html(out)


# ---------------------------------------------------------------------------------------------- gates' inputs
@pytest.fixture
def a_run(tmp_path):
    return make_run(write_golden(tmp_path / "g"), tmp_path / "results" / "r1")


def _criteria_with(tmp_path, value):
    from harness.gates.criteria import DEFAULT_CRITERIA

    data = yaml.safe_load(DEFAULT_CRITERIA.read_text(encoding="utf-8"))
    data["criteria"][0].update(target=value, must_have=value)
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("value,expect", [("1e400", "out of range: at most 1,000,000,000,000"),
                                          (float("nan"), "out of range"), (float("inf"), "out of range"),
                                          (True, "not a number"), (HUGE, "out of range")],
                         ids=["1e400", "nan", "inf", "true", "4000 digits"])
def test_criteria_bounds_are_finite_and_bounded(a_run, cli, tmp_path, value, expect):
    """A target of "1e400" read as inf reached gates.json (ValueError: out of range float); 10^3999 overflowed."""
    path = _criteria_with(tmp_path, value)
    code, _, err = cli("gates", a_run, "--criteria", path)
    line = one_line_error(code, err)
    assert f"{path}: criteria[0].target: {expect}" in line, line


def test_gates_inputs_past_their_limits_exit_2(a_run, cli, tmp_path):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text('rating\n"' + "5" * 140_000 + '"\n')  # over the csv module's field limit: _csv.Error before
    code, _, err = cli("gates", a_run, "--ratings", ratings)
    assert f"{ratings}:2: not a readable CSV: field larger than field limit" in one_line_error(code, err)
    ratings.write_text("rating\n4\n\x00\n")
    code, _, err = cli("gates", a_run, "--ratings", ratings)
    assert f"{ratings}:" in one_line_error(code, err)
    incidents = tmp_path / "incidents.yaml"
    incidents.write_text("incidents: [1, {type: data_exposure}]\n")  # AttributeError before
    code, _, err = cli("gates", a_run, "--incidents", incidents)
    assert f"{incidents}: incidents[0]: each incident needs a type" in one_line_error(code, err)
    monitoring = tmp_path / "monitoring.jsonl"
    monitoring.write_text(json.dumps({"timestamp": "2026-11-20T10:00:00", "accuracy": 10 ** 400,
                                      "baseline_accuracy": 0.9}) + "\n")  # OverflowError before
    code, _, err = cli("rollback", monitoring)
    assert f"{monitoring}:1: accuracy: out of range: at most 1,000,000,000,000,000" in one_line_error(code, err)


# ---------------------------------------------------------------------------------------------- judge settings
@pytest.mark.parametrize("assignment,bound", [
    ("judge.timeout_s=1e308", "1000000"), ("judge.price_input_per_1k=1e308", "1000000"),
    ("judge.price_output_per_1k=1e7", "1000000"), ("judge.concurrency=100000000000000000000", "1024"),
    ("judge.max_tokens=" + "9" * 4000, "1000000"), ("judge.max_retries=1000000", "100"),
    ("judge.n_ctx=99999999999", "1048576"), ("judge.n_threads=100000", "1024"), ("judge.limit=" + str(10 ** 15), "1000000000"),
])
def test_judge_settings_are_bounded(assignment, bound):
    """Every number of the judge's settings has an upper bound, said in the error (a price of 1e308 would make
    the judge's cost inf, which metrics.json refuses)."""
    from harness.judge import load_judge_config

    with pytest.raises(HarnessInputError, match=rf"{assignment.split('=')[0]}: Input should be less than or equal "
                                                rf"to {bound}\b") as err:
        load_judge_config(None, [assignment])
    assert len(str(err.value)) < 300


def test_a_run_with_an_unmeasurable_wall_time_is_refused_not_scored_to_inf(a_run, cli):
    """wall_s of 5e-324 made throughput inf, and rescoring (`harness judge`) died writing metrics.json."""
    record = json.loads((a_run / "run.json").read_text())
    record["wall_s"] = 5e-324
    (a_run / "run.json").write_text(json.dumps(record))
    code, _, err = cli("judge", a_run)
    assert f"{a_run / 'run.json'}: wall_s: " in one_line_error(code, err) and "at least 1e-06 s" in err
