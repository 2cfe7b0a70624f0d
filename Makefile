# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv (once), installs nocturne into it, then runs.
# GPU users: `make demo TORCH=torch` installs PyPI's default (CUDA) build of torch instead
# of the CPU build pinned here; an already-installed CUDA torch is kept by later installs.

PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN     = $(VENV)/bin

.PHONY: demo test bench system-deps clean

demo: $(VENV)/.installed
	$(BIN)/nocturne demo --output-dir demo-output

test: $(VENV)/.installed-dev system-deps
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed system-deps
	$(BIN)/nocturne bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

# The ffmpeg binary is the benchmark's peer and makes a few test inputs (PyAV itself
# bundles FFmpeg's libraries, so the product does not need it).
system-deps:
	@command -v ffmpeg >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq ffmpeg >/dev/null; \
	  else echo "note: ffmpeg binary not found; tests that need it are skipped (sudo apt-get install ffmpeg)"; fi; }

clean:
	rm -rf $(VENV) demo-output
