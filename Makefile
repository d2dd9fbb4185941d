# Quick start: `make demo` and `make test` each set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all lint bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/echelon demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ""

lint: $(STAMP)
	$(BIN)/ruff check .

# Every benchmark CI does not run, each output kept in bench/results/NAME.txt with the date and
# commit (BENCHMARKS.md quotes them). The RL and hybrid experiments train agents: run them by hand
# (bench/rl_experiments.py, bench/hybrid.py; commands in BENCHMARKS.md).
BENCHES := simulator known_optima zipkin static milp rl_env

bench: $(STAMP)
	mkdir -p bench/results
	@for b in $(BENCHES); do \
	  echo "== bench/$$b.py  ($$(date -u '+%Y-%m-%d %H:%M UTC'), commit $$(git rev-parse --short HEAD))" \
	    | tee bench/results/$$b.txt; \
	  $(BIN)/python bench/$$b.py 2>&1 | tee -a bench/results/$$b.txt || exit 1; \
	done
	$(MAKE) bench-peers

# Peer benchmarks (OR-Gym 0.5.0, stockpyl) need old pins (gym 0.19, numpy<2), so they live in
# their own venv, never the main one. The benchmarks run in the main venv and call the peer in a
# subprocess with .venv-peers/bin/python (`--peer` mode), passing sample paths and results as .npz.
# CI does not run these; without .venv-peers each benchmark skips the peer rows with a message.
PEERS := .venv-peers
PEERS_BIN := $(PEERS)/bin
PEERS_STAMP := $(PEERS)/.installed

$(PEERS_STAMP):
	$(PYTHON) -m venv $(PEERS)
	$(PEERS_BIN)/pip install "setuptools<66" "wheel<0.40"
	$(PEERS_BIN)/pip install --no-build-isolation gym==0.19.0
	$(PEERS_BIN)/pip install "numpy<2" scipy pandas networkx matplotlib stockpyl
	$(PEERS_BIN)/pip install --no-deps or-gym==0.5.0
	touch $(PEERS_STAMP)

bench-peers: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python bench/peers_orgym.py
	$(BIN)/python bench/peers_stockpyl.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
