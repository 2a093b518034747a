"""nbgrader for the instructor: the students' settings, plus the course directory.

The course directory is a checkout of this repository in the instructor's home; nbgrader
also loads the nbgrader_config.py found there (grading pipeline, cell stubs, limits).
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
load_subconfig(os.path.join(os.path.dirname(__file__), os.pardir, "student", "nbgrader_config.py"))  # noqa: F821

# The formgrader needs the course directory inside the server's root folder, the home.
c.CourseDirectory.root = os.path.expanduser("~/tinytorch-attention")
