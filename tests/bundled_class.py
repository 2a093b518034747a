"""The synthetic class shipped under submitted/: what `make grade` grades out of the box.

Fourteen students, one of each kind an instructor meets: complete, partial, blank, four with
two bugs each in different parts, an infinite loop, a kernel that dies, tampered tests, a malformed file,
a misnamed notebook, one who wrote their own solution and one who copied it (names changed,
comments rewritten, functions reordered) and handed it in late. Rebuild it after changing the
notebook (`make class`); a test checks that the committed files are what this script produces.

Most students are the reference solution with a bug or two, as in a class where everyone
followed the same lecture; the similarity report must not take that for copying (see
grading/report/similarity.py). The due date is the course's (assignments.csv).

A large class on demand, for measuring the grader: ``--copies N`` writes N copies of each
student (``ada_complete-001``, ...) into another course folder, which gets this course's
configuration, source/ and release/ if it has none. Such a class is never committed.

    python tests/bundled_class.py [COURSE_ROOT]
    python tests/bundled_class.py --copies 100 /tmp/large-course
    python -m grading grade --course /tmp/large-course
"""

import argparse
import copy
import shutil
from pathlib import Path

import nbformat

from builders import append_to_cell, cell, disguised
from catalogue import BUGS
from independent_solution import OWN_SOLUTION
from testbed.courses import completed, read

TIMESTAMP = "2026-11-20 17:00:00.000000 UTC"  # as written by nbgrader collect; due at 18:00
LATE = {"lou_copied_late": "2026-11-21 19:30:00.000000 UTC"}  # 25.5 hours after the due date

# What the copier renamed in the copied cells.
COPIER_NAMES = {
    "arr": "vals",
    "peak": "top",
    "e": "ex",
    "norm": "denom",
    "depth": "dk",
    "logits": "raw_scores",
    "allowed": "ok",
    "attn": "probs",
    "out": "result",
    "idx": "pos",
    "counts": "lens",
    "bad": "invalid",
    "keep": "valid",
    "gen": "rng",
    "std": "sigma",
    "b": "bs",
    "t": "steps_",
    "heads_q": "qh",
    "heads_k": "kh",
    "heads_v": "vh",
    "ctx": "mixed",
    "k_store": "kbuf",
    "v_store": "vbuf",
    "filled": "used",
    "k_new": "kk",
    "v_new": "vv",
    "stop": "upto",
    "offset": "past",
    "steps": "n_new",
    "all_k": "ks",
    "all_v": "vs",
    "visible": "can_see",
    "entries": "n_entries",
    "per_layer": "layer_elems",
    "n": "best",
    "lx": "log_n",
    "ly": "log_c",
    "design": "A",
    "slope": "p",
}

REFLECTIONS = {
    "reflect-kv-cache-tradeoff": (
        "The cache keeps K and V for every past token in every layer: 2 x layers x batch x heads x "
        "tokens x head_dim numbers, so it grows linearly with each of them. Serving many users at long "
        "context runs out of GPU memory for caches before it runs out of compute."
    ),
    "reflect-long-context": (
        "About 35,000 tokens for one layer's float16 scores in 80 GB. FlashAttention never stores the "
        "N x N matrix, so memory becomes linear in N, but the compute stays quadratic."
    ),
}


def _bug(name):
    return next(case for case in BUGS if case.name == name)


def _with_bugs(solution, *names):
    nb = copy.deepcopy(solution)
    for name in names:
        for edit in _bug(name).edits:
            edit(nb)
    return nb


def _answered(nb):
    for cell_id, text in REFLECTIONS.items():
        cell(nb, cell_id).source = text
    return nb


