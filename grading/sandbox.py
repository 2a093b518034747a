"""The sandbox a student's kernel runs in: bubblewrap, a user of its own, and resource limits.

Why bubblewrap: it is the sandbox Flatpak runs every desktop application in, packaged by
every distribution (Debian's ``bubblewrap``), small enough to read, and it builds the
sandbox out of the kernel's own namespaces without a daemon or setuid helper; Docker needs a
daemon and root, nsjail and firejail are not in every distribution, and a sandbox of our own
would be code nobody audits. What a kernel gets:

* a file system of its own: /usr, a few files of /etc, the Python installation and the
  virtual environment the grader runs from, read-only; /tmp and its home as small tmpfs
  mounts of its own; /run/grading (the kernel's connection files and the grader's agent).
  The course (gradebook, source/, release/, submitted/, other students), the grader's code
  and the worker's scratch folders are not there at all;
* namespaces of its own: no network (not even the host's loopback), its own process IDs (it
  sees and can signal only its own processes; when the kernel's sandbox ends, every process
  in it ends, detached or not), IPC and host name;
* a user of its own: as root, each kernel runs as an unprivileged uid that no other process
  has (``uid_base`` + the grading process's PID), with no capabilities and no way to gain
  any; as any other user, bubblewrap's user namespace maps the kernel to that user, without
  capabilities outside its sandbox;
* limits (prlimit): address space, processes, open files, file size, CPU time per process;
  as root, where the machine has cgroup v1, memory and processes for the whole sandbox too.

``available`` says why a sandbox cannot be made here; ``command`` wraps a kernel's command.
"""

import functools
import os
import shutil
import site
import subprocess
import sys
import time
from dataclasses import dataclass

from .lifeline import bound_to_this_process

INSIDE = "/run/grading"  # where the kernel's run folder is mounted
HOME = "/home/student"
# What of /etc a Python kernel and matplotlib read; the rest of /etc is none of its business.
ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "fonts",
    "mime.types",
    "nsswitch.conf",
    "passwd",
    "group",
    "hosts",
)


class SandboxUnavailable(Exception):
    """No sandbox can be made on this machine; the message says what is missing."""


@dataclass(frozen=True)
class Limits:
    """What one student kernel may use. Processes count threads too (a kernel runs about 15)."""

    memory: int = 4 << 30  # bytes of address space per process
    processes: int = 128
    open_files: int = 512
    file_size: int = 64 << 20  # bytes, per file written
    cpu_seconds: int = 600
    tmp_size: int = 64 << 20  # bytes of /tmp, and as many of the home folder


def bwrap(configured: str = "") -> str | None:
    """The bubblewrap executable: ``configured`` if given, else on PATH, else the copy `make`
    unpacks into the virtual environment when it cannot install the package (an ordinary user)."""
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("bwrap") or _beside_python("bwrap")


def _beside_python(name: str) -> str | None:
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.access(path, os.X_OK) else None


@functools.cache
def available(configured: str = "") -> str | None:
    """None if a sandbox works here, else why not (found out once per process, then remembered)."""
    executable = bwrap(configured)
    if executable is None:
        return (
            f"bubblewrap is not installed ({configured or 'no bwrap on PATH'}): `apt-get install bubblewrap` "
            "as root (`make grade` does it), or grade without a sandbox with --no-sandbox"
        )
    probe = command(
        [sys.executable, "-c", "import ipykernel, numpy"], run_dir=None, limits=Limits(), env={}, executable=executable
    )
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap ({executable}) could not start: {error}"
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return (
            f"bubblewrap ({executable}) cannot run a kernel here: {detail}. It needs unprivileged user "
            "namespaces (sysctl kernel.unprivileged_userns_clone=1) unless run as root, and a Python "
            "installation readable by every user"
        )
    return None


