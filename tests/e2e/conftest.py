"""Fixtures of the end-to-end tests: the course's hub, started for real on 127.0.0.1.

The hub is deploy/jupyterhub_config.py (through ./jupyterhub_config.py): PAM logins for two
throwaway unix accounts, their JupyterLab servers started as them, configurable-http-proxy
from deploy/node_modules. The browser is Debian's Chromium, driven by Playwright.

Needs root, ``apt-get install chromium`` and ``npm ci --prefix deploy``, which ``make e2e`` and
``make test`` do as root; as anyone else these tests skip (see deploy/README.md).
Screenshots, step timings, the hub's log and the instructor's commands' output go to
tests/artifacts/e2e/.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from .accounts import DEPLOY, create_account, create_groups, private_dirs, remove_account, remove_groups
from .processes import free_ports, hub_servers, readable_by_all, shared_venv, stop, wait_until_up

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "tests" / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROXY = Path(DEPLOY) / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE = "tinytorch-attention"  # the course directory in the instructor's home (deploy/jupyter/instructor)
HUB_START_TIMEOUT = 60  # s
SYSTEM_PATH = ["/usr/local/bin", "/usr/bin", "/bin"]

expect.set_options(timeout=15_000)


def pytest_terminal_summary(terminalreporter, config):
    journal = config.stash.get(JOURNAL, None)
    if journal is not None and journal.lines:
        terminalreporter.write_sep("-", "end-to-end steps")
        terminalreporter.write_line("\n".join(journal.lines))
        terminalreporter.write_line(f"screenshots and logs: {journal.folder}")


def pytest_runtest_setup(item):
    """As anyone but root, skip: raised here, the three skips fold into one line of pytest's summary."""
    if os.geteuid() != 0:
        pytest.skip(
            "the browser tests create unix accounts and run servers as them, so only root can run them: sudo make e2e"
        )


class Journal:
    """Times the steps of the tests and saves a screenshot at the end of each."""

    def __init__(self, folder):
        self.folder = folder
        self.shots = 0
        self.lines = []

    @contextmanager
    def step(self, name, page=None):
        """Time a step; then screenshot ``page`` (a command's step has its log instead)."""
        start = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        finally:
            self.lines.append(f"{time.monotonic() - start:7.1f} s  {name}{'' if ok else '  (FAILED)'}")
            (self.folder / "timings.txt").write_text("\n".join(self.lines) + "\n")
            if page is not None:
                self.shoot(page, name if ok else f"{name}-FAILED", failing=not ok)

    def shoot(self, page, name, failing=False):
        """Screenshot of the page as it is now (a failing step's page may be gone already)."""
        self.shots += 1
        try:
            page.screenshot(path=self.folder / f"{self.shots:02d}-{name}.png")
        except PlaywrightError:
            if not failing:
                raise


JOURNAL = pytest.StashKey[Journal]()


@pytest.fixture(scope="session")
def artifacts():
    """tests/artifacts/e2e/, emptied: this session's screenshots, step timings and logs."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def journal(artifacts, pytestconfig):
    """The steps' timings and screenshots; the timings are also printed after the tests."""
    pytestconfig.stash[JOURNAL] = Journal(artifacts)
    return pytestconfig.stash[JOURNAL]


@pytest.fixture(scope="session")
def work():
    """A throwaway folder for the homes, the exchange and the hub's state."""
    missing = [str(path) for path in (CHROMIUM, PROXY) if not os.path.exists(path)]
    if missing:  # as root, make test and make e2e install both first
        pytest.fail(
            f"missing {', '.join(missing)}: make e2e installs them (apt-get install chromium; npm ci --prefix deploy)"
        )
    path = Path(tempfile.mkdtemp(prefix="tinytorch-e2e-"))
    path.chmod(0o755)  # the accounts must reach their homes and the exchange inside it
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def account_env(work):
    """PATH, LANG (and LD_LIBRARY_PATH) of the hub and the accounts. PATH starts with the bin/ of
    a venv with this project's packages that every account can run: the hub's spawner finds
    jupyterhub-singleuser there, and passes these variables on to the servers (Spawner.env_keep).
    A checkout in a folder other accounts cannot enter (root's home, a mktemp -d folder) gets
    a venv of its own outside it, packages and project included."""
    project = None if readable_by_all(REPO / "grading" / "__init__.py") else REPO
    if project is None and readable_by_all(sys.executable) and readable_by_all(os.__file__):
        return {"PATH": os.pathsep.join([str(Path(sys.prefix) / "bin"), *SYSTEM_PATH]), "LANG": "C.UTF-8"}
    bin_folder, libpython = shared_venv(Path(sys.prefix), Path(sys.base_prefix), work / "python", project)
    return {
        "PATH": os.pathsep.join([str(bin_folder), *SYSTEM_PATH]),
        "LANG": "C.UTF-8",
        "LD_LIBRARY_PATH": str(libpython),
    }


