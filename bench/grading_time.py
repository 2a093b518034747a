"""Seconds per submission of one grader: ``python bench/grading_time.py TREE SUBMISSIONS WORKDIR``.

Run as a script (not with -m) from outside the repository, so that ``grading`` is whatever the
environment resolves: the project's own package, or an earlier checkout put first on
PYTHONPATH (bench/grading_cost.py does that). The course is TREE's: its configuration and
source/, released by TREE's grader, with SUBMISSIONS copies of its solution; the class is
graded on one worker without feedback. Prints one line of JSON.
"""

import json
import os
import sys
import time


def main(tree, submissions, workdir):
    # Imported once Jupyter is isolated. testbed builds the course with TREE's grader: it uses
    # only what every grader has (testbed/courses.py).
    import grading
    from grading.pipeline import grade_class
    from testbed.courses import build_course, completed, read, submit

    course = build_course(os.path.join(workdir, "course"), tree)
    release = read(course.notebook_path("release"))
    solution = completed(release, read(course.notebook_path("source")))
    for index in range(submissions):
        submit(course, f"student{index:02d}", solution)
    start = time.perf_counter()
    results = grade_class(course, workers=1, feedback=False, progress=lambda line: None)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "grader": os.path.dirname(os.path.dirname(os.path.abspath(grading.__file__))),
                "seconds_per_submission": seconds / submissions,
                "scores": sorted({result.score for result in results}),
            }
        )
    )


if __name__ == "__main__":
    from testbed.jupyter_isolation import isolate

    isolate(sys.argv[3])
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
