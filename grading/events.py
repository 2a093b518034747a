"""A submission's grading events, kept in one place: a list in its notebook's metadata.

Intake, the restoration of locked cells and the guarded execution each append what they
did to ``nb.metadata.grading.events`` of the notebook they work on; the notebook carries the
list from step to step (and from a worker back to the coordinator), so the report reads it
in one place. Each event is ``{"cell", "kind", "detail"}``, plus whatever its step adds; it
is made by ``event`` only, with one of the kinds below.
"""

from typing import Any

from nbformat import NotebookNode

Event = dict[str, Any]

# Before grading (intake and the restoration of locked cells)
INTAKE = "intake"  # the submission's files: missing, unreadable, renamed notebook
METADATA = "metadata"  # nbgrader metadata changed or unknown: reset to the release's
RESTORED = "restored"  # a locked cell missing from the submission: put back
EDITED = "edited"  # a locked cell edited: its original source is graded
SUSPICIOUS = "suspicious"  # code that reaches for the grader (scores unchanged)
# While the notebook runs (grading.execute)
UNSANDBOXED = "unsandboxed"  # the instructor turned the sandbox off
TIMEOUT = "timeout"  # a cell ran past its time limit
KERNEL = "kernel"  # the student's kernel died or was restarted
BUDGET = "budget"  # the notebook's time ran out: later cells score 0
OUTPUT = "output"  # a cell's output cut at its size limit
# On the worker and the coordinator
GRADER = "grader"  # the grading itself failed
FEEDBACK = "feedback"  # graded, but no feedback page

KINDS = frozenset(
    {INTAKE, METADATA, RESTORED, EDITED, SUSPICIOUS, UNSANDBOXED, TIMEOUT, KERNEL, BUDGET, OUTPUT, GRADER, FEEDBACK}
)


def event(cell: str, kind: str, detail: str, **extra: Any) -> Event:
    """One event: what happened (``kind``, one of KINDS) to which cell, in words."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r} (grading.events.KINDS)")
    return {"cell": cell, "kind": kind, "detail": detail, **extra}


def record_event(nb: NotebookNode, cell: str, kind: str, detail: str, **extra: Any) -> None:
    """Append an event to the notebook's grading log."""
    nb.metadata.setdefault("grading", {}).setdefault("events", []).append(event(cell, kind, detail, **extra))


def events_of(nb: NotebookNode) -> list[Event]:
    """The events recorded in a notebook so far (a copy, as plain dicts)."""
    return [dict(event) for event in nb.metadata.get("grading", {}).get("events", [])]
