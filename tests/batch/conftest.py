"""One local SparkSession for the batch tests (starting one costs 3-13 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The Glue job's own `local_session` (local[2], no UI), few shuffle partitions."""
    pytest.importorskip("pyspark", reason="the etl extra (pyspark) is not installed")
    from ecomm_cli.etl.local_runner import load_glue_job

    session = load_glue_job().local_session("ecomm-batch-tests", shuffle_partitions=2)
    try:
        yield session
    finally:
        session.stop()
