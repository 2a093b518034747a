"""The tasks a dask worker runs. Neither raises: a failure comes back as data.

execute_submission takes and returns plain data (notebook JSON, file contents), so a worker
needs no access to the course directory: it runs on a LocalCluster or on a remote cluster
given by its scheduler address. write_feedback needs the course folder (it reads the
gradebook and writes feedback/), so the pipeline sends it to local workers only.
"""

import os
import shutil
import tempfile
import time
import traceback

import nbformat
from nbgrader.converters import GenerateFeedback
from traitlets.config import Config

from .course import Course
from .execute import GuardedExecute, error_output


ATTEMPTS = 3  # a kernel can fail to start when two start at once (port race): try again


def execute_submission(notebook_json, files, settings):
    """Run a notebook; return {"notebook": JSON, "events": [...], "seconds": s, "error": text or None}.

    ``files`` maps names to bytes (the assignment's other files), written next to the
    notebook in a scratch folder that is the kernel's working directory. ``settings`` maps
    GuardedExecute trait names (timeout, budget, memory_limit, ...) to values.
    """
    start = time.monotonic()
    for attempt in range(ATTEMPTS):
        nb = nbformat.reads(notebook_json, as_version=4)
        workdir = tempfile.mkdtemp(prefix="grading-")
        try:
            for name, content in files.items():
                with open(os.path.join(workdir, name), "wb") as handle:
                    handle.write(content)
            executor = GuardedExecute(config=Config({"GuardedExecute": dict(settings)}))
            nb, _ = executor.preprocess(nb, {"metadata": {"path": workdir}})
            return {"notebook": nbformat.writes(nb), "events": executor.events,
                    "seconds": time.monotonic() - start, "error": None}
        except Exception:  # GuardedExecute handles the student's failures: this is the grader's
            error = traceback.format_exc()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    detail = error.strip().splitlines()[-1]
    mark_not_run(nb, f"not run: the grader failed {ATTEMPTS} times to run this notebook ({detail})")
    return {"notebook": nbformat.writes(nb), "seconds": time.monotonic() - start, "error": error,
            "events": [{"cell": "notebook", "kind": "grader", "detail": detail}]}


def mark_not_run(nb, reason):
    """Give every code cell a single error output with the reason (nbgrader then scores it 0)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [error_output("NotRun", reason)]


def write_feedback(root, assignment, student):
    """nbgrader generate_feedback for one student; returns {"error": text or None}."""
    outcome = Course(root, assignment=assignment).run(GenerateFeedback, student)
    return {"error": None if outcome["success"] else outcome.get("error", "unknown error")}
