"""The README and docs/ stay true to the code: what they list exists, and what exists is listed.

The README is the instructor's front door and stays short; docs/architecture.md's module table
names each module of grading/ once; docs/testing.md names every test file; every relative link
resolves; and the counts the README gives (test cells, points, students, hours) are read from the
notebook and the roster here, so a change to either fails until the text says it too.
"""

import copy
import csv
import json
import re

import nbformat

from conftest import REPO
from grading.preprocessors import OmitParts

README = REPO / "README.md"
DOCS = REPO / "docs"
ARCHITECTURE = DOCS / "architecture.md"
TESTING = DOCS / "testing.md"
RELEASE = REPO / "release" / "attention" / "attention.ipynb"
ROSTER = REPO / "roster.csv"
MAX_README_LINES = 320


def test_the_readme_is_short_enough_to_read_in_ten_minutes():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, (
        f"README.md has {lines} lines, more than {MAX_README_LINES}: move developer detail to docs/"
    )


# -- the module table ------------------------------------------------------------------------


def grading_modules():
    return {
        path.relative_to(REPO / "grading").as_posix()
        for path in (REPO / "grading").rglob("*.py")
        if path.name != "__init__.py"
    }


def module_table(text):
    """The first cell of each row of the table under '## Modules', as written."""
    section = text.split("\n## Modules\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # past header and rule
    return [row.split("|")[1].strip() for row in rows]


def test_the_module_table_lists_each_module_of_grading_once():
    cells = module_table(ARCHITECTURE.read_text())
    malformed = [cell for cell in cells if not re.fullmatch(r"`[\w/]+\.py`", cell)]
    assert not malformed, f"docs/architecture.md's module table: one module per row, as `path.py`: {malformed}"
    listed = [cell.strip("`") for cell in cells]
    on_disk = grading_modules()
    problems = [
        f"add the row | `{module}` | <what it adds> |  (for grading/{module})"
        for module in sorted(on_disk - set(listed))
    ]
    problems += [
        f"delete the row of {module}: there is no grading/{module}" for module in sorted(set(listed) - on_disk)
    ]
    problems += [
        f"{module} has {n} rows: keep one" for module in sorted(set(listed)) if (n := listed.count(module)) > 1
    ]
    assert not problems, "docs/architecture.md's module table:\n  " + "\n  ".join(problems)


# -- the test files ----------------------------------------------------------------------------


def lists_of_testing_md(text):
    """docs/testing.md's list of the unit tier, and its list of the kernel and browser tiers."""
    unit = text.split("\nThe unit tier", 1)[1].split("\nThe kernel and browser tiers", 1)
    return unit[0], unit[1].split("\nHelpers, not tests", 1)[0]


def test_every_test_file_is_named_in_testing_md():
    unit_list, other_list = lists_of_testing_md(TESTING.read_text())
    missing = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        relative = path.relative_to(REPO / "tests")
        if relative.parts[0] == "unit":
            name, where, listing = relative.relative_to("unit").as_posix(), "the unit tier", unit_list
        else:
            name, where, listing = relative.as_posix(), "the kernel and browser tiers", other_list
        if f"`{name}`" not in listing:
            missing.append(f"* `{name}`: <what it checks>   (tests/{relative.as_posix()}, in the list of {where})")
    assert not missing, "docs/testing.md does not name these test files; add:\n  " + "\n  ".join(missing)


# -- links -----------------------------------------------------------------------------------


def without_code(text):
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path):
    """GitHub's anchors of a markdown file's headings (a repeated heading gets -1, -2, ...)."""
    seen, found = {}, set()
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found


def broken_links(path):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", without_code(path.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            shown = resolved.relative_to(REPO) if resolved.is_relative_to(REPO) else resolved
            broken.append(f"{target}: no file {shown}")
        elif anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
            broken.append(f"{target}: no heading with the anchor #{anchor} in {resolved.relative_to(REPO)}")
    return broken


def test_every_relative_link_of_the_readme_and_docs_resolves():
    broken = {
        path.relative_to(REPO).as_posix(): problems
        for path in [README, *sorted(DOCS.glob("*.md"))]
        if (problems := broken_links(path))
    }
    assert not broken, f"links that lead nowhere: {broken}"


# -- the README's counts -----------------------------------------------------------------------


def graded_cells():
    """(autograded test cells, their points, written answers, their points) of the release."""
    cells = [cell["metadata"].get("nbgrader", {}) for cell in json.loads(RELEASE.read_text())["cells"]]
    tests = [cell["points"] for cell in cells if cell.get("grade") and not cell.get("solution")]
    written = [cell["points"] for cell in cells if cell.get("grade") and cell.get("solution")]
    return len(tests), sum(tests), len(written), sum(written)


def stated(pattern, text, where):
    found = re.search(pattern, text)
    assert found, f"{where} no longer says {pattern!r}: the test reads its counts from there"
    return tuple(float(number) if "." in number else int(number) for number in found.groups())


def test_the_readme_counts_cells_and_points_as_the_notebook_has_them():
    readme = README.read_text()
    tests, points, written, written_points = graded_cells()
    pattern = r"(\d+) autograded test cells \((\d+) points\)\s+and (\d+) written answers \((\d+) points\)"
    said = stated(pattern, readme, "README.md")
    truth = f"{tests} autograded test cells ({points} points) and {written} written answers ({written_points} points)"
    assert said == (tests, points, written, written_points), (
        f"README.md says {said[0]} autograded test cells ({said[1]} points) and {said[2]} written answers "
        f"({said[3]} points), but release/ has them as: write '{truth}'"
    )
    contract = (DOCS / "contract.md").read_text()
    said = stated(r"\((\d+) cells, (\d+) points\)", contract, "docs/contract.md")
    assert said == (tests, points), (
        f"docs/contract.md says ({said[0]} cells, {said[1]} points): write ({tests} cells, {points} points)"
    )


def estimate(nb):
    intro = "".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return re.search(r"\*\*Time:\*\*\s*(\d+(?:\.\d+)? to \d+(?:\.\d+)? hours)", intro).group(1)


def test_the_readme_states_the_notebooks_own_time_estimate():
    """For the full release, and for the release without Part 7 (OmitParts)."""
    source = nbformat.read(REPO / "source" / "attention" / "attention.ipynb", as_version=4)
    readme = " ".join(README.read_text().split())
    for phrase in (
        f"The notebook's own estimate: {estimate(OmitParts().preprocess(copy.deepcopy(source), {})[0])} of work",
        f"the notebook's own estimate: {estimate(OmitParts(omit=['part-7']).preprocess(source, {})[0])})",
    ):
        assert phrase in readme, f"README.md must give the notebook's estimate as: {phrase!r}"


def test_the_readme_counts_the_synthetic_class_as_the_roster_has_it():
    with ROSTER.open(newline="") as handle:
        students = sum(1 for _ in csv.DictReader(handle))
    submitted = sum(1 for folder in (REPO / "submitted").iterdir() if folder.is_dir())
    assert submitted == students, f"roster.csv has {students} students, submitted/ {submitted}: make class"
    readme = README.read_text()
    (said,) = stated(r"synthetic class of (\d+) students", readme, "README.md")
    sample = re.findall(r"\[ *\d+/(\d+)\]|(\d+) of (\d+) submissions graded|<n> of (\d+)", readme)
    in_sample = {int(number) for match in sample for number in match if number}
    assert sample and said == students and in_sample == {students}, (
        f"README.md says {said} students and its sample output {sorted(in_sample)}; roster.csv has {students}: "
        f"write 'synthetic class of {students} students', and {students} in the sample output"
    )
