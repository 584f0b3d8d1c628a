"""``python -m harness.cli``: the ``harness`` command without its console script."""

from harness.cli import main

raise SystemExit(main())
