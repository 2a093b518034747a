"""Starting and stopping the processes of the end-to-end tests, and the Python they run on."""

import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import psutil

STOP_GRACE = 15  # s a process gets to exit after SIGTERM, before SIGKILL


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def wait_until_up(url, process, timeout):
    """Poll ``url`` until it answers with JSON; raise if ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.25)
    raise TimeoutError(f"nothing answered at {url} within {timeout} s")


def hub_servers(state):
    """``pids()``: the proxy's and the single-user servers' PIDs, as the hub recorded them in its
    state folder; read when stopping, so that servers are found even if the hub died first."""

    def pids():
        proxy = state / "jupyterhub-proxy.pid"
        if proxy.exists():
            yield int(proxy.read_text())
        database = state / "jupyterhub.sqlite"
        if database.exists():
            with sqlite3.connect(database) as db:
                for (spawner,) in db.execute("SELECT state FROM spawners WHERE state IS NOT NULL"):
                    pid = json.loads(spawner).get("pid")
                    if pid:
                        yield pid

    return pids


def stop(process, also=lambda: ()):
    """Stop a process we started and every process it started (and the PIDs ``also()`` names).

    SIGTERM first, to the process alone: the hub then stops its servers and the proxy, and a
    server its kernels. Whatever is left gets SIGTERM, then SIGKILL, each by its PID.
    """
    family = {}
    for pid in [process.pid, *also()]:
        with suppress(psutil.NoSuchProcess):
            member = psutil.Process(pid)
            for relative in [member, *member.children(recursive=True)]:
                family[relative.pid] = relative
    family.pop(process.pid, None)  # waited for through Popen, which keeps its exit status
    process.terminate()
    try:
        process.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(family.values(), timeout=STOP_GRACE)
    for signal in ("terminate", "kill"):
        for member in alive:
            with suppress(psutil.NoSuchProcess):
                getattr(member, signal)()
        _, alive = psutil.wait_procs(alive, timeout=STOP_GRACE)


def readable_by_all(path):
    """Can any account read the file at ``path`` (every folder above it searchable)?"""
    path = Path(path).resolve()
    folders_ok = all(folder.stat().st_mode & stat.S_IXOTH for folder in path.parents)
    return folders_ok and bool(path.stat().st_mode & stat.S_IROTH)


def shared_venv(venv, base, folder, project=None):
    """A twin of ``venv`` that every account can run; returns (its bin/, its libpython folder).

    A venv made with pyenv runs an interpreter under /root, which no other account can reach
    (/root is mode 700). The twin gets a copy of that interpreter, ``base`` (hard links where
    possible: instant, no disk), without its own packages (a system interpreter that every
    account can run, such as Debian's, is used as it is); lib/, share/ and etc/ link to
    ``venv`` (the same packages, Jupyter data and config), and the scripts are copied with the
    twin's python in their #! line. The copy's python finds its libpython through
    LD_LIBRARY_PATH: its built-in search path is the original, under /root.

    With ``project`` (a checkout other accounts cannot enter, which holds ``venv`` and the
    editable install's package), lib/, share/ and etc/ are copies instead (hard links, bytecode
    included), and the project's package is copied in place of the editable install's link.
    """
    interpreter_name = Path(os.path.realpath(venv / "bin" / "python")).name
    if readable_by_all(base / "bin" / interpreter_name) and readable_by_all(os.__file__):
        python = base  # a system interpreter (Debian's /usr/bin/python3): every account runs it as it is
    else:
        python = folder / "python"
        shutil.copytree(
            base,
            python,
            symlinks=True,
            copy_function=link_or_copy,
            ignore=shutil.ignore_patterns("site-packages", "test"),
        )
    twin = folder / "venv"
    bin_folder = twin / "bin"
    bin_folder.mkdir(parents=True)
    (twin / "pyvenv.cfg").write_text(f"home = {python / 'bin'}\ninclude-system-site-packages = false\n")
    for part in ("lib", "share", "etc"):
        if project is None:
            (twin / part).symlink_to(venv / part)
        elif (venv / part).is_dir():
            shutil.copytree(
                venv / part,
                twin / part,
                symlinks=True,
                copy_function=link_or_copy,
                ignore=shutil.ignore_patterns("__editable__*"),
            )
    if project is not None:
        (packages,) = (twin / "lib").glob("python*/site-packages")
        shutil.copytree(project / "grading", packages / "grading", copy_function=link_or_copy)
    interpreter = python / "bin" / interpreter_name
    for name in ("python", "python3", interpreter.name):
        (bin_folder / name).symlink_to(interpreter)
    shebang = f"#!{venv / 'bin'}/python".encode()
    for script in (venv / "bin").iterdir():
        content = script.read_bytes() if script.is_file() and not script.is_symlink() else b""
        if content.startswith(shebang):
            body = content.split(b"\n", 1)[1]
            (bin_folder / script.name).write_bytes(f"#!{bin_folder / 'python'}\n".encode() + body)
            os.chmod(bin_folder / script.name, 0o755)
    return bin_folder, python / "lib"


def link_or_copy(source, destination):
    try:
        os.link(source, destination)
    except OSError:  # another file system
        shutil.copy2(source, destination)
