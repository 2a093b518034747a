"""Remove every trace of the hidden tests from a notebook before it becomes feedback.

nbgrader's feedback shows the autograded notebook: the full source of each test cell,
hidden tests included, and tracebacks that quote hidden lines (nbgrader issue #917). Here
each test cell gets its released (visible) source back, traceback frames that quote a
hidden line are dropped, and any other output line quoting one is removed. Messages of
failed checks stay: they say what failed, not how it was tested.
"""

from typing import Any

from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ..hidden_tests import delimiters, hidden_lines, reveals, split_hidden

REDACTED = "[hidden test]"


class RedactHiddenTests(NbGraderPreprocessor):
    """Replace test cells by their visible part and scrub hidden lines from all outputs."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            full_sources = {cell.name: cell.source for cell in notebook.source_cells if cell.locked}
            released = [cell.source for cell in notebook.source_cells]  # hidden regions are split off below
        marks = delimiters(self.config)  # the course's, as generate_assignment cut them
        self.lines = hidden_lines(full_sources.values(), public=released, delimiters=marks)
        for cell in nb.cells:
            cell_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell_id in full_sources:
                cell.source = split_hidden(full_sources[cell_id], marks)[0]
            if cell.cell_type == "code":
                cell.outputs = [self._scrub(output) for output in cell.outputs]
        return nb, resources

    def _scrub(self, output: NotebookNode) -> NotebookNode:
        if output.output_type == "error":
            output.traceback = [frame for frame in output.traceback if not reveals(frame, self.lines)]
            if reveals(output.evalue, self.lines):
                output.evalue = REDACTED
            if not output.traceback:
                output.traceback = [f"{output.ename}: {output.evalue}"]
        elif output.output_type == "stream":
            output.text = self._scrub_text(output.text)
        else:
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str) and mime.startswith("text/"):
                    output.data[mime] = self._scrub_text(value)
        return output

    def _scrub_text(self, text: str) -> str:
        return "".join(
            line if not reveals(line, self.lines) else REDACTED + "\n" for line in text.splitlines(keepends=True)
        )
