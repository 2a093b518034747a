"""Unix accounts for the hub's users, made for one test session and removed after it.

deploy/jupyterhub_config.py logs people in with PAM and starts their servers as them, and
nbgrader names a submission after the account that submits it, so the tests use real
accounts: ``e2e-instructor`` in the instructors' group, ``e2e-student`` in the students'.
"""

import grp
import os
import pwd
import secrets
import subprocess
from dataclasses import dataclass

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "deploy")
GROUPS = {"instructor": "tinytorch-instructors", "student": "tinytorch-students"}

# Where every process of an account keeps its state (Jupyter, IPython, Matplotlib, and dask's
# scratch space under TMPDIR): inside the account's throwaway home, never in a real ~/.jupyter
# or /tmp. The hub's spawner uses it too.
PRIVATE_DIRS = {
    "JUPYTER_CONFIG_DIR": ".jupyter",
    "JUPYTER_DATA_DIR": ".local/share/jupyter",
    "JUPYTER_RUNTIME_DIR": ".local/share/jupyter/runtime",
    "IPYTHONDIR": ".ipython",
    "MPLCONFIGDIR": ".config/matplotlib",
    "TMPDIR": ".tmp",
}


def private_dirs(home):
    return {name: os.path.join(home, relative) for name, relative in PRIVATE_DIRS.items()}


@dataclass
class Account:
    name: str
    role: str  # "instructor" or "student"
    password: str
    home: str

    @property
    def identity(self):
        """subprocess arguments that run a command as this account, with its groups."""
        return {"user": self.name, "group": self.name, "extra_groups": [GROUPS[self.role]]}

    def environment(self):
        """Who the account is and where its state lives, as the hub's spawner sets them."""
        return {
            "HOME": self.home,
            "USER": self.name,
            "LOGNAME": self.name,
            "SHELL": "/bin/bash",
            **private_dirs(self.home),
        }

    def chown(self, path):
        """Give ``path`` and everything under it to the account."""
        subprocess.run(["chown", "-R", f"{self.name}:{self.name}", path], check=True)


def create_groups():
    """The deploy's two groups, those that do not exist yet; returns the names created."""
    created = []
    for group in GROUPS.values():
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", group], check=True)
            created.append(group)
    return created


def create_account(name, role, homes):
    """A login account in the role's group, with a random password and a private home."""
    remove_account(name)  # left over from an interrupted session
    home = os.path.join(homes, name)
    subprocess.run(
        ["useradd", "--create-home", "--home-dir", home, "--shell", "/bin/bash", "--groups", GROUPS[role], name],
        check=True,
    )
    os.chmod(home, 0o700)
    account = Account(name, role, secrets.token_urlsafe(12), home)
    os.mkdir(private_dirs(home)["TMPDIR"])  # the others are made by the programs that use them
    account.chown(private_dirs(home)["TMPDIR"])
    subprocess.run(["chpasswd"], input=f"{name}:{account.password}", text=True, check=True)
    return account


def remove_account(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    subprocess.run(["userdel", "--force", name], check=True)  # a zombie not yet reaped would block it


def remove_groups(names):
    for group in names:
        subprocess.run(["groupdel", group], check=True)
