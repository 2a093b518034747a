"""OmitParts (nbgrader_config.py's one line): each form of the release holds its own cells only,
and no form tag; the real notebook tags every cell of Part 7, and its core form neither refers
to Part 7 nor miscounts its hours."""

import copy
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from conftest import REPO
from grading.preprocessors import OmitParts
from grading.preprocessors.omit_parts import is_form_tag

from .notebooks import grade_ids, nbgrader_cell, release
from .test_export import defined_names

SOURCE = REPO / "source" / "attention" / "attention.ipynb"
PART_7, CORE = "part-7", "without-part-7"
# Phrases of the core form that name grouped-query attention and are true without Part 7 (the
# parameter num_kv_heads stays in both forms).
TRUE_IN_BOTH = (
    "(KV caches, FlashAttention, grouped-query attention)",
    "(32 heads of 128, no grouped-query attention)",
    "keys and values shared between heads (grouped-query attention)",
    "(grouped-query attention); None means num_heads",
)


def tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def small():
    """notebooks.release() with an optional part: its intro in two forms, a solution and a test."""
    nb = release()
    nb.cells[1:1] = [
        tagged(new_markdown_cell("Seven parts."), PART_7),
        tagged(new_markdown_cell("Six parts."), CORE),
    ]
    nb.cells += [
        tagged(nbgrader_cell(new_code_cell("def tiled(x):\n    return x"), "tiled", solution=True), "export", PART_7),
        tagged(
            nbgrader_cell(new_code_cell("check(tiled(1) == 1, 'one')"), "test-tiled-one", grade=True, points=4),
            PART_7,
        ),
    ]
    return nb


def omit(nb, *parts):
    return OmitParts(omit=list(parts)).preprocess(copy.deepcopy(nb), {})[0]


def sources(nb):
    return [cell.source for cell in nb.cells]


def test_the_full_form_keeps_the_part_and_drops_the_core_text():
    full = omit(small())
    assert "Seven parts." in sources(full) and "Six parts." not in sources(full)
    assert grade_ids(full)[-2:] == ["tiled", "test-tiled-one"]


def test_the_core_form_drops_every_cell_of_the_part_and_keeps_the_core_text():
    core = omit(small(), PART_7)
    assert "Six parts." in sources(core) and "Seven parts." not in sources(core)
    assert grade_ids(core) == grade_ids(release())[:1] + [None] + grade_ids(release())[1:]


@pytest.mark.parametrize("parts", [(), (PART_7,)], ids=["full", "core"])
def test_no_form_tag_is_left_and_other_tags_stay(parts):
    nb = omit(small(), *parts)
    assert not [tag for cell in nb.cells for tag in cell.metadata.get("tags", []) if is_form_tag(tag)]
    assert [cell.metadata["tags"] for cell in nb.cells if "tags" in cell.metadata] == ([] if parts else [["export"]])


def test_a_part_no_cell_is_tagged_with_is_refused():
    with pytest.raises(ValueError, match=r"\['part-8'\].*no cell.*part-7"):
        omit(small(), "part-8")


def test_the_full_form_of_a_notebook_without_optional_parts_is_itself():
    assert omit(release()) == release()


# -- the real notebook -------------------------------------------------------------------------


def source():
    return nbformat.read(SOURCE, as_version=4)


def heading(cell, title):
    return cell.cell_type == "markdown" and re.search(rf"^## {re.escape(title)}", cell.source, re.M)


def test_every_cell_between_part_7_and_the_reflection_is_tagged_part_7():
    cells = source().cells
    (start,) = [i for i, cell in enumerate(cells) if heading(cell, "Part 7")]
    end = next(i for i, cell in enumerate(cells) if heading(cell, "Reflection"))
    untagged = [cell.source[:60] for cell in cells[start:end] if PART_7 not in cell.metadata.get("tags", [])]
    assert not untagged, f"cells of Part 7 without the tag {PART_7!r} would stay in the core release: {untagged}"


def test_each_core_cell_follows_the_full_cell_it_replaces():
    cells = source().cells
    for i, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        assert not (PART_7 in tags and CORE in tags), cell.source[:60]
        if CORE in tags:
            assert PART_7 in cells[i - 1].metadata.get("tags", []) and cells[i - 1].cell_type == cell.cell_type


def what_students_read(nb):
    """The cells as released: solutions replaced by their stubs, hidden tests gone, as nbgrader does."""
    for step in (ClearSolutions(), ClearHiddenTests()):
        nb, _ = step.preprocess(nb, {})
    return nb.cells


def test_the_core_form_refers_to_nothing_of_part_7():
    defined = {True: set(), False: set()}  # in Part 7's code cells, in the others'
    for cell in source().cells:
        if cell.cell_type == "code":
            defined[PART_7 in cell.metadata.get("tags", [])] |= defined_names(cell.source)
    part_7_names = defined[True] - defined[False]  # what only Part 7 defines
    assert {"tiled_attention", "attention_flops"} <= part_7_names
    dangling = []
    for cell in what_students_read(omit(source(), PART_7)):
        text = " ".join(cell.source.split())
        for phrase in TRUE_IN_BOTH:
            text = text.replace(phrase, "")
        found = re.findall(r"Part 7|\b7\.[1-3]\b|grouped-query", text)
        found += [name for name in part_7_names if re.search(rf"\b{name}\b", text)]
        if found:
            dangling.append((cell.source[:60], found))
    assert not dangling, dangling
    full = omit(source())
    assert any(heading(cell, "Part 7") for cell in full.cells) and "test-tiled-matches" in grade_ids(full)


def hours(range_text):
    low, _, high = range_text.partition("-")
    return float(low), float(high or low)


@pytest.mark.parametrize("parts", [(), (PART_7,)], ids=["full", "core"])
def test_the_stated_time_is_the_sum_of_the_time_table(parts):
    intro = omit(source(), *parts).cells[0].source
    rows = re.findall(r"^\|[^\n]*\| (\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?) h \|$", intro, re.M)
    low, high = (sum(hours(row)[i] for row in rows) for i in (0, 1))
    stated = re.search(r"\*\*Time:\*\* (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?) hours", intro)
    assert (float(stated.group(1)), float(stated.group(2))) == (low, high), f"the rows add up to {low:g} to {high:g}"
    assert len(rows) == (7 if parts else 10)
