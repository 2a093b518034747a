"""Similar solutions: a disguised copy is found, code everyone shares is not taken for copying.

Runs on the bundled class's notebooks as built (no kernel needed): the same submissions the
class report compares after grading.
"""

import random

import nbformat
import pytest

from builders import cell, disguised
from bundled_class import COPIER_NAMES, students
from grading.report.similarity import WINDOW, K, Token, compare, kgram_hashes, tokens, winnow
from testbed.courses import grade_id

COPIED = ("kim_own_solution", "lou_copied_late")


def solution_cells(nb, release):
    ids = [
        grade_id(c) for c in release.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    return {cell_id: cell(nb, cell_id).source for cell_id in ids}


@pytest.fixture(scope="module")
def bundled_cells(release_nb, solution_nb):
    """Student -> solution cells of the bundled class (the unreadable notebook graded as the release)."""
    return {
        student: solution_cells(release_nb if isinstance(nb, bytes) else nb, release_nb)
        for student, (nb, _) in students(release_nb, solution_nb).items()
    }


@pytest.fixture(scope="module")
def release_cells(release_nb):
    return solution_cells(release_nb, release_nb)


@pytest.fixture(scope="module")
def in_class(bundled_cells, release_cells):
    """The bundled class compared as the class report compares it."""
    return compare(bundled_cells, release_cells)


def test_the_bundled_copy_is_flagged_and_nothing_else(in_class):
    assert [pair.students for pair in in_class.flagged] == [COPIED]
    copied = in_class.flagged[0]
    assert copied.similarity >= 0.9, copied
    closest_independent = max(pair.similarity for pair in in_class.pairs if not pair.flagged)
    assert closest_independent < 0.1, closest_independent


def test_students_built_on_the_same_reference_share_only_common_code(bundled_cells, release_cells, in_class):
    """Seven students are the reference solution with a bug or two: almost all their code is the
    same, so without leaving out common code every pair of them would be flagged. With it, the
    similarity of two of them is what they wrote beyond the common code: next to nothing."""
    reference_based = [
        "ada_complete",
        "dev_buggy_masks",
        "eli_buggy_heads",
        "fay_infinite_loop",
        "gus_kernel_dies",
        "hal_tampered_tests",
        "jon_misnamed",
    ]
    cells = {student: bundled_cells[student] for student in reference_based}
    without_discount = compare(cells, release_cells, common_share=1.0)
    assert len(without_discount.flagged) == 21 and min(p.similarity for p in without_discount.pairs) > 0.9
    assert all(pair.similarity < 0.1 for pair in in_class.pairs if set(pair.students) <= set(reference_based))


def test_release_code_is_no_evidence(release_cells):
    """Two blank notebooks are the release itself: nothing of theirs is compared (two students
    alone, so that the release's code is not common code already)."""
    comparison = compare({"a": release_cells, "b": release_cells}, release_cells)
    assert comparison.pairs[0].similarity == 0.0 and not comparison.flagged


def test_renaming_new_comments_and_reordering_do_not_hide_a_copy(bundled_cells, release_cells):
    """Each disguise alone, on Kim's cells against five other submissions."""
    original = bundled_cells["kim_own_solution"]
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade_id": cid}})
            for cid, source in original.items()
        ]
    )
    others = {
        s: bundled_cells[s] for s in ("ada_complete", "ben_partial", "cara_blank", "dev_buggy_masks", "jon_misnamed")
    }
    for names, comment in ((COPIER_NAMES, ""), ({}, "rewritten {}"), ({}, "")):
        copy = disguised(nb, original, names, comment)
        cells = {**others, "kim": original, "copy": {cid: cell(copy, cid).source for cid in original}}
        flagged = compare(cells, release_cells).flagged
        assert [pair.students for pair in flagged] == [("copy", "kim")], (names, comment)
        assert flagged[0].similarity > 0.9


def test_names_strings_comments_and_layout_do_not_change_the_tokens():
    a = 'def f(x, axis=-1):\n    """Doc."""\n    total = np.sum(x, axis=axis)  # sum it\n    return total / 2, "why"\n'
    b = (
        "def g(values, axis=-1):\n    # another comment\n    s = np.sum(values,\n               axis=axis)\n"
        '    return s / 2, "because"\n'
    )
    assert [t.text for t in tokens(a)] == [t.text for t in tokens(b)]
    assert [t.text for t in tokens("return s / 3")] != [t.text for t in tokens("return s / 2")]


def test_winnowing_finds_every_shared_run_of_k_plus_window_minus_one_tokens():
    rng = random.Random(7)
    for _ in range(200):
        shared = [Token(f"t{rng.randrange(50)}", 0, 0) for _ in range(K + WINDOW - 1)]
        a = [Token(f"a{rng.randrange(50)}", 0, 0) for _ in range(rng.randrange(30))] + shared
        b = shared + [Token(f"b{rng.randrange(50)}", 0, 0) for _ in range(rng.randrange(30))]
        ha, hb = kgram_hashes(a), kgram_hashes(b)
        assert {ha[i] for i in winnow(ha)} & {hb[i] for i in winnow(hb)}
