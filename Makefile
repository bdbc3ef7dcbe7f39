# The two quick-start commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test benchmark install clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m nbexplain demo

test: install
	$(PY) -m pytest tests

benchmark: install
	$(PY) benchmarks/bench_sensitivity.py

clean:
	rm -rf $(VENV) build *.egg-info
