"""Code that reaches for the grader is reported: every catalogued cheat that does, and no bug,
alternative or the solution itself."""

import pytest

from catalogue import ALTERNATIVES, BUGS, CHEATS, REACHES_FOR_THE_GRADER
from grading.tampering import scan, suspicious_lines


def test_the_solution_is_not_suspicious(solution_nb, release_nb):
    assert scan(solution_nb, release_nb) == []


@pytest.mark.parametrize("case", BUGS + ALTERNATIVES, ids=lambda case: case.name)
def test_honest_work_is_not_suspicious(case, solution_nb, release_nb):
    assert scan(case.applied_to(solution_nb), release_nb) == []


@pytest.mark.parametrize("case", [c for c in CHEATS if c.name in REACHES_FOR_THE_GRADER], ids=lambda case: case.name)
def test_a_cheat_that_reaches_for_the_grader_is_reported(case, release_nb):
    events = scan(case.applied_to(release_nb), release_nb)
    assert [event["cell"] for event in events] == ["softmax"], events
    assert events[0]["kind"] == "suspicious" and "scores are not changed" in events[0]["detail"]


@pytest.mark.parametrize(
    "source, reason",
    [
        ("check_close = lambda *a, **k: None", "rebinds the test helper check_close"),
        ("def fail(message):\n    pass", "redefines the test helper fail"),
        ("globals()['quiet'] = print", "calls globals()"),
        ("import builtins", "imports builtins"),
        ("from grading import kernel_checks", "imports the grader's own package"),
        ("np.allclose = lambda *a: True", "replaces NumPy's allclose"),
        ("import sys\nframe = sys._getframe(1)", "walks the call stack (sys._getframe)"),
        ("get_ipython().set_custom_exc((Exception,), None)", "installs an IPython exception handler"),
        ("f.__code__ = g.__code__", "reads or replaces a function's code"),
    ],
)
def test_each_construct_is_named(source, reason):
    assert reason in [why for _, why in suspicious_lines(source, {"check_close", "fail", "quiet"})]


@pytest.mark.parametrize(
    "source",
    [
        "x = np.where(mask, scores, -np.inf)",
        "setattr(self, 'W_q', value)",
        "MultiHeadAttention.decode_step = decode_step",
        "RUN_DEMOS = False",
        "%timeit softmax(x)",  # a magic: not Python, not reported
    ],
)
def test_ordinary_code_is_not_reported(source):
    assert suspicious_lines(source, {"check_close"}) == []
