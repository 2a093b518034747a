"""Similar solutions: which students handed in the same code, told apart from code everyone shares.

Token fingerprints with winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003; the method of
MOSS): each solution cell is lexed, comments and docstrings are dropped, every name becomes
``N`` and every string ``S``, so renaming variables, rewording comments or messages and
reordering functions leave the fingerprints of the code itself unchanged. A fingerprint is a
hash of K consecutive tokens; winnowing keeps the smallest hash of every window of W of them,
which guarantees that any match of K + W - 1 tokens is found.

Two kinds of code are no evidence of copying and are left out before comparing:

* the release's own code (the stubs, signatures and docstrings every student starts from);
* code that many submissions share token for token: more than ``common_share`` of the class
  (and at least 3 students). A standard idiom, or a solution that went round the whole class,
  says nothing about who copied from whom (MOSS's ``-m`` option does the same). A pair or a
  small group that shares code nobody else wrote is what this looks for.

The similarity of two students is the Dice coefficient of what remains of their fingerprints
(2 |A and B| / (|A| + |B|)): the share of their own code that they have in common.

Against the instructor's own solution (source/) the rule about common code is turned around.
Solutions leak from one term to the next; a copy of the instructor's solution that went round
the class is common code between students, but each copy still matches the solution itself.
So every submission is also compared with the solution, release code left out and nothing else:
``copies_of_solution`` flags one whose own code is mostly the instructor's, names aside.
"""

import functools
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from pygments.lexers import PythonLexer
from pygments.token import Comment, Name, String, Text

K = 12  # tokens per fingerprint: about one line of code
WINDOW = 4  # winnowing window: any shared run of K + WINDOW - 1 = 15 tokens is found


@dataclass
class Token:
    text: str  # normalised: names -> N, strings -> S
    start: int  # characters in the cell's source
    end: int


Cells = dict[str, str]  # solution cell id -> source
Spans = dict[str, list[tuple[int, int]]]  # cell id -> merged (start, end) character ranges


@dataclass
class Pair:
    students: tuple[str, str]
    similarity: float
    shared: int  # fingerprints they share, release and common code left out
    flagged: bool
    spans: dict[str, Spans] = field(default_factory=dict)  # student -> the shared code in their cells


@dataclass
class Comparison:
    pairs: list[Pair]  # every pair of students, most similar first
    common_limit: int  # a fingerprint found in more submissions than this is common code
    threshold: float
    min_shared: int

    @property
    def flagged(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.flagged]


def tokens(source: str) -> list[Token]:
    """The normalised tokens of Python code; never fails (pygments lexes anything)."""
    out: list[Token] = []
    for start, kind, value in PythonLexer().get_tokens_unprocessed(source):
        end = start + len(value)
        if kind in Comment or kind in String.Doc or kind in Text or not value.strip():
            continue
        if kind in String:
            if out and out[-1].text == "S" and out[-1].end == start:  # one string, several pieces
                out[-1].end = end
                continue
            out.append(Token("S", start, end))
        elif kind in Name and kind not in Name.Builtin:
            out.append(Token("N", start, end))
        else:
            out.append(Token(value, start, end))
    return out


def kgram_hashes(toks: Sequence[Token]) -> list[int]:
    """Hash of each run of K tokens, in order (a stable hash, so every run agrees)."""
    return [
        int.from_bytes(
            hashlib.blake2b("\x1f".join(t.text for t in toks[i : i + K]).encode(), digest_size=8).digest(), "big"
        )
        for i in range(len(toks) - K + 1)
    ]


def winnow(hashes: Sequence[int]) -> list[int]:
    """Positions of the fingerprints winnowing keeps: the rightmost minimum of each window."""
    if len(hashes) <= WINDOW:
        return [min(range(len(hashes)), key=lambda i: (hashes[i], -i))] if hashes else []
    kept: list[int] = []
    for start in range(len(hashes) - WINDOW + 1):
        window = range(start, start + WINDOW)
        best = min(window, key=lambda i: (hashes[i], -i))
        if not kept or kept[-1] != best:
            kept.append(best)
    return kept


# The class report fingerprints every cell twice (compare, then copies_of_solution), the release's
# in both: each distinct source is lexed once.
@functools.lru_cache(maxsize=8192)
def _fingerprint(source: str) -> tuple[tuple[Token, ...], tuple[int, ...]]:
    """(tokens, K-gram hashes) of one cell, as tuples: shared between callers, never changed."""
    toks = tuple(tokens(source))
    return toks, tuple(kgram_hashes(toks))


