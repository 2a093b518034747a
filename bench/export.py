"""What importing the exported ``tinytorch.core.attention`` costs Module 14, after NumPy.

The solution is exported (``python -m grading export``, in process) into a scratch folder. Each
round starts a fresh interpreter that imports NumPy first and times only the import of the
module: that is the module's own cost (its definitions; it must run no demo, plot or test).
One untimed import first writes the bytecode cache, as a student's first import does.
"""

import os
import subprocess
import sys

from grading.export import export

from .timing import Stat

TIMED_IMPORT = (
    "import time, numpy\nstart = time.perf_counter()\nimport tinytorch.core.attention\n"
    "print(time.perf_counter() - start)"
)


def measure(solution_path, folder, rounds=7):
    """Stat of the seconds an import of the exported solution takes, in fresh interpreters."""
    export(solution_path, folder)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = folder

    def timed():
        done = subprocess.run(
            [sys.executable, "-c", TIMED_IMPORT], env=env, capture_output=True, text=True, check=True, timeout=60
        )
        return float(done.stdout)

    timed()
    return Stat.of(timed() for _ in range(rounds))
