"""Names a student can read for the notebook's parts and graded cells, from their grade ids.

Grade ids follow ``test-<part>-<what>`` (autograded tests) and ``reflect-<what>`` (written
answers graded by hand). A part's title comes from PART_TITLES; a part not listed there is
called by its prefix until it is added. The rest of the id is the check's name, in words.
"""

HAND_GRADED = "reflect"  # the part of the written answers, graded in the formgrader

# The one place to name a part: add new parts here (their grade ids need nothing else).
PART_TITLES = {
    "softmax": "Part 1: softmax",
    "sdpa": "Part 1: scaled dot-product attention",
    "mask": "Part 2: masks",
    "heads": "Part 3: what attention can learn",
    "mha": "Part 4: multi-head attention",
    "kvcache": "Part 5: KV cache",
    "memory": "Part 6: memory",
    "tiled": "Part 7.1: tiled attention",
    "gqa": "Part 7.2: grouped-query attention",
    "compute": "Part 7.3: compute and bandwidth",
    HAND_GRADED: "Written answers",
}
# Words of grade ids that are not written in lower case.
WORDS = {"kv": "KV", "gpt2": "GPT-2", "llama": "Llama", "sdpa": "SDPA", "mha": "MHA"}


def split_grade_id(grade_id: str) -> tuple[str, list[str]]:
    """(part prefix, words of the rest): ``test-sdpa-fully-masked`` -> ``("sdpa", ["fully", "masked"])``."""
    pieces = grade_id.split("-")
    if pieces[0] == "test" and len(pieces) > 2:
        return pieces[1], pieces[2:]
    if pieces[0] == HAND_GRADED and len(pieces) > 1:
        return HAND_GRADED, pieces[1:]
    return grade_id, []


def is_test(grade_id: str) -> bool:
    """An autograded test cell (``test-...``), as opposed to a written answer graded by hand."""
    return grade_id.startswith("test-")


def part_of(grade_id: str) -> str:
    """The part a grade cell belongs to: ``test-mha-heads`` -> ``mha``; ``reflect-...`` -> ``reflect``;
    an id of neither form is its own part."""
    return split_grade_id(grade_id)[0]


def part_title(grade_id: str) -> str:
    """``test-mask-causal`` -> ``Part 2: masks``; an unlisted prefix is its own title."""
    part, _ = split_grade_id(grade_id)
    return PART_TITLES.get(part, part)


def check_name(grade_id: str) -> str:
    """What the cell checks, in words: ``test-sdpa-fully-masked`` -> ``fully masked``."""
    _, words = split_grade_id(grade_id)
    return " ".join(WORDS.get(word, word) for word in words) or grade_id


def full_name(grade_id: str) -> str:
    """``test-sdpa-fully-masked`` -> ``Part 1, scaled dot-product attention: fully masked``."""
    title = part_title(grade_id).replace(": ", ", ", 1)
    return f"{title}: {check_name(grade_id)}" if split_grade_id(grade_id)[1] else title
