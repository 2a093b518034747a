"""The course directory: nbgrader's configuration and folder layout, loaded once.

nbgrader's CourseDirectory owns the layout ``{step}/{student}/{assignment}``; this module
only adds the folder the pipeline keeps its own files in (``.grading/``), the configuration
loaded the way nbgrader's apps load it, and a logger that keeps nbgrader's chatter in a file
instead of on the console.
"""

import copy
import glob
import logging
import os
import sys
from logging import Logger
from typing import Any

from nbgrader.apps.baseapp import NbGrader
from nbgrader.converters import BaseConverter
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log, chdir, temp_attrs
from traitlets.config import Config

from .errors import PipelineError

ASSIGNMENT = "attention"

# Where intake stages a submission it has read and normalised (see grading.intake).
STAGED_SUBMITTED = os.path.join(".grading", "submitted")


def load_config(root: str) -> Config:
    """The course's configuration as nbgrader's own commands see it from ``root``: every
    nbgrader_config.py on the Jupyter config path, then the course root's, which wins."""
    app = NbGrader()
    with chdir(root):
        app.load_config_file()
    return app.config


class Course:
    """A course root with nbgrader_config.py, source/, release/, submitted/, autograded/, feedback/.

    ``config`` defaults to the configuration nbgrader itself would load for this root; a worker
    passes the coordinator's instead, so that it grades with the course's settings and not
    with whatever its own machine has. ``log`` defaults to ``.grading/grading.log``.
    """

    def __init__(
        self, root: str = ".", assignment: str = ASSIGNMENT, config: Config | None = None, log: Logger | None = None
    ) -> None:
        self.root = os.path.abspath(root)
        self.assignment = assignment
        cfg = load_config(self.root) if config is None else copy.deepcopy(config)
        cfg.CourseDirectory.root = self.root
        self.config = cfg
        self.coursedir = CourseDirectory(config=cfg)
        self.log = log or _file_logger(os.path.join(self.root, ".grading", "grading.log"))
        put_python_scripts_on_path()

    def path(self, step: str, student: str = ".") -> str:
        """Folder of this assignment at a step (``source``, ``submitted``, ...) for a student."""
        return self.coursedir.format_path(step, student, self.assignment)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    @property
    def notebook(self) -> str:
        """Name (without .ipynb) of the assignment's notebook in release/."""
        folder = self.path(self.coursedir.release_directory)
        found = sorted(glob.glob(os.path.join(folder, "*.ipynb")))
        shown = os.path.relpath(folder, self.root)
        if not found:
            raise PipelineError(f"no notebook in {shown}/: run `python -m grading release` (make release)")
        if len(found) > 1:
            names = ", ".join(os.path.basename(path) for path in found)
            raise PipelineError(
                f"{shown}/ holds {len(found)} notebooks ({names}): an assignment is one notebook, remove the others"
            )
        return os.path.splitext(os.path.basename(found[0]))[0]

    def notebook_path(self, step: str, student: str = ".") -> str:
        return os.path.join(self.path(step, student), self.notebook + ".ipynb")

    def run(self, converter_class: type[BaseConverter], student: str, **directories: str) -> dict[str, Any]:
        """Run an nbgrader converter for one student (``"."`` for none), folders optionally
        replaced (``submitted_directory=...``); returns nbgrader's {"success", "log", "error"}."""
        converter = converter_class(coursedir=self.coursedir, config=self.config, log=self.log)
        converter.force = True
        with temp_attrs(self.coursedir, assignment_id=self.assignment, student_id=student, **directories):
            return capture_log(converter)

    def students(self) -> list[str]:
        """Student ids: the folders under submitted/."""
        base = os.path.join(self.root, self.coursedir.submitted_directory)
        if not os.path.isdir(base):
            return []
        return sorted(
            name for name in os.listdir(base) if os.path.isdir(os.path.join(base, name)) and not name.startswith(".")
        )


def put_python_scripts_on_path() -> None:
    """nbgrader runs `alembic` (and kernels run `python`) by name: use this environment's."""
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def _file_logger(path: str) -> Logger:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    logger = logging.getLogger(f"grading.nbgrader.{path}")
    if not logger.handlers:
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
