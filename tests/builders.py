"""Build student submissions from the release and the solution, for tests and the bundled class.

A completed submission is the released notebook with each solution cell filled in from
source/ (solution markers removed), as a student who solved everything would hand in.
Edits turn it into a buggy, alternative or hostile submission.
"""

import copy
import re

import nbformat

_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.M | re.S)


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solved_source(source):
    """A solution cell's source as a student would write it: the solution without its markers."""
    return _SOLUTION.sub(lambda m: m.group(2), source)


def completed(release, source):
    """The release with every solution cell replaced by the solution from source/."""
    solutions = {grade_id(c): solved_source(c.source) for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if grade_id(cell) in solutions:
            cell.source = solutions[grade_id(cell)]
    return nb


def cell(nb, cell_id):
    found = [c for c in nb.cells if grade_id(c) == cell_id]
    if len(found) != 1:
        raise KeyError(f"no single cell {cell_id!r} in the notebook")
    return found[0]


def replace_in_cell(nb, cell_id, old, new, count=1):
    """Replace ``old`` (which must occur exactly ``count`` times) in a cell's source."""
    target = cell(nb, cell_id)
    found = target.source.count(old)
    if found != count:
        raise ValueError(f"{old!r} occurs {found} times in cell {cell_id!r}, expected {count}")
    target.source = target.source.replace(old, new)
    return nb


def append_to_cell(nb, cell_id, code):
    """Append code to a cell (a later definition replaces an earlier one)."""
    target = cell(nb, cell_id)
    target.source = target.source.rstrip("\n") + "\n\n\n" + code.strip("\n") + "\n"
    return nb


def read(path):
    return nbformat.read(path, as_version=4)
