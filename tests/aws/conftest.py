"""Fixtures of the `aws` tests: one moto server (in server mode, as the local stack runs it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a ThreadedMotoServer on a free port of 127.0.0.1, stopped after the run."""
    from moto.server import ThreadedMotoServer

    # One access-log line per request would drown the test output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
