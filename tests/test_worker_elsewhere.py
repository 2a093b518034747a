"""`grade --scheduler` on a dask worker that shares nothing with the coordinator's checkout, as
a worker on another machine: its own virtual environment with a non-editable install of the
project, started in another folder, with the checkout and the course hidden from it (a mount
namespace puts an empty file system over both). Every student still gets feedback: the worker
renders it with its own templates, not with paths that only exist on the coordinator.

Root only (a mount namespace); the new environment reuses this one's packages through hard
links, so nothing is downloaded.
"""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import dask
import pytest
from dask.distributed import Client

from conftest import REPO, report_rows, run_grade_command
from testbed.courses import submit
from testbed.dask_cli import DASK, stop, wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="hiding the checkout from the worker takes a mount namespace: run as root, with unshare (util-linux)",
)

# What makes this environment's install of the project editable: the new one gets its own.
EDITABLE = ("__editable__*", "attention_course*", "__pycache__")


def link_or_copy(source, destination):
    try:
        os.link(source, destination)
    except OSError:  # another file system
        shutil.copy2(source, destination)


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """A folder outside the checkout with a venv holding a non-editable install of the project."""
    folder = tmp_path_factory.mktemp("elsewhere")
    tree = folder / "tree"  # what `pip install` is given: a copy, so nothing points back
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, tree)
    shutil.copytree(REPO / "grading", tree / "grading", ignore=shutil.ignore_patterns("__pycache__"))
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (packages,) = Path(venv / "lib").glob("python*/site-packages")
    shutil.copytree(
        site.getsitepackages()[0],
        packages,
        ignore=shutil.ignore_patterns(*EDITABLE),
        copy_function=link_or_copy,
        dirs_exist_ok=True,
    )
    for data in ("share", "etc"):  # what the packages installed beside them (nbconvert's templates, ...)
        if (Path(sys.prefix) / data).is_dir():
            shutil.copytree(Path(sys.prefix) / data, venv / data, copy_function=link_or_copy, dirs_exist_ok=True)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    install += ["--no-build-isolation", str(tree)]
    subprocess.run(install, check=True, timeout=300, cwd=folder)
    shutil.rmtree(tree)
    return folder, venv


@pytest.fixture(scope="module")
def hidden_worker(elsewhere, course_factory):
    """(scheduler address, course): one `dask worker` from the other venv, in a mount namespace
    where the checkout and the course's folder are empty."""
    folder, venv = elsewhere
    course = course_factory("graded-elsewhere")
    scheduler_file = folder / "scheduler.json"
    hide = 'for path in "$@"; do mount -t tmpfs hidden "$path" || exit 1; done; cd "$WORKER_HOME" && exec "$WORKER"'
    # `dask worker`, from the venv's own python (its bin/ has no scripts: they are not packages).
    worker = [str(venv / "bin" / "python"), "-m", "dask", "worker", "--scheduler-file", str(scheduler_file)]
    worker += ["--host", "127.0.0.1"]
    worker += ["--nthreads", "1", "--memory-limit", "0", "--no-dashboard", "--local-directory", str(folder / "work")]
    started = []
    # A loaded machine must not pass for a lost connection (dask's defaults: 30 s).
    patience = {"distributed.comm.timeouts.connect": "300s", "distributed.comm.timeouts.tcp": "300s"}
    with open(folder / "cluster.log", "w") as log, dask.config.set(patience):
        try:
            scheduler = [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            started.append(
                subprocess.Popen(
                    [*scheduler, "--scheduler-file", str(scheduler_file)], stdout=log, stderr=subprocess.STDOUT
                )
            )
            wait_for(scheduler_file.exists, "the scheduler file")
            script = folder / "worker.sh"
            script.write_text(f"{hide} {' '.join(_quoted(worker[1:]))}\n")
            environment = {**os.environ, "WORKER_HOME": str(folder), "WORKER": worker[0]}
            environment.update({"DASK_" + key.upper().replace(".", "__"): value for key, value in patience.items()})
            environment.pop("PYTHONPATH", None)
            started.append(
                subprocess.Popen(
                    ["unshare", "--mount", "--propagation", "private", "sh", str(script), str(REPO), str(course.root)],
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            with Client(scheduler_file=str(scheduler_file)) as client:
                client.wait_for_workers(1, timeout=120)
                yield client, course
        finally:
            for process in reversed(started):
                stop(process)


def _quoted(words):
    return ["'" + word.replace("'", "'\\''") + "'" for word in words]


def test_the_worker_runs_its_own_install_and_cannot_see_the_checkout(hidden_worker, elsewhere):
    client, course = hidden_worker
    _, venv = elsewhere
    checkout, config = str(REPO / "grading"), str(Path(course.root) / "nbgrader_config.py")

    def where():
        import grading

        return grading.__file__, os.path.exists(checkout), os.path.exists(config), os.getcwd()

    ((module, sees_checkout, sees_course, cwd),) = client.run(where).values()
    assert module.startswith(str(venv)), module
    assert not sees_checkout and not sees_course
    assert not cwd.startswith(str(REPO))


def test_every_student_graded_on_it_gets_feedback(hidden_worker, solution_nb, release_nb):
    client, course = hidden_worker
    students = {"ada_solved": solution_nb, "bo_blank": release_nb, "cy_solved": solution_nb}
    for student, nb in students.items():
        submit(course, student, nb)
    run_grade_command(course, "--timeout", "10", "--scheduler", client.scheduler.address)
    rows = report_rows(course)
    assert sorted(rows) == sorted(students)
    for student in students:
        page = Path(course.path(course.coursedir.feedback_directory, student)) / f"{course.notebook}.html"
        assert page.is_file(), f"no feedback for {student}: {rows[student]['events']}"
        assert [event for event in rows[student]["events"] if event["kind"] in ("feedback", "grader")] == []
    assert rows["ada_solved"]["score"] == rows["cy_solved"]["score"] > rows["bo_blank"]["score"] == 0
