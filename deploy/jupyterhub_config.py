"""JupyterHub for the TinyTorch Module 13 (Attention) course on one server.

Everyone logs in with their unix account (PAM) and gets a JupyterLab of their own, running
as that account (LocalProcessSpawner). A unix group decides what that JupyterLab offers:

    tinytorch-instructors   the formgrader, on the course directory ~/tinytorch-attention
    tinytorch-students      the Assignment List and the Validate button, nothing else

Assignments, submissions and feedback travel through nbgrader's exchange, a folder every
account can write to (/srv/nbgrader/exchange). Setting it up: deploy/README.md.
"""

import grp
import os
import pwd

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
INSTRUCTORS = "tinytorch-instructors"
STUDENTS = "tinytorch-students"

c.JupyterHub.bind_url = "http://:8000"
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {INSTRUCTORS, STUDENTS}

# The proxy pinned in deploy/package.json (`npm ci --prefix deploy`), not whatever is on PATH.
c.ConfigurableHTTPProxy.command = [os.path.join(HERE, "node_modules", ".bin", "configurable-http-proxy")]

c.Spawner.default_url = "/lab"


def role(username):
    """``instructor`` for members of the instructors' group, else ``student``."""
    groups = os.getgrouplist(username, pwd.getpwnam(username).pw_gid)
    return "instructor" if grp.getgrnam(INSTRUCTORS).gr_gid in groups else "student"


def role_config_path(spawner):
    """deploy/jupyter/<role>: nbgrader's course id and exchange, and which nbgrader parts are on."""
    return os.path.join(HERE, "jupyter", role(spawner.user.name))


# Jupyter ranks JUPYTER_CONFIG_PATH above ~/.jupyter and above the environment's own config, so
# the role's settings win over the environment's, where nbgrader enables all its parts.
# Hiding the instructor's parts from students is a convenience, not the security boundary:
# the course directory and its gradebook stay private in the instructor's home (mode 700).
c.Spawner.environment = {"JUPYTER_CONFIG_PATH": role_config_path}