@pytest.fixture(scope="session")
def accounts(work):
    """``{"instructor": Account, "student": Account}``, unix accounts in the deploy's groups."""
    homes = work / "home"
    homes.mkdir(mode=0o755)
    new_groups = create_groups()
    made = []
    try:
        made.append(create_account("e2e-instructor", "instructor", homes))
        made.append(create_account("e2e-student", "student", homes))
        yield {account.role: account for account in made}
    finally:  # after the hub fixture has stopped every process of these accounts
        for account in made:
            remove_account(account.name)
        remove_groups(new_groups)


@pytest.fixture(scope="session")
def role_configs(work):
    """deploy/jupyter (a folder per role), or a copy of it that every account can read."""
    if readable_by_all(Path(DEPLOY) / "jupyter" / "student" / "nbgrader_config.py"):
        return Path(DEPLOY) / "jupyter"
    copy = work / "deploy-jupyter"
    shutil.copytree(Path(DEPLOY) / "jupyter", copy)
    return copy


@pytest.fixture(scope="session")
def exchange(work):
    """nbgrader's exchange, writable by every account like /tmp, and the config pointing at it."""
    exchange = work / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    config = work / "jupyter"  # first on every server's JUPYTER_CONFIG_PATH (./jupyterhub_config.py)
    config.mkdir()
    (config / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    return exchange


@pytest.fixture(scope="session")
def course(accounts):
    """The instructor's course directory: this repository's nbgrader_config.py, source/ and release/."""
    instructor = accounts["instructor"]
    root = Path(instructor.home) / COURSE
    root.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", root)
    for folder in ("source", "release"):
        shutil.copytree(
            REPO / folder, root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        )
    instructor.chown(root)
    return root


@pytest.fixture(scope="session")
def hub(work, account_env, role_configs, accounts, course, exchange, artifacts):
    """Start JupyterHub; yield its URL; stop it and every process it started, by PID."""
    state = work / "hub"
    state.mkdir(mode=0o700)
    os.mkdir(private_dirs(state)["TMPDIR"])
    port, hub_api_port, proxy_api_port = free_ports(3)
    env = {
        **os.environ,
        **account_env,
        **private_dirs(state),
        "E2E_WORK": str(work),
        "E2E_ROLE_CONFIGS": str(role_configs),
        "E2E_HUB_PORT": str(port),
        "E2E_HUB_API_PORT": str(hub_api_port),
        "E2E_PROXY_API_PORT": str(proxy_api_port),
    }
    url = f"http://127.0.0.1:{port}"
    with open(artifacts / "jupyterhub.log", "w") as log:
        process = subprocess.Popen(
            [Path(sys.prefix) / "bin" / "jupyterhub", "-f", HERE / "jupyterhub_config.py"],
            cwd=state,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(f"{url}/hub/api", process, HUB_START_TIMEOUT)
            yield url
        finally:
            stop(process, also=hub_servers(state))


@pytest.fixture(scope="session")
def browser(work):
    """Headless Chromium with a throwaway home (and, from Playwright, a throwaway profile)."""
    home = work / "chromium"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser):
    """``new_page()``: a page in a browser context of its own (its own cookies, so its own login)."""
    contexts = []

    def new_page():
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def run_as(work, account_env, role_configs, artifacts):
    """``run_as(account, name, *command, cwd=...)``: run a command as the account, in the
    environment the hub gives its server; the output goes to artifacts/<account>-<name>.log."""

    def run_as(account, name, *command, cwd, timeout=300):
        config_path = os.pathsep.join([str(work / "jupyter"), str(role_configs / account.role)])
        env = {**account.environment(), **account_env, "JUPYTER_CONFIG_PATH": config_path}
        log = artifacts / f"{account.name}-{name}.log"
        with open(log, "w") as output:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, **account.identity
            )
            try:
                process.wait(timeout)
            finally:
                stop(process)
        assert process.returncode == 0, f"{' '.join(command)} failed:\n{log.read_text()}"
        return log.read_text()

    return run_as
