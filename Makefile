PYTHON ?= /work/main/.venv/bin/python
BENCH_ARGS ?=

.PHONY: bench
bench:  ## intake benchmark under gunicorn and PostgreSQL (not part of the tests)
	command -v wrk >/dev/null || apt-get install -y wrk
	PYTHONPATH=$(CURDIR) $(PYTHON) -m tests.bench.intake_bench $(BENCH_ARGS)
