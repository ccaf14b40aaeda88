# Routine tasks. `make site` and `make test` set everything up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_HOME := $(CURDIR)/.tmp/ansible-home
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.tmp/ansible-local
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help setup site verify teardown test lint sanity unit integration molecule bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## virtualenv, pinned Python deps, collections (no Galaxy needed), Debian's prometheus and supervisor
	@bash scripts/setup.sh

site: setup ## converge the local inventory: two datacenters and a global on loopback
	ansible-playbook site.yml

teardown: setup ## stop and remove every instance of the local inventory
	ansible-playbook playbooks/teardown.yml

test: setup lint sanity unit integration molecule ## every check CI runs

lint: setup ## ansible-lint (production profile), yamllint, ruff
	bash scripts/lint.sh

sanity: setup ## ansible-test sanity, offline
	bash scripts/sanity.sh

unit: setup ## pytest unit tests: pure logic of every plugin
	python -m pytest tests/unit

integration: setup ## pytest integration tests: playbooks against real Prometheus and supervisord
	python -m pytest tests/integration

molecule: setup ## molecule scenario `default`: the local topology end to end on free ports
	bash scripts/molecule.sh default

bench: setup ## figures for 2 and 10 datacenters (see bench/README.md)
	python bench/federation.py --datacenters 2 10

clean: ## remove the virtualenv, collections and scratch files
	rm -rf $(VENV) .tmp collections/ansible_collections
