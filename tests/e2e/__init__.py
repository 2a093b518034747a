"""End-to-end tests: the course on a real JupyterHub, clicked through in Chromium (`make e2e`)."""
