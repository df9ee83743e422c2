# kefu — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: setup demo test lint messages clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

demo: setup
	PORT=$(PORT) $(BIN)/kefu demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kefu bench conftest.py
	$(BIN)/lint-imports
	$(BIN)/python -m django makemigrations --check --dry-run --settings=kefu.settings

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# msgids are Chinese (the default language); only the English catalog exists. Needs GNU gettext.
messages: setup
	cd kefu && ../$(BIN)/python -m django makemessages -l en --ignore='tests/*' --settings=kefu.settings
	cd kefu && ../$(BIN)/python -m django compilemessages -l en --settings=kefu.settings

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
