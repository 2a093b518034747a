"""Mutation testing of the reference solution (`make mutants`; see the README).

operators  first-order mutants of the solution cells, made with ast
grade      every mutant graded as a student, in one pipeline run
probes     the contract's inputs, clause by clause
oracle     a surviving mutant against the solution, side by side in one process
report     the kill rate and every survivor with its reason (report.md, report.json)
reviewed   reasons a person gave for survivors
"""
