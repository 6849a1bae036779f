# One command per task, the same on a laptop and in CI.
#   make chat    install, train the demo bot (first run only) and chat with it
#   make test    install and run every test
#   make bench   run the benchmarks (prints JSON; see BENCHMARKS.md)
VENV ?= .venv
PY := $(VENV)/bin/python
BOT ?= .

.PHONY: install chat tui train test lint bench

install: $(VENV)/.installed

# torch==2.13.0 is the fast path here (a CPU build on this machine's disk); pyproject keeps
# torch loose so a GPU user's `pip install -e .` gets the CUDA build the normal way.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

chat: install
	$(PY) -m agent chat --bot $(BOT)

tui: install
	$(PY) tui.py --bot $(BOT)

train: install
	$(PY) -m agent train --bot $(BOT)

test: install
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check agent tests bench tui.py

bench: install
	$(PY) -m bench.intent_accuracy
	$(PY) -m bench.latency
