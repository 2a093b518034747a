"""The course on a real hub, clicked through in Chromium the way its people use it.

The instructor generates and releases the assignment in the formgrader; a student fetches it
from the Assignment List, runs the stubs, completes, runs and validates the notebook and
submits it; the instructor collects it, grades it with the course's own pipeline and releases
the feedback; the student reads the score. Screenshots and timings: tests/artifacts/e2e/.
"""

import csv
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from testbed.courses import completed

from . import lab

ASSIGNMENT = "attention"
COURSE_ID = "tinytorch-attention"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
STUB_ERROR = "NotImplementedError: not implemented yet: replace this line with your code"
EXPORT_STEP = f"!python -m grading export {ASSIGNMENT}.ipynb --to ~"  # README, "The export"
IMPORT_EXPORTED = (
    "import os, sys; sys.path.insert(0, os.path.expanduser('~')); "
    "from tinytorch.core.attention import MultiHeadAttention, create_causal_mask; "
    "print(MultiHeadAttention.__module__, create_causal_mask(3).sum())"
)


def points(notebook):
    """(points the autograder gives a complete solution, all points): the written answers
    (graded and solution cells at once) wait for the instructor."""
    cells = [cell.metadata["nbgrader"] for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    return (sum(cell["points"] for cell in cells if not cell["solution"]), sum(cell["points"] for cell in cells))


def test_assignment_round_trip(hub, accounts, course, exchange, new_page, run_as, journal):
    instructor, student = accounts["instructor"], accounts["student"]
    solution = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    earned, total = points(solution)

    # 1. The instructor releases the assignment from the formgrader.
    teacher = new_page()
    with journal.step("instructor-logs-in", teacher):
        lab.log_in(teacher, hub, instructor)
        # the course directory is in the server's root folder, where the formgrader needs it
        expect(teacher.locator(".jp-DirListing-item", has_text=course.name)).to_be_visible()
    with journal.step("instructor-releases-in-formgrader", teacher):
        formgrader = lab.open_formgrader(teacher)
        row = lab.formgrader_row(formgrader, ASSIGNMENT)
        row.locator("td.assign a").click()
        generated = f"Successfully created the student version of '{ASSIGNMENT}'"
        lab.close_modal(lab.formgrader_modal(formgrader, generated))
        row.locator("td.release a").click()
        modal = lab.formgrader_modal(formgrader, f"Successfully released '{ASSIGNMENT}'")
        expect(row.locator("td.status")).to_have_text("released")
        journal.shoot(teacher, "formgrader-released")
        lab.close_modal(modal)
    assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    # 2. A student logs in, fetches it, runs the stubs, completes it, validates it and submits it.
    page = new_page()
    with journal.step("student-logs-in", page):
        lab.fill_login_form(page, hub, student)
        journal.shoot(page, "hub-login-page")
        lab.submit_login(page, student)
    with journal.step("student-fetches", page):
        lab.open_assignment_list(page)
        released = lab.assignments(page, "released")
        expect(released.locator(".item_name")).to_have_text(ASSIGNMENT)
        expect(released.locator(".item_course")).to_have_text(COURSE_ID)
        released.get_by_role("button", name="Fetch").click()
        fetched = lab.assignments(page, "fetched")
        fetched.locator("a.assignment-notebooks-link").click()  # unfolds the list of its notebooks
        notebook_link = page.locator(f"#nbgrader-{COURSE_ID}-{ASSIGNMENT} .item_name a", has_text=ASSIGNMENT)
        expect(notebook_link).to_be_visible()
    with journal.step("student-runs-the-stubs", page):
        notebook_link.click()
        lab.wait_for_kernel(page, f"{ASSIGNMENT}.ipynb")
        stopped_at = lab.error_outputs(page).filter(has_text="NotImplementedError")
        lab.run_all(page, finished=stopped_at)
        expect(lab.error_outputs(page)).to_have_count(1)  # the run stopped at the first stub
        expect(stopped_at).to_contain_text(STUB_ERROR)
        stopped_at.scroll_into_view_if_needed()
        # the first test of softmax: a stub raises when it is called, not when it is defined
        first_test = lab.cell_showing(page, STUB_ERROR).locator(".jp-InputArea")
        expect(first_test).to_contain_text("probs = softmax(logits)")
    with journal.step("student-completes-and-runs", page):
        path = Path(student.home) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nbformat.write(completed(nbformat.read(path, as_version=4), solution), path)
        student.chown(path)
        lab.choose(page, "File", "Reload Notebook from Disk")
        lab.confirm_dialog(page, "Reload")
        last_cell = page.locator(".jp-Notebook .jp-CodeCell").last
        lab.run_all(page, finished=last_cell.locator(".jp-OutputArea-output"))
        expect(lab.error_outputs(page)).to_have_count(0)

    # 5. Plots render: the attention heatmaps are an image in the output area.
    with journal.step("heatmap-renders", page):
        heatmap = lab.code_cell_after(page, "See the masks at work").locator(".jp-OutputArea-output img")
        expect(heatmap).to_have_count(1)
        expect(heatmap).to_have_attribute("src", lab.PNG_DATA_URL)
        heatmap.scroll_into_view_if_needed()
        assert heatmap.evaluate("img => img.complete && img.naturalWidth > 0"), "the heatmap image is empty"

    with journal.step("student-validates", page):
        page.locator("jp-button.validate-button").click()
        expect(page.locator(".nbgrader-SuccessDialog")).to_contain_text(
            "Success! Your notebook passes all the tests.", timeout=lab.GRADE_TIMEOUT
        )
    with journal.step("student-submits", page):
        lab.confirm_dialog(page, "Ok")
        lab.show_tab(page, "Assignments")
        lab.assignments(page, "fetched").get_by_role("button", name="Submit").click()
        submitted = lab.assignments(page, "submitted")
        expect(submitted.locator(".item_name").first).to_have_text(ASSIGNMENT)
    inbound = list((exchange / COURSE_ID / "inbound").iterdir())
    assert [entry.name.split("+")[0] for entry in inbound] == [student.name]

    # The student exports their code for Module 14, the one step the notebook's closing section gives.
    module = Path(student.home) / "tinytorch" / "core" / "attention.py"
    with journal.step("student-exports-tinytorch", page):
        lab.show_tab(page, f"{ASSIGNMENT}.ipynb")
        lab.save(page)
        exported = lab.run_in_new_cell(page, EXPORT_STEP)
        expect(exported).to_have_text(f"wrote {module}")
        imported = lab.run_in_new_cell(page, IMPORT_EXPORTED)
        expect(imported).to_have_text("tinytorch.core.attention 6")  # not the notebook's own class
    assert module.owner() == student.name and "BEGIN SOLUTION" not in module.read_text()

    # 3. The instructor collects, grades with the course's pipeline and releases feedback;
    #    the student fetches the feedback and reads the score.
    with journal.step("instructor-collects"):
        run_as(instructor, "collect", "nbgrader", "collect", ASSIGNMENT, cwd=course)
    assert (course / "submitted" / student.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    with journal.step("instructor-grades", teacher):
        run_as(instructor, "grade", "python", "-m", "grading", "grade", "--course", str(course), cwd=course)
        grades = {row["student_id"]: row for row in csv.DictReader((course / "grades.csv").open())}
        assert float(grades[student.name]["score"]) == earned
        formgrader = lab.open_formgrader(teacher)
        formgrader.get_by_role("link", name="Manage Assignments").click()  # reloads what it shows
        formgrader.locator("td.num-submissions a").click()
        score = lab.formgrader_row(formgrader, student.name).locator("td.score")
        expect(score).to_have_text(f"{earned:g} / {total:g}")
    assert (course / "feedback" / student.name / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    with journal.step("instructor-releases-feedback"):
        run_as(instructor, "release-feedback", "nbgrader", "release_feedback", ASSIGNMENT, cwd=course)
    with journal.step("student-reads-feedback", page):
        lab.show_tab(page, "Assignments")
        page.locator("#refresh_assignments_list").click()
        expect(page.get_by_text("(feedback available to fetch)")).to_be_visible()
        page.get_by_role("button", name="Fetch Feedback").click()
        page.get_by_text("(view feedback)").click()
        page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html").dblclick()
        feedback = page.frame_locator(".jp-HTMLViewer iframe")
        expect(feedback.locator("h4").first).to_have_text(f"{ASSIGNMENT} (Score: {earned:.1f} / {total:.1f})")
        # first what to fix (nothing here), then each part's subtotal; the screenshot shows them
        expect(feedback.locator("#to-fix")).to_have_text("Every automatic check passed.")
        expect(feedback.locator("#parts summary").first).to_contain_text("Part 1: softmax")


@pytest.mark.parametrize(
    "role, shown, hidden",
    [
        ("student", ["Assignment List"], ["Course List", "Formgrader", "Create assignment"]),
        ("instructor", ["Assignment List", "Formgrader", "Create assignment"], []),
    ],
    ids=["student", "instructor"],
)
def test_instructor_tools_only_for_instructors(role, shown, hidden, hub, accounts, new_page, journal):
    """4. A student's JupyterLab has no Create Assignment or Formgrader, in the menu, the
    sidebar or the server; the instructor's has them (so the check can tell them apart)."""
    account = accounts[role]
    page = new_page()
    lab.log_in(page, hub, account)
    with journal.step(f"{role}-nbgrader-menu", page):
        items = lab.menu_items(lab.open_menu(page, "Nbgrader"))
        assert [item for item in shown if item not in items] == [], items
        assert [item for item in hidden if item in items] == [], items
    has_tools = role == "instructor"
    expect(page.get_by_role("tab", name="Create Assignment")).to_have_count(int(has_tools))  # right sidebar
    formgrader = page.request.get(f"{hub}/user/{account.name}/formgrader")
    assert formgrader.status == (200 if has_tools else 404)
    # Neither role is asked about Jupyter news: the prompt covered students' notebooks.
    page_config = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    assert NEWS_PLUGIN in page_config.get("disabledExtensions", []), page_config.get("disabledExtensions")
    expect(page.get_by_text("official Jupyter news")).to_have_count(0)
