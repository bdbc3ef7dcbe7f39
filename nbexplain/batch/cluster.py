"""Dask: the cluster a run uses, and how the model reaches its workers.

``workers=N`` starts a :class:`distributed.LocalCluster` of N worker processes with one thread
each (processes, not threads: TensorFlow and the tree kernels hold the interpreter otherwise);
``scheduler=ADDRESS`` connects to an existing cluster; ``client=`` uses a client the caller holds.
A cluster this module started is closed, its worker processes with it, whatever ends the run
(Ctrl-C included).

The model reaches the workers ONCE, as the bytes of its artifact file, inside a worker plugin
(:class:`BookPlugin`) with the recipe's plan: the scheduler hands the plugin to every worker that
is there or joins later (a worker restarted after a crash included), and each worker keeps the
bytes in a module-level dictionary keyed by their SHA-256. The model is loaded from them at the
first partition a worker process explains and reused for the next ones. Tasks carry only the
partition's paths and the two keys. The plugin also says how many TensorFlow threads each worker
takes: the machine's cores shared among its worker processes.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

from . import partition


class BookPlugin(WorkerPlugin):
    """The model bytes and the plan of one run, registered on every worker."""

    def __init__(self, payload: bytes, plan: Mapping, threads_by_host: Mapping[str, int], default_threads: int = 1):
        self.payload = payload
        self.plan = dict(plan)
        self.threads_by_host = dict(threads_by_host)
        self.default_threads = int(default_threads)
        self.sha256, self.plan_key = _keys(payload, plan)
        self.name = f"nbexplain-book-{self.sha256[:12]}-{self.plan_key[:12]}"

    def setup(self, worker: Any) -> None:
        host = urlparse(str(worker.address)).hostname or ""
        partition.register(self.payload, self.plan, self.threads_by_host.get(host, self.default_threads))

    def teardown(self, worker: Any) -> None:
        partition.forget(self.sha256, self.plan_key)


def _keys(payload: bytes, plan: Mapping) -> tuple[str, str]:
    import hashlib

    from .recipe import digest

    return hashlib.sha256(payload).hexdigest(), digest(plan)


def dashboard_available() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def connected(
    workers: int | None = None, scheduler: str | None = None, client: Any = None, log: Callable[[str], None] = print
) -> Iterator[tuple[Any, dict]]:
    """A client of the cluster the arguments name, and TensorFlow threads per host; a cluster
    started here is closed on the way out, its worker processes with it."""
    if client is not None:
        yield client, _threads(client)
        return
    cluster = None
    own = None
    try:
        if scheduler is not None:
            own = Client(scheduler, set_as_default=False)
            where = f"the Dask cluster at {scheduler} ({len(own.scheduler_info()['workers'])} workers)"
        else:
            cluster = LocalCluster(
                n_workers=int(workers or 1),
                processes=True,
                threads_per_worker=1,
                dashboard_address=":0" if dashboard_available() else None,
                silence_logs=logging.CRITICAL,  # a worker closing with the cluster is no error to show
            )
            own = Client(cluster, set_as_default=False)
            where = f"a local Dask cluster of {workers} worker process{'es' if workers != 1 else ''}"
        dashboard = (
            f"dashboard {own.dashboard_link}"
            if dashboard_available()
            else "no dashboard (pip install bokeh to watch the cluster at work)"
        )
        log(f"nbexplain reasons: running on {where}; {dashboard}")
        yield own, _threads(own)
    finally:
        if own is not None:
            with contextlib.suppress(Exception):
                own.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                _stop_workers(cluster)
            with contextlib.suppress(Exception):
                cluster.close(timeout=20)


def _stop_workers(cluster: Any, grace: float = 1.0) -> None:
    """Stop a local cluster's worker processes at once: each nanny closes and kills its worker
    after ``0.8 * grace`` seconds (a worker in the middle of a partition would otherwise finish it
    first, and one holding TensorFlow takes seconds to close: Dask's own close waits 4 s each)."""
    import asyncio

    nannies = list(cluster.workers.values())

    async def stop() -> None:
        await asyncio.gather(*(nanny.close(timeout=grace) for nanny in nannies), return_exceptions=True)

    cluster.sync(stop)


def _threads(client: Any) -> dict:
    """TensorFlow threads per worker on each host: its cores shared among its workers."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    cores = client.run(os.cpu_count)
    hosts: dict[str, list[str]] = {}
    for address in workers:
        hosts.setdefault(urlparse(address).hostname or "", []).append(address)
    return {
        host: max(1, min(int(cores.get(a) or 1) for a in addresses) // len(addresses))
        for host, addresses in hosts.items()
    }


def worker_pids(client: Any) -> dict:
    """``{worker address: process id}`` (for tests and benchmarks)."""
    return client.run(os.getpid)
