"""Attacks on the grader itself (tests/hostile.py), graded with honest students.

The attacks are split between two classes, each graded in order by a dask cluster of one
worker, the two at once: each attack, then an honest student (the complete solution) right
after it on the same worker, so that anything an attack leaves behind (a trigger in a
gradebook, a process, a file, a stopped worker) meets the next student. Every
attack starts from the blank release, so it merits nothing: it must earn 0, and nothing it
does may reach the honest students, the course's gradebook or files, the grader's code, or
the feedback of anyone (not one hidden line, even encoded). The run must end by itself.
"""

import base64
import binascii
import contextlib
import copy
import hashlib
import re
import sqlite3
import subprocess
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import cell
from catalogue import PARTS
from conftest import REPO, report_rows, run_grade_command
from grading.cluster import local_cluster
from grading.course import Course
from grading.errors import PipelineError
from grading.hidden_tests import hidden_lines, strip_ansi
from grading.pipeline import ExecutionSettings, export_grades, grade_class
from grading.results import StudentResult
from hostile import ATTACKS, MARK
from testbed.courses import submit

RUN_TIMEOUT = 30 * 60  # seconds: far beyond what the class needs; a stalled run fails here


def attacked_notebook(release_nb, attack, scheduler):
    nb = copy.deepcopy(release_nb)
    target = cell(nb, "softmax")
    target.source += "\n\n" + attack.source(attack.name, scheduler)
    return nb


def honest(attack):
    return f"honest_after_{attack.name}"


def grader_files():
    """A digest of every file of the grader's package and the course configuration."""
    files = sorted((REPO / "grading").rglob("*.py")) + [REPO / "nbgrader_config.py"]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def processes_with(text):
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if text in line and "ps -eo" not in line]


STREAMS = 2  # classes graded at once, one worker each: the machine's two cores


@dataclass
class Attacked:
    courses: list[Course]
    results: dict[str, StudentResult]  # student -> result, over all the classes
    course_of: dict[str, Course]  # student -> the class they were graded in
    before: dict[str, str]  # grader_files() before the run


def _grade_in_order(course, client, release_nb, solution_nb, attacks, outcome):
    """One class on a cluster of its own: each attack, then an honest student."""
    try:
        scheduler = client.scheduler.address.removeprefix("tcp://")
        order = []
        for attack in attacks:
            submit(course, attack.name, attacked_notebook(release_nb, attack, scheduler))
            submit(course, honest(attack), solution_nb)
            order += [attack.name, honest(attack)]
        # 10 s per cell instead of 30: the attacks that hang a kernel end sooner, and the
        # honest students' cells need far less.
        settings = ExecutionSettings(timeout=10)
        results = grade_class(course, client=client, students=order, settings=settings, progress=lambda line: None)
        outcome["results"] = {r.student: r for r in results}
    except BaseException as error:  # reported in the test's own thread
        outcome["error"] = error


@pytest.fixture(scope="module")
def attacked(course_factory, release_nb, solution_nb):
    before = grader_files()
    courses = [course_factory(f"hostile-class-{n}") for n in range(STREAMS)]
    outcomes = [{} for _ in courses]
    with contextlib.ExitStack() as clusters:
        # Started one after the other: dask's first cluster of a process imports its dashboard,
        # and two started at once in two threads can see that import half done.
        clients = [clusters.enter_context(local_cluster(1)) for _ in courses]
        runs = [
            threading.Thread(
                target=_grade_in_order,
                args=(course, client, release_nb, solution_nb, ATTACKS[n::STREAMS], outcome),
                daemon=True,
            )
            for n, (course, client, outcome) in enumerate(zip(courses, clients, outcomes))
        ]
        deadline = time.monotonic() + RUN_TIMEOUT
        for run in runs:
            run.start()
        for run in runs:
            run.join(max(0, deadline - time.monotonic()))
        assert not any(run.is_alive() for run in runs), f"the run did not end within {RUN_TIMEOUT} s"
    results, course_of = {}, {}
    for course, outcome in zip(courses, outcomes):
        assert "error" not in outcome, outcome["error"]
        export_grades(course, str(Path(course.root) / "grades.csv"))
        results.update(outcome["results"])
        course_of.update(dict.fromkeys(outcome["results"], course))
    assert len(results) == 2 * len(ATTACKS)
    return Attacked(courses, results, course_of, before)


def gradebook_scores(course):
    with sqlite3.connect(Path(course.root) / "gradebook.db") as db:
        rows = db.execute(
            "SELECT submitted_assignment.student_id, grade_cells.id, "
            "COALESCE(grade.manual_score, grade.auto_score, 0), grade_cells.max_score FROM grade "
            "JOIN grade_cells ON grade.cell_id = grade_cells.id "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id"
        ).fetchall()
    scores = {}
    for student, _, score, points in rows:
        total = scores.setdefault(student, [0.0, 0.0])
        total[0] += score
        total[1] += points
    return scores


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_an_attack_earns_nothing(attacked, attack):
    result = attacked.results[attack.name]
    assert result.recorded, result.events
    earned = {name: score for name, (score, _) in result.cells.items() if score}
    assert not earned, f"{attack.why}: earned {earned}"
    assert gradebook_scores(attacked.course_of[attack.name])[attack.name][0] == 0


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_the_honest_student_graded_after_an_attack_is_untouched(attacked, attack):
    course = attacked.course_of[honest(attack)]
    result = attacked.results[honest(attack)]
    lost = {part: tuple(result.parts[part]) for part in PARTS if result.parts[part][0] < result.parts[part][1]}
    assert result.recorded and not lost and not result.events, (lost, result.events)
    score, points = gradebook_scores(course)[honest(attack)]
    assert score == points - 10  # the two written answers wait for the instructor
    feedback = Path(course.path("feedback", honest(attack))) / "attention.html"
    assert "Part 1" in feedback.read_text(encoding="utf-8")


