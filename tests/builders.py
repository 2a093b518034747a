"""Edits that turn a completed submission (testbed.courses) into a buggy, alternative, hostile
or disguised one, for the tests, the bundled class and the mutation runner."""

import copy
import io
import re
import tokenize

from testbed.courses import grade_id


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
