"""Readable names for graded cells, from their grade ids (grading.parts)."""

import pytest

from grading.parts import full_name, part_title


@pytest.mark.parametrize(
    "grade_id, title, name",
    [
        (
            "test-sdpa-fully-masked",
            "Part 1: scaled dot-product attention",
            "Part 1, scaled dot-product attention: fully masked",
        ),
        ("test-kvcache-decode", "Part 5: KV cache", "Part 5, KV cache: decode"),
        ("test-memory-answer-gpt2", "Part 6: memory", "Part 6, memory: answer GPT-2"),
        ("test-tiled-no-score-matrix", "Part 7.1: tiled attention", "Part 7.1, tiled attention: no score matrix"),
        ("reflect-kv-cache-tradeoff", "Written answers", "Written answers: KV cache tradeoff"),
        ("test-rope-rotation", "rope", "rope: rotation"),  # a part without a title yet
        ("setup-checks", "setup-checks", "setup-checks"),  # not a test's grade id: shown as it is
    ],
)
def test_graded_cells_are_named_by_part_and_what_they_check(grade_id, title, name):
    assert (part_title(grade_id), full_name(grade_id)) == (title, name)
