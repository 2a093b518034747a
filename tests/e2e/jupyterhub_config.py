"""deploy/jupyterhub_config.py as the end-to-end tests run it: on 127.0.0.1, in a throwaway folder.

Logins (PAM), spawning (LocalProcessSpawner) and the per-role Jupyter configuration are the
deploy file's own. conftest.py starts the hub with this file and the E2E_* variables.
"""

import os
import pwd
import sys

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)
DEPLOY = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "deploy")
load_subconfig(os.path.join(DEPLOY, "jupyterhub_config.py"))  # noqa: F821

sys.path.insert(0, os.path.dirname(__file__))
from accounts import PRIVATE_DIRS, private_dirs  # noqa: E402 (JupyterHub runs this file: no relative import)

WORK = os.environ["E2E_WORK"]

c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ['E2E_HUB_PORT']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["E2E_HUB_API_PORT"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['E2E_PROXY_API_PORT']}"

deploy_config_path = c.Spawner.environment["JUPYTER_CONFIG_PATH"]


def config_path(spawner):
    """The test's folder (the exchange in WORK, not /srv) first, then the deploy's role folder
    (deploy/jupyter/<role>, or its copy where the accounts cannot read the checkout)."""
    role = os.path.basename(deploy_config_path(spawner))
    return os.pathsep.join([os.path.join(WORK, "jupyter"), os.path.join(os.environ["E2E_ROLE_CONFIGS"], role)])


def home(spawner):
    return pwd.getpwnam(spawner.user.name).pw_dir


c.Spawner.environment = {"JUPYTER_CONFIG_PATH": config_path}
for name in PRIVATE_DIRS:
    c.Spawner.environment[name] = lambda spawner, name=name: private_dirs(home(spawner))[name]