class ControlGroups:
    """As root, where the machine has cgroup v1's memory and pids controllers: control groups of
    one student's kernel, so that its memory and process limits hold for all its processes
    together (not only per process, as the rlimits do), and its peak memory is read there, forked
    and finished processes included. ``folders`` is empty where none can be made."""

    ROOT = "/sys/fs/cgroup"
    CONTROLLERS = ("memory", "pids")

    def __init__(self, name: str, limits: Limits) -> None:
        self.folders: dict[str, str] = {}  # controller -> the group's folder
        if not self.supported():
            return
        self.sweep()
        settings_of = {"memory": {"memory.limit_in_bytes": limits.memory}, "pids": {"pids.max": limits.processes}}
        for controller in self.CONTROLLERS:
            settings = settings_of[controller]
            base = os.path.join(self.ROOT, controller)
            if not os.path.exists(os.path.join(base, "cgroup.procs")):
                continue  # not a v1 hierarchy of that controller
            folder = os.path.join(base, "grading", f"{_owner(os.getpid())}.{name}")
            try:
                os.makedirs(folder)
                for setting, value in settings.items():
                    with open(os.path.join(folder, setting), "w") as handle:
                        handle.write(str(value))
            except OSError:
                continue
            self.folders[controller] = folder

    @classmethod
    def supported(cls) -> bool:
        return os.geteuid() == 0 and os.path.exists(os.path.join(cls.ROOT, "memory", "cgroup.procs"))

    @property
    def memory(self) -> str | None:
        return self.folders.get("memory")

    def wrap(self, command: list[str]) -> list[str]:
        """``command``, started inside the groups (its process joins them, then becomes it)."""
        if not self.folders:
            return command
        procs = [os.path.join(folder, "cgroup.procs") for folder in self.folders.values()]
        join = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"'
        return ["sh", "-c", join, "sh", *procs, "--", *command]

    def remove(self) -> None:
        """End whatever is left in the groups, and remove them."""
        for folder in self.folders.values():
            _end_group(folder)

    @classmethod
    def sweep(cls) -> list[str]:
        """End and remove the groups of grading processes that have died (a worker killed with
        SIGKILL leaves its groups, and can leave a sandbox behind: grading.lifeline). Returns
        the folders removed."""
        swept = []
        for controller in cls.CONTROLLERS:
            base = os.path.join(cls.ROOT, controller, "grading")
            try:
                names = os.listdir(base)
            except OSError:
                continue
            for name in names:
                owner, dot, _ = name.partition(".")
                pid, dash, _ = owner.partition("-")
                folder = os.path.join(base, name)
                if dot and dash and pid.isdigit() and os.path.isdir(folder) and _owner(int(pid)) != owner:
                    _end_group(folder)
                    swept.append(folder)
        return swept


