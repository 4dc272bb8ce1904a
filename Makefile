# Two commands do all set-up on a fresh machine:
#   make demo   build the layers from the bundled sample and serve the map
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data
OUT    ?= build
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test install dev browser pdf js sample build serve lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

# Debian's Chromium for the browser tests (the machines have no other way to get a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will be skipped)"; fi; }

# The map's browser assets from npm (Leaflet.VectorGrid, pinned in api/map/package-lock.json) into the
# git-ignored api/map/node_modules; Leaflet itself comes from PyPI (xstatic-leaflet).
api/map/node_modules/.installed: api/map/package.json api/map/package-lock.json
	cd api/map && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

js: api/map/node_modules/.installed

sample: install
	$(BIN)/artois sample --out $(DATA)

build: install
	$(BIN)/artois build --data $(DATA) --out $(OUT)

serve: install js
	$(BIN)/artois serve --data $(OUT) --host $(HOST) --port $(PORT)

demo: install js
	@if [ ! -f $(DATA)/rooftops/batiment.gpkg ]; then $(BIN)/artois sample --out $(DATA); fi
	$(BIN)/artois build --data $(DATA) --out $(OUT)
	$(BIN)/artois serve --data $(OUT) --host $(HOST) --port $(PORT)

lint: dev
	$(BIN)/ruff check geo api tests benchmarks

typecheck: dev
	$(BIN)/mypy geo api

# Debian libraries of WeasyPrint (report PDFs) and poppler-utils (the PDF tests read PDFs back with pdftotext).
pdf:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && command -v pdftotext >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils >/dev/null; \
	  else echo "Pango/poppler missing: run 'sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils'"; fi; }

pytest: dev browser pdf js
	$(BIN)/pytest

test: lint typecheck pytest

bench: dev
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
