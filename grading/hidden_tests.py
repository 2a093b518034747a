"""Hidden test regions of a cell source, as nbgrader's ClearHiddenTests delimits them."""

import re
from collections.abc import Iterable

from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def delimiters(config: Config | None = None) -> tuple[str, str]:
    """(begin, end): the delimiters of hidden tests as ``config`` sets them for nbgrader's
    ClearHiddenTests (nbgrader's own defaults where it does not)."""
    clear = ClearHiddenTests(config=config) if config is not None else ClearHiddenTests()
    return clear.begin_test_delimeter, clear.end_test_delimeter


DELIMITERS = delimiters()


def split_hidden(source: str, delimiters: tuple[str, str] = DELIMITERS) -> tuple[str, list[str]]:
    """(visible source, hidden lines): the source without its hidden regions, and their lines."""
    begin, end = delimiters
    visible, hidden, inside = [], [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    return "\n".join(visible), hidden


def hidden_lines(
    sources: Iterable[str], public: Iterable[str] = (), delimiters: tuple[str, str] = DELIMITERS
) -> list[str]:
    """The distinct stripped, non-blank hidden lines of several cell sources, except those that
    also occur in the ``public`` sources (a hidden check may repeat a visible line verbatim: that
    line is no secret, and redacting it would hide a student's own code from them)."""
    seen = {line.strip() for text in public for line in split_hidden(text, delimiters)[0].split("\n")}
    return sorted(
        {
            line.strip()
            for source in sources
            for line in split_hidden(source, delimiters)[1]
            if line.strip() and line.strip() not in seen
        }
    )


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def reveals(text: str, lines: Iterable[str]) -> bool:
    """Whether text (ANSI colours removed) contains any of the hidden lines."""
    plain = strip_ansi(text)
    return any(line in plain for line in lines)
