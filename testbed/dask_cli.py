"""A dask cluster started with dask's own command line on 127.0.0.1, as on real machines:
one `dask scheduler` process and `dask worker` processes (each with its nanny)."""

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

DASK = str(Path(sys.executable).with_name("dask"))


@contextlib.contextmanager
def dask_cli_cluster(folder, workers=2):
    """Yield the scheduler's address once ``workers`` single-threaded workers have joined it.
    Logs go to folder/cluster.log; every process started is stopped on the way out, by PID."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    started = []
    with open(folder / "cluster.log", "w") as log:
        try:
            started.append(
                subprocess.Popen(
                    [
                        DASK,
                        "scheduler",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        "0",
                        "--no-dashboard",
                        "--scheduler-file",
                        str(scheduler_file),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            for index in range(workers):
                started.append(
                    subprocess.Popen(
                        [
                            DASK,
                            "worker",
                            "--scheduler-file",
                            str(scheduler_file),
                            "--host",
                            "127.0.0.1",
                            "--name",
                            f"worker-{index}",
                            "--nthreads",
                            "1",
                            "--memory-limit",
                            "0",
                            "--no-dashboard",
                            "--local-directory",
                            str(folder / f"worker-{index}"),
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            wait_for(scheduler_file.exists, "the scheduler file")
            yield json.loads(scheduler_file.read_text())["address"]
        finally:
            for process in reversed(started):
                stop(process)


def wait_for(condition, what, seconds=120):
    """Poll until condition() holds; fail after ``seconds`` (a bound on a hang, not a speed test)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.2)


def stop(process):
    """Stop a process and everything it started."""
    if process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def running(pids):
    """Those of the PIDs whose processes still run."""
    alive = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
    return alive
