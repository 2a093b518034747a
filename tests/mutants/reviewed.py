"""Reasons a person gave for surviving mutants, by mutant id (see tests/mutants/operators.py).

A reviewed reason replaces the oracle's in the report; its verdict decides whether the mutant
counts as equivalent ("equivalent") or as a survivor that changes behaviour ("breaks").
Ids no longer generated are listed in the report as stale, to be removed here.
"""

REVIEWED = {}
