"""Seconds per submission of one grader: ``python bench/grading_time.py TREE SUBMISSIONS WORKDIR``.

Run as a script (not with -m) from outside the repository, so that ``grading`` is whatever the
environment resolves: the project's own package, or an earlier checkout put first on
PYTHONPATH (bench/grading_cost.py does that). The course is TREE's: its configuration and
source/, released by TREE's grader, with SUBMISSIONS copies of its solution; the class is
graded on one worker without feedback. Prints one line of JSON.
"""

import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(os.path.dirname(HERE), "tests"))  # after TREE's grader, for builders only


def main(tree, submissions, workdir):
    import grading
    from builders import completed, read
    from grading.course import Course
    from grading.pipeline import grade_class
    from grading.release import generate_release

    course_root = os.path.join(workdir, "course")
    os.makedirs(course_root)
    shutil.copy(os.path.join(tree, "nbgrader_config.py"), course_root)
    shutil.copytree(os.path.join(tree, "source"), os.path.join(course_root, "source"))
    course = Course(course_root)
    generate_release(course)
    release = read(course.notebook_path("release"))
    solution = completed(release, read(os.path.join(course_root, "source", "attention", "attention.ipynb")))
    for index in range(submissions):
        folder = os.path.join(course.path("submitted", f"student{index:02d}"))
        os.makedirs(folder)
        with open(os.path.join(folder, "attention.ipynb"), "w") as handle:
            import nbformat

            nbformat.write(solution, handle)
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
    from jupyter_isolation import isolate

    isolate(sys.argv[3])
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
