# Portcullis: `make run` starts the server, `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench migrations clean

run: $(VENV)/.installed
	$(BIN)/portcullis serve

test: $(VENV)/.installed
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/python bench/saml_login.py

# After changing a model: write the migration that brings a database up to date.
migrations: $(VENV)/.installed
	$(BIN)/python -m tortoise makemigrations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) var .pytest_cache
