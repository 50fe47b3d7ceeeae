# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test venv migrate seed web worker lint clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

migrate: venv
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py prepare_fonts
	$(BIN)/python manage.py prepare_signing

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web server and worker together; Ctrl-C stops both. The worker side is supervise_workers, which
# runs qcluster as its child and restarts it if queued work stops moving (docs/WATCHDOG.md). Asked
# to stop (SIGINT), the supervisor stops its cluster (SIGINT, then SIGKILL after 5 s: qcluster can
# hang while stopping); it is killed itself only if it has not exited within 10 s.
run: seed
	@echo "Starting web on http://127.0.0.1:8000 and a supervised django-q2 worker (Ctrl-C stops both)..."
	@stop() { \
	  trap - INT TERM EXIT; kill $$web 2>/dev/null; kill -INT -$$worker 2>/dev/null; \
	  for _ in $$(seq 20); do kill -0 -$$worker 2>/dev/null || exit 0; sleep 0.5; done; \
	  kill -KILL -$$worker 2>/dev/null; exit 0; \
	}; \
	trap stop INT TERM EXIT; \
	setsid $(BIN)/python manage.py supervise_workers & worker=$$!; \
	$(BIN)/python manage.py runserver --noreload 127.0.0.1:8000 & web=$$!; \
	wait

test: venv
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
