# llmsym — two commands on a fresh machine: `make pdf` and `make test`.
# Both install what is missing first (a .venv with the package, Debian's TeX toolchain; for the
# tests also Chromium), and are quick when everything is already there.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TEX_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-latex-extra \
                texlive-fonts-recommended lmodern latexmk poppler-utils
BROWSER_PACKAGES := chromium

.PHONY: setup tex browser pdf test test-all bench lint mutation clean

setup: $(STAMP) tex browser

# Reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's TeX Live and poppler, installed only when a tool is missing.
tex:
	@if command -v latexmk >/dev/null && command -v pdflatex >/dev/null \
	    && command -v pdftotext >/dev/null && command -v pdffonts >/dev/null \
	    && command -v pdfinfo >/dev/null; then :; else \
	  echo "Installing TeX Live and poppler-utils (Debian packages)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(TEX_PACKAGES); \
	fi

# Debian's Chromium, for the tests that render the HTML sheet in a real browser.
browser:
	@if command -v chromium >/dev/null; then :; else \
	  echo "Installing Chromium (Debian package, for the browser tests)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES); \
	fi

pdf: $(STAMP) tex
	$(PY) -m llmsym build

# The suite CI runs (under 10 minutes on 2 cores), the installed-wheel test included
# (tests/test_wheel.py): everything but the tests marked slow.
test: setup
	$(PY) -m pytest -m "not slow"

# Also the slow tests: the full mutation run and the verification under 18 more seeds.
test-all: setup
	$(PY) -m pytest

bench: setup
	$(PY) tools/bench.py

lint: $(STAMP)
	$(VENV)/bin/ruff check llmsym derivations tests tools

mutation: setup
	$(PY) -m llmsym mutate

clean:
	rm -rf build dist .pytest_cache .ruff_cache
