# sdd-build — one toolchain for people and CI. `make help` lists the targets.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
DESIGN ?= designs/ospf-underlay/solution-design.yaml
TOPOLOGY ?= labs/triangle.clab.yml

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

setup-system: ## Install the Debian packages the lab needs (root): frr, sshd, socat, iproute2
	@if [ "$$(id -u)" != 0 ]; then echo "setup-system needs root (apt-get)"; exit 2; fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends frr frr-pythontools openssh-server socat iproute2 iputils-ping procps sudo chromium >/dev/null
	@# The report tests fetch mermaid with npm; images that ship Node.js keep their own npm.
	command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null

setup: ## Install sdd-build and its dev tools into the current Python (+ test assets)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	-$(PYTHON) -m tests.unit.report.assets

lint: ## ruff lint + format check + import-linter layering contracts (.importlinter)
	$(PYTHON) -m ruff check sdd_build napalm_frr tests bench
	$(PYTHON) -m ruff format --check sdd_build napalm_frr tests bench
	$(PYTHON) -c 'from importlinter.cli import lint_imports_command as c; c(prog_name="lint-imports")'

typecheck: ## mypy strict on the package
	$(PYTHON) -m mypy

unit: ## Offline tests only (no device, no root)
	$(PYTHON) -m pytest -m "not lab" tests

test: lint typecheck ## Lint, types, and the whole test suite including lab tests (root)
	$(PYTHON) -m pytest tests

SPEC ?= designs/ospf-underlay/customer-spec.md
APPROVER ?= example.approver

example: ## The main job on the shipped example: lab up, approve, build, as-built record (root)
	sdd-build validate $(DESIGN)
	sdd-build plan $(DESIGN) --no-configs
	sdd-build lab up $(TOPOLOGY) --wait
	sdd-build approve $(SPEC) --gate spec --by $(APPROVER) --note "make example"
	sdd-build approve $(DESIGN) --gate design --by $(APPROVER) --note "make example"
	sdd-build build $(DESIGN) --lab $(TOPOLOGY)
	@echo "as-built record: $$(ls -d designs/ospf-underlay/builds/*/ | tail -1)"
	@echo "lab still up for you to look at: sdd-build lab status $(TOPOLOGY); take it down with: sdd-build lab down $(TOPOLOGY)"

bench: ## Benchmarks (tables with ratios against the peers measured in the same run; root)
	$(PYTHON) bench/design_scale.py --components 1000 --hosts 1000
	$(PYTHON) bench/lab_scale.py 3 30
	$(PYTHON) bench/build_vs_peers.py --routers 3
	$(PYTHON) bench/build_vs_peers.py --routers 30
	$(PYTHON) bench/scale_curve.py 3 30 100

.PHONY: help setup-system setup lint typecheck unit test example bench
