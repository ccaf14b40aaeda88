"""Two real API servers for the whole session, so tests can tell one cluster's data from the other's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from kube import ApiServer, ensure_built


@pytest.fixture(scope="session")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, ApiServer]]:
    """Clusters "alpha" and "beta"; both are stopped at the end, however the session ends."""
    ensure_built()
    with ExitStack() as stack:
        alpha = stack.enter_context(ApiServer.start("alpha", tmp_path_factory.mktemp("kube-alpha")))
        beta = stack.enter_context(ApiServer.start("beta", tmp_path_factory.mktemp("kube-beta")))
        yield alpha, beta
