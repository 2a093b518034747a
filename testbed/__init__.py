"""What the tests and the benchmarks both run the grader on: course folders and submissions built
from the release and the solution, Jupyter kept out of HOME, and dask clusters started with dask's
own command line. Not part of the grader: nothing in grading/ imports it."""