def _owner(pid: int) -> str | None:
    """``pid-starttime`` of a running process, None if none runs under that PID: the start time
    tells a process from a later one that reuses its PID."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            # the command name, in parentheses, may hold spaces: fields are counted after it
            start = handle.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None
    return f"{pid}-{start}"


def _end_group(folder: str) -> None:
    """Kill every process in a control group, then remove it (retried while they exit)."""
    for _ in range(50):
        try:
            with open(os.path.join(folder, "cgroup.procs")) as handle:
                pids = [int(pid) for pid in handle.read().split()]
            for pid in pids:
                os.kill(pid, 9)
            os.rmdir(folder)
            return
        except FileNotFoundError:
            return
        except (ProcessLookupError, OSError):
            time.sleep(0.02)


def sandbox_uid() -> int:
    """The uid a kernel of this process runs as, when the grader runs as root."""
    return UID_BASE + os.getpid()


UID_BASE = 1_900_000_000  # far above any real account; one uid per grading process


def command(
    kernel_command: list[str],
    run_dir: str | None,
    limits: Limits,
    env: dict[str, str],
    executable: str | None = None,
    groups: ControlGroups | None = None,
) -> list[str]:
    """The command that runs ``kernel_command`` in a sandbox, with ``run_dir`` at INSIDE and the
    environment ``env`` (nothing of the grader's own environment gets in), in ``groups``
    (ControlGroups) if given."""
    root = os.geteuid() == 0
    executable = executable or bwrap()
    if executable is None:
        raise SandboxUnavailable("bubblewrap is not installed: no bwrap on PATH")
    args = [
        executable,
        "--die-with-parent",
        "--new-session",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
    ]
    args += ["--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if not root:
        args += ["--unshare-user"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += _system_folders()
    made = {"/", "/usr", "/etc", "/tmp", "/proc", "/dev"}  # folders that exist by now
    args += ["--perms", "1777", "--size", str(limits.tmp_size), "--tmpfs", "/tmp"]
    args += _parents(HOME, made) + ["--perms", "0777", "--size", str(limits.tmp_size), "--tmpfs", HOME]
    for path in _python_folders():
        args += _parents(path, made) + ["--ro-bind", path, path]
    if run_dir is not None:
        args += _parents(INSIDE, made) + ["--bind", run_dir, INSIDE]
    args += ["--chdir", HOME, "--clearenv"]
    for name, value in {"HOME": HOME, "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", **env}.items():
        args += ["--setenv", name, value]
    if root:  # a user of its own: switched to inside, once the sandbox's mounts are made
        uid = str(sandbox_uid())
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", "setpriv", "--reuid", uid]
        args += ["--regid", uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    full = [*args, "--", *prlimit(limits, per_user=not root), *kernel_command]
    return bound_to_this_process(groups.wrap(full) if groups is not None else full)


def _python_folders() -> list[str]:
    """The Python the kernel runs, its virtual environment (which may well live under /tmp) and
    that environment's packages where they are elsewhere (a venv whose lib/ is a link), by real
    path: bubblewrap binds what a link points to, not the link."""
    folders = [sys.base_prefix, sys.prefix, sys.exec_prefix, *site.getsitepackages()]
    real = [os.path.realpath(path) for path in folders if os.path.isdir(path)]
    real = [path for path in dict.fromkeys(real) if path != "/usr" and not path.startswith("/usr/")]
    # A folder inside another one already bound needs no mount of its own.
    return [path for path in real if not any(path.startswith(other + "/") for other in real)]


def prlimit(limits: Limits, per_user: bool = False) -> list[str]:
    """The prlimit prefix that applies ``limits``. The process count is per real user: with a
    user of its own the kernel gets ``limits.processes``; sharing the grader's user, it gets
    that many more than the user runs now."""
    processes = limits.processes + (_tasks_of(os.getuid()) if per_user else 0)
    return [
        "prlimit",
        f"--as={limits.memory}",
        f"--nproc={processes}",
        f"--nofile={limits.open_files}",
        f"--fsize={limits.file_size}",
        f"--cpu={limits.cpu_seconds}",
        "--core=0",
        "--",
    ]


def _tasks_of(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and os.stat(f"/proc/{name}").st_uid == uid:
                count += len(os.listdir(f"/proc/{name}/task"))
        except OSError:
            pass
    return count


def _system_folders() -> list[str]:
    """/usr read-only, the merged-/usr links (or folders), and ETC."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC:
        if os.path.exists("/etc/" + name):
            args += ["--ro-bind", "/etc/" + name, "/etc/" + name]
    return args


def _parents(path: str, made: set[str]) -> list[str]:
    """Create the folders above ``path`` that are not there yet, world-readable: bubblewrap
    would copy the host's modes, and a folder such as /root (0700) would shut the kernel's user
    out of what is below it."""
    chain, parent = [], os.path.dirname(path)
    while parent not in made:
        chain.append(parent)
        made.add(parent)
        parent = os.path.dirname(parent)
    return [arg for folder in reversed(chain) for arg in ("--perms", "0755", "--dir", folder)]
