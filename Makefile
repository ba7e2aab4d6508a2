# vp3d: `make run` starts the app, `make deploy` serves many visitors (workers behind HAProxy),
# `make test` runs the whole test suite.
# Both install what is missing first (Debian packages, then the .venv); stamps make the
# second run fast. pip runs again only when pyproject.toml changes.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
HOST ?= localhost
PORT ?= 8080
# `make run SERVE_ARGS=` also opens a browser on the page.
SERVE_ARGS ?= --server
# `make deploy DEPLOY_ARGS="--workers 4"`; the default is one worker per core.
DEPLOY_ARGS ?=
PYTEST_ARGS ?=

STAMPS := .cache/make
SYSTEM_STAMP := $(STAMPS)/system.stamp
VENV_STAMP := $(VENV)/.vp3d-installed

# Offscreen VTK without a display or GPU: EGL (Mesa's software rasteriser when no GPU).
export VTK_DEFAULT_OPENGL_WINDOW ?= vtkEGLRenderWindow
export PYTHON VENV

.PHONY: run deploy test install

run: $(VENV_STAMP)
	$(VENV)/bin/python -m vp3d serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

deploy: $(VENV_STAMP)
	$(VENV)/bin/python -m vp3d deploy --host $(HOST) --port $(PORT) $(DEPLOY_ARGS)

test: $(VENV_STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

install: $(VENV_STAMP)

$(SYSTEM_STAMP): scripts/install.sh
	bash scripts/install.sh system
	@mkdir -p $(STAMPS) && touch $@

$(VENV_STAMP): pyproject.toml | $(SYSTEM_STAMP)
	bash scripts/install.sh venv
	@touch $@
