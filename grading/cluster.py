"""Where the submissions are graded: a dask client given by the caller, a scheduler's address,
or a LocalCluster on this machine started for the run."""

import contextlib
import logging
import os
from collections.abc import Iterator

from dask.distributed import Client, LocalCluster


@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator[Client]:
    """A client of a LocalCluster on this machine: ``workers`` single-threaded processes
    (default: one per core), each grading one submission at a time."""
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def dask_client(
    client: Client | None = None, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Client]:
    """``client`` if given, else a client of the scheduler at ``scheduler``, else a local cluster's."""
    if client is not None:
        yield client
    elif scheduler:
        with Client(scheduler) as remote:
            yield remote
    else:
        with local_cluster(workers) as local:
            yield local
