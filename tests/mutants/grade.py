"""Grade mutants as students: one course, one pipeline run (one dask cluster) for all of them.

Each mutant is the completed solution (testbed/courses.py) with one solution cell replaced by
its mutated code, handed in under its own student id next to the unmutated solution, which
must earn every autograded point or nothing can be judged.
"""

import copy

from builders import cell
from grading import run
from grading.pipeline import ExecutionSettings
from grading.results import StudentResult
from testbed.courses import completed, read, solved_source, submit

SOLUTION = "solution"


def solution_code(source_nb):
    """(prelude, cells): the code cells before the first solution cell, then every solution code
    cell as (grade id, code without its markers), in notebook order."""
    code_cells = [c for c in source_nb.cells if c.cell_type == "code"]
    is_solution = [c.metadata.get("nbgrader", {}).get("solution", False) for c in code_cells]
    first = is_solution.index(True)
    prelude = [c.source for c in code_cells[:first]]
    cells = [
        (c.metadata["nbgrader"]["grade_id"], solved_source(c.source))
        for c, solution in zip(code_cells, is_solution)
        if solution
    ]
    return prelude, cells


def grade(course, mutants, *, workers=None, settings=None, progress=print) -> dict[str, StudentResult]:
    """{mutant id: its StudentResult}, after grading every mutant and the solution in one pipeline run."""
    release = read(course.notebook_path(course.coursedir.release_directory))
    solution = completed(release, read(course.notebook_path(course.coursedir.source_directory)))
    students = {SOLUTION: None}
    submit(course, SOLUTION, solution)
    for index, mutant in enumerate(mutants):
        student = f"mutant{index:04d}"
        students[student] = mutant
        nb = copy.deepcopy(solution)
        cell(nb, mutant.cell).source = mutant.code
        submit(course, student, nb)
    settings = settings or ExecutionSettings()
    graded = run.grade(
        course,
        list(students),
        workers=workers,
        settings=settings,
        feedback=False,
        class_report=False,
        progress=progress,
    )
    results = {r.student: r for r in graded.results}
    control = results[SOLUTION]
    if not control.recorded or control.lost or control.events:
        raise RuntimeError(
            f"the unmutated solution does not earn full marks, so no mutant can be judged: "
            f"lost {control.lost}, events {control.events}"
        )
    return {mutant.id: results[student] for student, mutant in students.items() if mutant is not None}
