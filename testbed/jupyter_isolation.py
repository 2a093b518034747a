"""Keep Jupyter, IPython and matplotlib out of HOME: private folders for a process and its kernels."""

import os
import tempfile

VARIABLES = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR")


def isolate(folder):
    """Point each variable at a fresh folder inside ``folder`` (inherited by child processes)."""
    for variable in VARIABLES:
        os.environ[variable] = tempfile.mkdtemp(prefix=variable.lower() + "-", dir=folder)
