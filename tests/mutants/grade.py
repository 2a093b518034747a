"""Grade mutants as students: one course, one pipeline run (one dask cluster) for all of them.

Each mutant is the completed solution (tests/builders.py) with one solution cell replaced by
its mutated code, handed in under its own student id next to the unmutated solution, which
must earn every autograded point or nothing can be judged.
"""

import copy
from dataclasses import dataclass, field

from builders import cell, completed, read, solved_source, submit
from grading import run
from grading.parts import part_of
from grading.pipeline import ExecutionSettings

SOLUTION = "solution"


@dataclass
class Graded:
    recorded: bool
    lost: dict = field(default_factory=dict)  # test cell -> [score, points], where points were lost
    events: list = field(default_factory=list)  # what the grader reported (timeouts, restarts, ...)

    @property
    def killed(self):
        return bool(self.lost)

    @property
    def lost_parts(self):
        return sorted({part_of(cell_id) for cell_id in self.lost})


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


def grade(course, mutants, *, workers=None, settings=None, progress=print):
    """{mutant id: Graded}, after grading every mutant and the solution in one pipeline run."""
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
    short = {c: s for c, s in control.cells.items() if c.startswith("test-") and s[0] < s[1]}
    if not control.recorded or short or control.events:
        raise RuntimeError(
            f"the unmutated solution does not earn full marks, so no mutant can be judged: "
            f"lost {short}, events {control.events}"
        )
    return {mutant.id: _graded(results[student]) for student, mutant in students.items() if mutant is not None}


def _graded(result):
    lost = {c: list(s) for c, s in result.cells.items() if c.startswith("test-") and s[0] < s[1]}
    events = [f"{e['cell']}: {e['detail']}" for e in result.events]
    return Graded(result.recorded, lost, events)
