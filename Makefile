# Two commands for a new user (README.md):
#   make demo   install what the commands need into .venv (binary wheels; no torch, no cmake) and run the
#               whole pipeline on the embedded sample corpus
#   make test   install also the test extras, torch + megatron-core, KenLM's lmplz and a local Slurm, and
#               run the test suite
PYTHON ?= python3
VENV ?= .venv
DEMO_OUT ?= demo-out

.PHONY: install install-test demo test lint bench clean

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh $(VENV) $(PYTHON)
	touch $@

$(VENV)/.installed-test: pyproject.toml scripts/install.sh scripts/build_kenlm.sh
	bash scripts/install.sh $(VENV) $(PYTHON) --test
	touch $@ $(VENV)/.installed

demo: install
	$(VENV)/bin/corpus-tool demo -o $(DEMO_OUT) --overwrite

test: install-test
	bash scripts/test.sh $(VENV)

lint: install-test
	$(VENV)/bin/ruff check corpus_tool tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
