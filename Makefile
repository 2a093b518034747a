# The two commands of the README, plus helpers. Every target creates .venv on first use.
#   make grade   regenerate release/ and grade every submission under submitted/
#   make test    run the test suite (as root it first installs what the browser tests need)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROOT := $(filter 0,$(shell id -u))
# torch is only the yardstick of the attention timings: its CPU build, from PyTorch's own index
# (PyPI's is the CUDA build, gigabytes), with the lock's versions of what it shares with us.
TORCH := torch==2.13.0
TORCH_INDEX := https://download.pytorch.org/whl/cpu
PROXY := deploy/node_modules/.package-lock.json

.PHONY: grade test unit notebook release class e2e browser-deps bubblewrap lint bench lock clean

# Reinstalled whenever the pins change; pip leaves what already matches alone.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if (3, 11) <= v[:2] <= (3, 13) else \
		f"Python 3.11 to 3.13 is needed, $(PYTHON) is {v.major}.{v.minor} (set PYTHON=...)")'
	@test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "could not create $(VENV) with $(PYTHON): on Debian or Ubuntu, apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The students' kernels run in bubblewrap (grading/sandbox.py). As root: Debian's package. As
# any other user: the same package unpacked from Debian's archive next to the venv's python,
# which needs no root (bubblewrap runs unprivileged). If neither works, grading says so.
bubblewrap: $(STAMP)
	@command -v bwrap >/dev/null || test -x $(BIN)/bwrap || ( \
	if [ -n "$(ROOT)" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else tmp=$$(mktemp -d) && (cd $$tmp && apt-get download -qq bubblewrap >/dev/null && dpkg-deb -x bubblewrap_*.deb unpacked) \
		&& cp $$tmp/unpacked/usr/bin/bwrap $(BIN)/bwrap; status=$$?; rm -rf $$tmp; exit $$status; fi ) \
		|| echo "bubblewrap could not be installed: grading will stop and say so (see README, the sandbox)"

grade: $(STAMP) bubblewrap
	$(BIN)/python -m grading grade

# Every tier. As any other user than root the browser tests skip, with one line saying why.
test: $(STAMP) bubblewrap $(if $(ROOT),browser-deps)
	@echo $(BIN)/python -m pytest; $(BIN)/python -m pytest; status=$$?; $(give_back); exit $$status

# The unit tier alone (no kernels; seconds). A test's folder is its tier (tests/conftest.py), so
# naming the folder is `-m unit` without collecting the other tiers' files.
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

# Refresh source/attention/attention.ipynb from its jupytext twin attention.py (the file to edit).
notebook: $(STAMP)
	$(BIN)/jupytext --sync source/attention/attention.py

release: $(STAMP)
	$(BIN)/python -m grading release

# Rebuild the synthetic class under submitted/ from the release (after changing the notebook).
class: $(STAMP)
	$(BIN)/python tests/bundled_class.py

# The browser tests alone. They create unix accounts, so they run as root: sudo make e2e.
e2e: $(STAMP) bubblewrap browser-deps
	@echo $(BIN)/python -m pytest -m browser; $(BIN)/python -m pytest -m browser; status=$$?; $(give_back); exit $$status

# What the browser tests need besides the lock: Debian's Chromium and the hub's proxy (npm).
browser-deps:
	@test -n "$(ROOT)" || { echo "the browser tests create unix accounts: run them as root (sudo make e2e)"; exit 1; }
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	@test $(PROXY) -nt deploy/package-lock.json || npm ci --prefix deploy --no-audit --no-fund --loglevel=error

# Under sudo, what root created in the user's clone (venv, caches, node_modules, screenshots)
# goes back to them, so that their next `make test` can write there.
give_back = if [ -n "$$SUDO_UID" ] && [ "$$(stat -c %u .)" = "$$SUDO_UID" ]; then \
	find . -user 0 -exec chown -h "$$SUDO_UID:$$SUDO_GID" {} +; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Without torch, or with BENCH_NO_TORCH=1, the torch figures are null and say so; everything
# else is measured the same. BENCH_ARGS: see python -m bench -h.
bench: $(STAMP) bubblewrap
	@if [ -z "$(BENCH_NO_TORCH)" ]; then \
		$(BIN)/pip install --quiet --retries 1 -c requirements.txt --index-url $(TORCH_INDEX) $(TORCH) \
		|| echo "bench: torch could not be installed: its figures will be null"; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

# Regenerate requirements.txt from pyproject.toml and every extra, in a fresh venv. Pins that
# still fit are kept: to move one, edit or delete its line first.
lock:
	tmp=$$(mktemp -d) && $(PYTHON) -m venv $$tmp/venv \
	&& $$tmp/venv/bin/pip install --quiet -c requirements.txt -e '.[test,browser,bench,lint]' \
	&& { grep '^#' requirements.txt; $$tmp/venv/bin/pip freeze --all --exclude pip --exclude-editable; } > $$tmp/lock \
	&& mv $$tmp/lock requirements.txt; status=$$?; rm -rf $$tmp; exit $$status

# Mutation testing, not part of `make test` (it grades every mutant of the solution, some 700
# notebooks: about 20 minutes on 2 cores): writes tests/mutants/report.md and .json. A sample:
# make mutants MUTANTS_ARGS="--sample 20 --seed 1" (see PYTHONPATH=tests python -m mutants -h).
.PHONY: mutants
mutants: $(STAMP) bubblewrap
	PYTHONPATH=tests $(BIN)/python -m mutants $(MUTANTS_ARGS)

# What grading writes, except gradebook.db: it holds the formgrader's manual grades and the tests
# stored at release, and is in no git history. To start over, delete it by hand.
clean:
	rm -rf autograded feedback grades.csv canvas-grades.csv class-report.html grading-report.json .nbgrader.log .grading
	@test ! -e gradebook.db || echo "gradebook.db kept (manual grades, the release's tests): delete it by hand to start over"
