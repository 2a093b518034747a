# The two commands of the README, plus helpers. Every target creates .venv on first use.
#   make grade   regenerate release/ and grade every submission under submitted/
#   make test    run the test suite

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: grade test notebook release class e2e bench clean

# Reinstalled whenever the pins change; pip leaves what already matches alone.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

grade: $(STAMP)
	$(BIN)/python -m grading grade

test: $(STAMP)
	$(BIN)/python -m pytest

# Refresh source/attention/attention.ipynb from its jupytext twin attention.py (the file to edit).
notebook: $(STAMP)
	$(BIN)/jupytext --sync source/attention/attention.py

release: $(STAMP)
	$(BIN)/python -m grading release

# Rebuild the synthetic class under submitted/ from the release (after changing the notebook).
class: $(STAMP)
	$(BIN)/python tests/bundled_class.py

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

# torch is only the yardstick of the attention timings: the CPU wheel, pinned (any other
# version downloads gigabytes). Without it, or with BENCH_NO_TORCH=1, those figures are
# null and say so; everything else is measured the same. BENCH_ARGS: see python -m bench -h.
bench: $(STAMP)
	@if [ -z "$(BENCH_NO_TORCH)" ]; then \
		$(BIN)/pip install --quiet torch==2.13.0 || echo "bench: torch could not be installed: its figures will be null"; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

# Mutation testing, not part of `make test` (it grades every mutant of the solution: minutes
# on an idle machine): writes tests/mutants/report.md and report.json. A sample:
# make mutants MUTANTS_ARGS="--sample 20 --seed 1" (see PYTHONPATH=tests python -m mutants -h).
.PHONY: mutants
mutants: $(STAMP)
	PYTHONPATH=tests $(BIN)/python -m mutants $(MUTANTS_ARGS)

clean:
	rm -rf autograded feedback grades.csv grading-report.json gradebook.db .nbgrader.log .grading
