"""Drop jupytext pairing metadata so a released notebook is a plain notebook."""

from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor


class StripJupytextMetadata(NbGraderPreprocessor):
    """Remove the notebook-level ``jupytext`` entry (pairing formats, text representation).

    Left in place, a student's JupyterLab with jupytext installed would try to
    pair the notebook with a ``.py`` file that does not exist for them.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        nb.metadata.pop("jupytext", None)
        return nb, resources
