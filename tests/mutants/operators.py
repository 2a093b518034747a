"""First-order mutants of the solution cells, made with Python's ast.

An operator looks at one node of a cell's syntax tree and proposes replacement texts for it;
a mutant is the cell with exactly one node's source text replaced. Only that text changes, so
the rest of the cell (comments, layout) stays as written and a mutant reads as a one-line diff.

A mutant's id names its cell, the function it changes, its operator and a digest of the
statement it sits in, the node (with as much of its surroundings as tells it apart) and the
replacement, all taken from the syntax tree:
comments, layout and edits elsewhere in the notebook leave it alone.
"""

import ast
import hashlib
from collections import Counter
from dataclasses import dataclass

OPERATORS = (
    "tril/triu",
    "-inf",
    "dropped copy",
    "axis",
    "keepdims",
    "comparison",
    "arithmetic",
    "argument order",
    "constant",
    "dropped call",
    "deleted statement",
)  # on identical code, the first wins

_MODULES = {"np", "numpy", "math", "self", "cls"}  # a call on these is a function call, not a method of its value
_KEYWORD_OPERATORS = {"axis", "keepdims", "copy"}  # their values belong to those operators, not to `constant`
_ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
}
_NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)
_COMPARISON = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}


@dataclass(frozen=True)
class Mutant:
    id: str
    cell: str  # grade id of the solution cell
    function: str  # Class.method, function, or the name a module-level statement assigns
    operator: str
    line: int  # first changed line of the cell's code (1-based)
    before: str  # the changed lines, as written
    after: str  # the same lines in the mutant
    code: str  # the whole cell, mutated


@dataclass
class Generated:
    mutants: list  # valid and distinct, in notebook order
    invalid: list  # mutants whose cell no longer compiles
    duplicates: Counter  # operator -> mutants dropped because an earlier one has identical code


def generate(cells):
    """Every first-order mutant of ``cells``, a list of (grade id, code) pairs."""
    result = Generated([], [], Counter())
    for cell_id, code in cells:
        seen = {_dump(code)}  # a mutant identical to the solution is no mutant
        for mutant in _cell_mutants(cell_id, code):
            try:
                compile(mutant.code, f"<mutant {mutant.id}>", "exec")
            except SyntaxError:
                result.invalid.append(mutant)
                continue
            key = _dump(mutant.code)
            if key in seen:
                result.duplicates[mutant.operator] += 1
                continue
            seen.add(key)
            result.mutants.append(mutant)
    return result


def _dump(code):
    return ast.dump(ast.parse(code))


# -- one cell -----------------------------------------------------------------------------------


class _Source:
    """A cell's code with ast positions (UTF-8 byte columns) turned into string offsets."""

    def __init__(self, code):
        self.code = code
        self.lines = code.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno, col):
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode()[:col].decode())

    def span(self, node):
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def text(self, node):
        start, end = self.span(node)
        return self.code[start:end]


@dataclass(frozen=True)
class _Change:
    operator: str
    node: ast.AST  # what is replaced (an expression, a keyword or a statement)
    text: str  # what replaces it


def _cell_mutants(cell_id, code):
    tree = ast.parse(code)
    source = _Source(code)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    finder = _Finder(source, parents)
    finder.visit(tree)
    counts = Counter()
    for operator in OPERATORS:
        for change, function, statement in finder.changes[operator]:
            start, end = source.span(change.node)
            text = _parenthesized_if_needed(code, start, end, change)
            mutated = code[:start] + text + code[end:]
            first = change.node.lineno
            last = first + mutated[source.starts[first - 1] : start + len(text)].count("\n")
            before = "".join(source.lines[first - 1 : change.node.end_lineno]).rstrip("\n")
            after = "\n".join(mutated.splitlines()[first - 1 : last])
            anchor = _anchor(change.node, statement, parents)
            digest = hashlib.sha1(
                "\0".join((_normal(statement), _normal(anchor), _normal(change.node), change.text)).encode()
            ).hexdigest()[:8]
            base = f"{cell_id}:{function}:{operator}:{digest}"
            counts[base] += 1
            mutant_id = base if counts[base] == 1 else f"{base}-{counts[base]}"
            yield Mutant(mutant_id, cell_id, function, operator, first, before, after, mutated)


