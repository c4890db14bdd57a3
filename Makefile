# The two set-up commands: `make demo` and `make test`. Both create .venv and install what is needed.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch pinned in the same command as everything needing it: 2.13.0 resolves to the CPU wheel
	$(BIN)/python -m pip install -q "torch==2.13.0" -e ".[test,ray,train]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/artifactlens demo --out artifactlens-demo

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) artifactlens-demo build *.egg-info src/*.egg-info
