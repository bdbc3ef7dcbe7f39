# The two quick-start commands: `make demo` and `make test`. Both set up what they need on first use:
# .venv with the package and its extras (its install builds the front-ends in js/ into
# nbexplain/static), and for the tests the Node dependencies and Debian's chromium for the
# real-browser tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
APT := DEBIAN_FRONTEND=noninteractive apt-get
# The extras the quick start installs: a TensorFlow build, Parquet, comparisons, tree models (with
# their compiled loops), Dask for batches and the test tools.
EXTRAS ?= cpu,parquet,comparisons,trees,fast,dask,test

.PHONY: demo test lint benchmark install frontend-deps browser clean

$(VENV)/.installed: pyproject.toml setup.py $(wildcard js/*.js) notebooks/dashboard.ipynb
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

js/node_modules/.installed: js/package.json js/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && $(APT) update -qq && $(APT) install -y -qq nodejs npm; } \
		|| { echo "Node.js and npm are needed for the front-end tests: install them (apt-get install nodejs npm)"; exit 1; }
	cd js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend-deps: js/node_modules/.installed

# Debian's chromium for the browser tests (Playwright's own browser download needs the internet).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && $(APT) update -qq && $(APT) install -y -qq chromium >/dev/null; } \
		|| echo "chromium is not installed and this user cannot install it: the browser tests will be skipped"

demo: install
	$(PY) -m nbexplain dashboard

# Lint, format, types and the import contracts (the layers of the package), then the JavaScript.
lint: install frontend-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd js && npx --no-install eslint .

test: lint browser
	$(PY) -m pytest tests

benchmark: install browser
	$(PY) benchmarks/bench_sensitivity.py
	$(PY) benchmarks/bench_integrated.py
	$(PY) benchmarks/bench_dashboard.py

clean:
	rm -rf $(VENV) build *.egg-info nbexplain/static js/node_modules test-artifacts
