"""Build courses and student submissions from the release and the solution, for the tests,
the bundled class and the mutation runner: the one place that makes a course for them.

A completed submission is the released notebook with each solution cell filled in from
source/ (solution markers removed), as a student who solved everything would hand in.
Edits turn it into a buggy, alternative or hostile submission.
"""

import copy
import io
import re
import shutil
import tokenize
from pathlib import Path

import nbformat

from grading.course import Course
from grading.release import generate_release

REPO = Path(__file__).resolve().parents[1]

_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.M | re.S)


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solved_source(source):
    """A solution cell's source as a student would write it: the solution without its markers."""
    return _SOLUTION.sub(lambda m: m.group(2), source)


def completed(release, source):
    """The release with every solution cell replaced by the solution from source/."""
    solutions = {
        grade_id(c): solved_source(c.source) for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
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


def rename(source, names):
    """Rename identifiers (``names``: old -> new) wherever Python sees them as names, also
    inside f-string fields (as an editor's rename does), never in other text or comments."""
    lines = source.splitlines(keepends=True)

    def renamed(tok):
        if tok.type == tokenize.NAME:
            return names.get(tok.string)
        if tok.type == tokenize.STRING and "f" in tok.string.split(tok.string[-1])[0].lower():
            new = re.sub(
                r"\{([^{}]*)\}",
                lambda field: re.sub(
                    r"\b[A-Za-z_]\w*\b", lambda name: names.get(name.group(), name.group()), field.group()
                ),
                tok.string,
            )
            return new if new != tok.string else None
        return None

    edits = [(tok, renamed(tok)) for tok in tokenize.generate_tokens(io.StringIO(source).readline)]
    for tok, new in reversed(edits):  # right to left, so earlier columns stay valid
        if new is not None and tok.start[0] == tok.end[0]:
            row = tok.start[0] - 1
            lines[row] = lines[row][: tok.start[1]] + new + lines[row][tok.end[1] :]
    return "".join(lines)


def without_comments(source):
    """The source with every comment (and the blank space before it) removed."""
    lines = source.splitlines(keepends=True)
    comments = [tok for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT]
    for tok in reversed(comments):
        row = tok.start[0] - 1
        kept = lines[row][: tok.start[1]].rstrip()
        lines[row] = kept + "\n" if kept else ""
    return "".join(lines)


def reversed_definitions(source):
    """A cell of top-level functions only with its functions in reverse order; any other cell
    as it is (in a class, or with code after the functions, the order matters)."""
    blocks = [block.strip("\n") for block in re.split(r"\n(?=def )", source.strip("\n"))]
    if not all(block.startswith("def ") for block in blocks):
        return source
    return "\n\n\n".join(reversed(blocks)) + "\n"


def disguised(nb, cell_ids, names, comment):
    """How a student hides a copy: names changed, the comments replaced by ``comment`` (with
    the cell's id in it), and the functions of every all-function cell in reverse order."""
    nb = copy.deepcopy(nb)
    for cell_id in cell_ids:
        source = reversed_definitions(without_comments(rename(cell(nb, cell_id).source, names)))
        cell(nb, cell_id).source = f"# {comment.format(cell_id)}\n{source}"
    return nb


def build_course(root, omit=()):
    """A course directory like the repository's (config and source/), with a fresh release/;
    ``omit``: the optional parts (their tags) that its nbgrader_config.py leaves out."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "source", root / "source")
    if omit:
        set_omitted_parts(root, omit)
    course = Course(root)
    generate_release(course)
    return course


def set_omitted_parts(root, omit):
    """Set OmitParts.omit in a course's nbgrader_config.py, as the instructor's one line does."""
    with open(Path(root) / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.OmitParts.omit = {list(omit)!r}\n")


def submit(course, student, nb):
    """Hand ``nb`` in as ``student``'s submission; return its folder."""
    folder = Path(course.path(course.coursedir.submitted_directory, student))
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{course.notebook}.ipynb")
    return folder
