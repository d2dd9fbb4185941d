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

# `make bench` runs every benchmark CI does not run, one at a time (they time things), each
# writing bench/results/NAME.json (machine, date, commit, command, rows) and its printed output to
# bench/results/NAME.txt; then the peer benchmarks when .venv-peers is there or can be built; then
# bench/render.py rewrites the marked tables of BENCHMARKS.md (and the summary at its top) from the
# JSON files. `make -k bench` goes on past a failed benchmark. Hand-run experiments (bench/hybrid_layer.py, the 1M-step RL agents)
# stay out: their commands are in BENCHMARKS.md. About 45 min on the 2-core VM (2026-11-26: 32 min
# before the Zipkin RL and SAA layers, which add ~13 min).
BENCHES := simulator known_optima zipkin static milp regime_rule rl_env rl_settings rl-known-optima \
	rl-claims-1w3r rl-claims-1w2r rl-claims-1w2r-a2c
BENCH_CMD_simulator := bench/simulator.py
BENCH_CMD_known_optima := bench/known_optima.py --paths 2000 --train-paths 400 --seed 1
BENCH_CMD_zipkin := bench/zipkin.py --saa --rl
BENCH_CMD_static := bench/static.py
BENCH_CMD_milp := bench/milp_layer.py --quick
BENCH_CMD_regime_rule := bench/regime_rule.py
BENCH_CMD_rl_env := bench/rl_env.py
BENCH_CMD_rl_settings := bench/rl_settings.py
BENCH_CMD_rl-known-optima := bench/rl_experiments.py --scenario serial-3,lost-sales-poisson --seeds 0 \
	--out runs/bench/known-optima
CLAIMS := --seeds 0,1,2 --timesteps 150000 --set relative_reward=true --paths 200
BENCH_CMD_rl-claims-1w3r := bench/rl_experiments.py --scenario rl-divergent-1w3r,rl-divergent-1w3r-ns \
	--env both $(CLAIMS) --out runs/bench/claims
BENCH_CMD_rl-claims-1w2r := bench/rl_experiments.py --scenario rl-divergent-1w2r,rl-divergent-1w2r-ns \
	--env tune $(CLAIMS) --out runs/bench/claims
BENCH_CMD_rl-claims-1w2r-a2c := bench/rl_experiments.py --scenario rl-divergent-1w2r,rl-divergent-1w2r-ns \
	--env tune $(CLAIMS) --set algo=a2c --out runs/bench/claims-a2c
BENCH_CMD_peers_orgym := bench/peers_orgym.py
BENCH_CMD_peers_stockpyl := bench/peers_stockpyl.py --rl

# One benchmark: its output to the terminal and NAME.txt, its record to NAME.json; fails if it fails.
define run-bench
	@mkdir -p bench/results
	@echo "== $(BENCH_CMD_$(1))  ($$(date -u '+%Y-%m-%d %H:%M UTC'), commit $$(git rev-parse --short HEAD))" \
	  | tee bench/results/$(1).txt
	@rm -f bench/results/$(1).failed
	@{ $(BIN)/python $(BENCH_CMD_$(1)) --record bench/results/$(1).json 2>&1 \
	  || touch bench/results/$(1).failed; } | tee -a bench/results/$(1).txt
	@if [ -e bench/results/$(1).failed ]; then rm bench/results/$(1).failed; echo "bench $(1) FAILED"; exit 1; fi
endef

.NOTPARALLEL:
.PHONY: bench-render bench-main $(addprefix bench-run-,$(BENCHES) peers_orgym peers_stockpyl)

bench: $(STAMP)
	@started=$$(date +%s); \
	$(MAKE) --no-print-directory bench-main; status=$$?; \
	$(MAKE) --no-print-directory $(PEERS_STAMP) || echo "bench: .venv-peers could not be built; the peer rows are skipped"; \
	$(MAKE) --no-print-directory bench-run-peers_orgym bench-run-peers_stockpyl || status=1; \
	$(MAKE) --no-print-directory bench-render; \
	echo "make bench: $$(( ($$(date +%s) - started) / 60 )) min"; exit $$status

bench-main: $(addprefix bench-run-,$(BENCHES))

$(addprefix bench-run-,$(BENCHES) peers_orgym peers_stockpyl): bench-run-%:
	$(call run-bench,$*)

bench-render:
	$(BIN)/python bench/render.py

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
	$(MAKE) --no-print-directory bench-run-peers_orgym bench-run-peers_stockpyl

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