class _Fingerprinted:
    """One student's solution cells: tokens, all K-gram hashes and the winnowed ones."""

    def __init__(self, cells: Cells) -> None:
        self.tokens: dict[str, tuple[Token, ...]] = {}
        self.hashes: dict[str, tuple[int, ...]] = {}
        for cell_id, source in cells.items():
            self.tokens[cell_id], self.hashes[cell_id] = _fingerprint(source)
        self.all = {h for hashes in self.hashes.values() for h in hashes}
        self.winnowed = {hashes[i] for hashes in self.hashes.values() for i in winnow(hashes)}

    def spans(self, shared: set[int]) -> Spans:
        """{cell id: merged (start, end) character ranges} of the K-grams whose hash is in shared."""
        out: Spans = {}
        for cell_id, hashes in self.hashes.items():
            toks = self.tokens[cell_id]
            ranges: list[tuple[int, int]] = []
            for i, h in enumerate(hashes):
                if h in shared:
                    start, end = toks[i].start, toks[i + K - 1].end
                    if ranges and start <= ranges[-1][1]:
                        ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
                    else:
                        ranges.append((start, end))
            if ranges:
                out[cell_id] = ranges
        return out


def compare(
    submissions: dict[str, Cells],
    release: Cells,
    *,
    threshold: float = 0.5,
    common_share: float = 0.25,
    min_shared: int = 8,
) -> Comparison:
    """Compare every pair of students' solution cells.

    submissions: {student: {cell id: source}}; release: {cell id: source} of the same cells as
    released. A pair is flagged when its similarity reaches ``threshold`` and it shares at least
    ``min_shared`` fingerprints (a few lines), so that two tiny, coincidentally equal answers are not.
    """
    prints = {student: _Fingerprinted(cells) for student, cells in submissions.items()}
    released = _Fingerprinted(release).all
    found_in = Counter(h for fp in prints.values() for h in fp.all)
    common_limit = max(2, int(common_share * len(prints)))
    own = {
        student: {h for h in fp.winnowed if h not in released and found_in[h] <= common_limit}
        for student, fp in prints.items()
    }
    pairs = []
    for a, b in combinations(sorted(prints), 2):
        shared = own[a] & own[b]
        total = len(own[a]) + len(own[b])
        similarity = 2 * len(shared) / total if total else 0.0
        pair = Pair((a, b), similarity, len(shared), similarity >= threshold and len(shared) >= min_shared)
        if pair.flagged:
            matching = {h for h in prints[a].all & prints[b].all if h not in released and found_in[h] <= common_limit}
            pair.spans = {a: prints[a].spans(matching), b: prints[b].spans(matching)}
        pairs.append(pair)
    pairs.sort(key=lambda pair: (-pair.similarity, pair.students))
    return Comparison(pairs, common_limit, threshold, min_shared)


@dataclass
class SolutionCopy:
    student: str
    similarity: float  # Dice coefficient of their own code and the instructor's
    shared: int
    verbatim: int  # solution cells the student handed in word for word as the instructor's
    cells: int  # solution cells compared


@dataclass
class SolutionCopies:
    copies: list[SolutionCopy]  # most similar first
    threshold: float
    students: int  # submissions compared


def copies_of_solution(
    submissions: dict[str, Cells], release: Cells, solution: Cells, *, threshold: float = 0.8, min_shared: int = 8
) -> SolutionCopies:
    """The students whose solution cells reproduce the instructor's solution (SolutionCopies).

    submissions: {student: {cell id: source}}; release: {cell id: source} as released;
    solution: {cell id: source} of the same cells in source/, solution markers removed. A
    student is flagged when the Dice coefficient of their own fingerprints (release code left
    out) and the solution's reaches ``threshold`` and they share at least ``min_shared``. Code
    that every correct answer writes alike is short; a whole notebook of it is not.
    """
    released = _Fingerprinted(release).all
    reference = {h for h in _Fingerprinted(solution).winnowed if h not in released}
    copies = []
    for student, cells in sorted(submissions.items()):
        own = {h for h in _Fingerprinted(cells).winnowed if h not in released}
        shared = own & reference
        total = len(own) + len(reference)
        similarity = 2 * len(shared) / total if total else 0.0
        if similarity >= threshold and len(shared) >= min_shared:
            compared = [cell_id for cell_id in solution if cell_id in cells]
            verbatim = sum(cells[cell_id].split() == solution[cell_id].split() for cell_id in compared)
            copies.append(SolutionCopy(student, similarity, len(shared), verbatim, len(compared)))
    copies.sort(key=lambda copy: (-copy.similarity, copy.student))
    return SolutionCopies(copies, threshold, len(submissions))
