"""Drop jupytext pairing metadata so a released notebook is a plain notebook."""

from nbgrader.preprocessors import NbGraderPreprocessor


class StripJupytextMetadata(NbGraderPreprocessor):
    """Remove the notebook-level ``jupytext`` entry (pairing formats, text representation).

    Left in place, a student's JupyterLab with jupytext installed would try to
    pair the notebook with a ``.py`` file that does not exist for them.
    """

    def preprocess(self, nb, resources):
        nb.metadata.pop("jupytext", None)
        return nb, resources
