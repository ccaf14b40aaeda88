"""Two real single-node Kubernetes clusters for the whole session, one per datacenter: pods run.

Each is a Node (tests/support/kube.py, scripts/kube/node-start.sh): etcd, kube-apiserver,
controller manager, scheduler, kubelet with containerd and runc, kube-proxy, in a network namespace
of its own, reached from this host at its node IP. The kubelets keep their default sync period
(1 minute), so a test that sees a ConfigMap change in a pod within seconds sees the collection's
doing. Both are started side by side and stopped at the end, however the session ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from kube import Node, ensure_built, ensure_images

# name -> address block (node-start.sh INDEX); a third block is free for the harness's own test
NODES = {"eu-west-1": 0, "us-east-1": 1}


@pytest.fixture(scope="session")
def images() -> dict:
    return ensure_images()


@pytest.fixture(scope="session")
def nodes(tmp_path_factory: pytest.TempPathFactory, images: dict) -> Iterator[dict[str, Node]]:
    """Node per datacenter, by datacenter name."""
    ensure_built()
    with ExitStack() as stack, ThreadPoolExecutor(len(NODES)) as pool:
        starts = {name: pool.submit(Node.start, name, tmp_path_factory.mktemp("node-" + name), index)
                  for name, index in NODES.items()}
        started, failures = {}, []
        for name, future in starts.items():  # every node that started is stopped, even when another failed
            try:
                started[name] = stack.enter_context(future.result())
            except RuntimeError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        yield started
