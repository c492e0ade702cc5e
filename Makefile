# llmsym — two commands on a fresh machine: `make pdf` and `make test`.
# Both install what is missing first (a .venv with the package, the TeX toolchain),
# and are quick when everything is already there.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TEX_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-latex-extra \
                texlive-fonts-recommended lmodern latexmk poppler-utils

.PHONY: setup tex pdf test bench lint mutation clean

setup: $(STAMP) tex

# Reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's TeX Live and poppler, installed only when a tool is missing.
tex:
	@if command -v latexmk >/dev/null && command -v pdflatex >/dev/null \
	    && command -v pdftotext >/dev/null && command -v pdffonts >/dev/null; then :; else \
	  echo "Installing TeX Live and poppler-utils (Debian packages)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(TEX_PACKAGES); \
	fi

pdf: setup
	$(PY) -m llmsym build

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) -m llmsym.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check llmsym derivations tests

mutation: setup
	$(PY) -m llmsym mutate

clean:
	rm -rf build .pytest_cache .ruff_cache
