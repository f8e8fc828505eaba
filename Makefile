# Two entry points for people: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo ui test lint venv lock clean

# The venv is rebuilt when the pins change; the stamp makes a second `make` instant.
$(STAMP): setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m etl.demo

# The Airflow UI (airflow standalone) on the demo's data and runs, with its SFTP server; PORT=8080.
ui: $(STAMP)
	$(BIN)/python -m etl.demo ui --port $(or $(PORT),8080)

# Scale tests (marker `slow`) run only with SLOW=1; they do not fit CI's budget.
PYTEST_SELECT := $(if $(SLOW),,-m "not slow")

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_SELECT)

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerates the full pin set from setup.py's direct pins.
lock:
	rm -rf /tmp/credit-etl-lock && $(PYTHON) -m venv /tmp/credit-etl-lock
	/tmp/credit-etl-lock/bin/pip install --quiet -e ".[all]"
	/tmp/credit-etl-lock/bin/pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