def test_the_course_gradebook_holds_no_trigger(attacked):
    for course in attacked.courses:
        with sqlite3.connect(Path(course.root) / "gradebook.db") as db:
            assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == []


def test_grades_csv_matches_the_gradebook(attacked):
    scores = {}
    for course in attacked.courses:
        header, *rows = [row.split(",") for row in (Path(course.root) / "grades.csv").read_text().splitlines()]
        scores.update({row[header.index("student_id")]: float(row[header.index("raw_score")]) for row in rows})
    for attack in ATTACKS:
        assert scores[attack.name] == 0
        assert scores[honest(attack)] == attacked.results[honest(attack)].score > 0


def _decodings(text):
    """The text, each line reversed, and every base64 blob in it decoded (and decompressed)."""
    yield text
    yield "\n".join(line[::-1] for line in text.splitlines())
    for blob in re.findall(r"[A-Za-z0-9+/=]{40,}", text):
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4))
        except (binascii.Error, ValueError):
            continue
        for decode in (lambda b: b, zlib.decompress):
            try:
                yield decode(raw).decode("utf-8", "replace")
            except zlib.error:
                pass


def test_no_hidden_line_reaches_any_feedback_even_encoded(attacked, course_template):
    release = course_template.notebook_path("release")
    import nbformat

    release_nb = nbformat.read(release, as_version=4)
    with sqlite3.connect(Path(course_template.root) / "gradebook.db") as db:
        sources = [row[0] or "" for row in db.execute("SELECT source FROM source_cell")]
    secret = hidden_lines(sources, public=[c.source for c in release_nb.cells])
    secret = [line for line in secret if len(line) > 12]  # short lines ("np = t.np") say nothing
    assert len(secret) > 100
    pages = [page for course in attacked.courses for page in Path(course.root, "feedback").rglob("*.html")]
    assert len(pages) == 2 * len(ATTACKS)
    for page in pages:
        text = strip_ansi(page.read_text(encoding="utf-8"))
        for decoded in _decodings(text):
            leaked = [line for line in secret if line in decoded]
            assert not leaked, f"{page}: {leaked[:3]}"


def test_no_attack_got_past_the_sandbox(attacked):
    import nbformat

    got_past = {}
    for attack in ATTACKS:
        course = attacked.course_of[attack.name]
        nb = nbformat.read(Path(course.path("autograded", attack.name)) / "attention.ipynb", as_version=4)
        printed = "\n".join(
            output.get("text", "") for c in nb.cells if c.cell_type == "code" for output in c.get("outputs", [])
        )
        reports = [line[:200] for line in printed.splitlines() if MARK in line]
        if reports:
            got_past[attack.name] = reports
    assert not got_past, got_past


def test_nothing_an_attack_started_or_wrote_outlives_it(attacked):
    assert processes_with("attack-lingering-process") == []
    assert grader_files() == attacked.before
    for course in attacked.courses:
        assert not list(Path(course.root).rglob("attack-fill.bin"))


def test_under_nbgraders_own_autograde_the_gradebook_is_out_of_reach(course_factory, release_nb, solution_nb):
    """The same sandbox under `nbgrader autograde` (nbgrader_config.py), which runs in the course
    folder itself, next to the gradebook: the attacks on it change nothing."""
    from nbgrader.apps import NbGraderAPI

    course = course_factory("hostile-nbgrader")
    attacks = [
        attack for attack in ATTACKS if attack.name in ("attack_gradebook_triggers", "attack_other_students_grades")
    ]
    for attack in attacks:
        submit(course, attack.name, attacked_notebook(release_nb, attack, "127.0.0.1:1"))
    submit(course, "honest", solution_nb)
    api = NbGraderAPI(coursedir=course.coursedir, config=course.config)
    for student in [attack.name for attack in attacks] + ["honest"]:
        assert api.autograde("attention", student)["success"]
    scores = gradebook_scores(course)
    assert all(scores[attack.name][0] == 0 for attack in attacks), scores
    assert scores["honest"][0] == scores["honest"][1] - 10, scores
    with sqlite3.connect(Path(course.root) / "gradebook.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == []


def test_without_a_sandbox_grading_stops_and_says_what_is_missing(course_factory, solution_nb, dask_client):
    course = course_factory("no-bubblewrap")
    with open(Path(course.root) / "nbgrader_config.py", "a") as handle:
        handle.write('\nc.GuardedExecute.bwrap = "/nonexistent/bwrap"\n')
    submit(course, "someone", solution_nb)
    with pytest.raises(PipelineError, match=r"bubblewrap is not installed \(/nonexistent/bwrap\)"):
        grade_class(Course(course.root), client=dask_client, progress=lambda line: None)
    assert not Path(course.path("autograded", "someone")).exists()


def test_unsandboxed_grading_when_asked_for_says_so_for_every_student(course_factory, solution_nb, dask_client):
    course = course_factory("unsandboxed")
    submit(course, "someone", solution_nb)
    address = dask_client.scheduler.address
    run_grade_command(course, "--no-sandbox", "--scheduler", address)
    [row] = report_rows(course).values()
    assert row["score"] == row["max_score"] - 10
    assert [event["kind"] for event in row["events"]] == ["unsandboxed"]
