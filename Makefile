# Everything bootstraps .venv from nothing: only python3 (>= 3.11) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest openapi fuzz explore bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Serve on http://127.0.0.1:8000 (embedded PostgreSQL under ./.data/ unless DATABASE_URL is set)
run: $(STAMP)
	$(BIN)/tactful serve

## Lint, type-check and run the whole suite on real PostgreSQL
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests alembic bench
	$(BIN)/ruff format --check app tests alembic bench

typecheck: $(STAMP)
	$(BIN)/mypy app bench

pytest: $(STAMP)
	$(BIN)/python -m pytest

## Contract fuzzing at depth (schemathesis, every check; `make test` runs a bounded pass)
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest -p no:cacheprovider tests/fuzz

## Property tests with fresh random examples (`make test` draws the same ones every run)
explore: $(STAMP)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -p no:cacheprovider \
		$$(grep -rl --include='test_*.py' '^from hypothesis' tests)

## Regenerate openapi.md from the app's OpenAPI schema
openapi: $(STAMP)
	$(BIN)/python -m app.openapi_doc > openapi.md

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
