# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv (once), installs nocturne into it, then runs.
# GPU users: `make demo TORCH=torch` installs PyPI's default (CUDA) build of torch instead
# of the CPU build pinned here; an already-installed CUDA torch is kept by later installs.

PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN     = $(VENV)/bin

.PHONY: demo test test-fast bench system-deps gst-python clean

demo: $(VENV)/.installed
	$(BIN)/nocturne demo --output-dir demo-output

test: system-deps $(VENV)/.installed-dev gst-python
	$(BIN)/python -m pytest -q

# The quick subset while working: everything not marked slow (no RTSP servers, browsers, signals,
# wheel downloads), under a minute on 2 cores. CI runs the full `make test`.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow"

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

# GStreamer's Python bindings (live: v4l2/csi sources, serving RTSP, the tests' RTSP camera) build
# against the system's GObject introspection; PyGObject 3.51+ needs a newer one than Debian 12 has.
gst-python: $(VENV)/.installed
	@$(BIN)/python -c "import gi" 2>/dev/null || { \
	  if pkg-config --exists gobject-introspection-1.0 2>/dev/null; then $(BIN)/python -m pip install -q "PyGObject<3.51"; \
	  else echo "note: GObject introspection not found; GStreamer tests are skipped ($(GST_PACKAGES))"; fi; }

# System packages, installed when root and missing: the ffmpeg binary (the benchmark's peer, a few
# test inputs; PyAV bundles FFmpeg's libraries for the product), GStreamer with its RTSP server and
# introspection data (live features and their tests), Chromium (the preview page's test).
GST_PACKAGES = gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp gir1.2-gstreamer-1.0 \
  gir1.2-gst-plugins-base-1.0 gir1.2-gst-rtsp-server-1.0 libgirepository1.0-dev libcairo2-dev pkg-config
SYSTEM_PACKAGES = ffmpeg chromium $(GST_PACKAGES)

system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else echo "note: some of $(SYSTEM_PACKAGES) are missing; tests that need them are skipped"; fi; }

clean:
	rm -rf $(VENV) demo-output
