# Routine tasks. `make site` and `make test` set everything up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_HOME := $(CURDIR)/.tmp/ansible-home
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.tmp/ansible-local
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Where scripts/releases.py keeps the Prometheus releases (the local inventory and the tests read it).
export PROMFLEET_RELEASES ?= $(if $(filter 0,$(shell id -u)),/var/cache/promfleet/releases,$(HOME)/.cache/promfleet/releases)

.PHONY: help setup site verify teardown test lint sanity unit integration hosts kube node awx molecule bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## virtualenv, pinned Python deps, collections (no Galaxy needed), Debian's prometheus and supervisor
	@bash scripts/setup.sh

site: setup ## converge the local inventory: two datacenters watching three node_exporters, and a global, on loopback
	ansible-playbook site.yml

verify: setup ## prove the local federation works: table, topology picture, non-zero exit on failure
	ansible-playbook playbooks/verify.yml

teardown: setup ## stop and remove every instance of the local inventory
	ansible-playbook playbooks/teardown.yml

test: setup lint sanity unit integration hosts kube node awx molecule ## every check CI runs

lint: setup ## ansible-lint (production profile), yamllint, ruff
	bash scripts/lint.sh

sanity: setup ## ansible-test sanity, offline
	bash scripts/sanity.sh

unit: setup ## pytest unit tests: pure logic of every plugin
	python -m pytest tests/unit

integration: setup ## pytest integration tests: playbooks against real Prometheus and supervisord
	python -m pytest tests/integration

hosts: setup ## pytest tests/hosts: site.yml over SSH on real Debian machines booting systemd (podman containers)
	python -m pytest tests/hosts

kube: setup ## pytest tests/kube: the kubernetes role and site.yml on two real kube-apiservers (built once, cached)
	python -m pytest tests/kube

node: setup ## pytest tests/node: site.yml on two real Kubernetes nodes (kubelet, containerd, pods run) and a global; reloads, rollback
	python -m pytest tests/node

awx: setup ## pytest tests/awx: site.yml, verify.yml, add_datacenter.yml and teardown.yml with a limit as AWX runs a job (receptor, ansible-runner worker, the EE in podman) on the test bed's real hosts
	python -m pytest tests/awx

molecule: setup ## molecule scenarios: `default` (the local topology end to end), `kubernetes` (two API servers), `hosts` (real hosts over SSH); `kind` syntax only
	bash scripts/molecule.sh default
	bash scripts/molecule.sh kubernetes
	bash scripts/molecule_hosts.sh
	bash scripts/molecule_syntax.sh kind

bench: setup ## figures: converge/federate for 2 and 10 datacenters, re-run against ping for 3 and 10, reload latency for 1/10/100 jobs, watched machines: arrival at the global and series federated, a datacenter gone dark until the page, site.yml over SSH on the test bed against ping, the cost of TLS on /federate of 10k series, a config change live in a Kubernetes pod per reloader against the seed's inotify sidecar, site.yml as an AWX job (receptor, runner, EE) against the same playbook run directly (bench/README.md)
	python bench/federation.py --datacenters 2 10
	python bench/rerun.py --datacenters 3 10 --pairs 3
	python bench/reload.py --jobs 1 10 100
	python bench/watched.py
	python bench/alerting.py --group-interval 30
	python bench/testbed.py
	python bench/tls.py
	python bench/kube_reload.py
	python bench/awx.py

clean: ## remove the virtualenv, collections (not the committed link to this checkout) and scratch files
	rm -rf $(VENV) .tmp
	find collections/ansible_collections -mindepth 1 -maxdepth 1 ! -name promfleet -exec rm -rf {} +
