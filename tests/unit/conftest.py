"""The unit tier stays a unit tier: a test here that starts a kernel fails, with a message saying
where such a test belongs. (Short commands are allowed: nbgrader's Gradebook runs `alembic`.)"""

import sys

import pytest

_running_unit_test = False


def _refuse_kernels(event, args):
    if _running_unit_test and event == "subprocess.Popen" and "ipykernel" in str(args[1]):
        raise RuntimeError(
            f"a unit test started a kernel ({args[1]}): tests that run notebooks belong "
            "in tests/ (the kernel tier), not in tests/unit/"
        )


sys.addaudithook(_refuse_kernels)  # an audit hook cannot be removed: the flag turns it on and off


@pytest.fixture(autouse=True)
def no_kernels():
    global _running_unit_test
    _running_unit_test = True
    try:
        yield
    finally:
        _running_unit_test = False
