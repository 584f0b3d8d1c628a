"""What every command group shares: argument helpers, messages on stderr, dates, printing or writing output."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from harness.errors import HarnessInputError

TABLE_FORMATS = ["table", "md", "json"]
OFFLINE_ENV = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "RAGAS_DO_NOT_TRACK": "true"}


def set_offline_env() -> None:
    """No hub, no telemetry: the harness runs offline on the models its packages ship."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def info(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def eval_date(value: str | None) -> str:
    from datetime import date

    if value is None:
        return date.today().isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HarnessInputError(f"not a date YYYY-MM-DD: {value!r}", field="--eval-date") from None


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML config replacing the pipeline's default config file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting (repeatable), e.g. --set classifier.max_depth=8 "
                        "('harness config PIPELINE' lists every key)")


def add_judge_args(p: argparse.ArgumentParser, judge_set: bool = False) -> None:
    """--judge and --judge-config; ``judge_set`` adds a --set that takes judge.* settings only (commands
    without pipeline settings of their own)."""
    p.add_argument("--judge", choices=["none", "local", "bedrock"],
                   help="who scores answers with ragas' LLM metrics (default: judge.provider in "
                        "harness/judge/judge.yaml, none); settings with --set judge.KEY=VALUE")
    p.add_argument("--judge-config", help="YAML replacing harness/judge/judge.yaml")
    if judge_set:
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="judge.KEY=VALUE",
                       help="override one judge setting (repeatable), e.g. --set judge.model_id=claude-3-haiku")


def judge_config(args, overrides: Sequence[str]):
    from harness.judge import load_judge_config

    return load_judge_config(args.judge_config, overrides, args.judge)


def judge_only(overrides: Sequence[str]) -> list[str]:
    from harness.judge import split_overrides

    other, judge = split_overrides(overrides)
    if other:
        raise HarnessInputError(f"only judge.* settings can be set here, got {other[0]!r}", field="--set")
    return judge


def progress_flag(args) -> bool | None:
    return False if getattr(args, "no_progress", False) else None


def emit(text: str, out: str | None) -> None:
    """Print ``text``, or write it to ``out`` (atomically, as a page is written) and say where."""
    if out is None:
        print(text)
        return
    from harness.pages import write_page

    print(f"wrote {write_page(out, text if text.endswith(chr(10)) else text + chr(10))}")
