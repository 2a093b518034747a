"""Start a command under an address-space limit: ``python -m grading.rlimit BYTES -- CMD...``.

Grading kernels are launched through this wrapper so that a submission that allocates
without bound gets a MemoryError (or dies alone) instead of taking the grader down.
The wrapper replaces itself with the command (exec), so the kernel keeps this process's
PID and signals (interrupt, kill) reach it directly.
"""

import os
import resource
import sys


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m grading.rlimit BYTES -- COMMAND [ARGS...]")
    limit = int(argv[0])
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
