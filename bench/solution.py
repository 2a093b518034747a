"""The instructor's solution, read from its jupytext file so the benchmark measures what is committed."""

import jupytext

from testbed.courses import solved_source

SOLUTION = "source/attention/attention.py"


def read_notebook(path):
    """The notebook of a jupytext percent file (fmt given, so any file name works)."""
    return jupytext.read(path, fmt="py:percent")


def _is_solution(cell):
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution", False)


def load(path=SOLUTION):
    """The solution's functions and classes: a namespace with softmax, MultiHeadAttention, ...

    Runs the code cells before the first solution cell (imports, helpers) and every
    solution cell with its markers removed, and none of the demos or tests.
    """
    cells = [cell for cell in read_notebook(path).cells if cell.cell_type == "code"]
    first = next(index for index, cell in enumerate(cells) if _is_solution(cell))
    code = [cell.source for cell in cells[:first]] + [
        solved_source(cell.source) for cell in cells[first:] if _is_solution(cell)
    ]
    namespace = {"__name__": "attention_solution"}
    exec(compile("\n\n".join(code), path, "exec"), namespace)
    return namespace
