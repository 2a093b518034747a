"""nbconvert templates of the course: the feedback page students read.

nbgrader's GenerateFeedback renders its ``feedback`` template (nbconvert template directories
of that name are stacked: a file in an earlier base directory is found first). This folder's
``feedback/`` adds one file, FEEDBACK_TEMPLATE_FILE, which extends nbgrader's own
``feedback/index.html.j2``.

The folders are found by FeedbackExporter where the page is rendered, never written into the
configuration: a dask worker on another machine has this package and nbgrader elsewhere than
the coordinator that loaded nbgrader_config.py.
"""

import os

import nbgrader
from nbconvert.exporters import HTMLExporter
from traitlets import Bunch, default, validate

FEEDBACK_TEMPLATE_FILE = "by_part.html.j2"
COURSE_TEMPLATES = os.path.dirname(os.path.abspath(__file__))
NBGRADER_TEMPLATES = os.path.join(
    os.path.dirname(os.path.abspath(nbgrader.__file__)), "server_extensions", "formgrader", "templates"
)


class FeedbackExporter(HTMLExporter):
    """nbgrader's HTML feedback exporter, with this package's templates first and nbgrader's
    after them, both as installed in the process that renders the page."""

    @default("extra_template_basedirs")
    def _default_extra_template_basedirs(self) -> list[str]:
        return [COURSE_TEMPLATES, NBGRADER_TEMPLATES]

    @validate("extra_template_basedirs")
    def _with_the_installed_templates(self, proposal: Bunch) -> list[str]:
        # GenerateFeedback configures nbgrader's folder; any folder configured stays, after ours.
        others = [folder for folder in proposal.value if folder not in (COURSE_TEMPLATES, NBGRADER_TEMPLATES)]
        return [COURSE_TEMPLATES, *others, NBGRADER_TEMPLATES]
