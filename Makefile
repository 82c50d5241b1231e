# simgen — every target does its own set-up from a fresh clone (creates .venv, installs).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install install-test demo test bench bench-loaders clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

# torch: exactly this pin (a CPU wheel on disk); anything else pulls GBs of CUDA.
$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test,torch,tf,examples]'
	touch $@

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test,bench,torch]'
	touch $@

install: $(VENV)/.core

install-test: $(VENV)/.test

demo: $(VENV)/.core
	$(BIN)/simgen stats sample/trees --learning-size 2
	$(BIN)/simgen build sample/trees --config configs/triplets.toml --num-tuples 2000 \
		--image-size 64 --seed 7 --out demo-out --overwrite
	$(BIN)/python -c "import simgen; ds = simgen.load('demo-out'); \
		images, labels = ds['train'][0]; \
		print('demo-out/train:', len(ds['train']), 'tuples; first tuple', images.shape, 'labels', labels)"
	@echo "demo dataset written to $(CURDIR)/demo-out (open it with simgen.load('demo-out'))"

test: $(VENV)/.test
	$(BIN)/python -m pytest

bench: $(VENV)/.bench
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/loaders.py
	test ! -f benchmarks/plan_memory.py || $(BIN)/python benchmarks/plan_memory.py

bench-loaders: $(VENV)/.bench
	$(BIN)/python benchmarks/loaders.py

clean:
	rm -rf $(VENV) demo-out bench-out .pytest_cache .hypothesis
