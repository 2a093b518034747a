"""What grading costs per submission, now and with the grader before the sandbox.

Until commit BEFORE_SANDBOX the tests ran in the student's kernel; since, they run in a kernel
of their own and the student's kernel in a sandbox (grading/execute.py). Both graders grade a
class of their own notebook's solution in alternating rounds, each in a process of its own
(bench/grading_time.py), on one worker without feedback: seconds per submission, and the ratio
of now to before. The earlier grader is taken from git (``git archive``); without the
repository's history, the figures are null and the notes say why.
"""

import json
import os
import subprocess
import sys
import tempfile

from .timing import Stat, ratio

BEFORE_SANDBOX = "a7ffb80"  # the last commit whose tests ran in the student's kernel
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grading_time.py")
REPOSITORY = os.path.dirname(os.path.dirname(SCRIPT))


def extract(revision, folder):
    """The tree of ``revision`` in folder (None if git or the history is not there)."""
    os.makedirs(folder)
    archive = subprocess.run(
        ["git", "-C", REPOSITORY, "archive", revision], capture_output=True, check=False, timeout=120
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
    return folder


def seconds_per_submission(tree, submissions, workdir, pythonpath=None):
    environment = dict(os.environ)
    if pythonpath:
        environment["PYTHONPATH"] = pythonpath
    else:
        environment.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, SCRIPT, tree, str(submissions), tempfile.mkdtemp(dir=workdir)],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment,
        check=True,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["grader"] != tree:  # the wrong grader was measured: say so rather than mislead
        raise RuntimeError(f"measured the grader in {measured['grader']}, not the one in {tree}")
    return measured["seconds_per_submission"]


def measure(workdir, *, rounds, submissions, progress=print):
    before_tree = extract(BEFORE_SANDBOX, os.path.join(workdir, "before-sandbox"))
    now, before = [], []
    for round_index in range(rounds):
        if before_tree is not None:
            before.append(seconds_per_submission(before_tree, submissions, workdir, pythonpath=before_tree))
        now.append(seconds_per_submission(REPOSITORY, submissions, workdir))
        progress(
            f"  round {round_index + 1}/{rounds}: {now[-1]:.1f} s per submission"
            + (f", {before[-1]:.1f} s with the grader of {BEFORE_SANDBOX}" if before else "")
        )
    return {
        "seconds_per_submission": Stat.of(now),
        "before_sandbox": Stat.of(before) if before else None,
        "cost_vs_before_sandbox": ratio(now, before) if before else None,
        "baseline": BEFORE_SANDBOX if before else f"{BEFORE_SANDBOX} (not in this clone's history)",
    }
