# kyc-widgets: the two commands of the README quickstart, and a few helpers.
#
#   make demo   start the sandbox KYC API and serve the analyst app with Voila
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

.PHONY: FORCE git-filter demo lab test lint test-fast test-browser test-notebooks screenshots venv clean-venv help

help:
	@echo "make demo          sandbox + the analyst app (Voila), prints the URL"
	@echo "make lab           the same, plus JupyterLab on a copy of the notebooks folder"
	@echo "make test          the whole test suite, notebooks included"
	@echo "make lint          ruff and mypy over the package, tests and benchmarks"
	@echo "make test-pandas2  the batch tests again on pandas 2.2 (the oldest pandas we support)"
	@echo "make test-fast     tests/ without the browser test"
	@echo "make test-browser  the Playwright test only (needs /usr/bin/chromium)"
	@echo "make test-notebooks  run notebooks/*.ipynb top to bottom with nbval"
	@echo "make screenshots   re-take docs/*.png through the browser test"

venv: $(STAMP)

# A venv counts as usable only when its pip runs. On Debian without python3-venv,
# `python3 -m venv` dies at ensurepip and leaves $(PY) behind with no pip in it: a check
# on "$(PY) exists" would keep that half-built venv forever. So the check runs on every
# make (pip --version, a fraction of a second), and a venv that fails it is removed and
# created again. pyvenv.cfg is rewritten only by a (re)creation, and the stamp depends on
# it: a new venv always gets the editable install, an untouched one does not.
$(VENV)/pyvenv.cfg: FORCE
	@if ! $(PY) -m pip --version >/dev/null 2>&1; then \
	    if [ -e "$(VENV)" ]; then \
	        echo "make: $(VENV) has no working pip (a half-built venv?): creating it again"; \
	        rm -rf "$(VENV)"; \
	    fi; \
	    echo "$(PYTHON) -m venv $(VENV)"; \
	    if ! $(PYTHON) -m venv "$(VENV)" || ! $(PY) -m pip --version >/dev/null 2>&1; then \
	        rm -rf "$(VENV)"; \
	        echo "make: could not create a virtual environment with pip in $(VENV)." >&2; \
	        echo "      On Debian/Ubuntu: apt-get install python3-venv, then run make again." >&2; \
	        exit 1; \
	    fi; \
	fi

FORCE:

# Quiet installs: a line before and after, pip's own output only when something fails.
$(STAMP): pyproject.toml $(VENV)/pyvenv.cfg
	@echo "make: installing kyc-widgets and its dependencies into $(VENV) (the first time takes a few minutes)..."
	@$(PY) -m pip install --disable-pip-version-check --quiet --upgrade "pip>=23.1"
	@$(PY) -m pip install --disable-pip-version-check --quiet -e ".[dev]"
	@touch $(STAMP)
	@echo "make: $(VENV) is ready."

# The repository refuses notebook outputs: .gitattributes sends every *.ipynb through the
# nbstripout filter on `git add`, configured here for this clone (outside a git checkout,
# nothing to do). tests/test_notebook_hygiene.py fails on a committed notebook with outputs.
NBSTRIPOUT := $(abspath $(PY)) -m nbstripout --keep-id
git-filter: $(STAMP)
	@if git rev-parse --git-dir >/dev/null 2>&1 && \
	    [ "$$(git config --get filter.nbstripout.clean)" != "$(NBSTRIPOUT)" ]; then \
	    git config filter.nbstripout.clean "$(NBSTRIPOUT)" && \
	    git config filter.nbstripout.smudge cat && \
	    echo "make: git now strips notebook outputs on commit (nbstripout filter)"; \
	fi

demo: $(STAMP) git-filter
	$(PY) -m kyc_widgets.cli.app $(DEMO_ARGS)

lab: $(STAMP) git-filter
	$(PY) -m kyc_widgets.cli.app --lab $(DEMO_ARGS)

# One pytest run: tests/ as usual, and every notebook run top to bottom by nbval
# (--nbval-lax: a cell fails on an error, outputs are not compared; --nbval-current-env:
# the notebook kernel is this venv's Python, whatever kernels the machine has).
# pytest-xdist runs the files on $(WORKERS) processes (one per core on CI's 2 cores);
# --dist loadfile keeps a file's tests, and a notebook's cells, on one worker, in order.
WORKERS ?= 2
XDIST := -n $(WORKERS) --dist loadfile
test: $(STAMP) git-filter
	$(HERMETIC) $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env $(XDIST) $(PYTEST_ARGS)

# Static checks: the package ships py.typed, so its hints must hold.
lint: $(STAMP)
	$(VENV)/bin/ruff check kyc_widgets tests benchmarks
	$(VENV)/bin/mypy kyc_widgets

# pyproject allows pandas 2.2 and 3.x, and pandas 2 turns missing cells into text far
# more readily: run the spreadsheet tests on the oldest supported pandas too.
PANDAS2_VENV ?= .venv-pandas2
test-pandas2:
	test -x $(PANDAS2_VENV)/bin/python || $(PYTHON) -m venv $(PANDAS2_VENV)
	$(PANDAS2_VENV)/bin/python -m pip install --disable-pip-version-check --quiet \
		-e ".[sandbox]" "pandas>=2.2,<2.3" pytest pytest-timeout hypothesis
	$(HERMETIC) $(PANDAS2_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		tests/test_batch_reading.py tests/test_batch_preflight.py tests/test_batch_report.py \
		tests/test_batch_sending.py tests/test_batch_cli.py tests/test_campaign_files.py \
		tests/test_campaign_mapping.py tests/test_template.py tests/test_csv_rows.py $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(HERMETIC) $(PY) -m pytest tests -m "not browser" $(XDIST) $(PYTEST_ARGS)

test-browser: $(STAMP)
	$(HERMETIC) $(PY) -m pytest tests -m browser $(PYTEST_ARGS)

test-notebooks: $(STAMP)
	$(HERMETIC) $(PY) -m pytest notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

screenshots: $(STAMP)
	$(HERMETIC) KYC_UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests -m browser $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