def _parenthesized_if_needed(code, start, end, change):
    """The replacement text, in parentheses only where the code would otherwise parse differently
    (parentheses leave no trace in the tree, so the two parses agree exactly when they are not needed)."""
    if not isinstance(change.node, ast.expr):
        return change.text
    wrapped = f"({change.text})"
    try:
        if ast.dump(ast.parse(code[:start] + change.text + code[end:])) == ast.dump(
            ast.parse(code[:start] + wrapped + code[end:])
        ):
            return change.text
    except SyntaxError:
        pass
    return wrapped


def _anchor(node, statement, parents):
    """The node or its nearest ancestor that no other part of the statement looks like (so two
    identical constants in one statement are told apart by where they sit)."""
    dumps = Counter(ast.dump(other) for other in ast.walk(statement))
    while dumps[ast.dump(node)] > 1 and node in parents and node is not statement:
        node = parents[node]
    return node


def _normal(node):
    """Layout- and comment-free text of a node (for ids)."""
    if isinstance(node, ast.keyword):
        return ast.unparse(ast.Call(ast.Name("_"), [], [node]))
    return ast.unparse(node)


class _Finder(ast.NodeVisitor):
    """Walks a cell and collects, per operator, (change, function name, statement for the id)."""

    def __init__(self, source, parents):
        self.source, self.parents = source, parents
        self.changes = {operator: [] for operator in OPERATORS}
        self.scope = []  # enclosing class and function names
        self.assigned = None  # the name a module-level statement assigns
        self.statement = None  # the statement (or compound statement header) being walked

    # -- walking ------------------------------------------------------------------------------

    def _function(self):
        if self.scope:
            return ".".join(self.scope)
        return self.assigned or "<cell>"

    def _add(self, operator, node, text):
        self.changes[operator].append((_Change(operator, node, text), self._function(), self.statement))

    def _body(self, statements):
        for index, statement in enumerate(statements):
            if index == 0 and _is_docstring(statement):
                continue
            if not self.scope:
                self.assigned = _assigned_name(statement)
            self.visit(statement)

    def visit_Module(self, node):
        self._body(node.body)

    def visit_ClassDef(self, node):
        self.scope.append(node.name)
        self._body(node.body)
        self.scope.pop()

    def visit_FunctionDef(self, node):
        self.scope.append(node.name)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.statement = node.args
            self.visit(default)
        self._body(node.body)
        self.scope.pop()

    def generic_visit(self, node):
        if isinstance(node, ast.stmt):
            self._statement(node)
            return
        if isinstance(node, ast.JoinedStr):  # messages: positions inside f-strings are unreliable in 3.11
            return
        self._expression(node)
        super().generic_visit(node)

    def _statement(self, node):
        if not isinstance(node, ast.Pass):
            self.statement = node
            self._add("deleted statement", node, "pass")
        if isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC:
            self._add(
                "arithmetic", node, ast.unparse(ast.AugAssign(node.target, _ARITHMETIC[type(node.op)](), node.value))
            )
        for field, value in ast.iter_fields(node):
            if field in ("body", "orelse", "finalbody", "handlers"):
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.statement = _header(node)
                    self.visit(child)
        for field in ("body", "orelse", "finalbody"):
            self._body(getattr(node, field, []))
        for handler in getattr(node, "handlers", []):
            self._body(handler.body)

    # -- the operators ------------------------------------------------------------------------

    def _expression(self, node):
        text = self.source.text
        parent = self.parents.get(node)

        if isinstance(node, ast.Attribute) and node.attr in ("tril", "triu"):
            self._add("tril/triu", node, f"{text(node.value)}.{'triu' if node.attr == 'tril' else 'tril'}")

        if _is_minus_inf(node):
            self._add("-inf", node, "-1e9")
            self._add("-inf", node, text(node.operand))
        elif isinstance(node, ast.Attribute) and node.attr == "inf" and not _is_minus_inf(parent):
            self._add("-inf", node, f"-{text(node)}")

        if isinstance(node, ast.Call):
            self._calls(node)

        if isinstance(node, ast.keyword) and node.arg in _KEYWORD_OPERATORS:
            self._keyword(node)

        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                for new_op in _COMPARISON.get(type(op), ()):
                    ops = list(node.ops)
                    ops[index] = new_op()
                    self._add("comparison", node, ast.unparse(ast.Compare(node.left, ops, node.comparators)))
        if isinstance(node, ast.BoolOp):
            new_op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self._add("comparison", node, ast.unparse(ast.BoolOp(new_op, node.values)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not)):
            self._add("comparison", node, text(node.operand))

        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            self._add("arithmetic", node, ast.unparse(ast.BinOp(node.left, _ARITHMETIC[type(node.op)](), node.right)))
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and _number(node) is None
            and not _is_minus_inf(node)
        ):
            self._add("arithmetic", node, text(node.operand))
        if isinstance(node, ast.BinOp) and isinstance(node.op, _NON_COMMUTATIVE):
            self._add("argument order", node, ast.unparse(ast.BinOp(node.right, node.op, node.left)))

        value = _number(node)
        if value is not None and not _is_operand_of_minus(node, self.parents) and not self._keyword_value(node):
            if isinstance(value, bool):
                self._add("constant", node, repr(not value))
            else:
                step = 1 if isinstance(value, int) else 1.0
                for new in (value + step, value - step):
                    self._add("constant", node, repr(new))

    def _keyword_value(self, node):
        parent = self.parents.get(node)
        return isinstance(parent, ast.keyword) and parent.arg in _KEYWORD_OPERATORS

    def _keyword(self, node):
        value = _number(node.value)
        if node.arg == "axis":
            if isinstance(value, int) and not isinstance(value, bool):
                for new in (value - 1, value + 1):
                    self._add("axis", node, f"axis={new}")
            elif self.source.text(node.value) != "-1":
                self._add("axis", node, "axis=-1")
            self._add("axis", node, "axis=None")
        elif node.arg == "keepdims" and isinstance(value, bool):
            self._add("keepdims", node, f"keepdims={not value}")
        elif node.arg == "copy" and value is True:
            self._add("dropped copy", node, "copy=False")

    def _calls(self, node):
        text = self.source.text
        func, args = node.func, node.args
        positional = [arg for arg in args if not isinstance(arg, ast.Starred)]
        # dropped copy
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not args and not _is_module(func.value):
            self._add("dropped copy", node, text(func.value))
        elif isinstance(func, ast.Attribute) and func.attr == "copy" and _is_module(func.value) and positional:
            self._add("dropped copy", node, text(positional[0]))
        elif isinstance(func, ast.Attribute) and func.attr == "array" and _is_module(func.value):
            self._add("dropped copy", func, f"{text(func.value)}.asarray")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "astype"
            and not any(k.arg == "copy" for k in node.keywords)
        ):
            listed = ", ".join([text(a) for a in args] + [text(k) for k in node.keywords] + ["copy=False"])
            self._add("dropped copy", node, f"{text(func)}({listed})")  # astype copies unless told not to
        # argument order
        if len(positional) == len(args) and len(args) >= 2:
            for index in range(len(args) - 1):
                if text(args[index]) == text(args[index + 1]):
                    continue
                swapped = [text(a) for a in args]
                swapped[index], swapped[index + 1] = swapped[index + 1], swapped[index]
                listed = ", ".join(swapped + [text(k) for k in node.keywords])
                self._add("argument order", node, f"{text(func)}({listed})")
        # dropped call: a function call becomes its first argument, a method call its object
        if isinstance(self.parents.get(node), ast.Raise) or (isinstance(func, ast.Name) and func.id == "super"):
            return
        if isinstance(func, ast.Attribute) and not _is_module(func.value):
            self._add("dropped call", node, text(func.value))
        elif positional:
            self._add("dropped call", node, text(positional[0]))


# -- small predicates ---------------------------------------------------------------------------


def _is_docstring(statement):
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _assigned_name(statement):
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) == 1 and isinstance(targets[0], (ast.Name, ast.Attribute)):
            return ast.unparse(targets[0])
    return None


def _header(statement):
    """What identifies a statement's own expressions: the statement, or a compound one's header."""
    if isinstance(statement, (ast.If, ast.While)):
        return statement.test
    if isinstance(statement, ast.For):
        return ast.Tuple([statement.target, statement.iter], ast.Load())
    if isinstance(statement, ast.With):
        return ast.Tuple([item.context_expr for item in statement.items], ast.Load())
    return statement


def _is_module(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in _MODULES


def _is_minus_inf(node):
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Attribute)
        and node.operand.attr == "inf"
    )


def _number(node):
    """The value of a numeric or boolean literal (``-2`` included), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    return None


def _is_operand_of_minus(node, parents):
    parent = parents.get(node)
    return isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub) and _number(parent) is not None
