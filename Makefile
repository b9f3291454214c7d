# socialpulse — the Makefile contract: setup (idempotent), demo, test. Other tooling depends on these names.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KAFKA_LIB := pipeline/ops/services/broker/lib/.resolved
COMPOSE_VERSION := v2.40.3
COMPOSE := .tools/docker-compose

.PHONY: setup chromium proxy compose demo test test-unit test-integration test-faults bench clean-data help

help:
	@echo "make setup   - create .venv, install socialpulse with dev extras, fetch the Kafka broker jars"
	@echo "make demo    - setup, then run the demo (embedded Kafka + ClickHouse + worker + sample data)"
	@echo "make test    - setup, then the whole test suite (unit + integration on real servers)"
	@echo "make bench   - setup, then the benchmark (writes docs/benchmarks.md)"

setup: $(STAMP) $(KAFKA_LIB) chromium proxy

# Debian's Chromium drives the dashboard's browser test (no browser download: the network has only registries).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for the browser test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser test will be skipped"; \
	  else echo "note: chromium not installed (apt-get install chromium); the browser test will be skipped"; fi; }

# Debian's nginx (nginx-light) is the TLS proxy of the dashboard's proxy test, which starts its own on a free
# loopback port; the system service the package may start is stopped and disabled again.
proxy:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian nginx-light for the dashboard's TLS proxy test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
	      && { ! command -v systemctl >/dev/null 2>&1 || systemctl disable --now nginx >/dev/null 2>&1 || true; }) \
	      || echo "warning: could not install nginx; the proxy test will be skipped"; \
	  else echo "note: nginx not installed (apt-get install nginx-light); the proxy test will be skipped"; fi; }

# Docker Compose v2 validates docker-compose.yml in the tests (`docker compose config`). A machine without it
# builds it once from the Go module proxy into .tools/ (needs Go; about 2 minutes); without Go the compose
# tests are skipped, with a note here.
compose:
	@if docker compose version 2>/dev/null | grep -q ' v2\.' || docker-compose version 2>/dev/null | grep -q ' v2\.' \
	    || test -x $(COMPOSE); then :; \
	elif command -v go >/dev/null 2>&1; then \
	  echo "building Docker Compose $(COMPOSE_VERSION) from source (once), to validate docker-compose.yml"; \
	  ( set -e; \
	    dir=$$(GOFLAGS=-mod=mod go mod download -json github.com/docker/compose/v2@$(COMPOSE_VERSION) \
	           | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	    rm -rf .tools/compose-src; mkdir -p .tools; cp -r "$$dir" .tools/compose-src; chmod -R u+w .tools/compose-src; \
	    cd .tools/compose-src && go build -trimpath -ldflags '-s -w -X github.com/docker/compose/v2/internal.Version=$(COMPOSE_VERSION)' -o ../docker-compose ./cmd ); \
	  rm -rf .tools/compose-src; \
	  test -x $(COMPOSE) || echo "warning: could not build Docker Compose; the compose validation tests will be skipped"; \
	else echo "note: no Docker Compose v2 and no Go; the compose validation tests will be skipped"; fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

$(KAFKA_LIB): pipeline/ops/services/broker/pom.xml
	@command -v java >/dev/null || { echo "error: Java 17+ is required for the embedded Kafka broker (apt-get install openjdk-17-jre-headless)"; exit 2; }
	@command -v mvn >/dev/null || { echo "error: Maven is required to fetch the Kafka broker jars (apt-get install maven)"; exit 2; }
	mvn -q -B -f pipeline/ops/services/broker/pom.xml dependency:copy-dependencies
	@touch $(KAFKA_LIB)

demo: setup
	$(VENV)/bin/socialpulse demo

test: setup compose
	$(PY) -m pytest -q -p no:cacheprovider

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: setup
	$(PY) -m pytest -q tests/integration

test-faults: setup
	$(PY) -m pytest -q -m faults

bench: setup
	$(VENV)/bin/socialpulse bench

clean-data:
	rm -rf .socialpulse
