"""The instructor's view of a class: what the class report shows, computed from what grading leaves behind."""