def students(release, solution):
    """Student id -> notebook (or raw bytes for a file that is not a valid notebook), file name."""
    partial = copy.deepcopy(release)
    for cell_id in ("softmax", "sdpa", "sdpa-class", "masks"):
        cell(partial, cell_id).source = cell(solution, cell_id).source

    tampered = _with_bugs(solution, "softmax_no_max_shift")
    # Hide the failing stability test behind a pass, drop another test, and claim more points.
    cell(tampered, "test-softmax-stability").source = "# my softmax is fine\npass\n"
    tampered.cells.remove(cell(tampered, "test-softmax-masked-rows"))
    cell(tampered, "test-sdpa-batched").metadata["nbgrader"]["points"] = 30

    looping = copy.deepcopy(solution)
    append_to_cell(
        looping, "kvcache", "# checking my cache by hand\nprobe = KVCache(4, 1, 2)\nwhile len(probe) < 5:\n    pass\n"
    )

    dying = copy.deepcopy(solution)
    append_to_cell(dying, "decode-step", "import os\nos._exit(0)  # free memory before Part 5\n")

    malformed = nbformat.writes(solution)[:5000].encode()  # cut off mid-file, as a failed upload

    own = _answered(copy.deepcopy(solution))
    for cell_id, source in OWN_SOLUTION.items():
        cell(own, cell_id).source = source.lstrip("\n")
    copied = disguised(own, OWN_SOLUTION, COPIER_NAMES, "{} - worked this out at the study group")

    return {
        "ada_complete": (_answered(copy.deepcopy(solution)), "attention.ipynb"),
        "ben_partial": (partial, "attention.ipynb"),
        "cara_blank": (copy.deepcopy(release), "attention.ipynb"),
        "dev_buggy_masks": (_with_bugs(solution, "sdpa_inverted_mask", "padding_mask_off_by_one"), "attention.ipynb"),
        "eli_buggy_heads": (
            _with_bugs(solution, "mha_reshape_without_transpose", "decode_top_left_mask"),
            "attention.ipynb",
        ),
        "fay_infinite_loop": (looping, "attention.ipynb"),
        "gus_kernel_dies": (dying, "attention.ipynb"),
        "hal_tampered_tests": (tampered, "attention.ipynb"),
        "ida_malformed": (malformed, "attention.ipynb"),
        "jon_misnamed": (_with_bugs(solution, "answer_in_megabytes"), "attention (1).ipynb"),
        "kim_own_solution": (own, "attention.ipynb"),
        "lou_copied_late": (copied, "attention.ipynb"),
        "mia_buggy_blocking": (
            _with_bugs(solution, "sdpa_fills_minus_1e9", "causal_mask_without_diagonal"),
            "attention.ipynb",
        ),
        "ned_buggy_decoding": (
            # Without the mask first: the tile edit then finds decode_step's np.repeat calls unmasked.
            _with_bugs(solution, "decode_without_mask", "gqa_tile_instead_of_repeat"),
            "attention.ipynb",
        ),
    }


def write_class(root, copies=1):
    """Write the class into root/submitted/ (replacing it): each student once, or ``copies`` times."""
    root = Path(root)
    release = read(root / "release" / "attention" / "attention.ipynb")
    solution = completed(release, read(root / "source" / "attention" / "attention.ipynb"))
    submitted = root / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    for student, (content, filename) in students(release, solution).items():
        data = content if isinstance(content, bytes) else nbformat.writes(content).encode() + b"\n"
        names = [student] if copies == 1 else [f"{student}-{k:0{len(str(copies))}d}" for k in range(1, copies + 1)]
        for name in names:
            folder = submitted / name / "attention"
            folder.mkdir(parents=True)
            (folder / filename).write_bytes(data)
            (folder / "timestamp.txt").write_text(LATE.get(student, TIMESTAMP))
    return submitted


def main(argv=None):
    repository = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=repository, metavar="COURSE_ROOT")
    parser.add_argument("--copies", type=int, default=1, help="copies of each student (default: 1)")
    args = parser.parse_args(argv)
    if args.copies > 1 and args.root.resolve() == repository:
        parser.error(
            "a class of copies goes into another course folder (COURSE_ROOT): submitted/ here is the committed class"
        )
    args.root.mkdir(parents=True, exist_ok=True)
    for name in ("nbgrader_config.py", "source", "release"):
        if not (args.root / name).exists():
            copy_to = shutil.copytree if (repository / name).is_dir() else shutil.copy
            copy_to(repository / name, args.root / name)
    print(f"wrote {write_class(args.root, args.copies)}")


if __name__ == "__main__":
    main()
