"""Events are made in one place (grading/events.py), with kinds named there: a kind written as a
string elsewhere would drift from the list the report and the feedback know."""

import ast
from pathlib import Path

import pytest

import grading
from grading import events

GRADING = Path(grading.__file__).parent


def offences(source):
    """(line, what) for each event built by hand or given a kind as a string literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "kind" for k in node.keys):
            found.append((node.lineno, "an event built as a dict"))
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if "event" in name.lower():
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in events.KINDS:
                        found.append((node.lineno, f"the kind {arg.value!r} written as a string"))
    return found


def test_no_module_but_events_writes_an_event_kind_as_a_string():
    found = {
        f"{path.relative_to(GRADING.parent)}:{line}: {what}"
        for path in GRADING.rglob("*.py")
        if path.name != "events.py"
        for line, what in offences(path.read_text(encoding="utf-8"))
    }
    assert not found, sorted(found)


@pytest.mark.parametrize(
    "source",
    [
        'record_event(nb, "notebook", "intake", "no notebook")',
        'self._event(index, "timeout", message)',
        'events.append({"cell": where, "kind": "suspicious", "detail": detail})',
    ],
)
def test_the_scan_sees_a_kind_written_by_hand(source):
    assert offences(source)


def test_an_event_has_a_known_kind():
    assert events.event("test-mha-heads", events.TIMEOUT, "30 s", graded=True) == {
        "cell": "test-mha-heads",
        "kind": "timeout",
        "detail": "30 s",
        "graded": True,
    }
    with pytest.raises(ValueError, match="unknown event kind"):
        events.event("notebook", "timed-out", "30 s")
