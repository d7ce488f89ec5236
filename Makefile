# Two entry points for a fresh machine with Python 3.11:
#   make reproduce   create .venv (if needed) and run the whole DAG on the embedded default config
#   make test        create .venv (if needed) and run the test suite
# `make` alone (or `make help`) lists every target.
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# The venv is rebuilt only when the pins change: the stamp's name carries their hash.
PINS   := $(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
STAMP  := $(VENV)/.pins-$(PINS)
CORES  ?= all
# Extra Snakemake arguments, e.g. SMK_ARGS='--configfile config/fashion.yaml'
SMK_ARGS ?=
# Snakemake reads --configfile files before the Snakefile, so the workflow cannot name a missing, empty or broken
# one: every target that runs Snakemake checks them first (one line naming the file, the YAML line and the fix).
CHECK_ARGS = $(BIN)/python -m workflow.config $(SMK_ARGS)

.PHONY: help venv reproduce test test-slurm test-deps data-fashion bench budget dry-run report figures pull push \
        dvc-yaml clean-results

help:
	@echo "make <target> [CORES=N|all, default all] [SMK_ARGS='more Snakemake arguments, e.g. --configfile FILE']"
	@echo "  help           this list (also a bare 'make')"
	@echo "  venv           create .venv from requirements.txt (rebuilt only when the pins change)"
	@echo "  reproduce      the whole DAG: snakemake --cores CORES SMK_ARGS"
	@echo "  dry-run        the plan, nothing run or written: snakemake -n --cores CORES SMK_ARGS"
	@echo "  figures        only the figures: snakemake --cores CORES figures SMK_ARGS"
	@echo "  report         the HTML report results/report.html: snakemake --cores CORES SMK_ARGS --report"
	@echo "  test           the test suite; as root it first installs Debian's SLURM packages (SYSTEM_DEPS=0: not)"
	@echo "  test-slurm     only the SLURM executor test (needs root)"
	@echo "  test-deps      as root: install slurmctld, slurmd, slurm-client, munge with apt-get (says so first)"
	@echo "  data-fashion   Fashion-MNIST for config/fashion.yaml (Debian's package as root, else torchvision)"
	@echo "  push           producer: snakemake --cores CORES SMK_ARGS, params.yaml, dvc commit/repro, dvc push"
	@echo "  pull           consumer: dvc pull, then snakemake --touch and a dry run on params.yaml (CORES, SMK_ARGS)"
	@echo "  dvc-yaml       regenerate dvc.yaml from the method registry (python -m workflow.dvcgen)"
	@echo "  bench          the speed and memory benchmarks (benchmarks/bench_*.py)"
	@echo "  budget         end-to-end time of a config's DAG from a clean copy (CONFIG=config/<stem>.yaml)"
	@echo "  clean-results  delete results/, logs/, benchmarks/rules/ and .snakemake/"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	rm -f $(VENV)/.pins-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

reproduce: venv
	@$(CHECK_ARGS)
	$(BIN)/snakemake --cores $(CORES) $(SMK_ARGS)

# The suite in TEST_WORKERS processes (pytest-xdist; more than the cores: the SLURM test, the DAG runs and the DVC
# round trip mostly wait for their jobs or for the shared run), each test file in one of them (--dist loadfile), the
# files in the order tests/conftest.py gives (the longest first; xdist would otherwise start the files with the most
# tests first); the test config's DAG runs are made once and shared across them. The 10 slowest tests are listed at
# the end, and the machine-speed reference (the suite's time compares between machines with it). TEST_WORKERS=0:
# one process.
TEST_WORKERS ?= 5
test: venv test-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=10 \
	  --machine-speed

# The SLURM executor test alone (needs root; starts and stops its own single-node cluster, and runs the same slice of
# the DAG locally, to compare with, while the cluster works).
test-slurm: venv test-deps
	$(BIN)/python -m pytest -q -m slurm --durations=10 tests/test_slurm.py

# Debian's SLURM and munge for the single-node cluster test; only as root, otherwise that test is skipped.
SLURM_PKGS := slurmctld slurmd slurm-client munge
# SYSTEM_DEPS=0 skips it (the SLURM test is then skipped with its reason).
SYSTEM_DEPS ?= 1
test-deps:
	@if [ "$(SYSTEM_DEPS)" = 1 ] && [ "$$(id -u)" = 0 ] && ! command -v slurmctld >/dev/null 2>&1 \
	    && command -v apt-get >/dev/null 2>&1; then \
	  echo "make $(or $(MAKECMDGOALS),test-deps): installing system packages now, as root, with apt-get: $(SLURM_PKGS)"; \
	  echo "  (Debian's SLURM and munge, for the single-node cluster of tests/test_slurm.py; SYSTEM_DEPS=0 skips this)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(SLURM_PKGS)) >/dev/null 2>&1 || echo "warning: could not install $(SLURM_PKGS); the SLURM test will be skipped"; \
	fi

# Fashion-MNIST for config/fashion.yaml. Offline where Debian's dataset-fashion-mnist can be installed (as root),
# else the download rule falls back to torchvision's download (with its checksums); with neither it stops with
# the dataset's name, the URL it tried and where to put the files by hand.
FASHION_IDX := /usr/share/datasets/fashion-mnist
DATA_ROOT   ?= resources/data
data-fashion: venv
	@if [ ! -d $(FASHION_IDX) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's dataset-fashion-mnist (IDX files in $(FASHION_IDX))"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
	    || echo "note: dataset-fashion-mnist could not be installed; trying torchvision's download"; \
	fi
	$(BIN)/snakemake --cores 1 --configfile config/fashion.yaml $(SMK_ARGS) -- $(DATA_ROOT)/fashion_mnist/manifest.json

dry-run: venv
	@$(CHECK_ARGS)
	$(BIN)/snakemake -n --cores $(CORES) $(SMK_ARGS)

report: venv
	@$(CHECK_ARGS)
	$(BIN)/snakemake --cores $(CORES) $(SMK_ARGS) --report results/report.html

# DVC runs each stage's command (`snakemake ...`, dvc.yaml) through the shell: it finds this environment's snakemake
# first on PATH, so `make push` works from a fresh clone with no environment activated.
DVC = PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc

# Producer: reproduce through DVC and share the artifacts on the default remote (.dvc/config). Snakemake runs first
# with CORES and SMK_ARGS; then params.yaml is written: the merged config of this run (config/config.yaml, then
# SMK_ARGS' --configfile files and --config values, as Snakemake merges them). Every DVC stage runs Snakemake on
# params.yaml and tracks only its own keys of it (dvc.yaml `params:`), so editing one method's section makes only that
# method's stage stale. The stages this run made (data, the config's methods, figures when it runs them all: python
# -m workflow.dvcgen made) are recorded with `dvc commit`, as `dvc repro` would record them after a Snakemake that
# finds nothing to do (one Snakemake start per stage saved: 45 s of 47 on the test config); `dvc repro` then runs
# the stages of any method the config leaves out, so the remote always gets every stage.
# params.yaml is COMMITTED beside dvc.lock and metrics/: dvc.lock records the values of the keys each stage read
# from it, and a consumer needs the whole file to plan the same DAG (`make pull` runs Snakemake on it, so the
# consumer need not know the producer's SMK_ARGS); `dvc params diff` compares two commits' configs method by method.
push: venv
	@$(CHECK_ARGS)
	$(BIN)/snakemake --cores $(CORES) $(SMK_ARGS)
	$(BIN)/python -m workflow.dvcgen params $(SMK_ARGS)
	$(DVC) commit --force --quiet $$($(BIN)/python -m workflow.dvcgen made)
	$(DVC) repro
	$(DVC) push

# Consumer, after git clone: fetch a colleague's artifacts, then mark them up to date for Snakemake (DVC does not
# keep timestamps), on the config they were made with: the committed params.yaml (Snakemake keeps only the last
# --configfile, so one in SMK_ARGS replaces it: give the producer's). Afterwards `snakemake` on that config has
# nothing to redo and only changed figure rules rerun. Two checks stop the pull before anything is marked up to date
# (workflow/sharing.py): `check`, before anything is fetched, compares the config keys each stage tracks, as dvc.lock
# recorded them, with the config of this pull (params.yaml with SMK_ARGS) and names each stage and key that differs;
# `verify`, between `dvc fetch` and `dvc checkout`, hashes every object dvc.lock needs in the cache, deletes a damaged
# one and names its file, so nothing damaged reaches the workspace (whatever the remote's `verify` option).
pull: venv
	@$(CHECK_ARGS)
	@test -f params.yaml || { echo "Cannot pull: params.yaml is missing; it is the config of the shared results, \
	committed beside dvc.lock by 'make push' (check out a commit that has both)" >&2; exit 1; }
	$(BIN)/python -m workflow.sharing check --configfile params.yaml $(SMK_ARGS)
	$(DVC) fetch
	$(BIN)/python -m workflow.sharing verify
	$(DVC) checkout
	$(BIN)/snakemake --touch --cores $(CORES) --configfile params.yaml $(SMK_ARGS)
	$(BIN)/snakemake -n --cores $(CORES) --configfile params.yaml $(SMK_ARGS)

# dvc.yaml is generated from workflow/methods/registry.py (tests/test_dvc.py checks the committed file is current).
dvc-yaml: venv
	$(BIN)/python -m workflow.dvcgen

# Speed and memory benchmarks: each script writes a CSV and a PNG into benchmarks/.
bench: venv
	for b in benchmarks/bench_*.py; do $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit 1; done

# The end-to-end budget of a config's DAG from a clean copy: benchmarks/budget.csv, summary.csv, summary.png for
# the default; budget_<stem>.csv etc. for CONFIG=config/<stem>.yaml (e.g. make budget CONFIG=config/fashion.yaml).
CONFIG ?=
budget: venv
	$(BIN)/python -m benchmarks.budget --cores 2 $(if $(CONFIG),--configfile $(CONFIG))

figures: venv
	@$(CHECK_ARGS)
	$(BIN)/snakemake --cores $(CORES) figures $(SMK_ARGS)

clean-results:
	rm -rf results logs benchmarks/rules .snakemake
