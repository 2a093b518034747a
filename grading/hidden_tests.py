"""Hidden test regions of a cell source, as nbgrader's ClearHiddenTests delimits them."""

import re

BEGIN = "BEGIN HIDDEN TESTS"
END = "END HIDDEN TESTS"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def split_hidden(source, begin=BEGIN, end=END):
    """(visible source, hidden lines): the source without its hidden regions, and their lines."""
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


def hidden_lines(sources, public=()):
    """The distinct stripped, non-blank hidden lines of several cell sources, except those that
    also occur in the ``public`` sources (a hidden check may repeat a visible line verbatim: that
    line is no secret, and redacting it would hide a student's own code from them)."""
    seen = {line.strip() for text in public for line in split_hidden(text)[0].split("\n")}
    return sorted(
        {
            line.strip()
            for source in sources
            for line in split_hidden(source)[1]
            if line.strip() and line.strip() not in seen
        }
    )


def strip_ansi(text):
    return _ANSI.sub("", text)


def reveals(text, lines):
    """Whether text (ANSI colours removed) contains any of the hidden lines."""
    plain = strip_ansi(text)
    return any(line in plain for line in lines)
