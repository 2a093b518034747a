"""The unit tier: the grader's pieces on small notebooks built in code; no kernel, no subprocess."""
