"""Command line: ``harness run | score | judge | train | report | golden | gates | compare | demo | ...``.

Each command group is one module of this package with a ``register(subparsers)`` function that adds its
parsers and sets ``func``; a new group is one new module plus one entry in :data:`GROUPS`.

Exit codes: 0 success, 1 a check failed, 2 bad input (file, line and field named on one line),
130 interrupted (rerun the same command to resume a run).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness.errors import HarnessInputError

GROUPS = ("run", "score", "train", "report", "golden", "gates", "compare", "detect", "metrics", "cost", "guardrails", "grade", "shadow", "export",
          "maturity", "audit")


def build_parser() -> argparse.ArgumentParser:
    from harness.version import __version__

    parser = argparse.ArgumentParser(prog="harness", description="Evaluate and compare document-intelligence "
                                     "pipelines on golden sets.")
    parser.add_argument("--version", action="version", version=f"docintel-harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in GROUPS:
        importlib.import_module(f"harness.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from harness.cli.common import set_offline_env

    set_offline_env()
    for i, arg in enumerate(sys.argv[1:] if argv is None else argv, 1):
        try:
            str(arg).encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal's encoding could not decode (surrogate escapes)
            print(f"error: argument {i} is not valid UTF-8 text", file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except HarnessInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was written is kept; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`harness cost | head`): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the machine said no (a full disk, no permission): one line, as bad input is
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
