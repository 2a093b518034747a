"""Hidden test regions: split off as nbgrader's ClearHiddenTests does, and found again in any text."""

from grading.hidden_tests import hidden_lines, reveals, split_hidden

TEST_CELL = """check_close(softmax(x), expected)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(13)
    _check_rows(softmax(rng.normal(size=(3, 5))))

### END HIDDEN TESTS
print("visible after")
### BEGIN HIDDEN TESTS
assert softmax(np.float32([1e4])).dtype == np.float32
### END HIDDEN TESTS"""


def test_split_keeps_the_visible_source_and_returns_every_hidden_line():
    visible, hidden = split_hidden(TEST_CELL)
    assert visible == 'check_close(softmax(x), expected)\nprint("visible after")'
    assert hidden == [
        "rng = np.random.default_rng(13)",
        "    _check_rows(softmax(rng.normal(size=(3, 5))))",
        "",
        "assert softmax(np.float32([1e4])).dtype == np.float32",
    ]


def test_a_cell_without_hidden_tests_is_all_visible():
    assert split_hidden("a = 1\nb = 2") == ("a = 1\nb = 2", [])


def test_hidden_lines_of_several_cells_are_distinct_stripped_and_not_blank():
    other = "### BEGIN HIDDEN TESTS\nrng = np.random.default_rng(13)\n   \n### END HIDDEN TESTS"
    assert hidden_lines([TEST_CELL, other, "no hidden part"]) == [
        "_check_rows(softmax(rng.normal(size=(3, 5))))",
        "assert softmax(np.float32([1e4])).dtype == np.float32",
        "rng = np.random.default_rng(13)",
    ]


def test_reveals_finds_a_hidden_line_even_inside_ansi_colours():
    lines = hidden_lines([TEST_CELL])
    frame = (
        "\x1b[0;32m----> 3\x1b[0m \x1b[43massert\x1b[49m softmax(np\x1b[38;5;241m.\x1b[39mfloat32([1e4]))"
        "\x1b[38;5;241m.\x1b[39mdtype \x1b[38;5;241m==\x1b[39m np\x1b[38;5;241m.\x1b[39mfloat32"
    )
    assert reveals(frame, lines)
    assert not reveals("\x1b[0;31mAssertionError\x1b[0m: rows of the weights must sum to 1", lines)
    assert not reveals(frame, [])
