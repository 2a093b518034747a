"""Release the assignment with or without its optional parts, as ``nbgrader_config.py`` says.

A part that an instructor may leave out is marked in the source notebook by cell tags, never
guessed from headings: every cell of the part carries the part's tag (``part-7``), and text that
must read differently without it comes as a pair, the full form's cell tagged ``part-7`` and the
other form's tagged ``without-part-7``. ``OmitParts.omit`` lists the parts to leave out (empty:
the full assignment). Each release holds exactly one variant of each pair, and no form tag: the
released cells carry nbgrader's metadata only, so the full release is the notebook as it was
before the tags existed. Registered before nbgrader's own steps, it decides what nbgrader stores
in the gradebook too, hence what grading, feedback, grades and the class report count.
"""

import re
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

PART = re.compile(r"part-[\w.]+")  # the tag of an optional part; "without-" + it marks its replacement
WITHOUT = "without-"


def is_form_tag(tag: str) -> bool:
    """Whether a tag says which form a cell belongs to (``part-7``, ``without-part-7``)."""
    return bool(PART.fullmatch(tag.removeprefix(WITHOUT)))


def form_tags(cell: NotebookNode) -> list[str]:
    return [tag for tag in cell.metadata.get("tags", []) if is_form_tag(tag)]


def kept(cell: NotebookNode, omit: set[str]) -> bool:
    """Whether ``cell`` belongs to the form that leaves out the parts in ``omit``."""
    for tag in form_tags(cell):
        if tag.startswith(WITHOUT) != (tag.removeprefix(WITHOUT) in omit):
            return False
    return True


class OmitParts(NbGraderPreprocessor):
    """Drop the cells of the omitted parts (and the other form's text); strip the form tags."""

    omit = List(
        Unicode(),
        default_value=[],
        help='Tags of the optional parts to leave out of the release, e.g. ["part-7"]; empty: release them all.',
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        tagged = {tag.removeprefix(WITHOUT) for cell in nb.cells for tag in form_tags(cell)}
        unknown = sorted(set(self.omit) - tagged)
        if unknown:
            raise ValueError(
                f"OmitParts.omit names {unknown}, but no cell of the notebook carries that tag "
                f"(the optional parts it marks: {sorted(tagged) or 'none'})"
            )
        nb.cells = [cell for cell in nb.cells if kept(cell, set(self.omit))]
        for cell in nb.cells:
            tags = [tag for tag in cell.metadata.get("tags", []) if not is_form_tag(tag)]
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        return nb, resources
