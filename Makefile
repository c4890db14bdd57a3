# The two set-up commands: `make demo` and `make test`. Both create .venv and install what is needed.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
endif
LLAMA_VERSION := 0.3.36
LLAMA_WHEELS ?= $(HOME)/.cache/artifactlens/llama-wheels-portable

.PHONY: install demo test bench clean browser

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# llama.cpp built for portable x86-64 (AVX2, no AVX-512/AMX): the native build segfaults in batched
	# decode on these VMs (any prompt over one token). Built once per machine into LLAMA_WHEELS (not pip's
	# cache, which may hold a native build of the same version), then installed from there.
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
	  $(BIN)/python -m pip wheel -q --no-deps --no-cache-dir -w $(LLAMA_WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"
	w=$$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl | head -1) && \
	  $(BIN)/python -m pip install -q --no-deps --force-reinstall "$$w" && $(BIN)/python -m pip install -q "$$w[server]"
	# torch pinned in the same command as everything needing it: 2.13.0 resolves to the CPU wheel
	$(BIN)/python -m pip install -q "torch==2.13.0" -e ".[test,ray,train,llm]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/artifactlens demo --out artifactlens-demo

# The report's browser test drives Debian's chromium (never a browser playwright downloads); installed
# with apt where we are root on Debian, else the test skips saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) \
	  >/dev/null 2>&1; } || echo "chromium not installed: the browser tests will skip"

test: install browser
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pytest -q -p no:cacheprovider -n 2

bench: install
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) artifactlens-demo build *.egg-info src/*.egg-info
