"""The part of the grader that runs inside a student's kernel, and the format it speaks.

This package is copied into every student kernel's sandbox, so it imports nothing from the
rest of ``grading`` (and nothing but the standard library and NumPy): ``wire`` encodes plain
values without pickle, ``agent`` answers the test process's requests.
"""
