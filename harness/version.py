"""The version of docintel-harness: the one place it is written.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``, from this file's text); ``harness --version``,
``run.json`` (``packages``) and the report pages' footer print it; ``harness.__version__`` is this value.
"""

__version__ = "0.2.0"
