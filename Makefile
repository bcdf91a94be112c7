# Samverka. `make run` and `make test` are all a fresh machine needs (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: mutation bench run test e2e lint format install install-dev install-browser install-dovecot install-clamav install-vnu translations compile-translations db-upgrade clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements.lock $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed compile-translations

install-dev: $(VENV)/.installed-dev compile-translations

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d translations

translations: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

db-upgrade: install
	$(BIN)/flask db upgrade

run: install db-upgrade
	$(BIN)/flask crm demo-users
	$(BIN)/flask crm seed-partners
	$(BIN)/flask crm seed-templates
	$(BIN)/flask run --host 127.0.0.1 --port 5000

install-browser:
	bash scripts/install-browser.sh

install-dovecot:
	bash scripts/install-dovecot.sh

install-clamav:
	bash scripts/install-clamav.sh

install-vnu:
	bash scripts/install-vnu.sh

test: install-dev install-browser install-dovecot install-clamav install-vnu
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: install-dev install-browser install-vnu
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache

# The benchmark, run by hand: `make bench BENCH_ARGS="--db sqlite --sizes 1000"`.
bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

# Mutation testing of the rule modules, by hand (not in CI): see docs/testing.md.
mutation: install-dev
	rm -rf mutants
	$(BIN)/mutmut run > /dev/null || true
	$(BIN)/mutmut results
