"""nbconvert templates of the course: the feedback page students read.

nbgrader's GenerateFeedback renders its ``feedback`` template (nbconvert template directories
of that name are stacked: a file in an earlier base directory is found first). This folder's
``feedback/`` adds one file, FEEDBACK_TEMPLATE_FILE, which extends nbgrader's own
``feedback/index.html.j2``; nbgrader's template folder must then be listed as well, because
configuring the base directories replaces the one nbgrader would add.
"""

import os

import nbgrader

FEEDBACK_TEMPLATE_FILE = "by_part.html.j2"
TEMPLATE_DIRS = [
    os.path.dirname(os.path.abspath(__file__)),
    os.path.join(os.path.dirname(os.path.abspath(nbgrader.__file__)), "server_extensions", "formgrader", "templates"),
]
