"""The sandbox a student's kernel runs in (grading/sandbox.py), each claim seen from inside it.

A probe runs in the sandbox exactly as a student's kernel would (same command, same limits)
and reports what it can see and do; the test checks every claim of the module's docstring:
no course, no grader's code, no network, its own processes only, a user of its own (as
root), no capabilities, the limits, and nothing left running once the sandbox ends.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grading import sandbox

PROBE = textwrap.dedent(
    """
    import json, os, signal, socket, subprocess, sys
    report = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd()}
    report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    report["sees"] = {path: os.path.exists(path) for path in sys.argv[1].split(os.pathsep)}
    for name in ("Cap" + kind for kind in ("Inh", "Prm", "Eff", "Bnd", "Amb")):
        report[name] = [l.split()[1] for l in open("/proc/self/status") if l.startswith(name + ":")][0]
    report["limits"] = open("/proc/self/limits").read()
    def attempt(action):
        try:
            action()
            return "done"
        except OSError as error:
            return type(error).__name__
    host, port = sys.argv[2].split(":")
    report["connect"] = attempt(lambda: socket.create_connection((host, int(port)), timeout=2))
    report["kill"] = attempt(lambda: os.kill(int(sys.argv[3]), signal.SIGKILL))
    report["write"] = {path: attempt(lambda p=path: open(os.path.join(p, "planted"), "w").close())
                       for path in sys.argv[4].split(os.pathsep)}
    report["big_file"] = attempt(lambda: open("/tmp/big", "wb").write(b"x" * (80 << 20)))
    report["home"] = sorted(os.listdir(sys.argv[5])) if os.path.isdir(sys.argv[5]) else []
    subprocess.Popen(["sh", "-c", "sleep 300", "sandbox-probe-leftover"], start_new_session=True)
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    (course / "gradebook.db").write_text("secret")
    listener = socket.create_server(("127.0.0.1", 0))
    grading = Path(sandbox.__file__).parent
    readable = os.pathsep.join([str(course / "gradebook.db"), str(course), str(grading)])
    writable = os.pathsep.join([sys.prefix, "/usr", "/tmp", sandbox.HOME])
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    probe = [sys.executable, "-c", PROBE, readable, address, str(os.getpid()), writable, os.path.expanduser("~")]
    command = sandbox.command(probe, run_dir=None, limits=sandbox.Limits(file_size=1 << 20), env={})
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    listener.close()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_sees_neither_the_course_nor_the_grader_nor_the_graders_home(report):
    assert not any(report["sees"].values()), report["sees"]
    # Of the grader's home, only the folder its Python lives in (pyenv's, say), if it lives there.
    home = Path(os.path.expanduser("~"))
    pythons = (Path(sys.base_prefix), Path(sys.prefix))
    python = {path.relative_to(home).parts[0] for path in pythons if home in path.parents}
    assert set(report["home"]) <= python, report["home"]


def test_it_has_no_network_not_even_the_hosts_loopback(report):
    assert report["connect"] != "done"


def test_it_sees_and_signals_only_its_own_processes(report):
    assert len(report["pids"]) < 10 and os.getpid() not in report["pids"]
    assert report["kill"] in ("ProcessLookupError", "PermissionError")


def test_it_writes_only_its_own_temporary_folders(report):
    assert report["write"][sys.prefix] != "done" and report["write"]["/usr"] != "done"
    assert report["write"]["/tmp"] == "done" and report["write"][sandbox.HOME] == "done"
    assert report["cwd"] == sandbox.HOME


def test_it_has_no_capabilities(report):
    assert {report[name] for name in ("CapInh", "CapPrm", "CapEff", "CapAmb")} == {"0000000000000000"}


@pytest.mark.skipif(os.geteuid() != 0, reason="a user of its own needs root; otherwise it is the grader's user")
def test_as_root_it_runs_as_a_user_of_its_own(report):
    assert report["uid"] == report["gid"] == sandbox.sandbox_uid() != 0


def test_its_limits_are_set(report):
    limits = {line[:26].strip(): line[26:].split()[:2] for line in report["limits"].splitlines()[1:]}
    defaults = sandbox.Limits()
    assert limits["Max address space"] == [str(defaults.memory)] * 2
    assert limits["Max open files"] == [str(defaults.open_files)] * 2
    assert limits["Max file size"] == [str(1 << 20)] * 2
    assert limits["Max cpu time"] == [str(defaults.cpu_seconds)] * 2
    assert int(limits["Max processes"][0]) >= defaults.processes
    assert report["big_file"] != "done"  # 80 MiB: beyond the file size limit and /tmp's size


def test_nothing_it_started_outlives_it(report):
    time.sleep(0.5)
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sandbox-probe-leftover" not in listing


def test_a_sandbox_killed_from_outside_takes_everything_in_it_along():
    command = sandbox.command(
        [
            sys.executable,
            "-c",
            "import subprocess, time\nsubprocess.Popen(['sh', '-c', 'sleep 300', 'sandbox-orphan'], "
            "start_new_session=True)\ntime.sleep(300)",
        ],
        run_dir=None,
        limits=sandbox.Limits(),
        env={},
    )
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while "sandbox-orphan" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(0.5)
    assert "sandbox-orphan" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


@pytest.mark.skipif(not sandbox.ControlGroups.supported(), reason="control groups need root and cgroup v1 memory")
def test_as_root_the_memory_limit_holds_for_all_its_processes_together():
    """Four processes of 100 MiB each, in a sandbox of 256 MiB: the rlimits (per process) allow
    that, the control group does not, and its peak stays under the limit."""
    groups = sandbox.ControlGroups("memory-total", sandbox.Limits(memory=256 << 20))
    hog = "import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        a = bytearray(100 << 20)\n"
    hog += "        time.sleep(2)\n        os._exit(0)\nstatuses = [os.wait()[1] for _ in range(4)]\nprint(statuses)"
    try:
        command = sandbox.command([sys.executable, "-c", hog], None, sandbox.Limits(), {}, groups=groups)
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        peak = int(Path(groups.memory, "memory.max_usage_in_bytes").read_text())
    finally:
        groups.remove()
    statuses = json.loads(result.stdout.strip().splitlines()[-1])
    assert any(status != 0 for status in statuses), statuses  # the OOM killer ended one or more
    assert peak <= 256 << 20


def test_a_virtual_environment_whose_packages_live_elsewhere_runs_in_it(tmp_path):
    """The hub's shared venv (tests/e2e/processes.py) links lib/ to another venv: bubblewrap
    binds what a link points to only when told, so the packages must be bound by real path."""
    from tests.e2e.processes import shared_venv

    bin_folder, libpython = shared_venv(Path(sys.prefix), Path(sys.base_prefix), tmp_path)
    assert (bin_folder.parent / "lib").is_symlink()
    environment = {**os.environ, "LD_LIBRARY_PATH": str(libpython)}
    probe = "from grading import sandbox; print(sandbox.available() or 'ok')"
    result = subprocess.run(
        [str(bin_folder / "python"), "-c", probe], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1:] == ["ok"], result.stdout + result.stderr
