# kyc-widgets: the two commands of the README quickstart, and a few helpers.
#
#   make demo   start the sandbox KYC API and serve notebooks/01-create-a-case.ipynb with Voila
#   make test   run the whole test suite (unit, widget, browser and notebook tests)
#
# Both create (or reuse) the virtual environment in $(VENV) themselves. The editable
# install runs again only when pyproject.toml is newer than the stamp file, so a second
# `make test` starts straight away.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kyc-widgets-installed

# Passed to the app: `make demo DEMO_ARGS="--lab"` also starts JupyterLab.
DEMO_ARGS ?=
# Extra pytest arguments: `make test PYTEST_ARGS="-k conflict -x"`.
PYTEST_ARGS ?=

# Tests never talk to a real API, whatever the shell has configured.
HERMETIC := env -u KYC_API_BASE_URL -u KYC_API_TOKEN -u KYC_API_IS_SANDBOX

.PHONY: demo lab test lint test-fast test-browser test-notebooks screenshots venv clean-venv help

help:
	@echo "make demo          sandbox + Voila app (notebooks/01-create-a-case.ipynb), prints the URL"
	@echo "make lab           the same, plus JupyterLab on the notebooks folder"
	@echo "make test          the whole test suite, notebooks included"
	@echo "make lint          ruff and mypy over the package, tests and benchmarks"
	@echo "make test-fast     tests/ without the browser test"
	@echo "make test-browser  the Playwright test only (needs /usr/bin/chromium)"
	@echo "make test-notebooks  run notebooks/*.ipynb top to bottom with nbval"
	@echo "make screenshots   re-take docs/*.png through the browser test"

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet --upgrade "pip>=23.1"
	$(PY) -m pip install --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m kyc_widgets.app $(DEMO_ARGS)

lab: $(STAMP)
	$(PY) -m kyc_widgets.app --lab $(DEMO_ARGS)

# One pytest run: tests/ as usual, and every notebook run top to bottom by nbval
# (--nbval-lax: a cell fails on an error, outputs are not compared; --nbval-current-env:
# the notebook kernel is this venv's Python, whatever kernels the machine has).
test: $(STAMP)
	$(HERMETIC) $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

# Static checks: the package ships py.typed, so its hints must hold.
lint: $(STAMP)
	$(VENV)/bin/ruff check kyc_widgets tests benchmarks
	$(VENV)/bin/mypy kyc_widgets

test-fast: $(STAMP)
	$(HERMETIC) $(PY) -m pytest tests -m "not browser" $(PYTEST_ARGS)

test-browser: $(STAMP)
	$(HERMETIC) $(PY) -m pytest tests -m browser $(PYTEST_ARGS)

test-notebooks: $(STAMP)
	$(HERMETIC) $(PY) -m pytest notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

screenshots: $(STAMP)
	$(HERMETIC) KYC_UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests -m browser $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
