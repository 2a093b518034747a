"""Code in a submission that reaches for the grader: found, reported, never penalised.

A student who wants points without the work first tries to switch the tests off: redefine the
visible helpers, hide errors from IPython, patch NumPy, walk up the stack, reach into the
grader's own module. None of it reaches the tests, which run in a kernel of their own
(grading/execute.py), but an instructor should still see who tried. This module reads the
cells a student wrote (it never runs them) and names what each suspicious line does. The
grading report shows it; scores do not change.
"""

import ast
import functools
from collections.abc import Iterator, Set

from nbformat import NotebookNode

from .events import SUSPICIOUS, Event, event

# Calls that fetch or rewrite namespaces, code or the interpreter, by the name they are called by.
CALLS = {
    "globals": "calls globals()",
    "vars": "calls vars()",
    "exec": "runs code from a string (exec)",
    "eval": "runs code from a string (eval)",
    "compile": "compiles code from a string",
    "__import__": "imports through __import__",
    "setattr": "sets attributes with setattr",
    "delattr": "deletes attributes with delattr",
    "get_ipython": "reaches IPython's shell (get_ipython)",
}
# Attributes that give access to frames, code, namespaces or IPython's error handling.
ATTRIBUTES = {
    "_getframe": "walks the call stack (sys._getframe)",
    "f_globals": "reads a frame's globals",
    "f_locals": "reads a frame's locals",
    "f_back": "walks the call stack",
    "__code__": "reads or replaces a function's code",
    "__globals__": "reaches a function's globals",
    "__builtins__": "reaches the builtins",
    "modules": None,  # only sys.modules, decided below
    "set_custom_exc": "installs an IPython exception handler",
    "showtraceback": "changes how IPython shows errors",
    "_showtraceback": "changes how IPython shows errors",
    "input_transformers_post": "rewrites the code of later cells",
    "input_transformers_cleanup": "rewrites the code of later cells",
    "ast_transformers": "rewrites the code of later cells",
}
MODULES = {
    "builtins": "imports builtins",
    "inspect": "imports inspect",
    "gc": "imports gc (the garbage collector, which finds any object)",
    "ctypes": "imports ctypes",
    "importlib": "imports importlib",
    "grading": "imports the grader's own package",
    "IPython": "imports IPython",
    "ipykernel": "imports ipykernel",
}
NUMPY_NAMES = {"np", "numpy"}


def suspicious_lines(source: str, protected: Set[str]) -> list[tuple[int, str]]:
    """(line number, what it does) for each suspicious construct in one cell's source.

    ``protected`` holds the names the notebook's locked cells define (the test helpers):
    redefining one of them is reported. Code that does not parse (IPython magics, a syntax
    error) yields nothing: it cannot run either.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.stmt, ast.expr)):  # the nodes with a line (and the only ones _reasons reports)
            found.extend((node.lineno, reason) for reason in _reasons(node, protected))
    return sorted(set(found))


def _reasons(node: ast.AST, protected: Set[str]) -> Iterator[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in protected:
        yield f"redefines the test helper {node.name}"
    elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in protected:
        yield f"rebinds the test helper {node.id}"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS:
        if node.func.id not in ("setattr", "delattr") or not _is_self(node.args[:1]):
            yield CALLS[node.func.id]
    elif isinstance(node, ast.Attribute):
        if node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
            yield "reaches sys.modules"
        elif reason := ATTRIBUTES.get(node.attr):
            yield reason
        if (
            isinstance(node.ctx, (ast.Store, ast.Del))
            and isinstance(node.value, ast.Name)
            and node.value.id in NUMPY_NAMES
        ):
            yield f"replaces NumPy's {node.attr}"
    elif isinstance(node, ast.Import):
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in MODULES:
                yield MODULES[top]
    elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in MODULES:
        yield MODULES[node.module.split(".")[0]]


def _is_self(args: list[ast.expr]) -> bool:
    return bool(args) and isinstance(args[0], ast.Name) and args[0].id == "self"


def protected_names(release: NotebookNode) -> frozenset[str]:
    """The functions and classes the release's locked code cells define (the test helpers)."""
    return _defined_names(
        tuple(
            cell.source
            for cell in release.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("locked")
        )
    )


# A worker scans every submission against the same release: its locked cells are parsed once.
@functools.lru_cache(maxsize=4)
def _defined_names(sources: tuple[str, ...]) -> frozenset[str]:
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        names.update(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)))
    return frozenset(names)


def scan(submission: NotebookNode, release: NotebookNode) -> list[Event]:
    """One event per cell a student wrote (unlocked code cells) with suspicious lines."""
    protected = protected_names(release)
    events = []
    for index, cell in enumerate(submission.cells):
        info = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or info.get("locked"):
            continue
        lines = suspicious_lines(cell.source, protected)
        if lines:
            where = info.get("grade_id") or f"cell {index}"
            detail = "; ".join(f"line {number}: {reason}" for number, reason in lines[:6])
            more = f" (and {len(lines) - 6} more)" if len(lines) > 6 else ""
            events.append(
                event(where, SUSPICIOUS, f"code that reaches for the grader: {detail}{more}; scores are not changed")
            )
    return events
