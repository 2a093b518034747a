"""Grading pipeline for the attention assignment, built on nbgrader.

The flow follows the course directory: source -> release -> submitted ->
autograded -> feedback. nbgrader does the work; the modules here add only
what it lacks (see README, "Where a score comes from").
"""
