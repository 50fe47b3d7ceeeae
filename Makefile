# Two commands on a fresh machine: `make run` and `make test`.
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

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web server and worker together; Ctrl-C stops both.
run: seed
	@echo "Starting web on http://127.0.0.1:8000 and a django-q2 worker (Ctrl-C stops both)..."
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py qcluster & \
	$(BIN)/python manage.py runserver --noreload 127.0.0.1:8000 & \
	wait

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
