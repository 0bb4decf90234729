# referral-router: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install run demo test lint format bench bench-intake bench-routing openapi clean \
	translations bench-dashboard bench-delivery

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## run: the whole router in one process, on SQLite, with the synthetic demo
run: install
	$(BIN)/referral-router run

## demo: file synthetic reports against `make run` and acknowledge some
demo: install
	$(BIN)/referral-router demo

## test: lint, then every test (PostgreSQL and RabbitMQ ones skip if absent,
## unless CI=true or REQUIRE_SERVICES=1, where they fail instead)
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the benchmarks; they print figures and assert nothing
bench: bench-routing bench-intake bench-delivery bench-dashboard

bench-routing: install
	$(BIN)/python -m tests.bench.routing_bench

bench-intake: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m tests.bench.intake_bench

## openapi: regenerate contracts/openapi.json from the code
openapi: install
	LOG_LEVEL=WARNING $(BIN)/referral-router openapi > contracts/openapi.json

## translations: extract the dashboard's messages, merge them into each
## language's catalog, compile the catalogs (commit all three)
TRANSLATIONS := router/dashboard/translations
translations: install
	$(BIN)/pybabel extract -F router/dashboard/babel.cfg -k lazy_gettext -k _l \
		--no-location --omit-header --sort-output -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--no-fuzzy-matching --width 88
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

## bench-delivery: referrals from outbox to receiver beside raw publish rate
bench-delivery: install
	$(BIN)/python -m tests.bench.delivery_bench

## bench-dashboard: 1,000,000 synthetic referrals in PostgreSQL, page timings
bench-dashboard: install
	$(BIN)/python -m tests.bench.dashboard_bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
