# Two commands for a new user (README.md):
#   make demo   install everything into .venv and run the whole pipeline on the embedded sample corpus
#   make test   install everything (plus the test extras and a local Slurm) and run the test suite
PYTHON ?= python3
VENV ?= .venv
DEMO_OUT ?= demo-out

.PHONY: install demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh $(VENV) $(PYTHON)
	touch $@

demo: install
	$(VENV)/bin/corpus-tool demo -o $(DEMO_OUT) --overwrite

test: install
	bash scripts/test.sh $(VENV)

lint: install
	$(VENV)/bin/ruff check corpus_tool tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
