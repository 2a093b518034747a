"""class-report.html of the bundled class: every student, the figures, what each test cell caught,
the problems, the late penalty and the one copied pair; and a report problem never costs grades.
"""

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from traitlets.config import Config

from grading.course import Course
from grading.report import write_class_report
from grading.report.data import message_kind

COPIED_PAIR = "kim_own_solution lou_copied_late"


class Page(HTMLParser):
    """The parts of the report the tests look at: tags with their attributes, and text by row."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.rows, self._row = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("tr", "div", "span") and any(key.startswith("data-") for key in attrs):
            self._row, self._closed_by = [attrs, []], tag
            self.rows.append(self._row)

    def handle_endtag(self, tag):
        if self._row is not None and tag == self._closed_by:
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row[1].append(data)

    def text_of(self, key, value):
        """Text of every row or block whose data-<key> attribute is value (concatenated)."""
        return " ".join(" ".join(text) for attrs, text in self.rows if attrs.get(f"data-{key}") == value)

    def values(self, key):
        return [attrs[f"data-{key}"] for attrs, _ in self.rows if f"data-{key}" in attrs]


@pytest.fixture(scope="module")
def page(bundled):
    course, _, _ = bundled
    return Page((Path(course.root) / "class-report.html").read_text(encoding="utf-8"))


def test_every_student_appears(bundled, page):
    _, _, rows = bundled
    assert set(page.values("student")) == set(rows)
    for student in rows:
        assert student in page.text_of("student", student)


def test_the_figures_are_inline_pngs_and_nothing_is_fetched(page):
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(images) == 3, images  # score distribution, mastery heatmap, seconds per submission
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe")]
    external = [
        value for _, attrs in page.tags for value in attrs.values() if value and re.match(r"\s*(https?:)?//", value)
    ]
    assert not external, external


def test_only_the_copied_pair_is_flagged(page):
    assert page.values("pair") == [COPIED_PAIR]
    similarity = re.search(r"similarity (\d+)%", page.text_of("pair", COPIED_PAIR))
    assert similarity and int(similarity.group(1)) >= 90, page.text_of("pair", COPIED_PAIR)
    for pair in page.values("unflagged"):  # the closest pairs below the threshold, for calibration
        assert int(re.search(r"(\d+)%", page.text_of("unflagged", pair)).group(1)) < 50


def test_each_test_cell_says_who_lost_points_and_why(page):
    masked = page.text_of("cell", "test-sdpa-mask")
    assert "3 of 14" in masked  # the blank, the unreadable and the inverted mask
    assert re.search(
        r"1\u00d7\s+CheckFailed: weights of blocked keys \(mask False\).*?\(dev_buggy_masks\)", masked, re.S
    ), masked
    blank = page.text_of("cell", "test-softmax-basics")
    assert re.search(r"2\u00d7\s+NotImplementedError: not implemented yet", blank), blank
    assert "cara_blank" in blank and "ida_malformed" in blank


def test_failures_that_differ_only_in_their_numbers_count_as_one_kind():
    assert message_kind("row (1,) sums to 0.73, not 1. Softmax over the keys?") == message_kind(
        "row (3,) sums to 1.5e-3, not 1. Softmax over the keys?"
    )
    assert message_kind("row (1,) sums to 0.73, not 1.") != message_kind("column (1,) sums to 0.73, not 1.")


def test_problems_and_the_late_penalty_per_student(bundled, page):
    _, _, rows = bundled
    for student, row in rows.items():
        for event in row["events"]:
            assert event["detail"] in page.text_of("student", student), (student, event)
    late = page.text_of("student", "lou_copied_late")
    full = rows["lou_copied_late"]["score"]  # two started days late: 20% off
    assert "25.5" in late and f"\u2212{0.2 * full:g}" in late and f"{0.8 * full:g}" in late, late


def test_a_report_that_cannot_be_written_costs_no_grade(bundled, tmp_path):
    """Broken input to the report (its settings, its data) gives a reason, never an exception."""
    course, _, _ = bundled
    grades = (Path(course.root) / "grades.csv").read_bytes()
    path, why = write_class_report(course, str(tmp_path / "no-such-report.json"), str(tmp_path / "out.html"))
    assert path is None and "no-such-report.json" in why
    misconfigured = Course(course.root, config=Config({"ClassReport": {"similarity_threshold": "high"}}))
    path, why = write_class_report(
        misconfigured, str(Path(course.root) / "grading-report.json"), str(tmp_path / "out.html")
    )
    assert path is None and "similarity_threshold" in why
    assert not (tmp_path / "out.html").exists()
    assert (Path(course.root) / "grades.csv").read_bytes() == grades


def test_copies_of_the_instructors_solution_are_flagged_and_own_work_is_not(page):
    """Most of the bundled class is the reference solution with a bug or two: each of them is a
    copy of the instructor's solution, while the student who wrote their own, and the one who
    copied that student, are not."""
    copies = page.values("copy")
    assert "ada_complete" in copies and "dev_buggy_masks" in copies, copies
    assert not {"kim_own_solution", "lou_copied_late", "cara_blank"} & set(copies), copies
    assert re.search(r"100%.*14 of 14", page.text_of("copy", "ada_complete"), re.S), page.text_of(
        "copy", "ada_complete"
    )
