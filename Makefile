# Persona: `make run` installs everything and starts the web app; `make test` installs and runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install install-python install-web web-build run test test-python test-web lint format bench clean

install: install-python web-build

# torch comes first and pinned, so nothing later pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet "setuptools<81" wheel
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps torchcrepe==0.0.24 torchfcpe==0.0.4 stftpitchshift==2.0
	touch $(STAMP)

install-python: $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

install-web:
	@if [ -f web/package.json ]; then $(MAKE) $(WEB_STAMP); fi

web-build: install-web
	@if [ -f web/package.json ]; then cd web && npm run build; fi

run: install
	$(BIN)/persona serve --host $(HOST) --port $(PORT)

lint: install-python
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

format: install-python
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test-python: install-python
	$(BIN)/pytest -q

test-web: web-build
	@if [ -f web/package.json ]; then cd web && npm test && npm run e2e; fi

test: install lint test-python test-web

bench: install-python
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) web/node_modules web/dist
