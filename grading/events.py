"""A submission's grading events, kept in one place: a list in its notebook's metadata.

Intake, the restoration of locked cells and the guarded execution each append what they
did to ``nb.metadata.grading.events`` of the notebook they work on; the notebook carries the
list from step to step (and from a worker back to the coordinator), so the report reads it
in one place. Each event is ``{"cell", "kind", "detail"}``, plus whatever its step adds.
"""


def record_event(nb, cell_id, kind, detail, **extra):
    """Append an event to the notebook's grading log."""
    events = nb.metadata.setdefault("grading", {}).setdefault("events", [])
    events.append({"cell": cell_id, "kind": kind, "detail": detail, **extra})


def events_of(nb):
    """The events recorded in a notebook so far (a copy, as plain dicts)."""
    return [dict(event) for event in nb.metadata.get("grading", {}).get("events", [])]
