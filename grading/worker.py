"""The task a dask worker runs: execute one sanitized notebook, never raise.

The task takes and returns plain data (notebook JSON, file contents), so a worker needs
no access to the course directory: the same task runs on a LocalCluster or on a remote
cluster given by its scheduler address.
"""

import os
import shutil
import tempfile
import time
import traceback

import nbformat
from traitlets.config import Config

from .execute import GuardedExecute, error_output


def execute_submission(notebook_json, files, settings):
    """Run a notebook; return {"notebook": JSON, "events": [...], "seconds": s, "error": text or None}.

    ``files`` maps names to bytes (the assignment's other files), written next to the
    notebook in a scratch folder that is the kernel's working directory. ``settings`` maps
    GuardedExecute trait names (timeout, budget, memory_limit, ...) to values.
    """
    start = time.monotonic()
    nb = nbformat.reads(notebook_json, as_version=4)
    workdir = tempfile.mkdtemp(prefix="grading-")
    try:
        for name, content in files.items():
            with open(os.path.join(workdir, name), "wb") as handle:
                handle.write(content)
        config = Config({"GuardedExecute": dict(settings)})
        executor = GuardedExecute(config=config)
        nb, _ = executor.preprocess(nb, {"metadata": {"path": workdir}})
        events, error = executor.events, None
    except Exception:
        error = traceback.format_exc()
        events = [{"cell": "notebook", "kind": "grader", "detail": error.strip().splitlines()[-1]}]
        mark_not_run(nb, "not run: the grader failed while running this notebook "
                         f"({events[0]['detail']})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"notebook": nbformat.writes(nb), "events": events,
            "seconds": time.monotonic() - start, "error": error}


def mark_not_run(nb, reason):
    """Give every code cell a single error output with the reason (nbgrader then scores it 0)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [error_output("NotRun", reason)]
