"""The feedback of the bundled class's students with two bugs each names, for every failed
check, the part and the mistake that student actually made, and no hint whose symptom is absent.

A later part's check that fails because of an earlier part's function says which part to fix
first; a hint about a mistake ("-1e9", "np.tile") appears only where the result is exactly what
that mistake gives.
"""

import html
import re
from pathlib import Path

import pytest

# Student -> {failed check, as the feedback's "To fix" list names it: what its message must say}.
CAUSES = {
    "dev_buggy_masks": {  # True read as blocked; padding mask with <=
        "Part 1, scaled dot-product attention: mask": "treat True as blocked",
        "Part 1, scaled dot-product attention: fully masked": "treat True as blocked",
        "Part 2, masks: padding": "compare with <= instead of <",
    },
    "eli_buggy_heads": {  # split_heads reshapes straight to (B, H, L, D); decode mask top-left
        "Part 4, multi-head attention: heads": "reshape to (B, L, H, D), then transpose",
        "Part 4, multi-head attention: masks": "Fix Part 4 first: your split_heads fails its own check",
        "Part 5, KV cache: decode": "align the new tokens' mask top-left",
        "Part 5, KV cache: prefill": "Fix Part 4 first: your split_heads fails its own check",
        "Part 7.2, grouped-query attention: forward": "Fix Part 4 first: your split_heads fails its own check",
        "Part 7.2, grouped-query attention: decode": "align the new tokens' mask top-left",
    },
    "mia_buggy_blocking": {  # blocks with -1e9; causal mask without the diagonal
        "Part 1, scaled dot-product attention: fully masked": "-1e9 instead of -inf",
        "Part 2, masks: causal": "leave out the diagonal",
    },
    "ned_buggy_decoding": {  # decode_step without a mask; np.tile for the key/value heads
        "Part 5, KV cache: prefill": "leave out the mask",
        "Part 7.2, grouped-query attention: forward": "np.tile instead of np.repeat",
        "Part 7.2, grouped-query attention: decode": "np.tile instead of np.repeat",
    },
}

# Hints about one mistake, and the students who made it: nobody else may be shown them.
HINTS = {
    "-1e9": {"mia_buggy_blocking"},
    "uniform": {"mia_buggy_blocking"},
    "np.tile": {"ned_buggy_decoding"},
    "np.repeat": {"ned_buggy_decoding"},
    "treat True as blocked": {"dev_buggy_masks"},
    "True means": {"dev_buggy_masks"},
    "<=": {"dev_buggy_masks"},
    "diagonal": {"mia_buggy_blocking"},
    "split_heads": {"eli_buggy_heads"},
    "transpose": {"eli_buggy_heads"},
    "top-left": {"eli_buggy_heads"},
    "leave out the mask": {"ned_buggy_decoding"},
    "causal too": set(),
    "cache, and repeat": set(),
    "create_padding_mask": {"dev_buggy_masks"},
}

CHECK = re.compile(r"(Part [0-9.]+, [^:]+: [a-zA-Z0-9 -]+?) \(\d+(?:\.\d+)? / \d+(?:\.\d+)?\)")


def to_fix(course, student):
    """{failed check: its message}, from the "To fix" list at the top of the student's feedback."""
    page = (Path(course.root) / "feedback" / student / "attention" / "attention.html").read_text()
    top = re.split(r'<div[^>]* id="notebook"[^>]*>', page, maxsplit=1)[0]
    top = re.sub(r"<style.*?</style>", " ", top, flags=re.S)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", top)).split())
    listed = text.split("To fix:", 1)[1].split("Part 1: softmax", 1)[0]
    pieces = CHECK.split(listed)[1:]
    checks = dict(zip(pieces[0::2], (message.strip() for message in pieces[1::2])))
    following = ""
    for name in reversed(list(checks)):  # consecutive failures with one message show it once, after the last
        checks[name] = following = checks[name] or following
    return checks


@pytest.mark.parametrize("student", sorted(CAUSES))
def test_each_failed_check_names_its_part_and_the_cause_present(bundled, student):
    course, _, _ = bundled
    checks = to_fix(course, student)
    assert sorted(checks) == sorted(CAUSES[student]), checks
    for check, cause in CAUSES[student].items():
        assert cause in checks[check], f"{check}: {checks[check]}"


@pytest.mark.parametrize("student", sorted(CAUSES))
def test_no_hint_whose_symptom_is_absent(bundled, student):
    course, _, _ = bundled
    messages = " ".join(to_fix(course, student).values())
    shown = [hint for hint, students in HINTS.items() if student not in students and hint in messages]
    assert not shown, messages
