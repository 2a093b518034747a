"""Kernels end when the process that started them ends, even one killed as it started them.

A worker killed with SIGKILL cannot stop its kernels, and dask runs the submission again
elsewhere, so a kernel left behind would sit idle for as long as the machine runs. The
kernel's first process asks Linux for SIGKILL when its parent dies (``setpriv --pdeathsig``),
then makes sure that parent is still the process that started it: a parent killed in between
leaves the process with another parent, and it exits instead of starting the kernel. That
order leaves no moment in which the parent can die unnoticed.

The request holds across ``exec`` (of programs that are neither setuid nor given
capabilities): bubblewrap carries it from its first instruction, where its own
``--die-with-parent`` takes effect only once it has made the sandbox. What bubblewrap does
between making the sandbox's first process and that process asking for the same is the one
gap left; as root, grading.sandbox's control groups close it (ControlGroups.sweep).
"""

import os

# $0 is the PID of the process that ran the command; sh's $PPID is read when sh starts,
# after setpriv's request.
_CHECK = '[ "$PPID" = "$0" ] && exec "$@"'


def bound_to_this_process(command: list[str]) -> list[str]:
    """``command``, killed when the process (the thread, as Linux counts it) that starts it
    ends, and not run at all if that process has ended before it begins."""
    return ["setpriv", "--pdeathsig", "KILL", "--", "sh", "-c", _CHECK, str(os.getpid()), *command]
