"""Nothing a grading process starts outlives it, even when it is killed with SIGKILL at the
moment it starts a kernel (grading/lifeline.py, ControlGroups.sweep in grading/sandbox.py).

A *launcher* here plays the worker: a process of its own that starts a command and is then
killed, so that what it started is left without its parent, as on a real cluster.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from grading import sandbox
from grading.lifeline import bound_to_this_process
from testbed.dask_cli import running, wait_for

LAUNCHER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    sys.path[:0] = json.loads(sys.argv[1])
    from grading import sandbox
    from grading.lifeline import bound_to_this_process
    how = sys.argv[2]
    command = ["sleep", "300"]
    if how == "in a group of its own":
        groups = sandbox.ControlGroups("orphan-test", sandbox.Limits())
        command = groups.wrap(command)
        print(groups.memory, flush=True)
    elif how == "bound":
        command = bound_to_this_process(command)
    child = subprocess.Popen(command, start_new_session=True)
    print(child.pid, flush=True)
    time.sleep(300)
    """
)


def launch(how):
    """(the launcher, the lines it printed: what it started)."""
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, json.dumps(sys.path), how],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = [launcher.stdout.readline().strip() for _ in range(2 if how == "in a group of its own" else 1)]
    return launcher, lines


def alive(pid):
    return bool(running([pid]))


def kill(launcher):
    launcher.send_signal(signal.SIGKILL)
    launcher.wait()
    launcher.stdout.close()


@pytest.fixture
def cleanup():
    pids = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_what_a_grading_process_starts_is_killed_with_it(cleanup):
    launcher, (pid,) = launch("bound")
    cleanup.append(int(pid))
    wait_for(lambda: psutil.Process(int(pid)).name() == "sleep", "the command to start")
    kill(launcher)
    wait_for(lambda: not alive(int(pid)), "the command to end with its launcher", seconds=30)


def test_without_the_lifeline_the_command_would_outlive_its_launcher(cleanup):
    """The control for the test above: the same launcher and command, unbound, leave it running."""
    launcher, (pid,) = launch("unbound")
    cleanup.append(int(pid))
    kill(launcher)
    assert alive(int(pid))


def test_a_command_whose_launcher_has_already_died_never_runs(tmp_path):
    """The command is made for this process but started by another one, as when the grading
    process dies between starting the command and the command's request for SIGKILL."""
    marker = tmp_path / "ran"
    command = bound_to_this_process(["touch", str(marker)])
    started = subprocess.run([sys.executable, "-c", f"import subprocess; subprocess.run({command!r})"])
    assert started.returncode == 0
    assert not marker.exists()
    subprocess.run(command, check=True)  # started by this process, it runs
    assert marker.exists()


@pytest.mark.skipif(not sandbox.ControlGroups.supported(), reason="control groups need root and cgroup v1 memory")
def test_the_groups_of_a_killed_grading_process_are_swept_and_what_ran_in_them_ends(cleanup):
    """What escaped the lifeline (bubblewrap's own moment between making the sandbox and its
    first process's request for SIGKILL) is in the dead process's control groups: the next
    grading process to make groups of its own kills it and removes them."""
    launcher, (folder, pid) = launch("in a group of its own")
    cleanup.append(int(pid))
    wait_for(lambda: psutil.Process(int(pid)).name() == "sleep", "the command to start")
    mine = sandbox.ControlGroups("orphan-test-alive", sandbox.Limits())
    try:
        kill(launcher)
        assert alive(int(pid))  # nothing but the sweep ends it
        swept = sandbox.ControlGroups.sweep()
        assert folder in swept
        assert not os.path.exists(folder)
        wait_for(lambda: not alive(int(pid)), "the orphan to be killed", seconds=30)
        assert os.path.isdir(mine.memory)  # the groups of a live grading process stay
    finally:
        mine.remove()
